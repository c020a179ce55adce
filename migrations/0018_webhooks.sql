-- Webhooks (docs/webhooks.md): subscriptions, one delivery per (subscription, event), and the
-- log of every attempt. Tenant tables under row-level security like the others; the workers'
-- cross-tenant claim and the log's pruning run through SECURITY DEFINER functions.

CREATE TABLE webhook_subscriptions (
    id                 uuid PRIMARY KEY,
    tenant_id          uuid NOT NULL,
    url                text NOT NULL,
    -- Empty: every event type.
    event_types        text[] NOT NULL DEFAULT '{}',
    enabled            boolean NOT NULL,
    description        text,
    -- The signing secrets, sealed like the addresses (sealing.rs).
    secrets            jsonb NOT NULL,
    disabled_reason    text,
    -- The per-endpoint circuit breaker: failed attempts in a row, and when it closes again.
    failure_streak     integer NOT NULL DEFAULT 0,
    circuit_open_until timestamptz,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);
CREATE INDEX webhook_subscriptions_tenant_idx ON webhook_subscriptions (tenant_id, created_at);

CREATE TABLE webhook_deliveries (
    -- The order deliveries were made in: one order's events reach a receiver in this order.
    sequence         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    id               uuid PRIMARY KEY,
    tenant_id        uuid NOT NULL,
    subscription_id  uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    event_id         uuid NOT NULL,
    event_type       text NOT NULL,
    order_id         uuid NOT NULL,
    body             text NOT NULL,
    status           text NOT NULL CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    claimed_until    timestamptz,
    created_at       timestamptz NOT NULL,
    delivered_at     timestamptz,
    last_status      integer,
    UNIQUE (subscription_id, event_id)
);
-- The workers' claim: due pending deliveries, soonest first.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
    WHERE status = 'PENDING';
-- The per-order ordering check and the log per subscription.
CREATE INDEX webhook_deliveries_order_idx ON webhook_deliveries (subscription_id, order_id, sequence)
    WHERE status = 'PENDING';
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (subscription_id, sequence DESC);
CREATE INDEX webhook_deliveries_created_idx ON webhook_deliveries (created_at)
    WHERE status <> 'PENDING';

CREATE TABLE webhook_attempts (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id    uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    tenant_id      uuid NOT NULL,
    attempted_at   timestamptz NOT NULL,
    status_code    integer,
    latency_ms     integer NOT NULL,
    response_body  text,
    error          text,
    outcome        text NOT NULL CHECK (outcome IN ('delivered', 'gone', 'failed'))
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['webhook_subscriptions', 'webhook_deliveries', 'webhook_attempts']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = app_tenant()) '
                       'WITH CHECK (tenant_id = app_tenant())', t);
    END LOOP;
END
$$;

-- The workers: leases up to `max_rows` due deliveries for `lease`, each the oldest pending one
-- of its (subscription, order), of an enabled subscription whose breaker is closed. Other
-- workers skip the rows locked or leased here.
CREATE FUNCTION webhook_claim(p_now timestamptz, p_lease interval, max_rows integer)
    RETURNS TABLE (id uuid, tenant_id uuid, subscription_id uuid, event_id uuid, event_type text,
                   order_id uuid, body text, status text, attempts integer,
                   next_attempt_at timestamptz, created_at timestamptz,
                   delivered_at timestamptz, last_status integer)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        WITH due AS (
            SELECT d.id
            FROM webhook_deliveries d
            JOIN webhook_subscriptions s ON s.id = d.subscription_id
            WHERE d.status = 'PENDING' AND d.next_attempt_at <= p_now
              AND (d.claimed_until IS NULL OR d.claimed_until <= p_now)
              AND s.enabled
              AND (s.circuit_open_until IS NULL OR s.circuit_open_until <= p_now)
              AND NOT EXISTS (
                  SELECT 1 FROM webhook_deliveries e
                  WHERE e.subscription_id = d.subscription_id AND e.order_id = d.order_id
                    AND e.status = 'PENDING' AND e.sequence < d.sequence)
            ORDER BY d.next_attempt_at
            LIMIT max_rows
            FOR UPDATE OF d SKIP LOCKED
        )
        UPDATE webhook_deliveries w SET claimed_until = p_now + p_lease
        FROM due WHERE w.id = due.id
        RETURNING w.id, w.tenant_id, w.subscription_id, w.event_id, w.event_type, w.order_id,
            w.body, w.status, w.attempts, w.next_attempt_at, w.created_at, w.delivered_at,
            w.last_status
    $$;

-- The log's retention: finished deliveries created before `before` go with their attempts.
CREATE FUNCTION webhook_prune(before timestamptz)
    RETURNS bigint
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        WITH gone AS (
            DELETE FROM webhook_deliveries
            WHERE status <> 'PENDING' AND created_at < before
            RETURNING 1
        )
        SELECT count(*) FROM gone
    $$;

REVOKE ALL ON FUNCTION webhook_claim(timestamptz, interval, integer), webhook_prune(timestamptz)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION webhook_claim(timestamptz, interval, integer), webhook_prune(timestamptz)
    TO order_app;
