-- The list of a tenant's latest reconciliation runs (the console, GET /admin/reconciliation/runs)
-- walks this index instead of sorting every run the tenant ever had.
CREATE INDEX reconciliation_runs_tenant_started_idx
    ON reconciliation_runs (tenant_id, started_at DESC, id DESC);
