-- Typed columns instead of documents in the domain's serde shape (docs/persistence.md, decision
-- 0026). Milestones, shipment, goods details, tickets, item products, refund lines, audit actors
-- and discount rules become columns of their own; what stays jsonb is data without a schema of
-- ours (the shopper's selected attributes, an audit entry's payload, an outbox message) and the
-- postal addresses, stored in this adapter's own document shape (snake_case keys) until they are
-- encrypted. Existing rows are converted here, once; no statement of the service reads the old
-- shapes afterwards.

DROP FUNCTION order_find(uuid, uuid);
DROP FUNCTION order_json(orders);

-- Orders -------------------------------------------------------------------------------------------
ALTER TABLE orders
    ADD COLUMN reserved_at        timestamptz,
    ADD COLUMN confirmed_at       timestamptz,
    ADD COLUMN processing_at      timestamptz,
    ADD COLUMN shipped_at         timestamptz,
    ADD COLUMN delivered_at       timestamptz,
    ADD COLUMN cancelled_at       timestamptz,
    ADD COLUMN expired_at         timestamptz,
    ADD COLUMN returned_at        timestamptz,
    ADD COLUMN refunded_at        timestamptz,
    ADD COLUMN carrier            text,
    ADD COLUMN tracking_number    text,
    ADD COLUMN label_url          text,
    ADD COLUMN estimated_delivery date,
    ADD COLUMN shipping_address   jsonb,
    ADD COLUMN billing_address    jsonb,
    ADD COLUMN shipping_method    text,
    ADD COLUMN promo_code         text,
    ADD COLUMN notes              text,
    ADD COLUMN payment_method     text,
    ADD COLUMN tickets            text[] NOT NULL DEFAULT '{}';

CREATE FUNCTION pg_temp.address_document(a jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN a IS NULL OR a = 'null'::jsonb THEN NULL ELSE jsonb_build_object(
        'name', a->>'name', 'line1', a->>'line1', 'line2', a->>'line2', 'city', a->>'city',
        'region', a->>'region', 'postal_code', a->>'postalCode', 'country', a->>'country') END
$$;

UPDATE orders SET
    reserved_at = (milestones->>'reservedAt')::timestamptz,
    confirmed_at = (milestones->>'confirmedAt')::timestamptz,
    processing_at = (milestones->>'processingAt')::timestamptz,
    shipped_at = (milestones->>'shippedAt')::timestamptz,
    delivered_at = (milestones->>'deliveredAt')::timestamptz,
    cancelled_at = (milestones->>'cancelledAt')::timestamptz,
    expired_at = (milestones->>'expiredAt')::timestamptz,
    returned_at = (milestones->>'returnedAt')::timestamptz,
    refunded_at = (milestones->>'refundedAt')::timestamptz,
    carrier = shipment->>'carrier',
    tracking_number = shipment->>'trackingNumber',
    label_url = shipment->>'labelUrl',
    estimated_delivery = (shipment->>'estimatedDelivery')::date,
    shipping_address = pg_temp.address_document(goods->'shippingAddress'),
    billing_address = pg_temp.address_document(goods->'billingAddress'),
    shipping_method = goods->>'shippingMethod',
    promo_code = goods->>'promoCode',
    notes = goods->>'notes',
    payment_method = goods->>'paymentMethod',
    tickets = ARRAY(SELECT jsonb_array_elements_text(ticket_ids));

ALTER TABLE orders
    DROP COLUMN milestones,
    DROP COLUMN shipment,
    DROP COLUMN goods,
    DROP COLUMN ticket_ids,
    -- A shipment has both its carrier and its tracking number, or neither.
    ADD CONSTRAINT orders_shipment_complete CHECK ((carrier IS NULL) = (tracking_number IS NULL)),
    ADD CONSTRAINT orders_kind_event CHECK ((kind = 'TICKET') = (event_id IS NOT NULL));

-- Order lines --------------------------------------------------------------------------------------
ALTER TABLE order_items
    ADD COLUMN ticket_type_id    uuid,
    ADD COLUMN ticket_pricing_id uuid,
    ADD COLUMN product_id        uuid,
    ADD COLUMN product_name      text,
    ADD COLUMN attributes        jsonb;

UPDATE order_items SET
    ticket_type_id = (product->>'ticketTypeId')::uuid,
    ticket_pricing_id = (product->>'ticketPricingId')::uuid
WHERE product->>'type' = 'ticket';
UPDATE order_items SET
    product_id = (product->>'productId')::uuid,
    product_name = product->>'name',
    attributes = coalesce(product->'attributes', '{}')
WHERE product->>'type' = 'goods';

ALTER TABLE order_items
    DROP COLUMN product,
    -- A line is tickets of one type and price, or one product with its attributes.
    ADD CONSTRAINT order_items_one_product CHECK (
        (ticket_type_id IS NOT NULL AND ticket_pricing_id IS NOT NULL
            AND product_id IS NULL AND product_name IS NULL AND attributes IS NULL)
        OR (product_id IS NOT NULL AND product_name IS NOT NULL AND attributes IS NOT NULL
            AND ticket_type_id IS NULL AND ticket_pricing_id IS NULL));

-- Refunds ------------------------------------------------------------------------------------------
ALTER TABLE order_refunds ADD COLUMN item_ids uuid[] NOT NULL DEFAULT '{}';
UPDATE order_refunds SET item_ids = ARRAY(SELECT jsonb_array_elements_text(items)::uuid);
ALTER TABLE order_refunds DROP COLUMN items;

-- Audit actors -------------------------------------------------------------------------------------
ALTER TABLE order_events
    ADD COLUMN actor_kind  text,
    ADD COLUMN actor_name  text,
    ADD COLUMN actor_roles text[] NOT NULL DEFAULT '{}',
    ADD COLUMN actor_vip   boolean NOT NULL DEFAULT false;
UPDATE order_events SET
    actor_kind = actor->>'type',
    actor_name = coalesce(actor->>'id', actor->>'name'),
    actor_roles = ARRAY(SELECT jsonb_array_elements_text(coalesce(actor->'roles', '[]'))),
    actor_vip = coalesce((actor->>'vip')::boolean, false);
ALTER TABLE order_events
    DROP COLUMN actor,
    ALTER COLUMN actor_kind SET NOT NULL,
    ALTER COLUMN actor_name SET NOT NULL,
    -- `actor_name` is the user id for a user, the service's or job's name otherwise.
    ADD CONSTRAINT order_events_actor_kind CHECK (actor_kind IN ('user', 'service', 'system'));

-- Discount rules -----------------------------------------------------------------------------------
ALTER TABLE promotions ADD COLUMN discount_kind text, ADD COLUMN discount_value bigint;
UPDATE promotions SET discount_kind = rule->>'type', discount_value = (rule->>'value')::bigint;
ALTER TABLE promo_codes ADD COLUMN discount_kind text, ADD COLUMN discount_value bigint;
UPDATE promo_codes SET discount_kind = rule->>'type', discount_value = (rule->>'value')::bigint;
ALTER TABLE promotions
    DROP COLUMN rule,
    ALTER COLUMN discount_kind SET NOT NULL,
    ALTER COLUMN discount_value SET NOT NULL,
    -- `discount_value` is parts per million for a percentage, minor units for a fixed amount.
    ADD CONSTRAINT promotions_discount CHECK (discount_kind IN ('percentage', 'fixed') AND discount_value >= 0);
ALTER TABLE promo_codes
    DROP COLUMN rule,
    ALTER COLUMN discount_kind SET NOT NULL,
    ALTER COLUMN discount_value SET NOT NULL,
    ADD CONSTRAINT promo_codes_discount CHECK (discount_kind IN ('percentage', 'fixed') AND discount_value >= 0);

-- Reads in one round trip --------------------------------------------------------------------------
-- One order with its lines and refunds as one row: the lines and refunds ride along as arrays of
-- these composite types, so a read is one statement and the adapter decodes typed values.
CREATE TYPE order_item_row AS (
    id uuid, ticket_type_id uuid, ticket_pricing_id uuid, product_id uuid, product_name text,
    attributes jsonb, quantity integer, unit_price bigint, subtotal bigint, discount bigint,
    platform_fee bigint, processing_fee bigint, shipping bigint, tax bigint, total bigint);

CREATE TYPE order_refund_row AS (
    id uuid, amount bigint, status text, item_ids uuid[], reason text, requested_by text,
    requested_at timestamptz, decided_by text, decided_at timestamptz, decision_note text,
    payment_reference text, failure_reason text, attempts integer, completed_at timestamptz);

-- security_invoker: the caller's row-level security applies to the tables under the view.
CREATE VIEW order_rows WITH (security_invoker = true) AS
SELECT o.id, o.tenant_id, o.order_number, o.user_id, o.kind, o.status, o.version, o.event_id,
    o.currency, o.subtotal, o.discount, o.platform_fee, o.processing_fee, o.shipping, o.tax, o.total,
    o.hold_id, o.expires_at, o.payment_intent_id, o.tickets, o.refundable_max,
    o.cancellation_reason, o.return_reason, o.created_at, o.updated_at, o.reserved_at,
    o.confirmed_at, o.processing_at, o.shipped_at, o.delivered_at, o.cancelled_at, o.expired_at,
    o.returned_at, o.refunded_at, o.carrier, o.tracking_number, o.label_url, o.estimated_delivery,
    o.shipping_address, o.billing_address, o.shipping_method, o.promo_code, o.notes,
    o.payment_method,
    ARRAY(SELECT ROW(i.id, i.ticket_type_id, i.ticket_pricing_id, i.product_id, i.product_name,
                     i.attributes, i.quantity, i.unit_price, i.subtotal, i.discount, i.platform_fee,
                     i.processing_fee, i.shipping, i.tax, i.total)::order_item_row
          FROM order_items i WHERE i.order_id = o.id ORDER BY i.position) AS items,
    ARRAY(SELECT ROW(r.id, r.amount, r.status, r.item_ids, r.reason, r.requested_by, r.requested_at,
                     r.decided_by, r.decided_at, r.decision_note, r.payment_reference,
                     r.failure_reason, r.attempts, r.completed_at)::order_refund_row
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

-- Paid orders with what was refunded on each (the metrics job's revenue figures).
CREATE VIEW paid_orders WITH (security_invoker = true) AS
SELECT o.id, o.event_id, o.currency, o.total, o.created_at, r.refunded
FROM orders o
LEFT JOIN (SELECT order_id, sum(amount) AS refunded
           FROM order_refunds WHERE status = 'COMPLETED' GROUP BY order_id) r ON r.order_id = o.id
WHERE o.confirmed_at IS NOT NULL;

GRANT SELECT ON paid_orders TO order_app;
