//! Each business rule a request can break answers its own problem code.

use serde_json::{Value, json};
use time::Duration;

use crate::helpers::*;

#[tokio::test]
async fn more_tickets_than_are_left_is_409_sold_out() {
    let app = spawn_with(Setup {
        quota: 3,
        ..Setup::default()
    })
    .await;
    assert_problem(
        app.create_order(&customer(1), &order_body(4)).await,
        409,
        "sold_out",
    )
    .await;
    for _ in 0..3 {
        app.new_order(1, 1).await;
    }
    assert_problem(
        app.create_order(&customer(2), &order_body(1)).await,
        409,
        "sold_out",
    )
    .await;
}

#[tokio::test]
async fn an_order_beyond_the_active_orders_per_event_is_422_limit_exceeded() {
    let mut setup = Setup::default();
    setup.domain.limits.max_active_orders_per_user_per_event = 2;
    let app = spawn_with(setup).await;
    app.new_order(1, 1).await;
    app.new_order(1, 1).await;
    // The third active order of one buyer for one event, where the limit is 2.
    assert_problem(
        app.create_order(&customer(1), &order_body(1)).await,
        422,
        "limit_exceeded",
    )
    .await;
}

#[tokio::test]
async fn a_confirmation_with_another_intent_is_409_payment_intent_mismatch() {
    let app = spawn_app().await;
    let order = app.new_order(2, 1).await;
    let wrong_intent = app
        .internal(
            &confirm_path(&order),
            Some(tenant_a()),
            &json!({ "paymentIntentId": "pi_someone_else" }),
        )
        .await;
    assert_problem(wrong_intent, 409, "payment_intent_mismatch").await;
}

#[tokio::test]
async fn an_internal_call_without_a_tenant_is_422_at_its_header() {
    let app = spawn_app().await;
    let order = app.new_order(2, 1).await;
    let no_tenant = app
        .internal(
            &confirm_path(&order),
            None,
            &json!({ "paymentIntentId": "x" }),
        )
        .await;
    let body = assert_problem(no_tenant, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["path"], "header.X-Tenant-Id");
}

#[tokio::test]
async fn a_buyer_on_an_admin_route_is_403_forbidden() {
    let app = spawn_app().await;
    let customer_admin_route = app.get(&customer(2), "/api/v1/admin/refunds").await;
    assert_problem(customer_admin_route, 403, "forbidden").await;
}

#[tokio::test]
async fn a_buyers_refund_inside_the_cutoff_is_422_refund_not_allowed() {
    let (app, order) = paid_order_twelve_hours_before_its_event().await;
    let late = app
        .post(&customer(1), &refund_path(&order), &json!({}))
        .await;
    assert_problem(late, 422, "refund_not_allowed").await;
}

#[tokio::test]
async fn a_refund_above_what_was_paid_is_422_refund_exceeds_maximum() {
    let (app, order) = paid_order_twelve_hours_before_its_event().await;
    let too_much = app
        .post(
            &admin(),
            &refund_path(&order),
            &json!({ "amount": 99999999 }),
        )
        .await;
    assert_problem(too_much, 422, "refund_exceeds_maximum").await;
}

/// A CONFIRMED order of customer 1 for an event that starts in 12 hours (inside the 24-hour
/// refund cutoff).
async fn paid_order_twelve_hours_before_its_event() -> (TestApp, Value) {
    let app = spawn_with(Setup {
        event_starts_in: Duration::hours(12),
        ..Setup::default()
    })
    .await;
    let order = app.new_order(1, 1).await;
    app.pay(&order).await;
    assert_eq!(app.confirm(&order).await.status(), 200);
    (app, order)
}

fn confirm_path(order: &Value) -> String {
    format!(
        "/internal/v1/orders/{}/confirm",
        order["id"].as_str().expect("id")
    )
}

fn refund_path(order: &Value) -> String {
    format!(
        "/api/v1/orders/{}/refund",
        order["id"].as_str().expect("id")
    )
}
