-- Housekeeping (docs/jobs.md): rows that only matter for a while are deleted once they no longer
-- can — a buyer's per-day quota counters after their day, idempotency keys after their replay
-- window, consumed message ids after the broker can no longer redeliver them. The indexes let
-- each pass find them without reading the tables.
CREATE INDEX buyer_daily_orders_day_idx ON buyer_daily_orders (day);
CREATE INDEX order_idempotency_keys_created_idx ON order_idempotency_keys (created_at);
CREATE INDEX inbox_processed_idx ON inbox (processed_at);

-- At most `max_rows` of each kind per call, across tenants (one job for all); returns how many
-- of each it deleted, so the job repeats while a backlog remains.
CREATE FUNCTION prune_expired(p_day date, p_keys_before timestamptz, p_inbox_before timestamptz,
                              max_rows integer)
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
        messages AS (
            DELETE FROM inbox WHERE ctid IN (
                SELECT ctid FROM inbox WHERE processed_at < p_inbox_before LIMIT max_rows)
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM quotas), (SELECT count(*) FROM keys), (SELECT count(*) FROM messages)
    $$;

REVOKE ALL ON FUNCTION prune_expired(date, timestamptz, timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION prune_expired(date, timestamptz, timestamptz, integer) TO order_app;
