-- The ledger (docs/money.md): every movement of money on an order, immutable, written by the
-- statement that stores the change causing it. The balance is computed from the entries.
CREATE TABLE ledger_entries (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL,
    order_id     uuid NOT NULL REFERENCES orders (id) ON DELETE RESTRICT,
    position     bigserial NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('PAYMENT_CAPTURED', 'REFUND_PAID', 'FEE_RETAINED')),
    amount       bigint NOT NULL CHECK (amount > 0),
    currency     text NOT NULL,
    refund_id    uuid,
    reference    text,
    occurred_at  timestamptz NOT NULL,
    CHECK (kind <> 'REFUND_PAID' OR refund_id IS NOT NULL)
);
CREATE INDEX ledger_entries_order_idx ON ledger_entries (tenant_id, order_id, position);
-- One capture per order and one payout entry per refund, whatever retries and races happen.
CREATE UNIQUE INDEX ledger_entries_capture_key ON ledger_entries (order_id)
    WHERE kind = 'PAYMENT_CAPTURED';
CREATE UNIQUE INDEX ledger_entries_refund_paid_key ON ledger_entries (refund_id)
    WHERE kind = 'REFUND_PAID';
-- Reconciliation reads the entries of a time window across orders.
CREATE INDEX ledger_entries_occurred_idx ON ledger_entries (occurred_at);

ALTER TABLE ledger_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE ledger_entries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ledger_entries USING (tenant_id = app_tenant())
    WITH CHECK (tenant_id = app_tenant());

-- Entries never change: the application may add them, never rewrite or delete them.
REVOKE UPDATE, DELETE ON ledger_entries FROM order_app;

-- Orders stored before the ledger get their entries from what they recorded: a capture for each
-- paid order (one that was confirmed, or whose late payment is being returned), a payout for
-- each completed refund, and what a paid cancellation kept.
INSERT INTO ledger_entries (id, tenant_id, order_id, kind, amount, currency, refund_id, reference,
                            occurred_at)
SELECT gen_random_uuid(), o.tenant_id, o.id, 'PAYMENT_CAPTURED', o.total, o.currency, NULL,
    o.payment_intent_id, coalesce(o.confirmed_at, r.requested_at)
FROM orders o
LEFT JOIN LATERAL (
    SELECT min(requested_at) AS requested_at FROM order_refunds WHERE order_id = o.id
) r ON true
WHERE o.total > 0
  AND (o.confirmed_at IS NOT NULL
       OR (o.status IN ('EXPIRED', 'CANCELLED') AND r.requested_at IS NOT NULL));

INSERT INTO ledger_entries (id, tenant_id, order_id, kind, amount, currency, refund_id, reference,
                            occurred_at)
SELECT gen_random_uuid(), r.tenant_id, r.order_id, 'REFUND_PAID', r.amount, o.currency, r.id,
    r.payment_reference, coalesce(r.completed_at, r.requested_at)
FROM order_refunds r JOIN orders o ON o.id = r.order_id
WHERE r.status = 'COMPLETED' AND r.amount > 0;

INSERT INTO ledger_entries (id, tenant_id, order_id, kind, amount, currency, refund_id, reference,
                            occurred_at)
SELECT gen_random_uuid(), o.tenant_id, o.id, 'FEE_RETAINED', o.total - o.refundable_max, o.currency,
    (SELECT r.id FROM order_refunds r WHERE r.order_id = o.id AND r.decision_note = 'cancellation'
     ORDER BY r.requested_at DESC LIMIT 1),
    NULL, o.cancelled_at
FROM orders o
WHERE o.status = 'CANCELLED' AND o.confirmed_at IS NOT NULL AND o.refundable_max IS NOT NULL
  AND o.total - o.refundable_max > 0 AND o.cancelled_at IS NOT NULL;
