-- Event replays (docs/events.md): durable jobs that publish a tenant's stored events again, with
-- their original ids, to the broker or to the webhook subscriptions. One runs per tenant at a
-- time; a worker leases it and saves its cursor after every batch, so a worker that dies leaves
-- it to the next one, which resumes where the cursor says.
CREATE TABLE event_replays (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL,
    order_id        uuid,
    from_at         timestamptz,
    to_at           timestamptz,
    types           text[] NOT NULL DEFAULT '{}',
    target          text NOT NULL CHECK (target IN ('broker', 'webhooks')),
    status          text NOT NULL CHECK (status IN ('RUNNING', 'DONE')),
    replayed        bigint NOT NULL DEFAULT 0 CHECK (replayed >= 0),
    cursor_at       timestamptz,
    cursor_position bigint NOT NULL DEFAULT 0,
    requested_by    text NOT NULL,
    lease_token     uuid,
    lease_until     timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    CHECK ((order_id IS NOT NULL AND from_at IS NULL AND to_at IS NULL)
           OR (order_id IS NULL AND from_at < to_at))
);
ALTER TABLE event_replays ENABLE ROW LEVEL SECURITY;
ALTER TABLE event_replays FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON event_replays USING (tenant_id = app_tenant())
    WITH CHECK (tenant_id = app_tenant());
-- One running replay per tenant: a second request answers 409 instead of doubling the load.
CREATE UNIQUE INDEX event_replays_one_running ON event_replays (tenant_id) WHERE status = 'RUNNING';
CREATE INDEX event_replays_running_idx ON event_replays (lease_until NULLS FIRST) WHERE status = 'RUNNING';
-- Range replays read the outbox by time; a BRIN index costs the relay's inserts next to nothing.
CREATE INDEX outbox_occurred_brin ON outbox USING brin (occurred_at);

-- Leases one running replay of any tenant whose lease ran out (SKIP LOCKED: two workers never
-- take the same one) and answers it.
CREATE FUNCTION event_replay_lease(p_now timestamptz, p_until timestamptz, p_token uuid)
    RETURNS SETOF event_replays
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        WITH due AS (
            SELECT id FROM event_replays
            WHERE status = 'RUNNING' AND (lease_until IS NULL OR lease_until <= p_now)
            ORDER BY lease_until NULLS FIRST, created_at
            LIMIT 1
            FOR UPDATE SKIP LOCKED
        )
        UPDATE event_replays r SET lease_token = p_token, lease_until = p_until
        FROM due WHERE r.id = due.id
        RETURNING r.*
    $$;
REVOKE ALL ON FUNCTION event_replay_lease(timestamptz, timestamptz, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION event_replay_lease(timestamptz, timestamptz, uuid) TO order_app;

-- `order-api events rebuild`: the command line names an order, not its tenant; and `--all`
-- walks every order of every tenant. Both answer ids only.
CREATE FUNCTION order_tenant(p_order uuid) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT tenant_id FROM orders WHERE id = p_order $$;
REVOKE ALL ON FUNCTION order_tenant(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION order_tenant(uuid) TO order_app;
CREATE FUNCTION orders_after(p_after uuid, max_rows integer) RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT id FROM orders WHERE p_after IS NULL OR id > p_after ORDER BY id LIMIT max_rows $$;
REVOKE ALL ON FUNCTION orders_after(uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orders_after(uuid, integer) TO order_app;
