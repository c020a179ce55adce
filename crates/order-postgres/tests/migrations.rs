//! Migrating a database that holds orders in the earlier document columns (before migration
//! 0008) keeps every order readable and equal to what was stored.

mod common;

use common::*;
use order_domain::ids::*;
use order_domain::order::{Order, RefundRequest, RefundScope, RefundTerms};
use order_domain::ports::{AuditChain, AuditLog, OrderRepository};
use order_postgres::PgStore;
use order_postgres::setup::testing::admin_url;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

/// A database migrated up to (and including) migration `last`.
async fn database_at(last: i64) -> PgPool {
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&admin_url())
        .await
        .expect("PostgreSQL is not reachable: run `just services-up` first");
    let name = format!("order_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .expect("create database");
    let options: PgConnectOptions = admin_url().parse().expect("admin url");
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options.database(&name))
        .await
        .expect("connect");
    let folder = std::env::temp_dir().join(format!("{name}_migrations"));
    std::fs::create_dir_all(&folder).expect("folder");
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations");
    for entry in std::fs::read_dir(root).expect("migrations") {
        let path = entry.expect("entry").path();
        let file = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let version: i64 = file[..4].parse().expect("numbered");
        if version <= last {
            std::fs::copy(&path, folder.join(&file)).expect("copy");
        }
    }
    Migrator::new(folder.as_path())
        .await
        .expect("migrator")
        .run(&pool)
        .await
        .expect("earlier migrations");
    std::fs::remove_dir_all(&folder).expect("clean up");
    pool
}

/// A confirmed ticket order with tickets and a refund of one line, never stored.
fn confirmed_order_with_a_refund() -> Order {
    let mut order = OrderFixture::new(1).build();
    order
        .reserve(
            HoldId::new("hold-1"),
            NOW + time::Duration::minutes(15),
            NOW,
        )
        .expect("reserve");
    order
        .attach_payment_intent(PaymentIntentId::new("pi-1"))
        .expect("intent");
    order
        .confirm(&PaymentIntentId::new("pi-1"), NOW)
        .expect("confirm");
    order
        .attach_tickets(vec![TicketId::new("t-1"), TicketId::new("t-2")], NOW)
        .expect("tickets");
    let line = order.items()[0].id;
    order
        .request_refund(
            RefundRequest {
                id: RefundId::from_uuid(id(33)),
                scope: RefundScope::Items(vec![line]),
                reason: "one line".into(),
                requested_by: "u".into(),
                auto_approve_below: i64::MAX,
            },
            RefundTerms {
                refundable_max: order.total().minor(),
                retained: 0,
            },
            NOW,
        )
        .expect("refund");
    order
}

/// Writes `order` the way the service did before migration 0008, which stored an order as one
/// camelCase document (its lines, refunds, addresses and milestones nested in it).
async fn insert_in_the_earlier_shape(db: &PgPool, order: &Order) {
    let record = serde_json::json!({
        "id": order.id(),
        "tenantId": order.tenant_id(),
        "number": order.number(),
        "userId": order.user_id(),
        "kind": order.kind(),
        "status": order.status(),
        "eventId": order.event_id(),
        "items": json(order.items()),
        "pricing": json(order.pricing()),
        "goods": json(order.goods()),
        "holdId": order.hold_id(),
        "expiresAt": order
            .expires_at()
            .format(&time::format_description::well_known::Rfc3339)
            .expect("time"),
        "paymentIntentId": order.payment_intent_id(),
        "shipment": json(order.shipment()),
        "ticketIds": order.ticket_ids(),
        "refunds": json(order.refunds()),
        "refundableMax": order.refundable_max(),
        "cancellationReason": order.cancellation_reason(),
        "returnReason": order.return_reason(),
        "milestones": json(order.milestones()),
    });
    sqlx::query(
        "INSERT INTO orders (id, tenant_id, order_number, user_id, kind, status, version, event_id, currency,
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
         FROM (SELECT $1::jsonb AS r) input;
         ",
    )
    .bind(&record)
    .execute(db)
    .await
    .expect("order");
    sqlx::query(
        "INSERT INTO order_items (id, tenant_id, order_id, position, product, quantity, unit_price, subtotal,
            discount, platform_fee, processing_fee, shipping, tax, total)
         SELECT (i->>'id')::uuid, (r->>'tenantId')::uuid, (r->>'id')::uuid, p::integer, i->'product',
            (i->>'quantity')::integer, (i->>'unitPrice')::bigint, (i->'pricing'->>'subtotal')::bigint,
            (i->'pricing'->>'discount')::bigint, (i->'pricing'->>'platformFee')::bigint,
            (i->'pricing'->>'processingFee')::bigint, (i->'pricing'->>'shipping')::bigint,
            (i->'pricing'->>'tax')::bigint, (i->'pricing'->>'total')::bigint
         FROM (SELECT $1::jsonb AS r) input, jsonb_array_elements(r->'items') WITH ORDINALITY AS t(i, p)",
    )
    .bind(&record)
    .execute(db)
    .await
    .expect("items");
    sqlx::query(
        "INSERT INTO order_refunds (id, tenant_id, order_id, amount, status, items, reason, requested_by,
            requested_at, decided_by, decided_at, decision_note, payment_reference, failure_reason,
            attempts, completed_at)
         SELECT (f->>'id')::uuid, (r->>'tenantId')::uuid, (r->>'id')::uuid, (f->>'amount')::bigint,
            f->>'status', f->'items', f->>'reason', f->>'requestedBy', (f->>'requestedAt')::timestamptz,
            f->>'decidedBy', (f->>'decidedAt')::timestamptz, f->>'decisionNote', f->>'paymentReference',
            f->>'failureReason', (f->>'attempts')::integer, (f->>'completedAt')::timestamptz
         FROM (SELECT $1::jsonb AS r) input, jsonb_array_elements(r->'refunds') AS t(f)",
    )
    .bind(&record)
    .execute(db)
    .await
    .expect("refunds");
    sqlx::query(
        "INSERT INTO order_events (id, tenant_id, order_id, event_type, to_status, actor, metadata, occurred_at)
         VALUES ($1, $2, $3, 'order.confirmed', 'CONFIRMED', $4, '{}', now())",
    )
    .bind(id(500))
    .bind(order.tenant_id().as_uuid())
    .bind(order.id().as_uuid())
    .bind(serde_json::to_value(actor()).expect("actor"))
    .execute(db)
    .await
    .expect("audit");
}

#[tokio::test]
async fn orders_stored_before_the_typed_columns_read_back_unchanged_after_migrating() {
    let db = database_at(7).await;
    let order = confirmed_order_with_a_refund();
    insert_in_the_earlier_shape(&db, &order).await;
    sqlx::query(
        "INSERT INTO promo_codes (tenant_id, code, rule, valid_from) VALUES
            ($1, 'TENOFF', '{\"type\":\"percentage\",\"value\":100000}', now())",
    )
    .bind(tenant_a().as_uuid())
    .execute(&db)
    .await
    .expect("promo code");

    // A later entry, from a caller's address: migration 0029 chains both and commits to the
    // address.
    sqlx::query(
        "INSERT INTO order_events (id, tenant_id, order_id, event_type, actor, ip, metadata, occurred_at)
         VALUES ($1, $2, $3, 'refund.requested', $4, '203.0.113.7', '{}', now() + interval '1 second')",
    )
    .bind(id(501))
    .bind(order.tenant_id().as_uuid())
    .bind(order.id().as_uuid())
    .bind(serde_json::to_value(actor()).expect("actor"))
    .execute(&db)
    .await
    .expect("second entry");

    order_postgres::migrate(&db).await.expect("migration 0008");

    let store = PgStore::from_pool(db.clone(), order_postgres::setup::testing::address_keys());
    let mut expected = order.clone();
    expected.mark_committed();
    let found = store
        .find(tenant_a(), order.id())
        .await
        .expect("find")
        .expect("present");
    // The earlier shape had no contact e-mail (migration 0014 added it).
    let mut expected = expected.into_record();
    expected.contact_email = None;
    assert_eq!(found.record(), &expected);
    let trail = store
        .audit_trail(tenant_a(), order.id())
        .await
        .expect("audit");
    assert_eq!(trail.len(), 2);
    assert_eq!(trail[0].actor, actor());
    assert_eq!(
        trail[1].ip.map(|ip| ip.to_string()).as_deref(),
        Some("203.0.113.7")
    );
    // Entries stored before the chain existed got one, oldest first.
    let chain_break = AuditChain::chain_break(&store, tenant_a(), &[order.id()])
        .await
        .expect("check");
    assert_eq!(chain_break, None);
    let places: Vec<(i32, bool)> = sqlx::query_as(
        "SELECT seq, ip_commitment IS NOT NULL FROM order_events WHERE order_id = $1 ORDER BY seq",
    )
    .bind(order.id().as_uuid())
    .fetch_all(&db)
    .await
    .expect("places");
    assert_eq!(places, vec![(1, false), (2, true)]);
    let rule: (String, i64) = sqlx::query_as(
        "SELECT discount_kind, discount_value FROM promo_codes WHERE code = 'TENOFF'",
    )
    .fetch_one(&db)
    .await
    .expect("rule");
    assert_eq!(rule, ("percentage".to_owned(), 100_000));
}

/// One part of the earlier document, in the domain's serde shape it was nested in.
fn json(part: impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(part).expect("json")
}
