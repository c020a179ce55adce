//! The insert of a new order: quota claims, the order, its key, lines, audit and outbox, and the
//! cart and promo code it consumes, in one statement.

use order_domain::ports::{OrderChange, RepositoryError};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use crate::columns::{
    AuditColumns, ItemColumns, OutboxColumns, address_column, contact_email_column,
};
use crate::sealing::{AddressKeys, SealedColumn};
use crate::{corrupt, corrupt_data, storage, to_i32};

/// What the insert statement reports besides the rows it wrote.
pub(super) struct InsertOutcome {
    pub(super) saved: bool,
    pub(super) day_ok: bool,
    pub(super) event_ok: bool,
    pub(super) idempotency_ok: bool,
    pub(super) cart_ok: bool,
    pub(super) promo_ok: bool,
}

// The quota places are claimed first, by conditional upserts on the buyer's counter rows: an
// upsert that meets a concurrent one waits for it and re-checks the limit against the committed
// count, so no race can exceed a quota. The order row is only inserted when every claim held.
// A promo code is counted the same way after the order row: its usage limit on the code's row,
// its per-user limit on the buyer's counter row; a claim that fails rolls the whole order back.
// The statement's text is fixed, so every order takes the buyer's rows in the same order (no
// deadlock between two orders of one buyer).
pub(super) async fn insert_order(
    tx: &mut Transaction<'static, Postgres>,
    change: &OrderChange,
    keys: &AddressKeys,
) -> Result<InsertOutcome, RepositoryError> {
    let order = change.order.record();
    if !order.refunds.is_empty() || !order.ticket_ids.is_empty() {
        return Err(corrupt_data(
            "a new order has no refunds and no tickets yet",
        ));
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
    let shipping_address = address_column(
        keys,
        order.id,
        SealedColumn::Shipping,
        goods.shipping_address.as_ref(),
    )?;
    let billing_address = address_column(
        keys,
        order.id,
        SealedColumn::Billing,
        goods.billing_address.as_ref(),
    )?;
    let contact_email = contact_email_column(keys, order.id, order.contact_email.as_ref())?;
    let contact_email_index = order
        .contact_email
        .as_ref()
        .map(|email| keys.email_index().current(email));
    let row = sqlx::query!(
        r#"WITH day_quota AS (
            INSERT INTO buyer_daily_orders AS q (tenant_id, user_id, day, created)
            SELECT $1, $2, $3::date, 1 WHERE $3::date IS NOT NULL AND $4::integer > 0
            ON CONFLICT (tenant_id, user_id, day) DO UPDATE SET created = q.created + 1
                WHERE q.created < $4::integer
            RETURNING 1
        ),
        event_quota AS (
            INSERT INTO buyer_event_orders AS q (tenant_id, user_id, event_id, active)
            SELECT $1, $2, $5::uuid, 1 WHERE $5::uuid IS NOT NULL AND $6::integer > 0
            ON CONFLICT (tenant_id, user_id, event_id) DO UPDATE SET active = q.active + 1
                WHERE q.active < $6::integer
            RETURNING 1
        ),
        o AS (
            INSERT INTO orders (id, tenant_id, order_number, user_id, kind, status, version, event_id,
                currency, subtotal, discount, platform_fee, processing_fee, shipping, tax, total, hold_id,
                expires_at, payment_intent_id, tickets, refundable_max, cancellation_reason, return_reason,
                created_at, updated_at, reserved_at, confirmed_at, processing_at, shipped_at, delivered_at,
                cancelled_at, expired_at, returned_at, refunded_at, carrier, tracking_number, label_url,
                estimated_delivery, shipping_address, billing_address, shipping_method, promo_code, notes,
                payment_method, metadata, contact_email, contact_email_index)
            SELECT $7, $1, $8, $2, $9, $10, 1, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, '{}',
                $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, $39,
                $40, $41, $42, $43, $44, $45, $46, $47, $48, $88
            WHERE ($3::date IS NULL OR EXISTS (SELECT 1 FROM day_quota))
              AND ($5::uuid IS NULL OR EXISTS (SELECT 1 FROM event_quota))
            ON CONFLICT (id) DO NOTHING
            RETURNING id, tenant_id, user_id, created_at
        ),
        idem AS (
            INSERT INTO order_idempotency_keys AS k (tenant_id, user_id, key, fingerprint, order_id, created_at)
            SELECT o.tenant_id, o.user_id, $49, $50, o.id, o.created_at FROM o WHERE $49::text IS NOT NULL
            ON CONFLICT (tenant_id, user_id, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,
                order_id = EXCLUDED.order_id, created_at = EXCLUDED.created_at
                WHERE k.created_at < $51::timestamptz
            RETURNING 1
        ),
        items AS (
            INSERT INTO order_items (id, tenant_id, order_id, position, ticket_type_id, ticket_pricing_id,
                product_id, product_name, attributes, quantity, unit_price, subtotal, discount, platform_fee,
                processing_fee, shipping, tax, total)
            SELECT i.id, o.tenant_id, o.id, i.position, i.ticket_type_id, i.ticket_pricing_id, i.product_id,
                i.product_name, i.attributes, i.quantity, i.unit_price, i.subtotal, i.discount,
                i.platform_fee, i.processing_fee, i.shipping, i.tax, i.total
            FROM o, unnest($52::uuid[], $53::uuid[], $54::uuid[], $55::uuid[], $56::text[], $57::jsonb[],
                    $58::integer[], $59::bigint[], $60::bigint[], $61::bigint[], $62::bigint[], $63::bigint[],
                    $64::bigint[], $65::bigint[], $66::bigint[])
                WITH ORDINALITY AS i(id, ticket_type_id, ticket_pricing_id, product_id, product_name,
                    attributes, quantity, unit_price, subtotal, discount, platform_fee, processing_fee,
                    shipping, tax, total, position)
        ),
        audit AS (
            INSERT INTO order_events (id, tenant_id, order_id, event_type, from_status, to_status, actor_kind,
                actor_name, actor_roles, actor_vip, ip, metadata, occurred_at)
            SELECT a.id, o.tenant_id, o.id, a.event_type, a.from_status, a.to_status, a.actor_kind,
                a.actor_name, ARRAY(SELECT r.role FROM unnest($67::uuid[], $68::text[]) WITH ORDINALITY
                    AS r(entry, role, n) WHERE r.entry = a.id ORDER BY r.n),
                a.actor_vip, a.ip::inet, a.metadata, a.occurred_at
            FROM o, unnest($69::uuid[], $70::text[], $71::text[], $72::text[], $73::text[], $74::text[],
                    $75::boolean[], $76::text[], $77::jsonb[], $78::timestamptz[])
                AS a(id, event_type, from_status, to_status, actor_kind, actor_name, actor_vip, ip,
                    metadata, occurred_at)
        ),
        events AS (
            INSERT INTO outbox (id, tenant_id, order_id, event_type, payload, occurred_at, traceparent)
            SELECT e.id, o.tenant_id, o.id, e.event_type, e.payload, e.occurred_at, $79::text
            FROM o, unnest($80::uuid[], $81::text[], $82::jsonb[], $83::timestamptz[])
                WITH ORDINALITY AS e(id, event_type, payload, occurred_at, n)
            ORDER BY e.n
        ),
        cart_lines AS (
            DELETE FROM cart_items WHERE cart_id = $84 AND EXISTS (SELECT 1 FROM o)
        ),
        cart AS (
            UPDATE shopping_carts SET version = version + 1, updated_at = now()
            WHERE id = $84 AND version = $85 AND EXISTS (SELECT 1 FROM o)
            RETURNING id
        ),
        promo_use AS (
            INSERT INTO promo_code_usages (tenant_id, code, user_id, order_id)
            SELECT o.tenant_id, $86, $87, o.id FROM o WHERE $86::text IS NOT NULL
        ),
        promo AS (
            UPDATE promo_codes SET times_used = times_used + 1
            WHERE code = $86 AND tenant_id = $1 AND EXISTS (SELECT 1 FROM o)
              AND (usage_limit IS NULL OR times_used < usage_limit)
            RETURNING code, per_user_limit
        ),
        promo_user AS (
            INSERT INTO promo_code_user_uses AS q (tenant_id, code, user_id, used)
            SELECT $1, p.code, $87, 1 FROM promo p
            WHERE p.per_user_limit IS NULL OR p.per_user_limit >= 1
            ON CONFLICT (tenant_id, code, user_id) DO UPDATE SET used = q.used + 1
                WHERE q.used < coalesce((SELECT c.per_user_limit FROM promo_codes c
                                         WHERE c.tenant_id = q.tenant_id AND c.code = q.code),
                                        2147483647)
            RETURNING 1
        )
        SELECT EXISTS (SELECT 1 FROM o) AS "saved!",
               ($3::date IS NULL OR EXISTS (SELECT 1 FROM day_quota)) AS "day_ok!",
               ($5::uuid IS NULL OR EXISTS (SELECT 1 FROM event_quota)) AS "event_ok!",
               ($49::text IS NULL OR EXISTS (SELECT 1 FROM idem)) AS "idempotency_ok!",
               ($84::uuid IS NULL OR EXISTS (SELECT 1 FROM cart)) AS "cart_ok!",
               ($86::text IS NULL OR EXISTS (SELECT 1 FROM promo_user)) AS "promo_ok!""#,
        // day_quota
        order.tenant_id.as_uuid(),
        order.user_id.as_uuid(),
        quota.map(|q| q.day),
        quota.map(|q| to_i32(q.max_orders_per_day)),
        // event_quota
        quota_event.map(|(id, _)| *id.as_uuid()),
        quota_event.map(|(_, max)| to_i32(max)),
        // o
        order.id.as_uuid(),
        order.number.as_str(),
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
        milestones.processing_at,
        milestones.shipped_at,
        milestones.delivered_at,
        milestones.cancelled_at,
        milestones.expired_at,
        milestones.returned_at,
        milestones.refunded_at,
        order.shipment.as_ref().map(|s| s.carrier.as_str()),
        order.shipment.as_ref().map(|s| s.tracking_number.as_str()),
        order.shipment.as_ref().and_then(|s| s.label_url.as_deref()),
        order.shipment.as_ref().and_then(|s| s.estimated_delivery),
        shipping_address as _,
        billing_address as _,
        goods.shipping_method.as_deref(),
        goods.promo_code.as_deref(),
        goods.notes.as_deref(),
        goods.payment_method.as_deref(),
        order.metadata.to_value(),
        contact_email as _,
        // idem
        idempotency.map(|k| k.key.as_str()),
        idempotency.map(|k| k.fingerprint.as_str()),
        idempotency.map(|k| k.reusable_before),
        // items
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
        // audit
        &audit.role_entry,
        &audit.role as _,
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
        // events
        outbox.traceparent.as_deref(),
        &outbox.id,
        &outbox.event_type as _,
        &outbox.payload,
        &outbox.occurred_at,
        // cart_lines
        cart_id,
        // cart
        cart_version,
        // promo_use
        promo.map(|p| p.code.as_str()),
        promo.map(|p| *p.user_id.as_uuid()),
        // o, continued
        contact_email_index,
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
