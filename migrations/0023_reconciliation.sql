-- Reconciliation with the payment service (docs/money.md): runs and the differences they found.
CREATE TABLE reconciliation_runs (
    id                uuid PRIMARY KEY,
    tenant_id         uuid NOT NULL,
    window_from       timestamptz NOT NULL,
    window_to         timestamptz NOT NULL,
    orders_checked    integer NOT NULL,
    orders_unchecked  integer NOT NULL,
    started_at        timestamptz NOT NULL,
    finished_at       timestamptz NOT NULL
);
CREATE TABLE reconciliation_differences (
    run_id     uuid NOT NULL REFERENCES reconciliation_runs (id) ON DELETE CASCADE,
    position   integer NOT NULL,
    tenant_id  uuid NOT NULL,
    order_id   uuid NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('PAYOUT_MISSING_HERE', 'PAYOUT_UNKNOWN_UPSTREAM',
                                             'CAPTURE_ON_CLOSED_ORDER', 'AMOUNT_MISMATCH')),
    refund_id  uuid,
    ours       bigint NOT NULL,
    theirs     bigint NOT NULL,
    repaired   boolean NOT NULL,
    PRIMARY KEY (run_id, position)
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['reconciliation_runs', 'reconciliation_differences']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = app_tenant()) '
                       'WITH CHECK (tenant_id = app_tenant())', t);
    END LOOP;
END
$$;

-- Orders whose money may differ from the payment service's: those past their payment window
-- (an order still PENDING or RESERVED may have a payment on its way). The partial index leaves
-- creation untouched: a new order is RESERVED.
CREATE INDEX orders_settled_updated_idx ON orders (updated_at, id)
    WHERE status NOT IN ('PENDING', 'RESERVED') AND payment_intent_id IS NOT NULL;

CREATE FUNCTION payments_changed(p_tenant uuid, p_from timestamptz, p_to timestamptz,
                                 max_rows integer)
    RETURNS TABLE (tenant_id uuid, order_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT o.tenant_id, o.id
        FROM orders o
        WHERE o.status NOT IN ('PENDING', 'RESERVED') AND o.payment_intent_id IS NOT NULL
          AND o.updated_at >= p_from AND o.updated_at < p_to
          AND (p_tenant IS NULL OR o.tenant_id = p_tenant)
        ORDER BY o.updated_at, o.id
        LIMIT max_rows
    $$;
REVOKE ALL ON FUNCTION payments_changed(uuid, timestamptz, timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION payments_changed(uuid, timestamptz, timestamptz, integer) TO order_app;
