-- Outbox relays lease rows instead of holding row locks while they publish: a relay claims a
-- batch for 30 s (SKIP LOCKED keeps two relays from claiming the same rows), publishes it with
-- publisher confirms outside any transaction, then marks it published. A relay that dies lets
-- its lease run out and another relay publishes the rows again (at-least-once; consumers
-- deduplicate by message id).

ALTER TABLE outbox ADD COLUMN claimed_until timestamptz;

DROP FUNCTION outbox_claim(integer);

-- Claims up to `max_rows` unpublished rows in position order. A row whose order still has an
-- earlier unpublished row leased to another relay is skipped, so events of one order are never
-- published out of order by two relays.
CREATE FUNCTION outbox_claim(max_rows integer, lease interval)
    RETURNS TABLE ("position" bigint, payload jsonb)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
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

CREATE OR REPLACE FUNCTION outbox_mark_published(ids uuid[])
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$ UPDATE outbox SET published_at = now(), claimed_until = NULL WHERE id = ANY (ids) AND published_at IS NULL $$;

REVOKE ALL ON FUNCTION outbox_claim(integer, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION outbox_claim(integer, interval) TO order_app;
