//! The unit of work: an order's new state, its audit entries, outbox events, and the cart,
//! promo-code and inbox writes that belong to it, in one statement of one transaction.

use async_trait::async_trait;
use order_domain::policy::QuotaExceeded;
use order_domain::ports::{OrderChange, RepositoryError, UnitOfWork};
use sqlx::Row;

use crate::{PgStore, corrupt, storage};

/// Everything written after the order row: refunds, audit, outbox, cart, promo code, inbox.
/// Each part only runs when the order row was written (`o` returned a row).
macro_rules! change_tail {
    () => {
        ",
        refunds AS (
            INSERT INTO order_refunds (id, tenant_id, order_id, amount, status, items, reason, requested_by,
                requested_at, decided_by, decided_at, decision_note, payment_reference, failure_reason,
                attempts, completed_at)
            SELECT (f->>'id')::uuid, o.tenant_id, o.id, (f->>'amount')::bigint, f->>'status', f->'items',
                f->>'reason', f->>'requestedBy', (f->>'requestedAt')::timestamptz, f->>'decidedBy',
                (f->>'decidedAt')::timestamptz, f->>'decisionNote', f->>'paymentReference',
                f->>'failureReason', (f->>'attempts')::integer, (f->>'completedAt')::timestamptz
            FROM o, input, jsonb_array_elements(input.r->'refunds') AS t(f)
            ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, decided_by = EXCLUDED.decided_by,
                decided_at = EXCLUDED.decided_at, decision_note = EXCLUDED.decision_note,
                payment_reference = EXCLUDED.payment_reference, failure_reason = EXCLUDED.failure_reason,
                attempts = EXCLUDED.attempts, completed_at = EXCLUDED.completed_at
        ),
        audit AS (
            INSERT INTO order_events (id, tenant_id, order_id, event_type, from_status, to_status, actor, ip,
                metadata, occurred_at)
            SELECT (a->>'id')::uuid, o.tenant_id, o.id, a->>'eventType', a->>'fromStatus', a->>'toStatus',
                a->'actor', (a->>'ip')::inet, a->'metadata', (a->>'occurredAt')::timestamptz
            FROM o, input, jsonb_array_elements(input.audit) AS t(a)
        ),
        events AS (
            INSERT INTO outbox (id, tenant_id, order_id, event_type, payload, occurred_at)
            SELECT (e->>'id')::uuid, o.tenant_id, o.id, e->>'type', e, (e->>'occurredAt')::timestamptz
            FROM o, input, jsonb_array_elements(input.outbox) WITH ORDINALITY AS t(e, n)
            ORDER BY n
        ),
        cart_lines AS (
            DELETE FROM cart_items WHERE cart_id = $4 AND EXISTS (SELECT 1 FROM o)
        ),
        cart AS (
            UPDATE shopping_carts SET version = version + 1, updated_at = now()
            WHERE id = $4 AND version = $5 AND EXISTS (SELECT 1 FROM o)
            RETURNING id
        ),
        promo_use AS (
            INSERT INTO promo_code_usages (tenant_id, code, user_id, order_id)
            SELECT o.tenant_id, $6, $7, o.id FROM o WHERE $6::text IS NOT NULL
        ),
        promo AS (
            UPDATE promo_codes SET times_used = times_used + 1
            WHERE code = $6 AND tenant_id = (SELECT tenant_id FROM o)
              AND (usage_limit IS NULL OR times_used < usage_limit)
            RETURNING code
        ),
        inbox_row AS (
            INSERT INTO inbox (tenant_id, consumer, message_id)
            SELECT o.tenant_id, $8, $9 FROM o WHERE $8::text IS NOT NULL
        )"
    };
}

/// The outcome columns both statements end with.
macro_rules! change_outcome {
    () => {
        "SELECT (SELECT count(*) FROM o) AS saved,
               ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM cart)) AS cart_ok,
               ($6::text IS NULL OR EXISTS (SELECT 1 FROM promo)) AS promo_ok"
    };
}

// The quota places are claimed first, by conditional upserts on the buyer's counter rows: an
// upsert that meets a concurrent one waits for it and re-checks the limit against the committed
// count, so no race can exceed a quota. The order row is only inserted when every claim held.
// The statement's text is fixed, so every order takes the buyer's rows in the same order (no
// deadlock between two orders of one buyer).
const INSERT_ORDER: &str = concat!(
    "WITH input AS (SELECT $1::jsonb AS r, $2::jsonb AS audit, $3::jsonb AS outbox),
    day_quota AS (
        INSERT INTO buyer_daily_orders AS q (tenant_id, user_id, day, created)
        SELECT (r->>'tenantId')::uuid, (r->>'userId')::uuid, $10::date, 1
        FROM input WHERE $10::date IS NOT NULL AND $11::integer > 0
        ON CONFLICT (tenant_id, user_id, day) DO UPDATE SET created = q.created + 1
            WHERE q.created < $11::integer
        RETURNING 1
    ),
    event_quota AS (
        INSERT INTO buyer_event_orders AS q (tenant_id, user_id, event_id, active)
        SELECT (r->>'tenantId')::uuid, (r->>'userId')::uuid, $12::uuid, 1
        FROM input WHERE $12::uuid IS NOT NULL AND $13::integer > 0
        ON CONFLICT (tenant_id, user_id, event_id) DO UPDATE SET active = q.active + 1
            WHERE q.active < $13::integer
        RETURNING 1
    ),
    o AS (
        INSERT INTO orders (id, tenant_id, order_number, user_id, kind, status, version, event_id, currency,
            subtotal, discount, platform_fee, processing_fee, shipping, tax, total, hold_id, expires_at,
            payment_intent_id, goods, shipment, ticket_ids, refundable_max, cancellation_reason,
            return_reason, milestones, created_at, updated_at)
        SELECT (r->>'id')::uuid, (r->>'tenantId')::uuid, r->>'number', (r->>'userId')::uuid, r->>'kind',
            r->>'status', 1, (r->>'eventId')::uuid, r->'pricing'->>'currency',
            (r->'pricing'->>'subtotal')::bigint, (r->'pricing'->>'discount')::bigint,
            (r->'pricing'->>'platformFee')::bigint, (r->'pricing'->>'processingFee')::bigint,
            (r->'pricing'->>'shipping')::bigint, (r->'pricing'->>'tax')::bigint,
            (r->'pricing'->>'total')::bigint, r->>'holdId', (r->>'expiresAt')::timestamptz,
            r->>'paymentIntentId', r->'goods', NULLIF(r->'shipment', 'null'::jsonb), r->'ticketIds',
            (r->>'refundableMax')::bigint, r->>'cancellationReason', r->>'returnReason', r->'milestones',
            (r->'milestones'->>'createdAt')::timestamptz, (r->'milestones'->>'updatedAt')::timestamptz
        FROM input
        WHERE ($10::date IS NULL OR EXISTS (SELECT 1 FROM day_quota))
          AND ($12::uuid IS NULL OR EXISTS (SELECT 1 FROM event_quota))
        ON CONFLICT (id) DO NOTHING
        RETURNING id, tenant_id, user_id
    ),
    idem AS (
        INSERT INTO order_idempotency_keys AS k (tenant_id, user_id, key, fingerprint, order_id, created_at)
        SELECT o.tenant_id, o.user_id, $14, $15, o.id, (r->'milestones'->>'createdAt')::timestamptz
        FROM o, input WHERE $14::text IS NOT NULL
        ON CONFLICT (tenant_id, user_id, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,
            order_id = EXCLUDED.order_id, created_at = EXCLUDED.created_at
            WHERE k.created_at < $16::timestamptz
        RETURNING 1
    ),
    items AS (
        INSERT INTO order_items (id, tenant_id, order_id, position, product, quantity, unit_price, subtotal,
            discount, platform_fee, processing_fee, shipping, tax, total)
        SELECT (i->>'id')::uuid, o.tenant_id, o.id, p::integer, i->'product', (i->>'quantity')::integer,
            (i->>'unitPrice')::bigint, (i->'pricing'->>'subtotal')::bigint, (i->'pricing'->>'discount')::bigint,
            (i->'pricing'->>'platformFee')::bigint, (i->'pricing'->>'processingFee')::bigint,
            (i->'pricing'->>'shipping')::bigint, (i->'pricing'->>'tax')::bigint, (i->'pricing'->>'total')::bigint
        FROM o, input, jsonb_array_elements(input.r->'items') WITH ORDINALITY AS t(i, p)
    )",
    change_tail!(),
    change_outcome!(),
    ",
           ($10::date IS NULL OR EXISTS (SELECT 1 FROM day_quota)) AS day_ok,
           ($12::uuid IS NULL OR EXISTS (SELECT 1 FROM event_quota)) AS event_ok,
           ($14::text IS NULL OR EXISTS (SELECT 1 FROM idem)) AS idem_ok"
);

// Items never change after creation, so an update writes the order row and what follows it.
// An order entering or leaving the active statuses takes or gives back its per-event place
// ($10: +1, -1 or 0); a late payment re-activates an order without a limit check (it is paid).
// The row is found by typed parameters ($11–$13), never by values read out of the JSON input:
// under row-level security the planner may only use leakproof conditions as index conditions,
// and `(r->>'id')::uuid` is not one, so it would scan the tenant's every order.
pub(crate) const UPDATE_ORDER: &str = concat!(
    "WITH input AS (SELECT $1::jsonb AS r, $2::jsonb AS audit, $3::jsonb AS outbox),
    o AS (
        UPDATE orders SET status = r->>'status', version = orders.version + 1, hold_id = r->>'holdId',
            expires_at = (r->>'expiresAt')::timestamptz, payment_intent_id = r->>'paymentIntentId',
            goods = r->'goods', shipment = NULLIF(r->'shipment', 'null'::jsonb), ticket_ids = r->'ticketIds',
            refundable_max = (r->>'refundableMax')::bigint, cancellation_reason = r->>'cancellationReason',
            return_reason = r->>'returnReason', milestones = r->'milestones',
            updated_at = (r->'milestones'->>'updatedAt')::timestamptz
        FROM input
        WHERE orders.id = $11 AND orders.tenant_id = $12 AND orders.version = $13
        RETURNING orders.id, orders.tenant_id, orders.user_id, orders.event_id
    ),
    event_place AS (
        INSERT INTO buyer_event_orders AS q (tenant_id, user_id, event_id, active)
        SELECT o.tenant_id, o.user_id, o.event_id, greatest($10::integer, 0)
        FROM o WHERE o.event_id IS NOT NULL AND $10::integer <> 0
        ON CONFLICT (tenant_id, user_id, event_id) DO UPDATE SET active = greatest(q.active + $10::integer, 0)
    )",
    change_tail!(),
    change_outcome!(),
    ", true AS day_ok, true AS event_ok, true AS idem_ok"
);

// Many stored orders of one tenant at once (the expiry job): typed ids and versions find the
// rows (index conditions under row-level security), each order's JSON state, audit and outbox
// ride along in parallel arrays. Per-event quota places move by the sum of each buyer's changes,
// since one buyer may have several orders in a batch.
const UPDATE_BATCH: &str = "
    WITH input AS (
        SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::jsonb[], $4::jsonb[], $5::jsonb[], $6::integer[])
            AS t(id, version, r, audit, outbox, delta)
    ),
    o AS (
        UPDATE orders SET status = i.r->>'status', version = orders.version + 1, hold_id = i.r->>'holdId',
            expires_at = (i.r->>'expiresAt')::timestamptz, payment_intent_id = i.r->>'paymentIntentId',
            goods = i.r->'goods', shipment = NULLIF(i.r->'shipment', 'null'::jsonb), ticket_ids = i.r->'ticketIds',
            refundable_max = (i.r->>'refundableMax')::bigint, cancellation_reason = i.r->>'cancellationReason',
            return_reason = i.r->>'returnReason', milestones = i.r->'milestones',
            updated_at = (i.r->'milestones'->>'updatedAt')::timestamptz
        FROM input i
        WHERE orders.id = i.id AND orders.tenant_id = $7 AND orders.version = i.version
        RETURNING orders.id, orders.tenant_id, orders.user_id, orders.event_id
    ),
    places AS (
        SELECT o.tenant_id, o.user_id, o.event_id, sum(i.delta)::integer AS delta
        FROM o JOIN input i ON i.id = o.id
        WHERE o.event_id IS NOT NULL AND i.delta <> 0
        GROUP BY 1, 2, 3
    ),
    places_given_back AS (
        UPDATE buyer_event_orders q SET active = greatest(q.active + p.delta, 0)
        FROM places p
        WHERE p.delta < 0 AND q.tenant_id = p.tenant_id AND q.user_id = p.user_id AND q.event_id = p.event_id
    ),
    places_taken AS (
        INSERT INTO buyer_event_orders AS q (tenant_id, user_id, event_id, active)
        SELECT tenant_id, user_id, event_id, delta FROM places WHERE delta > 0
        ON CONFLICT (tenant_id, user_id, event_id) DO UPDATE SET active = q.active + EXCLUDED.active
    ),
    refunds AS (
        INSERT INTO order_refunds (id, tenant_id, order_id, amount, status, items, reason, requested_by,
            requested_at, decided_by, decided_at, decision_note, payment_reference, failure_reason,
            attempts, completed_at)
        SELECT (f->>'id')::uuid, o.tenant_id, o.id, (f->>'amount')::bigint, f->>'status', f->'items',
            f->>'reason', f->>'requestedBy', (f->>'requestedAt')::timestamptz, f->>'decidedBy',
            (f->>'decidedAt')::timestamptz, f->>'decisionNote', f->>'paymentReference',
            f->>'failureReason', (f->>'attempts')::integer, (f->>'completedAt')::timestamptz
        FROM o JOIN input i ON i.id = o.id, jsonb_array_elements(i.r->'refunds') AS t(f)
        ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, decided_by = EXCLUDED.decided_by,
            decided_at = EXCLUDED.decided_at, decision_note = EXCLUDED.decision_note,
            payment_reference = EXCLUDED.payment_reference, failure_reason = EXCLUDED.failure_reason,
            attempts = EXCLUDED.attempts, completed_at = EXCLUDED.completed_at
    ),
    audit AS (
        INSERT INTO order_events (id, tenant_id, order_id, event_type, from_status, to_status, actor, ip,
            metadata, occurred_at)
        SELECT (a->>'id')::uuid, o.tenant_id, o.id, a->>'eventType', a->>'fromStatus', a->>'toStatus',
            a->'actor', (a->>'ip')::inet, a->'metadata', (a->>'occurredAt')::timestamptz
        FROM o JOIN input i ON i.id = o.id, jsonb_array_elements(i.audit) AS t(a)
    ),
    events AS (
        INSERT INTO outbox (id, tenant_id, order_id, event_type, payload, occurred_at)
        SELECT (e->>'id')::uuid, o.tenant_id, o.id, e->>'type', e, (e->>'occurredAt')::timestamptz
        FROM o JOIN input i ON i.id = o.id, jsonb_array_elements(i.outbox) WITH ORDINALITY AS t(e, n)
        ORDER BY o.id, n
    )
    SELECT coalesce(array_agg(id), '{}') FROM o";

#[async_trait]
impl UnitOfWork for PgStore {
    async fn commit(&self, change: &OrderChange) -> Result<(), RepositoryError> {
        let order = change.order.record();
        let record = serde_json::to_value(order).map_err(corrupt)?;
        let audit = serde_json::to_value(&change.audit).map_err(corrupt)?;
        let outbox = serde_json::to_value(&change.outbox).map_err(corrupt)?;
        let (cart_id, cart_version) = change.consumed_cart.map_or((None, None), |(id, version)| {
            (
                Some(*id.as_uuid()),
                Some(i64::try_from(version).unwrap_or(i64::MAX)),
            )
        });
        let query = if order.version == 0 {
            INSERT_ORDER
        } else {
            UPDATE_ORDER
        };
        let mut statement = sqlx::query(query)
            .bind(record)
            .bind(audit)
            .bind(outbox)
            .bind(cart_id)
            .bind(cart_version)
            .bind(change.promo_redemption.as_ref().map(|p| p.code.clone()))
            .bind(
                change
                    .promo_redemption
                    .as_ref()
                    .map(|p| *p.user_id.as_uuid()),
            )
            .bind(change.inbox.as_ref().map(|m| m.consumer.clone()))
            .bind(change.inbox.as_ref().map(|m| m.message_id.clone()));
        statement = if order.version == 0 {
            let quota = change.quota.as_ref();
            let event = quota.and_then(|q| q.active_for_event);
            let idempotency = change.idempotency.as_ref();
            statement
                .bind(quota.map(|q| q.day))
                .bind(quota.map(|q| to_i32(q.max_orders_per_day)))
                .bind(event.map(|(id, _)| *id.as_uuid()))
                .bind(event.map(|(_, max)| to_i32(max)))
                .bind(idempotency.map(|k| k.key.clone()))
                .bind(idempotency.map(|k| k.fingerprint.clone()))
                .bind(idempotency.map(|k| k.reusable_before))
        } else {
            statement
                .bind(event_place_delta(change))
                .bind(order.id.as_uuid())
                .bind(order.tenant_id.as_uuid())
                .bind(i64::try_from(order.version).unwrap_or(i64::MAX))
        };
        let mut tx = self.tenant_tx(order.tenant_id).await?;
        let row = statement.fetch_one(&mut *tx).await.map_err(storage)?;
        let flag = |name: &str| -> Result<bool, RepositoryError> {
            row.try_get::<bool, _>(name).map_err(storage)
        };
        let saved: i64 = row.try_get("saved").map_err(storage)?;
        // Dropping the transaction without committing rolls every part back.
        if !flag("day_ok")? {
            return Err(QuotaExceeded::OrdersPerDay {
                limit: change.quota.map_or(0, |q| q.max_orders_per_day),
            }
            .into());
        }
        if !flag("event_ok")? {
            return Err(QuotaExceeded::ActiveOrdersPerEvent {
                limit: change
                    .quota
                    .and_then(|q| q.active_for_event)
                    .map_or(0, |(_, max)| max),
            }
            .into());
        }
        if !flag("idem_ok")? {
            return Err(RepositoryError::IdempotencyKeyTaken);
        }
        if saved != 1 || !flag("cart_ok")? || !flag("promo_ok")? {
            return Err(RepositoryError::Conflict {
                expected: order.version,
            });
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
            return Err(RepositoryError::Corrupt(
                "a batch stores one tenant's orders".into(),
            ));
        }
        let batch = batch_of(changes)?;
        let mut tx = self.tenant_tx(tenant).await?;
        let stored: Vec<uuid::Uuid> = sqlx::query_scalar(UPDATE_BATCH)
            .bind(&batch.ids)
            .bind(&batch.versions)
            .bind(&batch.records)
            .bind(&batch.audits)
            .bind(&batch.outboxes)
            .bind(&batch.deltas)
            .bind(tenant.as_uuid())
            .fetch_one(&mut *tx)
            .await
            .map_err(storage)?;
        tx.commit()
            .await
            .map_err(|error| RepositoryError::CommitOutcomeUnknown(error.to_string()))?;
        Ok(batch.ids.iter().map(|id| stored.contains(id)).collect())
    }
}

/// The arrays of a batch, one element per change.
struct Batch {
    ids: Vec<uuid::Uuid>,
    versions: Vec<i64>,
    records: Vec<serde_json::Value>,
    audits: Vec<serde_json::Value>,
    outboxes: Vec<serde_json::Value>,
    deltas: Vec<i32>,
}

fn batch_of(changes: &[OrderChange]) -> Result<Batch, RepositoryError> {
    let mut batch = Batch {
        ids: Vec::with_capacity(changes.len()),
        versions: Vec::with_capacity(changes.len()),
        records: Vec::with_capacity(changes.len()),
        audits: Vec::with_capacity(changes.len()),
        outboxes: Vec::with_capacity(changes.len()),
        deltas: Vec::with_capacity(changes.len()),
    };
    for change in changes {
        let order = change.order.record();
        let extras = change.consumed_cart.is_some()
            || change.promo_redemption.is_some()
            || change.inbox.is_some()
            || change.quota.is_some()
            || change.idempotency.is_some();
        if extras || order.version == 0 {
            return Err(RepositoryError::Corrupt(
                "a batch stores changes of stored orders without extras only".into(),
            ));
        }
        batch.ids.push(*order.id.as_uuid());
        batch
            .versions
            .push(i64::try_from(order.version).unwrap_or(i64::MAX));
        batch
            .records
            .push(serde_json::to_value(order).map_err(corrupt)?);
        batch
            .audits
            .push(serde_json::to_value(&change.audit).map_err(corrupt)?);
        batch
            .outboxes
            .push(serde_json::to_value(&change.outbox).map_err(corrupt)?);
        batch.deltas.push(event_place_delta(change));
    }
    Ok(batch)
}

/// How the change moves the order's place in its buyer's per-event quota: +1 when it enters the
/// active statuses, -1 when it leaves them.
fn event_place_delta(change: &OrderChange) -> i32 {
    let was = change.order.stored_status().is_some_and(|s| s.is_active());
    let is = change.order.status().is_active();
    i32::from(is) - i32::from(was)
}

fn to_i32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}
