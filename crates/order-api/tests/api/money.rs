//! The money trail through HTTP: an order's ledger and balance, for its owner and admins only.

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
