//! The money trail through HTTP: an order's ledger and balance, for its owner and admins only.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::*;
use crate::shop::warehouse;

#[tokio::test]
async fn the_ledger_shows_the_capture_and_each_paid_refund_with_their_balance() {
    let app = spawn_app().await;
    let order = app.new_order(1, 2).await;
    let id = order["id"].as_str().expect("id");
    let ledger_path = format!("/api/v1/orders/{id}/ledger");

    let unpaid: Value = app
        .get(&customer(1), &ledger_path)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(unpaid["entries"], json!([]), "nothing moved yet");
    assert_eq!(unpaid["balance"]["captured"], 0);

    app.pay(&order).await;
    assert_eq!(app.confirm(&order).await.status(), 200);
    let refund = app
        .post(
            &customer(1),
            &format!("/api/v1/orders/{id}/refund"),
            &json!({ "amount": 2_500 }),
        )
        .await;
    assert_eq!(refund.status(), 200);
    let refund: Value = refund.json().await.expect("json");

    let response = app.get(&customer(1), &ledger_path).await;
    assert_eq!(response.status(), 200);
    let ledger: Value = response.json().await.expect("json");
    let total = order["pricing"]["total"].as_i64().expect("total");
    assert_eq!(ledger["currency"], "USD");
    let entries = ledger["entries"].as_array().expect("entries");
    let kinds: Vec<_> = entries
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or(""),
                e["amount"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(kinds, [("PAYMENT_CAPTURED", total), ("REFUND_PAID", 2_500)]);
    assert_eq!(entries[0]["reference"], order["paymentIntentId"]);
    assert_eq!(entries[1]["refundId"], refund["refundId"]);
    assert_eq!(
        ledger["balance"],
        json!({"captured": total, "refunded": 2_500, "net": total - 2_500, "outstanding": 0})
    );
    assert_eq!(app.get(&admin(), &ledger_path).await.status(), 200);
}

#[tokio::test]
async fn another_buyer_the_warehouse_and_a_bad_id_find_no_ledger() {
    let app = spawn_app().await;
    let order = app.new_order(1, 1).await;
    let id = order["id"].as_str().expect("id");
    let path = format!("/api/v1/orders/{id}/ledger");
    assert_problem(app.get(&customer(2), &path).await, 404, "not_found").await;
    assert_problem(app.get(&warehouse(), &path).await, 404, "not_found").await;
    assert_problem(
        app.get(&customer(1), "/api/v1/orders/not-a-uuid/ledger")
            .await,
        404,
        "not_found",
    )
    .await;
}

/// What `ledger_entries` holds, comparable across ids and times.
async fn ledger_rows(app: &TestApp) -> Vec<(uuid::Uuid, String, i64, Option<uuid::Uuid>)> {
    sqlx::query_as(
        "SELECT order_id, kind, amount, refund_id FROM ledger_entries
         ORDER BY order_id, kind, refund_id",
    )
    .fetch_all(&app.owner)
    .await
    .expect("ledger rows")
}

#[tokio::test]
async fn the_migration_backfills_the_entries_the_unit_of_work_writes() {
    let app = spawn_app().await;
    // A partly refunded order, and a paid order cancelled with the policy's retention.
    let refunded = app.confirmed_order(1, 2).await;
    let response = app
        .post(
            &customer(1),
            &format!(
                "/api/v1/orders/{}/refund",
                refunded["id"].as_str().expect("id")
            ),
            &json!({ "amount": 2_500 }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let cancelled = app.confirmed_order(2, 1).await;
    let response = app
        .post(
            &customer(2),
            &format!(
                "/api/v1/orders/{}/cancel",
                cancelled["id"].as_str().expect("id")
            ),
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let written = ledger_rows(&app).await;
    let kinds: BTreeSet<&str> = written
        .iter()
        .map(|(_, kind, _, _)| kind.as_str())
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["FEE_RETAINED", "PAYMENT_CAPTURED", "REFUND_PAID"]),
        "every kind is exercised"
    );

    // As if these orders predated the ledger: its migration's backfill writes the same entries.
    const MIGRATION: &str = include_str!("../../../../migrations/0022_ledger.sql");
    let backfill = &MIGRATION[MIGRATION
        .find("-- Orders stored before the ledger")
        .expect("the backfill section")..];
    sqlx::query("DELETE FROM ledger_entries")
        .execute(&app.owner)
        .await
        .expect("delete");
    sqlx::raw_sql(backfill)
        .execute(&app.owner)
        .await
        .expect("backfill");
    assert_eq!(ledger_rows(&app).await, written);
}
