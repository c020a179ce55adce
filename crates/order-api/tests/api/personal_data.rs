//! A customer's personal data: the export (the customer, admins), erasure (admins) and the
//! retention job, against the real servers (docs/personal-data.md).

use serde_json::{Value, json};
use time::Duration;
use uuid::Uuid;

use crate::helpers::*;
use crate::shop::{california, product, warehouse};

const NOTES: &str = "Leave it with the concierge, ask for Ada (7781)";
const METADATA: &str = "gift-for-grace-5512";

async fn export(app: &TestApp, token: &str, path: &str) -> Value {
    let response = app.get(token, path).await;
    assert_eq!(response.status(), 200, "{path}");
    assert!(
        response
            .headers()
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("attachment")),
        "a file to keep"
    );
    response.json().await.expect("one JSON document")
}

/// A delivered goods order of customer `n` with notes and a billing address; its id.
async fn delivered_goods_order(app: &TestApp, n: u128) -> String {
    let buyer = customer(n);
    let added = app
        .post(
            &buyer,
            "/api/v1/cart/items",
            &json!({ "productId": product(1), "quantity": 1 }),
        )
        .await;
    assert_eq!(added.status(), 201);
    let mut billing = california();
    billing["street"] = json!("9 Billing Way");
    let created = app
        .post(
            &buyer,
            "/api/v1/orders",
            &json!({ "shippingAddress": california(), "billingAddress": billing, "notes": NOTES }),
        )
        .await;
    assert_eq!(created.status(), 201, "{:?}", created.text().await);
    let created: Value = created.json().await.expect("json");
    let id = created["order"]["id"].as_str().expect("id").to_owned();
    let paid = app
        .post(
            &buyer,
            &format!("/api/v1/orders/{id}/confirm-payment"),
            &json!({ "paymentIntentId": created["paymentIntent"]["id"] }),
        )
        .await;
    assert_eq!(paid.status(), 200);
    for step in ["start", "ship", "deliver"] {
        let done = app
            .post(
                &warehouse(),
                &format!("/api/v1/orders/{id}/fulfillment/{step}"),
                &json!({}),
            )
            .await;
        assert_eq!(done.status(), 200, "{step}");
    }
    id
}

/// A ticket order of customer `n` with metadata, still unpaid; its answer.
async fn ticket_order_with_metadata(app: &TestApp, n: u128) -> Value {
    let mut body = order_body(1);
    body["metadata"] = json!({ "note": METADATA });
    let response = app
        .client
        .post(app.url("/api/v1/orders"))
        .bearer_auth(customer(n))
        .header("idempotency-key", format!("erase-me-{n}"))
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 201);
    response.json().await.expect("json")
}

#[tokio::test]
async fn a_customer_exports_everything_held_about_them_and_only_that() {
    let app = spawn_app().await;
    let goods = delivered_goods_order(&app, 1).await;
    let tickets = ticket_order_with_metadata(&app, 1).await;
    let other = app.new_order(2, 1).await;

    let mine = export(&app, &customer(1), "/api/v1/me/export").await;
    assert_eq!(mine["userId"], user(1).to_string());
    let orders = mine["orders"].as_array().expect("orders");
    assert_eq!(orders.len(), 2, "both of theirs, not the other buyer's");
    let goods_export = orders
        .iter()
        .find(|o| o["order"]["id"] == goods.as_str())
        .expect("the goods order");
    assert_eq!(
        goods_export["order"]["shippingAddress"]["street"],
        "1 Market St"
    );
    assert_eq!(
        goods_export["order"]["billingAddress"]["street"],
        "9 Billing Way"
    );
    assert_eq!(goods_export["order"]["notes"], NOTES);
    let history: Vec<&str> = goods_export["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|e| e["eventType"].as_str())
        .collect();
    assert!(history.contains(&"ORDER_DELIVERED"), "{history:?}");
    assert!(
        !goods_export["ledger"]
            .as_array()
            .expect("ledger")
            .is_empty()
    );
    assert_eq!(
        goods_export["documents"][0]["buyer"]["address"][0], "9 Billing Way",
        "the invoice's buyer, opened"
    );
    let ticket_export = orders
        .iter()
        .find(|o| o["order"]["id"] == tickets["id"])
        .expect("the ticket order");
    assert_eq!(ticket_export["order"]["metadata"]["note"], METADATA);

    let by_admin = export(
        &app,
        &admin(),
        &format!("/api/v1/admin/customers/{}/export", user(1)),
    )
    .await;
    assert_eq!(by_admin["orders"].as_array().map(Vec::len), Some(2));
    assert!(
        !by_admin
            .to_string()
            .contains(other["id"].as_str().expect("id"))
    );

    assert_problem(
        app.get(
            &customer(1),
            &format!("/api/v1/admin/customers/{}/export", user(2)),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get(
            &admin(),
            &format!("/api/v1/admin/customers/{}/export", Uuid::now_v7()),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let elsewhere = other_shop_admin();
    assert_problem(
        app.get(
            &elsewhere,
            &format!("/api/v1/admin/customers/{}/export", user(1)),
        )
        .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn exports_are_rate_limited_per_caller() {
    let app = spawn_app().await;
    app.new_order(3, 1).await;
    for _ in 0..10 {
        assert_eq!(
            app.get(&customer(3), "/api/v1/me/export").await.status(),
            200
        );
    }
    assert_problem(
        app.get(&customer(3), "/api/v1/me/export").await,
        429,
        "rate_limited",
    )
    .await;
}

/// The database as `pg_dump` writes it, data only.
fn dump(app: &TestApp) -> String {
    let database = app.database_url.rsplit('/').next().expect("database name");
    let admin = order_postgres::setup::testing::admin_url();
    let (server, _) = admin.rsplit_once('/').expect("admin url");
    let output = std::process::Command::new("/usr/lib/postgresql/15/bin/pg_dump")
        .args([
            "--data-only",
            "--no-owner",
            "--dbname",
            &format!("{server}/{database}"),
        ])
        .output()
        .expect("pg_dump runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

/// The sealed and plain personal values stored for `user`, as the database holds them.
async fn stored_personal_values(app: &TestApp, user: Uuid) -> Vec<String> {
    // Each personal column of each order, as text (sealed ones are JSON with the ciphertext).
    let mut values: Vec<String> = sqlx::query_scalar(
        "SELECT v FROM orders o,
             unnest(ARRAY[o.shipping_address::text, o.billing_address::text,
                          o.contact_email::text, o.notes]) AS v
         WHERE o.user_id = $1 AND v IS NOT NULL",
    )
    .bind(user)
    .fetch_all(&app.owner)
    .await
    .expect("orders");
    let buyers: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT d.buyer::text FROM order_documents d JOIN orders o ON o.id = d.order_id
         WHERE o.user_id = $1",
    )
    .bind(user)
    .fetch_all(&app.owner)
    .await
    .expect("documents");
    values.extend(buyers.into_iter().flatten());
    // Sealed values are JSON with the ciphertext in it: the ciphertext is what a dump would show.
    values
        .into_iter()
        .map(|v| {
            serde_json::from_str::<Value>(&v)
                .ok()
                .and_then(|j| j["ciphertext"].as_str().map(str::to_owned))
                .unwrap_or(v)
        })
        .collect()
}

#[tokio::test]
async fn erasure_leaves_nothing_personal_keeps_the_money_and_the_chain_and_can_be_repeated() {
    let app = spawn_app().await;
    let goods = delivered_goods_order(&app, 1).await;
    let tickets = ticket_order_with_metadata(&app, 1).await;
    let erase = format!("/api/v1/admin/customers/{}/erase", user(1));

    // An unpaid order is open: nothing is erased.
    let refused = assert_problem(
        app.post(&admin(), &erase, &json!({})).await,
        409,
        "customer_has_open_orders",
    )
    .await;
    assert!(
        refused["detail"]
            .as_str()
            .is_some_and(|d| d.contains(tickets["orderNumber"].as_str().expect("number"))),
        "{refused}"
    );
    let cancelled = app
        .post(
            &customer(1),
            &format!(
                "/api/v1/orders/{}/cancel",
                tickets["id"].as_str().expect("id")
            ),
            &json!({ "reason": "changed my mind" }),
        )
        .await;
    assert_eq!(cancelled.status(), 200);

    let user_uuid = *user(1).as_uuid();
    let personal = stored_personal_values(&app, user_uuid).await;
    assert!(
        personal.len() >= 5,
        "addresses, e-mail, notes and the invoice's buyer: {personal:?}"
    );
    let before = dump(&app);
    assert!(before.contains(NOTES) && before.contains(METADATA));
    let invoice: Value = app
        .get(&customer(1), &format!("/api/v1/orders/{goods}/documents"))
        .await
        .json()
        .await
        .expect("json");
    let addresses: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM order_events e JOIN orders o ON o.id = e.order_id
         WHERE o.user_id = $1 AND e.ip IS NOT NULL",
    )
    .bind(user_uuid)
    .fetch_one(&app.owner)
    .await
    .expect("count");
    assert!(addresses > 0, "the buyer's requests came with an address");

    let erased = app.post(&admin(), &erase, &json!({})).await;
    assert_eq!(erased.status(), 200, "{:?}", erased.text().await);
    let erased: Value = erased.json().await.expect("json");
    assert_eq!(erased["ordersErased"], 2);
    assert!(
        erased["storedAnswersDeleted"].as_u64() >= Some(1),
        "{erased}"
    );

    let after = dump(&app);
    for value in personal
        .iter()
        .chain([&NOTES.to_owned(), &METADATA.to_owned()])
    {
        assert!(
            !after.contains(value.as_str()),
            "{value} is still in the dump"
        );
    }
    let addresses_left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM order_events e JOIN orders o ON o.id = e.order_id
         WHERE o.user_id = $1 AND (e.ip IS NOT NULL OR e.ip_salt IS NOT NULL)",
    )
    .bind(user_uuid)
    .fetch_one(&app.owner)
    .await
    .expect("count");
    assert_eq!(addresses_left, 0);

    // Money, numbers and history stay; the chains still verify.
    let order: Value = app
        .get(&admin(), &format!("/api/v1/orders/{goods}"))
        .await
        .json()
        .await
        .expect("json");
    assert!(
        order["shippingAddress"].is_null() && order["notes"].is_null(),
        "{order}"
    );
    assert_eq!(order["status"], "DELIVERED");
    assert!(order["pricing"]["total"].as_i64() > Some(0));
    let documents: Value = app
        .get(&admin(), &format!("/api/v1/orders/{goods}/documents"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(documents, invoice, "the same numbers and totals");
    assert!(
        app.history_types(&admin(), &goods)
            .await
            .contains(&"CUSTOMER_ERASED".to_owned())
    );
    for id in [goods.as_str(), tickets["id"].as_str().expect("id")] {
        let report: Value = app
            .get(
                &admin(),
                &format!("/api/v1/admin/audit/verify?orderId={id}"),
            )
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(report["intact"], true, "{report}");
    }
    let export_after = export(
        &app,
        &admin(),
        &format!("/api/v1/admin/customers/{}/export", user(1)),
    )
    .await;
    let text = export_after.to_string();
    for value in [
        NOTES,
        METADATA,
        "1 Market St",
        "9 Billing Way",
        "Lovelace",
        "+14155550100",
    ] {
        assert!(!text.contains(value), "{value} in the export");
    }

    // Again: nothing left to erase, the first erasure's time answered.
    let again: Value = app
        .post(&admin(), &erase, &json!({}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(again["ordersErased"], 0);
    assert_eq!(again["firstErasedAt"], erased["firstErasedAt"]);
    assert_problem(
        app.post(&customer(1), &erase, &json!({})).await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn the_retention_job_archives_finished_orders_once_across_replicas() {
    let app = spawn_app().await;
    let mut finished = Vec::new();
    for n in 1..=12 {
        let order = app.new_order(n, 1).await;
        let id = order["id"].as_str().expect("id").to_owned();
        let cancelled = app
            .post(
                &customer(n),
                &format!("/api/v1/orders/{id}/cancel"),
                &json!({ "reason": "no" }),
            )
            .await;
        assert_eq!(cancelled.status(), 200);
        finished.push(id);
    }
    let open = app.new_order(20, 1).await;
    let retention = Duration::days(2_557);
    assert_eq!(
        app.service
            .archive_finished_orders(retention)
            .await
            .expect("pass"),
        0,
        "not yet"
    );

    app.clock.advance(retention + Duration::days(1));
    let (a, b) = tokio::join!(
        app.service.archive_finished_orders(retention),
        app.replica.archive_finished_orders(retention),
    );
    assert_eq!(
        a.expect("pass") + b.expect("pass"),
        12,
        "each finished order once"
    );
    assert_eq!(
        app.service
            .archive_finished_orders(retention)
            .await
            .expect("pass"),
        0
    );

    let archived: i64 =
        sqlx::query_scalar("SELECT count(*) FROM order_events WHERE event_type = 'order.archived'")
            .fetch_one(&app.owner)
            .await
            .expect("count");
    assert_eq!(archived, 12);
    let history = app.history_types(&admin(), &finished[0]).await;
    assert_eq!(history.last().map(String::as_str), Some("ORDER_ARCHIVED"));
    let open_history = app
        .history_types(&admin(), open["id"].as_str().expect("id"))
        .await;
    assert!(
        !open_history.contains(&"ORDER_ARCHIVED".to_owned()),
        "an order open when the pass ran is never archived: {open_history:?}"
    );
    let report: Value = app
        .get(
            &admin(),
            &format!("/api/v1/admin/audit/verify?orderId={}", finished[0]),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(report["intact"], true);
}

#[tokio::test]
async fn an_export_of_many_orders_streams_every_one_exactly_once_across_pages() {
    let app = spawn_app().await;
    let first = app.new_order(5, 1).await;
    // 120 more orders of the same buyer, copied beside the first (a copy carries no sealed
    // contact: a sealed value opens for its own order only).
    let copies = 120;
    sqlx::query(
        "INSERT INTO orders (id, tenant_id, order_number, user_id, kind, status, version, event_id,
             currency, subtotal, discount, platform_fee, processing_fee, shipping, tax, total,
             hold_id, expires_at, payment_intent_id, created_at, updated_at, reserved_at, metadata)
         SELECT gen_random_uuid(), o.tenant_id, 'ORD-20260101-' || upper(lpad(to_hex(g), 6, '0')),
             o.user_id, o.kind, o.status, 1, o.event_id, o.currency, o.subtotal, o.discount,
             o.platform_fee, o.processing_fee, o.shipping, o.tax, o.total, o.hold_id, o.expires_at,
             o.payment_intent_id, o.created_at, o.updated_at, o.reserved_at, o.metadata
         FROM orders o, generate_series(1, $2) g WHERE o.id = $1::uuid",
    )
    .bind(first["id"].as_str().expect("id"))
    .bind(copies)
    .execute(&app.owner)
    .await
    .expect("copies");
    sqlx::query(
        "INSERT INTO order_items (id, tenant_id, order_id, position, ticket_type_id,
             ticket_pricing_id, quantity, unit_price, subtotal, discount, platform_fee,
             processing_fee, shipping, tax, total)
         SELECT gen_random_uuid(), i.tenant_id, c.id, i.position, i.ticket_type_id,
             i.ticket_pricing_id, i.quantity, i.unit_price, i.subtotal, i.discount, i.platform_fee,
             i.processing_fee, i.shipping, i.tax, i.total
         FROM order_items i, orders c
         WHERE i.order_id = $1::uuid AND c.order_number LIKE 'ORD-20260101-%'",
    )
    .bind(first["id"].as_str().expect("id"))
    .execute(&app.owner)
    .await
    .expect("their lines");

    let expected = usize::try_from(copies + 1).expect("a count");
    let exported = export(&app, &customer(5), "/api/v1/me/export").await;
    let ids: std::collections::BTreeSet<&str> = exported["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .map(|o| o["order"]["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        exported["orders"].as_array().map(Vec::len),
        Some(expected),
        "three pages of 50, each order once"
    );
    assert_eq!(ids.len(), expected);
}
