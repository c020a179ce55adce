-- W3C trace context (issue 13): the `traceparent` a change was committed under travels with its
-- outbox rows to the relay, which publishes after the commit in a task of its own, and with the
-- webhook deliveries made from a consumed event, which workers send later. NULL while trace
-- export is off.
ALTER TABLE outbox ADD COLUMN traceparent text;
ALTER TABLE webhook_deliveries ADD COLUMN traceparent text;

-- The claims return the column too (a function's result type can only change by a new function).
DROP FUNCTION outbox_claim(integer, interval);

CREATE FUNCTION outbox_claim(max_rows integer, lease interval)
    RETURNS TABLE ("position" bigint, payload jsonb, traceparent text)
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
        RETURNING outbox.position, outbox.payload, outbox.traceparent
    $$;

REVOKE ALL ON FUNCTION outbox_claim(integer, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION outbox_claim(integer, interval) TO order_app;

DROP FUNCTION webhook_claim(timestamptz, interval, integer);

CREATE FUNCTION webhook_claim(p_now timestamptz, p_lease interval, max_rows integer)
    RETURNS TABLE (id uuid, tenant_id uuid, subscription_id uuid, event_id uuid, event_type text,
                   order_id uuid, body text, status text, attempts integer,
                   next_attempt_at timestamptz, created_at timestamptz,
                   delivered_at timestamptz, last_status integer, traceparent text)
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
            w.last_status, w.traceparent
    $$;

REVOKE ALL ON FUNCTION webhook_claim(timestamptz, interval, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION webhook_claim(timestamptz, interval, integer) TO order_app;
