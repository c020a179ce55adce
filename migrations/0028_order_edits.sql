-- Order edits (docs/edits.md): the ids of the edits applied to an order, oldest first. What each
-- edit changed is in the audit trail (`order.edited`, with the price before and after).
ALTER TABLE orders ADD COLUMN edits uuid[] NOT NULL DEFAULT '{}';
-- A refund that pays back an edit's negative balance names the edit: it is money the new total no
-- longer asks for, not a refund against that total, so the refund policy's maximum leaves it out.
ALTER TABLE order_refunds ADD COLUMN edit_id uuid;
-- An edit that raises a paid order's total waits for its difference (`pending_edit`, its deadline
-- beside it for the job that lets unpaid ones lapse); the differences paid with the edits' own
-- intents (`edit_payments`) are where later refunds are paid back from.
ALTER TABLE orders ADD COLUMN pending_edit jsonb;
ALTER TABLE orders ADD COLUMN pending_edit_expires_at timestamptz;
ALTER TABLE orders ADD COLUMN edit_payments jsonb NOT NULL DEFAULT '[]';
CREATE INDEX orders_pending_edit_idx ON orders (pending_edit_expires_at)
    WHERE pending_edit_expires_at IS NOT NULL;
-- The lapse job: edits waiting for a payment past their deadline, across tenants, oldest first.
CREATE FUNCTION edits_due(before timestamptz, max_rows integer)
    RETURNS TABLE (tenant_id uuid, order_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT o.tenant_id, o.id
        FROM orders o
        WHERE o.pending_edit_expires_at IS NOT NULL AND o.pending_edit_expires_at <= before
        ORDER BY o.pending_edit_expires_at
        LIMIT max_rows
    $$;
REVOKE ALL ON FUNCTION edits_due(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION edits_due(timestamptz, integer) TO order_app;
-- One capture per order and paying intent (an edit's difference is a capture of its own).
DROP INDEX ledger_entries_capture_key;
CREATE UNIQUE INDEX ledger_entries_capture_key ON ledger_entries (order_id, coalesce(reference, ''))
    WHERE kind = 'PAYMENT_CAPTURED';

-- The order view carries the new column.
DROP FUNCTION orders_by_id(uuid, uuid[]);
DROP VIEW order_rows;
ALTER TYPE order_refund_row ADD ATTRIBUTE edit_id uuid;

-- security_invoker: the caller's row-level security applies to the tables under the view.
CREATE VIEW order_rows WITH (security_invoker = true) AS
SELECT o.id, o.tenant_id, o.order_number, o.user_id, o.kind, o.status, o.version, o.event_id,
    o.currency, o.subtotal, o.discount, o.platform_fee, o.processing_fee, o.shipping, o.tax, o.total,
    o.hold_id, o.expires_at, o.payment_intent_id, o.tickets, o.refundable_max,
    o.cancellation_reason, o.return_reason, o.created_at, o.updated_at, o.reserved_at,
    o.confirmed_at, o.processing_at, o.shipped_at, o.delivered_at, o.cancelled_at, o.expired_at,
    o.returned_at, o.refunded_at, o.carrier, o.tracking_number, o.label_url, o.estimated_delivery,
    o.shipping_address, o.billing_address, o.shipping_method, o.promo_code, o.notes,
    o.payment_method, o.metadata, o.contact_email, o.return_items,
    o.cancelled_items, o.hold_extensions, o.edits, o.pending_edit, o.edit_payments,
    ARRAY(SELECT ROW(i.id, i.ticket_type_id, i.ticket_pricing_id, i.product_id, i.product_name,
                     i.attributes, i.quantity, i.unit_price, i.subtotal, i.discount, i.platform_fee,
                     i.processing_fee, i.shipping, i.tax, i.total)::order_item_row
          FROM order_items i WHERE i.order_id = o.id ORDER BY i.position) AS items,
    ARRAY(SELECT ROW(r.id, r.amount, r.status, r.item_ids, r.reason, r.requested_by, r.requested_at,
                     r.decided_by, r.decided_at, r.decision_note, r.payment_reference,
                     r.failure_reason, r.attempts, r.completed_at, r.retry_at, r.edit_id)::order_refund_row
          FROM order_refunds r WHERE r.order_id = o.id ORDER BY r.requested_at, r.id) AS refunds
FROM orders o;

-- The orders `p_ids` of tenant `p_tenant`: sets the tenant and reads in one statement (its own
-- transaction). PL/pgSQL keeps its plan for the session.
CREATE FUNCTION orders_by_id(p_tenant uuid, p_ids uuid[]) RETURNS SETOF order_rows
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    RETURN QUERY SELECT * FROM order_rows r WHERE r.tenant_id = p_tenant AND r.id = ANY (p_ids);
END
$$;

GRANT SELECT ON order_rows TO order_app;
GRANT EXECUTE ON FUNCTION orders_by_id(uuid, uuid[]) TO order_app;
