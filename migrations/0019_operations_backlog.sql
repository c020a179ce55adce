-- What /metrics shows of the work waiting across tenants (docs/operations.md): the outbox's
-- unpublished rows and the oldest one's age, and the pending webhook deliveries and the oldest
-- one's age. Both counts use the partial indexes of pending rows.
CREATE FUNCTION operations_backlog(p_now timestamptz)
    RETURNS TABLE (outbox_unpublished bigint, outbox_oldest_seconds double precision,
                   webhooks_pending bigint, webhooks_oldest_seconds double precision)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT
            (SELECT count(*) FROM outbox WHERE published_at IS NULL),
            (SELECT extract(epoch FROM p_now - min(occurred_at))::double precision
               FROM outbox WHERE published_at IS NULL),
            (SELECT count(*) FROM webhook_deliveries WHERE status = 'PENDING'),
            (SELECT extract(epoch FROM p_now - min(created_at))::double precision
               FROM webhook_deliveries WHERE status = 'PENDING')
    $$;

REVOKE ALL ON FUNCTION operations_backlog(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION operations_backlog(timestamptz) TO order_app;
