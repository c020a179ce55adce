-- Refunds are paid exactly once (docs/refunds.md).

-- The `Idempotency-Key` of a refund request, written by the statement that stores the refund: a
-- repeat of the request after any failure (a 5xx, a lost answer, the guard store losing the
-- stored answer) finds this refund instead of creating and paying a second one. Keys are scoped
-- to the tenant and the caller (a user id or a service name); one older than the idempotency TTL
-- may be taken over.
CREATE TABLE refund_request_keys (
    tenant_id    uuid NOT NULL,
    caller       text NOT NULL,
    key          text NOT NULL,
    fingerprint  text NOT NULL,
    order_id     uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    refund_id    uuid NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, caller, key)
);
CREATE INDEX refund_request_keys_created_idx ON refund_request_keys (created_at);
ALTER TABLE refund_request_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE refund_request_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON refund_request_keys USING (tenant_id = app_tenant())
    WITH CHECK (tenant_id = app_tenant());

-- The refund job also takes over APPROVED refunds whose payout never recorded a result: the
-- process died between the approval's commit and the payout, or the result could not be stored.
-- Such a refund is due once its lease (approval + REFUND_PAYOUT_LEASE_SECONDS) has run out;
-- stalled APPROVED refunds come first, then FAILED ones whose retry is due.
CREATE INDEX order_refunds_approved_idx ON order_refunds (decided_at) WHERE status = 'APPROVED';

DROP FUNCTION refunds_due(timestamptz, integer);
CREATE FUNCTION refunds_due(before timestamptz, approved_before timestamptz, max_rows integer)
    RETURNS TABLE (tenant_id uuid, refund_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT d.tenant_id, d.id FROM (
            (SELECT r.tenant_id, r.id, 0 AS rank, r.decided_at AS due_at
             FROM order_refunds r
             WHERE r.status = 'APPROVED' AND r.decided_at < approved_before
             ORDER BY r.decided_at LIMIT max_rows)
            UNION ALL
            (SELECT r.tenant_id, r.id, 1 AS rank, r.retry_at AS due_at
             FROM order_refunds r
             WHERE r.status = 'FAILED' AND r.retry_at < before
             ORDER BY r.retry_at LIMIT max_rows)
        ) d
        ORDER BY d.rank, d.due_at, d.id
        LIMIT max_rows
    $$;
REVOKE ALL ON FUNCTION refunds_due(timestamptz, timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION refunds_due(timestamptz, timestamptz, integer) TO order_app;

-- Housekeeping prunes refund request keys past their replay window with the order keys.
CREATE OR REPLACE FUNCTION prune_expired(p_day date, p_keys_before timestamptz,
                                         p_inbox_before timestamptz, max_rows integer)
    RETURNS TABLE (daily_quotas bigint, idempotency_keys bigint, inbox_messages bigint)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        WITH quotas AS (
            DELETE FROM buyer_daily_orders WHERE ctid IN (
                SELECT ctid FROM buyer_daily_orders WHERE day < p_day LIMIT max_rows)
            RETURNING 1
        ),
        keys AS (
            DELETE FROM order_idempotency_keys WHERE ctid IN (
                SELECT ctid FROM order_idempotency_keys WHERE created_at < p_keys_before LIMIT max_rows)
            RETURNING 1
        ),
        refund_keys AS (
            DELETE FROM refund_request_keys WHERE ctid IN (
                SELECT ctid FROM refund_request_keys WHERE created_at < p_keys_before LIMIT max_rows)
            RETURNING 1
        ),
        messages AS (
            DELETE FROM inbox WHERE ctid IN (
                SELECT ctid FROM inbox WHERE processed_at < p_inbox_before LIMIT max_rows)
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM quotas),
            (SELECT count(*) FROM keys) + (SELECT count(*) FROM refund_keys),
            (SELECT count(*) FROM messages)
    $$;
