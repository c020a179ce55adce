-- Bulk cancellations as durable jobs (decision 0064): one per tenant and event, worked by a
-- runner that leases it, pages the event's active orders by id after `after`, and saves after
-- every order; a runner that dies lets the lease run out and the next resumes.
CREATE TABLE bulk_jobs (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL,
    event_id      uuid NOT NULL,
    reason        text NOT NULL,
    requested_by  text NOT NULL,
    status        text NOT NULL CHECK (status IN ('RUNNING', 'DONE')),
    after_order   uuid,
    current_order uuid,
    total         integer NOT NULL DEFAULT 0 CHECK (total >= 0),
    succeeded     integer NOT NULL DEFAULT 0 CHECK (succeeded >= 0),
    failed        integer NOT NULL DEFAULT 0 CHECK (failed >= 0),
    errors        jsonb NOT NULL DEFAULT '[]',
    lease_token   uuid,
    lease_until   timestamptz,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    finished_at   timestamptz,
    CONSTRAINT bulk_jobs_event_key UNIQUE (tenant_id, event_id),
    CHECK (succeeded + failed = total)
);

ALTER TABLE bulk_jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE bulk_jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON bulk_jobs USING (tenant_id = app_tenant())
    WITH CHECK (tenant_id = app_tenant());

CREATE INDEX bulk_jobs_running_idx ON bulk_jobs (lease_until NULLS FIRST) WHERE status = 'RUNNING';

-- Leases one running job of any tenant whose lease ran out (SKIP LOCKED: two runners never take
-- the same job) and answers it with its new token.
CREATE FUNCTION bulk_job_lease(p_now timestamptz, p_until timestamptz, p_token uuid)
    RETURNS SETOF bulk_jobs
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        WITH due AS (
            SELECT id FROM bulk_jobs
            WHERE status = 'RUNNING' AND (lease_until IS NULL OR lease_until <= p_now)
            ORDER BY lease_until NULLS FIRST, created_at
            LIMIT 1
            FOR UPDATE SKIP LOCKED
        )
        UPDATE bulk_jobs j SET lease_token = p_token, lease_until = p_until
        FROM due WHERE j.id = due.id
        RETURNING j.*
    $$;
REVOKE ALL ON FUNCTION bulk_job_lease(timestamptz, timestamptz, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bulk_job_lease(timestamptz, timestamptz, uuid) TO order_app;
