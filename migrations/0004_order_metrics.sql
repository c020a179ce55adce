-- The metrics job's output: the latest analytics snapshot of each tenant, served to admins at
-- GET /api/v1/admin/analytics. Recomputed every METRICS_AGGREGATION_INTERVAL_MINUTES.
CREATE TABLE order_metrics (
    tenant_id     uuid PRIMARY KEY,
    window_start  timestamptz NOT NULL,
    computed_at   timestamptz NOT NULL,
    snapshot      jsonb NOT NULL
);

ALTER TABLE order_metrics ENABLE ROW LEVEL SECURITY;
ALTER TABLE order_metrics FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON order_metrics USING (tenant_id = app_tenant())
    WITH CHECK (tenant_id = app_tenant());

-- The metrics job visits only tenants with recent orders; this lists them across tenants.
CREATE FUNCTION tenants_with_orders_since(since timestamptz)
    RETURNS TABLE (tenant_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT DISTINCT o.tenant_id FROM orders o WHERE o.created_at >= since
    $$;

REVOKE ALL ON FUNCTION tenants_with_orders_since(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenants_with_orders_since(timestamptz) TO order_app;
