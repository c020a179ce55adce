//! Updates of stored orders: one order with everything that belongs to its change, or the status
//! changes of many (the expiry job).

use order_domain::ports::{OrderChange, RepositoryError};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use crate::columns::{
    AuditColumns, DocumentColumns, LedgerColumns, OrderUpdates, OutboxColumns, RefundColumns,
};
use crate::sealing::AddressKeys;
use crate::{corrupt, storage};

// One stored order: found by its typed id (`id = $2` on the primary key is an index condition
// under row-level security, which lets only leakproof conditions use an index, and a plan no
// table statistics can talk out of it). Per-event quota places move with the status ($25); a late
// payment re-activates an order without a limit check (it is paid). Refunds are upserted whole;
// a refund request's idempotency key is claimed in the same statement ($64–$68), and the
// change's ledger entries are appended ($69–$75), and its invoices and credit notes numbered from
// their counter rows and stored ($76–$82; the counter row stays locked until commit, so numbers
// are consecutive and a rollback leaves no gap); $84 counts the reservation's extensions.
pub(super) async fn update_order(
    tx: &mut Transaction<'static, Postgres>,
    change: &OrderChange,
    keys: &AddressKeys,
) -> Result<Updated, RepositoryError> {
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
    let return_items: Vec<Uuid> = order.return_items.iter().map(|i| *i.as_uuid()).collect();
    let cancelled_items: Vec<Uuid> = order.cancelled_items.iter().map(|i| *i.as_uuid()).collect();
    let refund_key = change.refund_key.as_ref();
    let mut ledger = LedgerColumns::default();
    ledger.push(&change.ledger);
    let documents = DocumentColumns::new(&change.documents, keys)?;
    let outcome = sqlx::query!(
        r#"WITH o AS (
            UPDATE orders SET status = $1, version = version + 1, hold_id = $2, expires_at = $3,
                payment_intent_id = $4, tickets = $5, refundable_max = $6, cancellation_reason = $7,
                return_reason = $8, updated_at = $9, reserved_at = $10, confirmed_at = $11,
                processing_at = $12, shipped_at = $13, delivered_at = $14, cancelled_at = $15,
                expired_at = $16, returned_at = $17, refunded_at = $18, carrier = $19,
                tracking_number = $20, label_url = $21, estimated_delivery = $22, return_items = $23,
                cancelled_items = $24, hold_extensions = $25
            WHERE id = $26 AND tenant_id = $27 AND version = $28
            RETURNING id, tenant_id, user_id, event_id
        ),
        event_place AS (
            INSERT INTO buyer_event_orders AS q (tenant_id, user_id, event_id, active)
            SELECT o.tenant_id, o.user_id, o.event_id, greatest($29::integer, 0)
            FROM o WHERE o.event_id IS NOT NULL AND $29::integer <> 0
            ON CONFLICT (tenant_id, user_id, event_id) DO UPDATE
                SET active = greatest(q.active + $29::integer, 0)
        ),
        refunds AS (
            INSERT INTO order_refunds (id, tenant_id, order_id, amount, status, item_ids, reason,
                requested_by, requested_at, decided_by, decided_at, decision_note, payment_reference,
                failure_reason, attempts, completed_at, retry_at)
            SELECT r.id, o.tenant_id, o.id, r.amount, r.status,
                ARRAY(SELECT l.item FROM unnest($30::uuid[], $31::uuid[]) WITH ORDINALITY
                    AS l(refund, item, n) WHERE l.refund = r.id ORDER BY l.n),
                r.reason, r.requested_by, r.requested_at, r.decided_by, r.decided_at, r.decision_note,
                r.payment_reference, r.failure_reason, r.attempts, r.completed_at, r.retry_at
            FROM o, unnest($32::uuid[], $33::bigint[], $34::text[], $35::text[], $36::text[],
                    $37::timestamptz[], $38::text[], $39::timestamptz[], $40::text[], $41::text[],
                    $42::text[], $43::integer[], $44::timestamptz[], $45::timestamptz[])
                AS r(id, amount, status, reason, requested_by, requested_at, decided_by, decided_at,
                    decision_note, payment_reference, failure_reason, attempts, completed_at, retry_at)
            ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, decided_by = EXCLUDED.decided_by,
                decided_at = EXCLUDED.decided_at, decision_note = EXCLUDED.decision_note,
                payment_reference = EXCLUDED.payment_reference, failure_reason = EXCLUDED.failure_reason,
                attempts = EXCLUDED.attempts, completed_at = EXCLUDED.completed_at,
                retry_at = EXCLUDED.retry_at
        ),
        audit AS (
            INSERT INTO order_events (id, tenant_id, order_id, event_type, from_status, to_status, actor_kind,
                actor_name, actor_roles, actor_vip, ip, metadata, occurred_at)
            SELECT a.id, o.tenant_id, o.id, a.event_type, a.from_status, a.to_status, a.actor_kind,
                a.actor_name, ARRAY(SELECT r.role FROM unnest($46::uuid[], $47::text[]) WITH ORDINALITY
                    AS r(entry, role, n) WHERE r.entry = a.id ORDER BY r.n),
                a.actor_vip, a.ip::inet, a.metadata, a.occurred_at
            FROM o, unnest($48::uuid[], $49::text[], $50::text[], $51::text[], $52::text[], $53::text[],
                    $54::boolean[], $55::text[], $56::jsonb[], $57::timestamptz[])
                AS a(id, event_type, from_status, to_status, actor_kind, actor_name, actor_vip, ip,
                    metadata, occurred_at)
        ),
        events AS (
            INSERT INTO outbox (id, tenant_id, order_id, event_type, payload, occurred_at, traceparent)
            SELECT e.id, o.tenant_id, o.id, e.event_type, e.payload, e.occurred_at, $58::text
            FROM o, unnest($59::uuid[], $60::text[], $61::jsonb[], $62::timestamptz[])
                WITH ORDINALITY AS e(id, event_type, payload, occurred_at, n)
            ORDER BY e.n
        ),
        inbox_row AS (
            INSERT INTO inbox (tenant_id, consumer, message_id)
            SELECT o.tenant_id, $63, $64 FROM o WHERE $63::text IS NOT NULL
        ),
        ledger AS (
            INSERT INTO ledger_entries (id, tenant_id, order_id, kind, amount, currency, refund_id,
                reference, occurred_at)
            SELECT l.id, o.tenant_id, o.id, l.kind, l.amount, l.currency, l.refund_id, l.reference,
                l.occurred_at
            FROM o, unnest($65::uuid[], $66::text[], $67::bigint[], $68::text[], $69::uuid[],
                    $70::text[], $71::timestamptz[])
                WITH ORDINALITY AS l(id, kind, amount, currency, refund_id, reference, occurred_at, n)
            ORDER BY l.n
        ),
        doc_input AS (
            SELECT d.kind, d.year, d.refund_id, d.issued_at, d.total, d.currency, d.content, d.buyer,
                d.n
            FROM unnest($72::text[], $73::integer[], $74::uuid[], $75::timestamptz[],
                    $76::bigint[], $77::text[], $78::jsonb[], $79::jsonb[])
                WITH ORDINALITY AS d(kind, year, refund_id, issued_at, total, currency, content,
                    buyer, n)
        ),
        counters AS (
            INSERT INTO document_counters AS c (tenant_id, kind, year, last)
            SELECT o.tenant_id, i.kind, i.year, count(*) FROM o, doc_input i
            GROUP BY o.tenant_id, i.kind, i.year
            ON CONFLICT (tenant_id, kind, year) DO UPDATE SET last = c.last + EXCLUDED.last
            RETURNING c.kind, c.year, c.last
        ),
        documents AS (
            INSERT INTO order_documents (tenant_id, order_id, kind, year, sequence, number, corrects,
                refund_id, issued_at, total, currency, content, buyer)
            SELECT o.tenant_id, o.id, n.kind, n.year, n.sequence,
                CASE n.kind WHEN 'INVOICE' THEN 'INV' ELSE 'CN' END || '-' || n.year || '-'
                    || lpad(n.sequence::text, 6, '0'),
                CASE n.kind WHEN 'CREDIT_NOTE' THEN (SELECT d.number FROM order_documents d
                    WHERE d.order_id = o.id AND d.kind = 'INVOICE') END,
                n.refund_id, n.issued_at, n.total, n.currency, n.content, n.buyer
            FROM o, (
                SELECT i.*, c.last - count(*) OVER (PARTITION BY i.kind, i.year)
                    + row_number() OVER (PARTITION BY i.kind, i.year ORDER BY i.n) AS sequence
                FROM doc_input i JOIN counters c ON c.kind = i.kind AND c.year = i.year
            ) n
        ),
        refund_key AS (
            INSERT INTO refund_request_keys AS k (tenant_id, caller, key, fingerprint, order_id,
                refund_id, created_at)
            SELECT o.tenant_id, $80, $81, $82, o.id, $83, $9 FROM o WHERE $81::text IS NOT NULL
            ON CONFLICT (tenant_id, caller, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,
                order_id = EXCLUDED.order_id, refund_id = EXCLUDED.refund_id,
                created_at = EXCLUDED.created_at
                WHERE k.created_at < $84::timestamptz
            RETURNING 1
        )
        SELECT EXISTS (SELECT 1 FROM o) AS "stored!",
            ($81::text IS NULL OR EXISTS (SELECT 1 FROM refund_key)) AS "key_claimed!""#,
        // o
        order.status.as_str(),
        order.hold_id.as_ref().map(|h| h.as_str()),
        order.expires_at,
        order.payment_intent_id.as_ref().map(|p| p.as_str()),
        &tickets as _,
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
        &return_items,
        &cancelled_items,
        i32::try_from(order.hold_extensions).map_err(corrupt)?,
        order.id.as_uuid(),
        order.tenant_id.as_uuid(),
        i64::try_from(order.version).map_err(corrupt)?,
        // event_place
        event_place_delta(change),
        // refunds
        &refunds.line_refund,
        &refunds.line_item,
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
        &refunds.retry_at as _,
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
        // inbox_row
        inbox.map(|m| m.consumer.as_str()),
        inbox.map(|m| m.message_id.as_str()),
        // ledger
        &ledger.id,
        &ledger.kind as _,
        &ledger.amount,
        &ledger.currency as _,
        &ledger.refund_id as _,
        &ledger.reference as _,
        &ledger.occurred_at,
        // doc_input
        &documents.kind as _,
        &documents.year,
        &documents.refund_id as _,
        &documents.issued_at,
        &documents.total,
        &documents.currency as _,
        &documents.content,
        &documents.buyer as _,
        // refund_key
        refund_key.map(|k| k.caller.as_str()),
        refund_key.map(|k| k.record.key.as_str()),
        refund_key.map(|k| k.record.fingerprint.as_str()),
        refund_key.map(|k| *k.refund_id.as_uuid()),
        refund_key.map(|k| k.record.reusable_before),
    )
    .fetch_one(&mut **tx)
    .await
    .map_err(storage)?;
    Ok(match (outcome.stored, outcome.key_claimed) {
        (false, _) => Updated::StaleVersion,
        (true, false) => Updated::KeyTaken,
        (true, true) => Updated::Stored,
    })
}

/// What [`update_order`] did.
pub(super) enum Updated {
    /// The change is written (not yet committed).
    Stored,
    /// The stored version is not the one the change was based on; nothing was written.
    StaleVersion,
    /// The refund request's idempotency key is the caller's already; roll back.
    KeyTaken,
}

// Status changes of many stored orders of one tenant at once (the expiry job): unpaid orders,
// so no refunds, tickets or shipment move. Typed ids and versions find the rows; per-event quota
// places move by the sum of each buyer's changes, since one buyer may have several orders in a
// batch. Returns the ids of the orders whose version still matched.
pub(super) async fn update_batch(
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
            SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::timestamptz[],
                $6::text[], $7::bigint[], $8::text[], $9::text[], $10::timestamptz[], $11::timestamptz[],
                $12::timestamptz[], $13::timestamptz[], $14::timestamptz[], $15::timestamptz[],
                $16::timestamptz[], $17::timestamptz[], $18::timestamptz[], $19::timestamptz[],
                $20::integer[])
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
            WHERE orders.id = i.id AND orders.tenant_id = $21 AND orders.version = i.version
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
                a.actor_name, ARRAY(SELECT r.role FROM unnest($22::uuid[], $23::text[]) WITH ORDINALITY
                    AS r(entry, role, n) WHERE r.entry = a.id ORDER BY r.n),
                a.actor_vip, a.ip::inet, a.metadata, a.occurred_at
            FROM unnest($24::uuid[], $25::uuid[], $26::text[], $27::text[], $28::text[], $29::text[],
                    $30::text[], $31::boolean[], $32::text[], $33::jsonb[], $34::timestamptz[])
                AS a(order_id, id, event_type, from_status, to_status, actor_kind, actor_name, actor_vip,
                    ip, metadata, occurred_at)
            JOIN o ON o.id = a.order_id
        ),
        events AS (
            INSERT INTO outbox (id, tenant_id, order_id, event_type, payload, occurred_at, traceparent)
            SELECT e.id, o.tenant_id, o.id, e.event_type, e.payload, e.occurred_at, $35::text
            FROM unnest($36::uuid[], $37::uuid[], $38::text[], $39::jsonb[], $40::timestamptz[])
                WITH ORDINALITY AS e(order_id, id, event_type, payload, occurred_at, n)
            JOIN o ON o.id = e.order_id
            ORDER BY e.n
        )
        SELECT coalesce(array_agg(id), '{}') AS "stored!" FROM o"#,
        // input
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
        // o
        tenant,
        // audit
        &audit.role_entry,
        &audit.role as _,
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
        // events
        outbox.traceparent.as_deref(),
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

/// How the change moves the order's place in its buyer's per-event quota: +1 when it enters the
/// active statuses, -1 when it leaves them.
fn event_place_delta(change: &OrderChange) -> i32 {
    let was = change.order.stored_status().is_some_and(|s| s.is_active());
    let is = change.order.status().is_active();
    i32::from(is) - i32::from(was)
}
