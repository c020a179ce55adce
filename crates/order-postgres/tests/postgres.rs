//! Integration tests against the real PostgreSQL server that `just services-up` starts.
//! Each test gets a fresh database, migrated by the owner, and talks to it as the application's
//! login role (member of `order_app`: no ownership, no BYPASSRLS).

mod common;

use std::collections::BTreeMap;

use common::*;
use order_domain::ids::*;
use order_domain::money::Currency;
use order_domain::order::{
    Order, OrderStatus, RefundRequest, RefundScope, RefundStatus, RefundTerms, RetrySchedule,
};
use order_domain::ports::*;
use time::Duration;
use uuid::Uuid;

#[tokio::test]
async fn refunds_round_trip_through_their_states() {
    let db = fresh_db().await;
    let mut order = store_reserved(&db, tenant_a(), 3, 7, 9).await;
    order
        .attach_payment_intent(PaymentIntentId::new("pi"))
        .expect("intent");
    let mut events = order
        .confirm(&PaymentIntentId::new("pi"), NOW)
        .expect("confirm");
    let refund = RefundId::from_uuid(id(33));
    let terms = RefundTerms {
        refundable_max: order.total().minor(),
        retained: 0,
    };
    events.extend(
        order
            .request_refund(
                RefundRequest {
                    id: refund,
                    scope: RefundScope::Amount(1_000),
                    reason: "one".into(),
                    requested_by: "u".into(),
                    auto_approve_below: 0,
                },
                terms,
                NOW,
            )
            .expect("requested"),
    );
    db.store
        .commit(&change(&order, events, 30_500))
        .await
        .expect("commit");
    order.mark_committed();
    let pending = db
        .store
        .list_by_status(
            tenant_a(),
            RefundStatus::Pending,
            PageRequest {
                limit: 10,
                offset: 0,
            },
        )
        .await
        .expect("queue");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].refund.amount, 1_000);
    assert_eq!(
        db.store
            .order_of(tenant_a(), refund)
            .await
            .expect("order_of"),
        Some(order.id())
    );
    assert_eq!(
        db.store
            .order_of(tenant_b(), refund)
            .await
            .expect("order_of"),
        None
    );

    let mut events = order.approve_refund(refund, "admin", NOW).expect("approve");
    events.extend(
        order
            .fail_refund(refund, "timeout", &RetrySchedule::default(), NOW)
            .expect("fail"),
    );
    db.store
        .commit(&change(&order, events, 30_800))
        .await
        .expect("commit");
    order.mark_committed();
    // FAILED: due for the retry job a minute later, and only then.
    let due = |at| db.store.due_for_retry(at, NOW - Duration::minutes(5), 10);
    assert_eq!(due(NOW).await.expect("due"), []);
    assert_eq!(
        due(NOW + Duration::minutes(2)).await.expect("due"),
        [DueRefund {
            tenant_id: tenant_a(),
            refund_id: refund,
        }]
    );

    let events = order
        .complete_refund(refund, "re_1", NOW)
        .expect("complete");
    db.store
        .commit(&change(&order, events, 31_000))
        .await
        .expect("commit");
    order.mark_committed();
    assert_eq!(
        due(NOW + Duration::hours(2)).await.expect("due"),
        [],
        "a paid refund is not retried"
    );
    let loaded = db
        .store
        .find(tenant_a(), order.id())
        .await
        .expect("find")
        .expect("present");
    assert_eq!(loaded, order);
    assert_eq!(
        loaded.refund(refund).map(|r| r.status),
        Some(RefundStatus::Completed)
    );
}

#[tokio::test]
async fn tenant_a_never_sees_tenant_b_even_with_a_hand_written_select() {
    let db = fresh_db().await;
    let a = store_reserved(&db, tenant_a(), 4, 7, 9).await;
    let b = store_reserved(&db, tenant_b(), 5, 7, 9).await;
    assert_eq!(db.store.find(tenant_a(), b.id()).await.expect("find"), None);
    assert_eq!(db.store.find(tenant_b(), a.id()).await.expect("find"), None);

    let mut tx = db.app.begin().await.expect("tx");
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(tenant_a().to_string())
        .execute(&mut *tx)
        .await
        .expect("tenant");
    let rows = sqlx::query("SELECT * FROM orders")
        .fetch_all(&mut *tx)
        .await
        .expect("select");
    let ids: Vec<Uuid> = rows.iter().map(|r| sqlx::Row::get(r, "id")).collect();
    assert_eq!(ids, vec![*a.id().as_uuid()]);
    let items: i64 = sqlx::query_scalar("SELECT count(*) FROM order_items")
        .fetch_one(&mut *tx)
        .await
        .expect("items");
    assert_eq!(items, 2, "only tenant A's two lines");
    let outbox: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(&mut *tx)
        .await
        .expect("outbox");
    assert_eq!(outbox, 1);
    // Writing a row for another tenant is refused by the policy's WITH CHECK.
    let foreign = sqlx::query("UPDATE orders SET tenant_id = $1 WHERE id = $2")
        .bind(tenant_b().as_uuid())
        .bind(a.id().as_uuid())
        .execute(&mut *tx)
        .await;
    assert!(foreign.is_err());
    drop(tx);

    // Without a tenant, nothing is visible at all.
    let none: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(&db.app)
        .await
        .expect("count");
    assert_eq!(none, 0);
    let role: (bool, bool) =
        sqlx::query_as("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
            .fetch_one(&db.app)
            .await
            .expect("role");
    assert_eq!(role, (false, false));
}

#[tokio::test]
async fn active_promotions_respect_their_window() {
    let db = fresh_db().await;
    sqlx::query(
        "INSERT INTO promotions (id, tenant_id, name, discount_kind, discount_value, min_subtotal,
             starts_at, ends_at) VALUES
            (gen_random_uuid(), $1, 'running', 'percentage', 100000, 0, $2, NULL),
            (gen_random_uuid(), $1, 'over', 'fixed', 100, 0, NULL, $2)",
    )
    .bind(tenant_a().as_uuid())
    .bind(NOW - Duration::days(1))
    .execute(&db.owner)
    .await
    .expect("promotions");
    let active = db
        .store
        .active_promotions(tenant_a(), NOW)
        .await
        .expect("promotions");
    assert_eq!(
        active.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["running"]
    );
    assert!(
        db.store
            .active_promotions(tenant_b(), NOW)
            .await
            .expect("promotions")
            .is_empty()
    );
}

// The ordering of leases is in the storage contract (tests/contract.rs); their expiry runs on
// the database's clock, which only a statement behind the store's back can move.
#[tokio::test]
async fn a_relay_that_dies_lets_its_lease_run_out_and_the_rows_come_back() {
    let db = fresh_db().await;
    store_reserved(&db, tenant_a(), 40, 7, 9).await;
    store_reserved(&db, tenant_b(), 41, 7, 9).await;
    let lease = Duration::seconds(30);
    assert_eq!(
        db.store
            .claim_unpublished(10, lease)
            .await
            .expect("claim")
            .len(),
        2
    );
    let again = db.store.claim_unpublished(10, Duration::ZERO).await;
    assert!(
        again.expect("claim").is_empty(),
        "everything is leased for 30 s"
    );
    sqlx::query(
        "UPDATE outbox SET claimed_until = now() - interval '1 second' WHERE published_at IS NULL",
    )
    .execute(&db.owner)
    .await
    .expect("expire leases");
    assert_eq!(
        db.store
            .claim_unpublished(10, lease)
            .await
            .expect("claim")
            .len(),
        2
    );
}

/// Stores order `n` of tenant A for `event`, driven by `steps` after being reserved.
async fn store_paid(db: &TestDb, n: u128, event: u128, refund: Option<i64>) -> Order {
    let mut order = store_reserved(db, tenant_a(), n, 7, event).await;
    order
        .attach_payment_intent(PaymentIntentId::new(format!("pi-{n}")))
        .expect("intent");
    let mut events = order
        .confirm(&PaymentIntentId::new(format!("pi-{n}")), NOW)
        .expect("confirm");
    if let Some(amount) = refund {
        let id = RefundId::from_uuid(id(n * 100));
        events.extend(
            order
                .request_refund(
                    RefundRequest {
                        id,
                        scope: RefundScope::Amount(amount),
                        reason: "r".into(),
                        requested_by: "u".into(),
                        auto_approve_below: i64::MAX,
                    },
                    RefundTerms {
                        refundable_max: order.total().minor(),
                        retained: 0,
                    },
                    NOW,
                )
                .expect("refund"),
        );
        events.extend(order.complete_refund(id, "re", NOW).expect("paid"));
    }
    db.store
        .commit(&change(&order, events, n * 10_000 + 5_000))
        .await
        .expect("commit");
    order.mark_committed();
    order
}

#[tokio::test]
async fn order_stats_count_and_sum_one_tenants_window_and_snapshots_round_trip() {
    use order_domain::analytics::Analytics;

    let db = fresh_db().await;
    store_reserved(&db, tenant_a(), 61, 7, 9).await;
    let paid = store_paid(&db, 62, 9, None).await;
    store_paid(&db, 63, 9, Some(1_000)).await;
    let mut cancelled = store_reserved(&db, tenant_a(), 64, 7, 8).await;
    let events = cancelled.cancel("no", None, NOW).expect("cancel");
    db.store
        .commit(&change(&cancelled, events, 640_500))
        .await
        .expect("commit");
    store_reserved(&db, tenant_b(), 65, 7, 9).await;

    let since = NOW - Duration::hours(1);
    let mut tenants = db.store.tenants_with_orders(since).await.expect("tenants");
    tenants.sort_by_key(|t| *t.as_uuid());
    assert_eq!(tenants, [tenant_a(), tenant_b()]);
    assert!(
        db.store
            .tenants_with_orders(NOW + Duration::hours(1))
            .await
            .expect("tenants")
            .is_empty()
    );

    let stats = db
        .store
        .order_stats(tenant_a(), since)
        .await
        .expect("stats");
    assert_eq!(
        stats.by_status,
        BTreeMap::from([
            (OrderStatus::Reserved, 1),
            (OrderStatus::Confirmed, 2),
            (OrderStatus::Cancelled, 1),
        ])
    );
    assert_eq!((stats.reserved, stats.reserved_then_confirmed), (4, 2));
    assert_eq!(stats.revenue.len(), 1);
    let usd = &stats.revenue[0];
    assert_eq!(usd.currency, Currency::Usd);
    assert_eq!(usd.paid_orders, 2);
    assert_eq!(usd.gross, 2 * paid.total().minor());
    assert_eq!((usd.refunded, usd.refunded_orders), (1_000, 1));
    assert_eq!(stats.events.len(), 1, "only event 9 has paid orders");
    assert_eq!(stats.events[0].event_id, EventId::from_uuid(id(9)));
    assert_eq!(stats.events[0].revenue, 2 * paid.total().minor() - 1_000);
    assert_eq!(
        stats.daily_revenue,
        [order_domain::analytics::DailyRevenue {
            day: paid
                .record()
                .milestones
                .confirmed_at
                .expect("paid")
                .to_offset(time::UtcOffset::UTC)
                .date(),
            currency: Currency::Usd,
            paid_orders: 2,
            gross: 2 * paid.total().minor(),
        }],
        "paid on one day, refunds left out"
    );

    let analytics = Analytics::from_stats(stats, since, NOW);
    db.store
        .save_snapshot(tenant_a(), &analytics)
        .await
        .expect("save");
    db.store
        .save_snapshot(tenant_a(), &analytics)
        .await
        .expect("save again");
    assert_eq!(
        db.store.latest_snapshot(tenant_a()).await.expect("latest"),
        Some(analytics)
    );
    assert_eq!(
        db.store.latest_snapshot(tenant_b()).await.expect("latest"),
        None
    );
}

/// Copies the stored order `template` (and its items) `copies` times, one second apart, without
/// its sealed contact (a seal opens for its own order only) or the contact's index.
async fn copy_order(db: &TestDb, template: &Order, copies: i32) {
    sqlx::query(
        "WITH o_new AS (
            INSERT INTO orders
            SELECT (jsonb_populate_record(o, jsonb_build_object(
                'id', gen_random_uuid(), 'order_number', 'ORD-20261122-Z' || lpad(g::text, 5, '0'),
                'created_at', o.created_at + make_interval(secs => g),
                'reserved_at', o.created_at + make_interval(secs => g),
                'updated_at', o.created_at + make_interval(secs => g),
                'contact_email', null, 'contact_email_index', null))).*
            FROM orders o, generate_series(1, $2) g WHERE o.id = $1
            RETURNING id)
         INSERT INTO order_items
         SELECT (jsonb_populate_record(i, jsonb_build_object('id', gen_random_uuid(), 'order_id', n.id))).*
         FROM o_new n, order_items i WHERE i.order_id = $1",
    )
    .bind(template.id().as_uuid())
    .bind(copies)
    .execute(&db.owner)
    .await
    .expect("copies");
}

#[tokio::test]
async fn a_long_list_caps_its_total_and_pages_by_cursor_without_gaps_or_repeats() {
    let db = fresh_db().await;
    let template = store_reserved(&db, tenant_a(), 1, 7, 9).await;
    copy_order(&db, &template, 1_100).await;
    let first = OrderPageRequest {
        limit: 100,
        offset: 0,
        after: None,
    };
    let everyone = OrderFilter::default();
    let mut page = db
        .store
        .list(tenant_a(), &everyone, first)
        .await
        .expect("list");
    assert_eq!(
        (page.total, page.total_is_estimate, page.has_more),
        (EXACT_TOTAL_UP_TO, true, true)
    );
    let mut seen = std::collections::BTreeSet::new();
    let mut last: Option<OrderCursor> = None;
    let mut pages = 1;
    loop {
        for order in &page.orders {
            let cursor = OrderCursor::after(order);
            if let Some(previous) = last {
                assert!(
                    (cursor.created_at, cursor.id) < (previous.created_at, previous.id),
                    "newest first"
                );
            }
            assert!(seen.insert(order.id()), "no order twice");
            last = Some(cursor);
        }
        if !page.has_more {
            break;
        }
        page = db
            .store
            .list(
                tenant_a(),
                &everyone,
                OrderPageRequest {
                    after: last,
                    ..first
                },
            )
            .await
            .expect("next page");
        pages += 1;
    }
    assert_eq!((seen.len(), pages), (1_101, 12));
    // The same filter and offset agree with the cursor.
    let by_offset = db
        .store
        .list(
            tenant_a(),
            &everyone,
            OrderPageRequest {
                offset: 100,
                ..first
            },
        )
        .await
        .expect("offset page");
    let by_cursor = db
        .store
        .list(
            tenant_a(),
            &everyone,
            OrderPageRequest {
                after: Some(OrderCursor::after(
                    db.store
                        .list(tenant_a(), &everyone, first)
                        .await
                        .expect("first")
                        .orders
                        .last()
                        .expect("last"),
                )),
                ..first
            },
        )
        .await
        .expect("cursor page");
    assert_eq!(by_offset.orders, by_cursor.orders);
}

#[tokio::test]
async fn an_order_update_looks_its_row_up_by_id_under_row_level_security_in_a_generic_plan() {
    // One connection, so the statement the store prepared can be read back from its session.
    let db = fresh_db_sized(1).await;
    let order = store_reserved(&db, tenant_a(), 1, 7, 9).await;
    // A tenant of some size whose table has no statistics yet (a young deployment).
    copy_order(&db, &order, 2_000).await;
    let mut expired = order.clone();
    let events = expired.expire(NOW + Duration::hours(1)).expect("expire");
    db.store
        .commit(&change(&expired, events, 20_700))
        .await
        .expect("update");
    let mut conn = db.app.acquire().await.expect("connection");
    let (statement, types): (String, Vec<String>) = sqlx::query_as(
        "SELECT statement, parameter_types::text[] FROM pg_prepared_statements
         WHERE statement LIKE 'WITH o AS (%UPDATE orders SET status%'",
    )
    .fetch_one(&mut *conn)
    .await
    .expect("the store prepared its update statement");
    assert!(!types.is_empty(), "parameter types of {statement}");
    sqlx::query("SELECT set_config('app.tenant_id', $1, false)")
        .bind(tenant_a().to_string())
        .execute(&mut *conn)
        .await
        .expect("tenant");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "PREPARE upd({}) AS {statement}",
        types.join(", ")
    )))
    .execute(&mut *conn)
    .await
    .expect("prepare");
    // The session plans generically (`with_generic_plans`), so the values do not matter.
    let nulls = vec!["NULL"; types.len()].join(", ");
    let plan: Vec<String> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("EXPLAIN EXECUTE upd({nulls})")))
            .fetch_all(&mut *conn)
            .await
            .expect("explain");
    let plan = plan.join("\n");
    // Not a filter over the tenant's orders: the id (whichever parameter carries it) is an index
    // condition.
    assert!(
        plan.lines()
            .any(|line| line.contains("Index Cond: (id = $")),
        "the update must look its rows up by their ids:\n{plan}"
    );
}

#[tokio::test]
async fn the_store_cancels_a_statement_that_outlasts_its_timeout() {
    let db = order_postgres::setup::testing::fresh_database().await;
    let store = order_postgres::PgStore::connect(
        &db.app_url,
        1,
        std::time::Duration::from_millis(200),
        order_postgres::setup::testing::address_keys(),
    )
    .await
    .expect("connect");
    let stuck = sqlx::query("SELECT pg_sleep(5)")
        .execute(store.pool())
        .await
        .expect_err("cancelled");
    let code = stuck
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.into_owned());
    assert_eq!(code.as_deref(), Some("57014"), "query_canceled: {stuck}");
    // The one connection is usable again at once.
    assert!(store.ping().await);
}

/// A role of its own for one test (roles are cluster-wide; the name never repeats).
async fn scratch_role(owner: &sqlx::PgPool, attributes: &str) -> String {
    let role = format!("scratch_{}", Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE ROLE {role} LOGIN {attributes} IN ROLE order_app"
    )))
    .execute(owner)
    .await
    .expect("create role");
    role
}

#[tokio::test]
async fn an_application_role_that_bypasses_row_level_security_is_refused() {
    let db = order_postgres::setup::testing::fresh_database().await;
    let app = db.app_pool(1).await;
    order_postgres::check_roles(&app)
        .await
        .expect("the tests' application role is as it should be");

    // The owner is a superuser on the local server: it would see every tenant.
    let as_owner = order_postgres::check_roles(&db.owner).await;
    assert!(
        matches!(
            as_owner,
            Err(order_postgres::RoleProblem::AppBypassesIsolation {
                why: "superuser",
                ..
            })
        ),
        "{as_owner:?}"
    );

    let bypassing = scratch_role(&db.owner, "NOSUPERUSER BYPASSRLS").await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(db.app_options.clone().username(&bypassing))
        .await
        .expect("connect as the scratch role");
    let problem = order_postgres::check_roles(&pool)
        .await
        .expect_err("BYPASSRLS");
    let message = problem.to_string();
    assert!(
        message.contains("BYPASSRLS")
            && message.contains("NOBYPASSRLS")
            && message.contains(&bypassing),
        "{message}"
    );
    pool.close().await;
}

#[tokio::test]
async fn jobs_functions_owned_by_a_role_without_bypassrls_are_refused() {
    let db = order_postgres::setup::testing::fresh_database().await;
    let bound = scratch_role(&db.owner, "NOSUPERUSER NOBYPASSRLS").await;
    // As on a managed server whose migrating role lacks BYPASSRLS: the cross-tenant functions
    // would see no tenant's rows.
    let definer: String = sqlx::query_scalar(
        "SELECT p.oid::regprocedure::text FROM pg_proc p
         WHERE p.prosecdef AND p.pronamespace = 'public'::regnamespace LIMIT 1",
    )
    .fetch_one(&db.owner)
    .await
    .expect("a SECURITY DEFINER function");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER FUNCTION {definer} OWNER TO {bound}"
    )))
    .execute(&db.owner)
    .await
    .expect("hand it over");

    let app = db.app_pool(1).await;
    let problem = order_postgres::check_roles(&app)
        .await
        .expect_err("the jobs would see nothing");
    let message = problem.to_string();
    assert!(
        message.contains(&bound) && message.contains("BYPASSRLS"),
        "{message}"
    );
}
