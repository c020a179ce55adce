-- Carts expire 30 days after their last change (docs/product/routes.md); the housekeeping job deletes them in
-- bounded batches, across tenants, like the other rows that no longer matter (decision 0034).
-- Their lines go with them (ON DELETE CASCADE).
CREATE FUNCTION prune_expired_carts(p_before timestamptz, max_rows integer)
    RETURNS bigint
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        WITH gone AS (
            DELETE FROM shopping_carts WHERE id IN (
                SELECT id FROM shopping_carts WHERE expires_at < p_before LIMIT max_rows)
            RETURNING 1
        )
        SELECT count(*) FROM gone
    $$;

REVOKE ALL ON FUNCTION prune_expired_carts(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION prune_expired_carts(timestamptz, integer) TO order_app;
