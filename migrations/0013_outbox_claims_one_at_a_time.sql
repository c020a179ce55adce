-- Two relays claiming at the same moment could both pass the "no earlier event of this order is
-- leased" test: the other claim's leases were locked (SKIP LOCKED skipped them) but not yet
-- committed, so a later event of an order could be claimed — and published — before an earlier
-- one. Claims now take a transaction-level advisory lock first: they run one at a time, and each
-- statement after the lock sees the leases the previous claim committed. A claim is one short
-- statement, so relays queue for microseconds; publishing stays parallel.
CREATE OR REPLACE FUNCTION outbox_claim(max_rows integer, lease interval)
    RETURNS TABLE ("position" bigint, payload jsonb)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT pg_advisory_xact_lock(7340033);
        WITH batch AS (
            SELECT o.position
            FROM outbox o
            WHERE o.published_at IS NULL
              AND (o.claimed_until IS NULL OR o.claimed_until < now())
              AND NOT EXISTS (
                  SELECT 1 FROM outbox e
                  WHERE e.order_id = o.order_id AND e.position < o.position
                    AND e.published_at IS NULL AND e.claimed_until >= now())
            ORDER BY o.position
            LIMIT max_rows
            FOR UPDATE SKIP LOCKED
        )
        UPDATE outbox SET claimed_until = now() + lease
        FROM batch WHERE outbox.position = batch.position
        RETURNING outbox.position, outbox.payload
    $$;
