//! The unit of work: an order's new state, its audit entries, outbox events, and the cart,
//! promo-code and inbox writes that belong to it, in one statement of one transaction.
//!
//! Three statements, each checked against the schema at compile time: [`insert_order`] stores a
//! new order (claiming its quota places first), [`update_order`] stores the change of one stored
//! order, [`update_batch`] the status changes of many (the expiry job). Values are bound as typed parameters — the columns of
//! [`crate::columns`] — never as a document the SQL would take apart.

use async_trait::async_trait;
use order_domain::policy::QuotaExceeded;
use order_domain::ports::{OrderChange, RepositoryError, UnitOfWork};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use crate::columns::{
    AuditColumns, ItemColumns, OrderUpdates, OutboxColumns, RefundColumns, address_column,
};
use crate::{PgStore, corrupt, storage, to_i32};

/// What the insert statement reports besides the rows it wrote.
struct InsertOutcome {
    saved: bool,
    day_ok: bool,
    event_ok: bool,
    idempotency_ok: bool,
    cart_ok: bool,
    promo_ok: bool,
}

// The quota places are claimed first, by conditional upserts on the buyer's counter rows: an
// upsert that meets a concurrent one waits for it and re-checks the limit against the committed
// count, so no race can exceed a quota. The order row is only inserted when every claim held.
// The statement's text is fixed, so every order takes the buyer's rows in the same order (no
// deadlock between two orders of one buyer).
async fn insert_order(
    tx: &mut Transaction<'static, Postgres>,
    change: &OrderChange,
) -> Result<InsertOutcome, RepositoryError> {
    let order = change.order.record();
    if !order.refunds.is_empty() || !order.ticket_ids.is_empty() {
        return Err(corrupt("a new order has no refunds and no tickets yet"));
    }
    let items = ItemColumns::of(&order.items)?;
    let mut audit = AuditColumns::default();
    audit.push(&change.audit);
    let mut outbox = OutboxColumns::default();
    outbox.push(&change.outbox)?;
    let parts = order.pricing.components();
    let milestones = &order.milestones;
    let goods = &order.goods;
    let quota = change.quota.as_ref();
    let quota_event = quota.and_then(|q| q.active_for_event);
    let idempotency = change.idempotency.as_ref();
    let (cart_id, cart_version) = cart_of(change)?;
    let promo = change.promo_redemption.as_ref();
    let row = sqlx::query!(
        r#"WITH day_quota AS (
            INSERT INTO buyer_daily_orders AS q (tenant_id, user_id, day, created)
            SELECT $2, $4, $67::date, 1 WHERE $67::date IS NOT NULL AND $68::integer > 0
            ON CONFLICT (tenant_id, user_id, day) DO UPDATE SET created = q.created + 1
                WHERE q.created < $68::integer
            RETURNING 1
        ),
        event_quota AS (
            INSERT INTO buyer_event_orders AS q (tenant_id, user_id, event_id, active)
            SELECT $2, $4, $69::uuid, 1 WHERE $69::uuid IS NOT NULL AND $70::integer > 0
            ON CONFLICT (tenant_id, user_id, event_id) DO UPDATE SET active = q.active + 1
                WHERE q.active < $70::integer
            RETURNING 1
        ),
        o AS (
            INSERT INTO orders (id, tenant_id, order_number, user_id, kind, status, version, event_id,
                currency, subtotal, discount, platform_fee, processing_fee, shipping, tax, total, hold_id,
                expires_at, payment_intent_id, tickets, refundable_max, cancellation_reason, return_reason,
                created_at, updated_at, reserved_at, confirmed_at, processing_at, shipped_at, delivered_at,
                cancelled_at, expired_at, returned_at, refunded_at, carrier, tracking_number, label_url,
                estimated_delivery, shipping_address, billing_address, shipping_method, promo_code, notes,
                payment_method)
            SELECT $1, $2, $3, $4, $5, $6, 1, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, '{}',
                $19, $20, $21, $22, $23, $24, $25, $76, $77, $78, $26, $27, $79, $80, $81, $82, $83,
                $84, $28, $29, $30, $31, $32, $33
            WHERE ($67::date IS NULL OR EXISTS (SELECT 1 FROM day_quota))
              AND ($69::uuid IS NULL OR EXISTS (SELECT 1 FROM event_quota))
            ON CONFLICT (id) DO NOTHING
            RETURNING id, tenant_id, user_id, created_at
        ),
        idem AS (
            INSERT INTO order_idempotency_keys AS k (tenant_id, user_id, key, fingerprint, order_id, created_at)
            SELECT o.tenant_id, o.user_id, $71, $72, o.id, o.created_at FROM o WHERE $71::text IS NOT NULL
            ON CONFLICT (tenant_id, user_id, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,
                order_id = EXCLUDED.order_id, created_at = EXCLUDED.created_at
                WHERE k.created_at < $73::timestamptz
            RETURNING 1
        ),
        items AS (
            INSERT INTO order_items (id, tenant_id, order_id, position, ticket_type_id, ticket_pricing_id,
                product_id, product_name, attributes, quantity, unit_price, subtotal, discount, platform_fee,
                processing_fee, shipping, tax, total)
            SELECT i.id, o.tenant_id, o.id, i.position, i.ticket_type_id, i.ticket_pricing_id, i.product_id,
                i.product_name, i.attributes, i.quantity, i.unit_price, i.subtotal, i.discount,
                i.platform_fee, i.processing_fee, i.shipping, i.tax, i.total
            FROM o, unnest($34::uuid[], $35::uuid[], $36::uuid[], $37::uuid[], $38::text[], $39::jsonb[],
                    $40::integer[], $41::bigint[], $42::bigint[], $43::bigint[], $44::bigint[], $45::bigint[],
                    $46::bigint[], $47::bigint[], $48::bigint[])
                WITH ORDINALITY AS i(id, ticket_type_id, ticket_pricing_id, product_id, product_name,
                    attributes, quantity, unit_price, subtotal, discount, platform_fee, processing_fee,
                    shipping, tax, total, position)
        ),
        audit AS (
            INSERT INTO order_events (id, tenant_id, order_id, event_type, from_status, to_status, actor_kind,
                actor_name, actor_roles, actor_vip, ip, metadata, occurred_at)
            SELECT a.id, o.tenant_id, o.id, a.event_type, a.from_status, a.to_status, a.actor_kind,
                a.actor_name, ARRAY(SELECT r.role FROM unnest($59::uuid[], $60::text[]) WITH ORDINALITY
                    AS r(entry, role, n) WHERE r.entry = a.id ORDER BY r.n),
                a.actor_vip, a.ip::inet, a.metadata, a.occurred_at
            FROM o, unnest($49::uuid[], $50::text[], $51::text[], $52::text[], $53::text[], $54::text[],
                    $55::boolean[], $56::text[], $57::jsonb[], $58::timestamptz[])
                AS a(id, event_type, from_status, to_status, actor_kind, actor_name, actor_vip, ip,
                    metadata, occurred_at)
        ),
        events AS (
            INSERT INTO outbox (id, tenant_id, order_id, event_type, payload, occurred_at)
            SELECT e.id, o.tenant_id, o.id, e.event_type, e.payload, e.occurred_at
            FROM o, unnest($61::uuid[], $62::text[], $63::jsonb[], $64::timestamptz[])
                WITH ORDINALITY AS e(id, event_type, payload, occurred_at, n)
            ORDER BY e.n
        ),
        cart_lines AS (
            DELETE FROM cart_items WHERE cart_id = $65 AND EXISTS (SELECT 1 FROM o)
        ),
        cart AS (
            UPDATE shopping_carts SET version = version + 1, updated_at = now()
            WHERE id = $65 AND version = $66 AND EXISTS (SELECT 1 FROM o)
            RETURNING id
        ),
        promo_use AS (
            INSERT INTO promo_code_usages (tenant_id, code, user_id, order_id)
            SELECT o.tenant_id, $74, $75, o.id FROM o WHERE $74::text IS NOT NULL
        ),
        promo AS (
            UPDATE promo_codes SET times_used = times_used + 1
            WHERE code = $74 AND tenant_id = $2 AND EXISTS (SELECT 1 FROM o)
              AND (usage_limit IS NULL OR times_used < usage_limit)
            RETURNING code
        )
        SELECT EXISTS (SELECT 1 FROM o) AS "saved!",
               ($67::date IS NULL OR EXISTS (SELECT 1 FROM day_quota)) AS "day_ok!",
               ($69::uuid IS NULL OR EXISTS (SELECT 1 FROM event_quota)) AS "event_ok!",
               ($71::text IS NULL OR EXISTS (SELECT 1 FROM idem)) AS "idempotency_ok!",
               ($65::uuid IS NULL OR EXISTS (SELECT 1 FROM cart)) AS "cart_ok!",
               ($74::text IS NULL OR EXISTS (SELECT 1 FROM promo)) AS "promo_ok!""#,
        order.id.as_uuid(),
        order.tenant_id.as_uuid(),
        order.number.as_str(),
        order.user_id.as_uuid(),
        order.kind.as_str(),
        order.status.as_str(),
        order.event_id.map(|e| *e.as_uuid()),
        order.pricing.currency().code(),
        parts.subtotal,
        parts.discount,
        parts.platform_fee,
        parts.processing_fee,
        parts.shipping,
        parts.tax,
        order.pricing.total().minor(),
        order.hold_id.as_ref().map(|h| h.as_str()),
        order.expires_at,
        order.payment_intent_id.as_ref().map(|p| p.as_str()),
        order.refundable_max,
        order.cancellation_reason.as_deref(),
        order.return_reason.as_deref(),
        milestones.created_at,
        milestones.updated_at,
        milestones.reserved_at,
        milestones.confirmed_at,
        milestones.cancelled_at,
        milestones.expired_at,
        address_column(goods.shipping_address.as_ref()) as _,
        address_column(goods.billing_address.as_ref()) as _,
        goods.shipping_method.as_deref(),
        goods.promo_code.as_deref(),
        goods.notes.as_deref(),
        goods.payment_method.as_deref(),
        &items.id,
        &items.ticket_type_id as _,
        &items.ticket_pricing_id as _,
        &items.product_id as _,
        &items.product_name as _,
        &items.attributes as _,
        &items.quantity,
        &items.unit_price,
        &items.subtotal,
        &items.discount,
        &items.platform_fee,
        &items.processing_fee,
        &items.shipping,
        &items.tax,
        &items.total,
        &audit.id,
        &audit.event_type,
        &audit.from_status as _,
        &audit.to_status as _,
        &audit.actor_kind as _,
        &audit.actor_name,
        &audit.actor_vip,
        &audit.ip as _,
        &audit.metadata,
        &audit.occurred_at,
        &audit.role_entry,
        &audit.role as _,
        &outbox.id,
        &outbox.event_type as _,
        &outbox.payload,
        &outbox.occurred_at,
        cart_id,
        cart_version,
        quota.map(|q| q.day),
        quota.map(|q| to_i32(q.max_orders_per_day)),
        quota_event.map(|(id, _)| *id.as_uuid()),
        quota_event.map(|(_, max)| to_i32(max)),
        idempotency.map(|k| k.key.as_str()),
        idempotency.map(|k| k.fingerprint.as_str()),
        idempotency.map(|k| k.reusable_before),
        promo.map(|p| p.code.as_str()),
        promo.map(|p| *p.user_id.as_uuid()),
        milestones.processing_at,
        milestones.shipped_at,
        milestones.delivered_at,
        milestones.returned_at,
        milestones.refunded_at,
        order.shipment.as_ref().map(|s| s.carrier.as_str()),
        order.shipment.as_ref().map(|s| s.tracking_number.as_str()),
        order.shipment.as_ref().and_then(|s| s.label_url.as_deref()),
        order.shipment.as_ref().and_then(|s| s.estimated_delivery),
    )
    .fetch_one(&mut **tx)
    .await
    .map_err(storage)?;
    Ok(InsertOutcome {
        saved: row.saved,
        day_ok: row.day_ok,
        event_ok: row.event_ok,
        idempotency_ok: row.idempotency_ok,
        cart_ok: row.cart_ok,
        promo_ok: row.promo_ok,
    })
}

// One stored order: found by its typed id (`id = $2` on the primary key is an index condition
// under row-level security, which lets only leakproof conditions use an index, and a plan no
// table statistics can talk out of it). Per-event quota places move with the status ($25); a late
// payment re-activates an order without a limit check (it is paid). Refunds are upserted whole.
async fn update_order(
    tx: &mut Transaction<'static, Postgres>,
    change: &OrderChange,
) -> Result<bool, RepositoryError> {
    let order = change.order.record();
    let milestones = &order.milestones;
    let shipment = order.shipment.as_ref();
    let tickets: Vec<&str> = order.ticket_ids.iter().map(|t| t.as_str()).collect();
    let mut refunds = RefundColumns::default();
    refunds.push(&change.order);
    let mut audit = AuditColumns::default();
    audit.push(&change.audit);
    let mut outbox = OutboxColumns::default();
    outbox.push(&change.outbox)?;
    let inbox = change.inbox.as_ref();
    let stored = sqlx::query_scalar!(
        r#"WITH o AS (
            UPDATE orders SET status = $4, version = version + 1, hold_id = $5, expires_at = $6,
                payment_intent_id = $7, tickets = $26, refundable_max = $8, cancellation_reason = $9,
                return_reason = $10, updated_at = $11, reserved_at = $12, confirmed_at = $13,
                processing_at = $14, shipped_at = $15, delivered_at = $16, cancelled_at = $17,
                expired_at = $18, returned_at = $19, refunded_at = $20, carrier = $21,
                tracking_number = $22, label_url = $23, estimated_delivery = $24
            WHERE id = $2 AND tenant_id = $1 AND version = $3
            RETURNING id, tenant_id, user_id, event_id
        ),
        event_place AS (
            INSERT INTO buyer_event_orders AS q (tenant_id, user_id, event_id, active)
            SELECT o.tenant_id, o.user_id, o.event_id, greatest($25::integer, 0)
            FROM o WHERE o.event_id IS NOT NULL AND $25::integer <> 0
            ON CONFLICT (tenant_id, user_id, event_id) DO UPDATE
                SET active = greatest(q.active + $25::integer, 0)
        ),
        refunds AS (
            INSERT INTO order_refunds (id, tenant_id, order_id, amount, status, item_ids, reason,
                requested_by, requested_at, decided_by, decided_at, decision_note, payment_reference,
                failure_reason, attempts, completed_at)
            SELECT r.id, o.tenant_id, o.id, r.amount, r.status,
                ARRAY(SELECT l.item FROM unnest($40::uuid[], $41::uuid[]) WITH ORDINALITY
                    AS l(refund, item, n) WHERE l.refund = r.id ORDER BY l.n),
                r.reason, r.requested_by, r.requested_at, r.decided_by, r.decided_at, r.decision_note,
                r.payment_reference, r.failure_reason, r.attempts, r.completed_at
            FROM o, unnest($27::uuid[], $28::bigint[], $29::text[], $30::text[], $31::text[],
                    $32::timestamptz[], $33::text[], $34::timestamptz[], $35::text[], $36::text[],
                    $37::text[], $38::integer[], $39::timestamptz[])
                AS r(id, amount, status, reason, requested_by, requested_at, decided_by, decided_at,
                    decision_note, payment_reference, failure_reason, attempts, completed_at)
            ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, decided_by = EXCLUDED.decided_by,
                decided_at = EXCLUDED.decided_at, decision_note = EXCLUDED.decision_note,
                payment_reference = EXCLUDED.payment_reference, failure_reason = EXCLUDED.failure_reason,
                attempts = EXCLUDED.attempts, completed_at = EXCLUDED.completed_at
        ),
        audit AS (
            INSERT INTO order_events (id, tenant_id, order_id, event_type, from_status, to_status, actor_kind,
                actor_name, actor_roles, actor_vip, ip, metadata, occurred_at)
            SELECT a.id, o.tenant_id, o.id, a.event_type, a.from_status, a.to_status, a.actor_kind,
                a.actor_name, ARRAY(SELECT r.role FROM unnest($52::uuid[], $53::text[]) WITH ORDINALITY
                    AS r(entry, role, n) WHERE r.entry = a.id ORDER BY r.n),
                a.actor_vip, a.ip::inet, a.metadata, a.occurred_at
            FROM o, unnest($42::uuid[], $43::text[], $44::text[], $45::text[], $46::text[], $47::text[],
                    $48::boolean[], $49::text[], $50::jsonb[], $51::timestamptz[])
                AS a(id, event_type, from_status, to_status, actor_kind, actor_name, actor_vip, ip,
                    metadata, occurred_at)
        ),
        events AS (
            INSERT INTO outbox (id, tenant_id, order_id, event_type, payload, occurred_at)
            SELECT e.id, o.tenant_id, o.id, e.event_type, e.payload, e.occurred_at
            FROM o, unnest($54::uuid[], $55::text[], $56::jsonb[], $57::timestamptz[])
                WITH ORDINALITY AS e(id, event_type, payload, occurred_at, n)
            ORDER BY e.n
        ),
        inbox_row AS (
            INSERT INTO inbox (tenant_id, consumer, message_id)
            SELECT o.tenant_id, $58, $59 FROM o WHERE $58::text IS NOT NULL
        )
        SELECT EXISTS (SELECT 1 FROM o) AS "stored!""#,
        order.tenant_id.as_uuid(),
        order.id.as_uuid(),
        i64::try_from(order.version).map_err(corrupt)?,
        order.status.as_str(),
        order.hold_id.as_ref().map(|h| h.as_str()),
        order.expires_at,
        order.payment_intent_id.as_ref().map(|p| p.as_str()),
        order.refundable_max,
        order.cancellation_reason.as_deref(),
        order.return_reason.as_deref(),
        milestones.updated_at,
        milestones.reserved_at,
        milestones.confirmed_at,
        milestones.processing_at,
        milestones.shipped_at,
        milestones.delivered_at,
        milestones.cancelled_at,
        milestones.expired_at,
        milestones.returned_at,
        milestones.refunded_at,
        shipment.map(|s| s.carrier.as_str()),
        shipment.map(|s| s.tracking_number.as_str()),
        shipment.and_then(|s| s.label_url.as_deref()),
        shipment.and_then(|s| s.estimated_delivery),
        event_place_delta(change),
        &tickets as _,
        &refunds.id,
        &refunds.amount,
        &refunds.status as _,
        &refunds.reason,
        &refunds.requested_by,
        &refunds.requested_at,
        &refunds.decided_by as _,
        &refunds.decided_at as _,
        &refunds.decision_note as _,
        &refunds.payment_reference as _,
        &refunds.failure_reason as _,
        &refunds.attempts,
        &refunds.completed_at as _,
        &refunds.line_refund,
        &refunds.line_item,
        &audit.id,
        &audit.event_type,
        &audit.from_status as _,
        &audit.to_status as _,
        &audit.actor_kind as _,
        &audit.actor_name,
        &audit.actor_vip,
        &audit.ip as _,
        &audit.metadata,
        &audit.occurred_at,
        &audit.role_entry,
        &audit.role as _,
        &outbox.id,
        &outbox.event_type as _,
        &outbox.payload,
        &outbox.occurred_at,
        inbox.map(|m| m.consumer.as_str()),
        inbox.map(|m| m.message_id.as_str()),
    )
    .fetch_one(&mut **tx)
    .await
    .map_err(storage)?;
    Ok(stored)
}

// Status changes of many stored orders of one tenant at once (the expiry job): unpaid orders,
// so no refunds, tickets or shipment move. Typed ids and versions find the rows; per-event quota
// places move by the sum of each buyer's changes, since one buyer may have several orders in a
// batch. Returns the ids of the orders whose version still matched.
async fn update_batch(
    tx: &mut Transaction<'static, Postgres>,
    tenant: Uuid,
    changes: &[OrderChange],
) -> Result<Vec<Uuid>, RepositoryError> {
    let mut orders = OrderUpdates::default();
    let mut audit = AuditColumns::default();
    let mut outbox = OutboxColumns::default();
    for change in changes {
        orders.push(&change.order, event_place_delta(change))?;
        audit.push(&change.audit);
        outbox.push(&change.outbox)?;
    }
    let stored = sqlx::query_scalar!(
        r#"WITH input AS (
            SELECT * FROM unnest($2::uuid[], $3::bigint[], $4::text[], $5::text[], $6::timestamptz[],
                $7::text[], $8::bigint[], $9::text[], $10::text[], $11::timestamptz[], $12::timestamptz[],
                $13::timestamptz[], $14::timestamptz[], $15::timestamptz[], $16::timestamptz[],
                $17::timestamptz[], $18::timestamptz[], $19::timestamptz[], $20::timestamptz[],
                $21::integer[])
            AS t(id, version, status, hold_id, expires_at, payment_intent_id, refundable_max,
                cancellation_reason, return_reason, updated_at, reserved_at, confirmed_at, processing_at,
                shipped_at, delivered_at, cancelled_at, expired_at, returned_at, refunded_at, place_delta)
        ),
        o AS (
            UPDATE orders SET status = i.status, version = orders.version + 1, hold_id = i.hold_id,
                expires_at = i.expires_at, payment_intent_id = i.payment_intent_id,
                refundable_max = i.refundable_max, cancellation_reason = i.cancellation_reason,
                return_reason = i.return_reason, updated_at = i.updated_at, reserved_at = i.reserved_at,
                confirmed_at = i.confirmed_at, processing_at = i.processing_at, shipped_at = i.shipped_at,
                delivered_at = i.delivered_at, cancelled_at = i.cancelled_at, expired_at = i.expired_at,
                returned_at = i.returned_at, refunded_at = i.refunded_at
            FROM input i
            WHERE orders.id = i.id AND orders.tenant_id = $1 AND orders.version = i.version
            RETURNING orders.id, orders.tenant_id, orders.user_id, orders.event_id
        ),
        places AS (
            SELECT o.tenant_id, o.user_id, o.event_id, sum(i.place_delta)::integer AS delta
            FROM o JOIN input i ON i.id = o.id
            WHERE o.event_id IS NOT NULL AND i.place_delta <> 0
            GROUP BY 1, 2, 3
        ),
        places_given_back AS (
            UPDATE buyer_event_orders q SET active = greatest(q.active + p.delta, 0)
            FROM places p
            WHERE p.delta < 0 AND q.tenant_id = p.tenant_id AND q.user_id = p.user_id
              AND q.event_id = p.event_id
        ),
        places_taken AS (
            INSERT INTO buyer_event_orders AS q (tenant_id, user_id, event_id, active)
            SELECT tenant_id, user_id, event_id, delta FROM places WHERE delta > 0
            ON CONFLICT (tenant_id, user_id, event_id) DO UPDATE SET active = q.active + EXCLUDED.active
        ),
        audit AS (
            INSERT INTO order_events (id, tenant_id, order_id, event_type, from_status, to_status, actor_kind,
                actor_name, actor_roles, actor_vip, ip, metadata, occurred_at)
            SELECT a.id, o.tenant_id, o.id, a.event_type, a.from_status, a.to_status, a.actor_kind,
                a.actor_name, ARRAY(SELECT r.role FROM unnest($33::uuid[], $34::text[]) WITH ORDINALITY
                    AS r(entry, role, n) WHERE r.entry = a.id ORDER BY r.n),
                a.actor_vip, a.ip::inet, a.metadata, a.occurred_at
            FROM unnest($22::uuid[], $23::uuid[], $24::text[], $25::text[], $26::text[], $27::text[],
                    $28::text[], $29::boolean[], $30::text[], $31::jsonb[], $32::timestamptz[])
                AS a(order_id, id, event_type, from_status, to_status, actor_kind, actor_name, actor_vip,
                    ip, metadata, occurred_at)
            JOIN o ON o.id = a.order_id
        ),
        events AS (
            INSERT INTO outbox (id, tenant_id, order_id, event_type, payload, occurred_at)
            SELECT e.id, o.tenant_id, o.id, e.event_type, e.payload, e.occurred_at
            FROM unnest($35::uuid[], $36::uuid[], $37::text[], $38::jsonb[], $39::timestamptz[])
                WITH ORDINALITY AS e(order_id, id, event_type, payload, occurred_at, n)
            JOIN o ON o.id = e.order_id
            ORDER BY e.n
        )
        SELECT coalesce(array_agg(id), '{}') AS "stored!" FROM o"#,
        tenant,
        &orders.id,
        &orders.version,
        &orders.status as _,
        &orders.hold_id as _,
        &orders.expires_at,
        &orders.payment_intent_id as _,
        &orders.refundable_max as _,
        &orders.cancellation_reason as _,
        &orders.return_reason as _,
        &orders.updated_at,
        &orders.reserved_at as _,
        &orders.confirmed_at as _,
        &orders.processing_at as _,
        &orders.shipped_at as _,
        &orders.delivered_at as _,
        &orders.cancelled_at as _,
        &orders.expired_at as _,
        &orders.returned_at as _,
        &orders.refunded_at as _,
        &orders.place_delta,
        &audit.order_id,
        &audit.id,
        &audit.event_type,
        &audit.from_status as _,
        &audit.to_status as _,
        &audit.actor_kind as _,
        &audit.actor_name,
        &audit.actor_vip,
        &audit.ip as _,
        &audit.metadata,
        &audit.occurred_at,
        &audit.role_entry,
        &audit.role as _,
        &outbox.order_id,
        &outbox.id,
        &outbox.event_type as _,
        &outbox.payload,
        &outbox.occurred_at,
    )
    .fetch_one(&mut **tx)
    .await
    .map_err(storage)?;
    Ok(stored)
}

#[async_trait]
impl UnitOfWork for PgStore {
    async fn commit(&self, change: &OrderChange) -> Result<(), RepositoryError> {
        let order = change.order.record();
        let mut tx = self.tenant_tx(order.tenant_id).await?;
        // Dropping the transaction without committing rolls every part back.
        if order.version == 0 {
            let outcome = insert_order(&mut tx, change).await?;
            if !outcome.day_ok {
                return Err(QuotaExceeded::OrdersPerDay {
                    limit: change.quota.map_or(0, |q| q.max_orders_per_day),
                }
                .into());
            }
            if !outcome.event_ok {
                return Err(QuotaExceeded::ActiveOrdersPerEvent {
                    limit: change
                        .quota
                        .and_then(|q| q.active_for_event)
                        .map_or(0, |(_, max)| max),
                }
                .into());
            }
            if !outcome.idempotency_ok {
                return Err(RepositoryError::IdempotencyKeyTaken);
            }
            if !outcome.saved || !outcome.cart_ok || !outcome.promo_ok {
                return Err(RepositoryError::Conflict { expected: 0 });
            }
        } else {
            if change.consumed_cart.is_some()
                || change.promo_redemption.is_some()
                || change.quota.is_some()
                || change.idempotency.is_some()
            {
                return Err(corrupt(
                    "carts, promo codes, quotas and idempotency keys go with a new order only",
                ));
            }
            if !update_order(&mut tx, change).await? {
                return Err(RepositoryError::Conflict {
                    expected: order.version,
                });
            }
        }
        // Past this point the server may have committed even if the answer never arrives.
        tx.commit()
            .await
            .map_err(|error| RepositoryError::CommitOutcomeUnknown(error.to_string()))
    }

    async fn commit_batch(&self, changes: &[OrderChange]) -> Result<Vec<bool>, RepositoryError> {
        let Some(first) = changes.first() else {
            return Ok(Vec::new());
        };
        let tenant = first.order.tenant_id();
        if changes.iter().any(|c| c.order.tenant_id() != tenant) {
            return Err(corrupt("a batch stores one tenant's orders"));
        }
        let only_status_changes = changes.iter().all(|change| {
            let order = change.order.record();
            order.version > 0
                && order.refunds.is_empty()
                && order.ticket_ids.is_empty()
                && order.shipment.is_none()
                && change.consumed_cart.is_none()
                && change.promo_redemption.is_none()
                && change.inbox.is_none()
                && change.quota.is_none()
                && change.idempotency.is_none()
        });
        if !only_status_changes {
            return Err(corrupt(
                "a batch stores status changes of stored, unpaid orders without extras only",
            ));
        }
        let mut tx = self.tenant_tx(tenant).await?;
        let stored = update_batch(&mut tx, *tenant.as_uuid(), changes).await?;
        tx.commit()
            .await
            .map_err(|error| RepositoryError::CommitOutcomeUnknown(error.to_string()))?;
        Ok(changes
            .iter()
            .map(|change| stored.contains(change.order.id().as_uuid()))
            .collect())
    }
}

/// The cart a new goods order empties, with the version it was priced at.
fn cart_of(change: &OrderChange) -> Result<(Option<Uuid>, Option<i64>), RepositoryError> {
    match change.consumed_cart {
        Some((id, version)) => Ok((
            Some(*id.as_uuid()),
            Some(i64::try_from(version).map_err(corrupt)?),
        )),
        None => Ok((None, None)),
    }
}

/// How the change moves the order's place in its buyer's per-event quota: +1 when it enters the
/// active statuses, -1 when it leaves them.
fn event_place_delta(change: &OrderChange) -> i32 {
    let was = change.order.stored_status().is_some_and(|s| s.is_active());
    let is = change.order.status().is_active();
    i32::from(is) - i32::from(was)
}
