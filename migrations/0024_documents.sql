-- Invoices and credit notes (docs/money.md): immutable documents with gap-free numbers per tenant,
-- kind and year, allocated from a counter row by the statement that stores the change issuing
-- them. A counter row, never a sequence: a rolled-back transaction gives its number back.
CREATE TABLE document_counters (
    tenant_id  uuid NOT NULL,
    kind       text NOT NULL,
    year       integer NOT NULL,
    last       bigint NOT NULL CHECK (last >= 0),
    PRIMARY KEY (tenant_id, kind, year)
);
CREATE TABLE order_documents (
    tenant_id  uuid NOT NULL,
    order_id   uuid NOT NULL REFERENCES orders (id) ON DELETE RESTRICT,
    kind       text NOT NULL CHECK (kind IN ('INVOICE', 'CREDIT_NOTE')),
    year       integer NOT NULL,
    sequence   bigint NOT NULL CHECK (sequence > 0),
    number     text NOT NULL,
    corrects   text,
    refund_id  uuid,
    issued_at  timestamptz NOT NULL,
    total      bigint NOT NULL,
    currency   text NOT NULL,
    content    jsonb NOT NULL,
    -- The buyer (personal data), sealed like the order's addresses.
    buyer      jsonb NOT NULL,
    PRIMARY KEY (tenant_id, kind, year, sequence),
    CONSTRAINT order_documents_number_key UNIQUE (tenant_id, number)
);
CREATE INDEX order_documents_order_idx ON order_documents (tenant_id, order_id);
-- One invoice per order, one credit note per refund.
CREATE UNIQUE INDEX order_documents_invoice_key ON order_documents (order_id) WHERE kind = 'INVOICE';
CREATE UNIQUE INDEX order_documents_refund_key ON order_documents (refund_id)
    WHERE kind = 'CREDIT_NOTE';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['document_counters', 'order_documents']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = app_tenant()) '
                       'WITH CHECK (tenant_id = app_tenant())', t);
    END LOOP;
END
$$;

-- Documents never change.
REVOKE UPDATE, DELETE ON order_documents FROM order_app;
