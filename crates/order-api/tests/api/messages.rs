//! The asynchronous flow end to end: the simulator announces payments and tickets on the real
//! RabbitMQ, the app's consumers apply them to the real database — once each, late payments
//! included.

use std::time::Duration as StdDuration;

use order_api::jobs::expire_due_orders;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::*;
use crate::messaging::{messaging, publish_payment_succeeded};

/// Orders whose hold runs out after a second and whose grace period is a second.
fn messaging_with_short_holds() -> Setup {
    let mut setup = messaging();
    setup.domain.reservation.ticket_hold = time::Duration::seconds(1);
    setup.domain.reservation.grace = time::Duration::seconds(1);
    setup
}

impl TestApp {
    async fn order_of(&self, n: u128, order: &Value) -> Value {
        self.get(
            &customer(n),
            &format!("/api/v1/orders/{}", order["id"].as_str().expect("id")),
        )
        .await
        .json()
        .await
        .expect("json")
    }

    /// Customer `n`'s `order` once `done` holds for it (10 s at most).
    async fn eventually(&self, n: u128, order: &Value, done: impl Fn(&Value) -> bool) -> Value {
        let done = &done;
        crate::helpers::eventually(
            "the order's awaited state",
            StdDuration::from_secs(10),
            move || async move {
                let current = self.order_of(n, order).await;
                done(&current).then_some(current)
            },
        )
        .await
    }

    async fn history(&self, n: u128, order: &Value) -> Vec<Value> {
        let history: Value = self
            .get(
                &customer(n),
                &format!(
                    "/api/v1/orders/{}/events",
                    order["id"].as_str().expect("id")
                ),
            )
            .await
            .json()
            .await
            .expect("json");
        history["events"].as_array().expect("events").clone()
    }

    async fn simulator_admin(&self, order: &Value, action: &str) {
        let intent = order["paymentIntentId"].as_str().expect("intent");
        let response = self
            .client
            .post(format!(
                "{}/_admin/payments/{intent}/{action}",
                self.simulator
            ))
            .send()
            .await
            .expect("simulator");
        assert!(response.status().is_success(), "simulator {action}");
    }

    /// Waits until the app's consumers have handled `count` messages of `routing_key` (applied,
    /// duplicates and failures alike), as `/metrics` counts them.
    async fn consumed(&self, routing_key: &str, count: u64) {
        let queue = format!(".{routing_key}\"");
        crate::helpers::eventually(
            &format!("{count} {routing_key} messages consumed"),
            StdDuration::from_secs(10),
            || async {
                let text = self
                    .client
                    .get(self.url("/metrics"))
                    .send()
                    .await
                    .expect("metrics")
                    .text()
                    .await
                    .expect("text");
                let handled: u64 = text
                    .lines()
                    .filter(|line| {
                        line.starts_with("order_service_messages_consumed_total{")
                            && line.contains(&queue)
                    })
                    .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
                    .sum();
                (handled >= count).then_some(())
            },
        )
        .await;
    }

    async fn expire_due(&self) {
        let (_stop, stopped) = tokio::sync::watch::channel(false);
        let report = expire_due_orders(&self.service, 100, &stopped).await;
        assert_eq!(report.failed, 0, "{report:?}");
    }
}

fn count(history: &[Value], event_type: &str) -> usize {
    history
        .iter()
        .filter(|e| e["eventType"] == event_type)
        .count()
}

#[tokio::test]
async fn a_payment_announced_by_the_payment_service_confirms_the_order() {
    let app = spawn_with(messaging()).await;
    let order = app.new_order(1, 2).await;
    // The buyer pays; the simulated payment service announces payment.succeeded.
    app.pay(&order).await;
    let confirmed = app
        .eventually(1, &order, |o| o["status"] == "CONFIRMED")
        .await;
    assert_eq!(confirmed["ticketIds"].as_array().map(Vec::len), Some(2));
    // The ticket service's ticket.allocated for the same tickets adds nothing.
    app.consumed("ticket.allocated", 1).await;
    let history = app.history(1, &order).await;
    assert_eq!(count(&history, "ORDER_CONFIRMED"), 1);
    assert_eq!(count(&history, "TICKETS_ALLOCATED"), 1);
}

#[tokio::test]
async fn a_duplicated_payment_succeeded_confirms_once() {
    let app = spawn_with(messaging()).await;
    let order = app.new_order(1, 1).await;
    app.pay(&order).await;
    let id = format!("dup-{}", Uuid::new_v4());
    publish_payment_succeeded(&order, &id, None).await;
    publish_payment_succeeded(&order, &id, None).await;
    app.eventually(1, &order, |o| o["status"] == "CONFIRMED")
        .await;
    // The second copy and the simulator's own announcement are consumed too.
    app.consumed("payment.succeeded", 3).await;
    let history = app.history(1, &order).await;
    assert_eq!(count(&history, "ORDER_CONFIRMED"), 1, "{history:?}");
    let state = app.simulator_state().await;
    assert_eq!(
        state["availability"][0]["sold"], 1,
        "the hold was committed once"
    );
}

#[tokio::test]
async fn a_failed_payment_cancels_the_order_and_releases_its_tickets() {
    let app = spawn_with(messaging()).await;
    let order = app.new_order(1, 3).await;
    assert_eq!(app.simulator_state().await["availability"][0]["held"], 3);
    app.simulator_admin(&order, "fail").await;
    let cancelled = app
        .eventually(1, &order, |o| o["status"] == "CANCELLED")
        .await;
    assert_eq!(
        cancelled["cancellationReason"],
        "payment failed: card_declined"
    );
    // The hold is released right after the cancellation commits.
    crate::helpers::eventually(
        "the tickets are released",
        StdDuration::from_secs(5),
        || async { (app.simulator_state().await["availability"][0]["held"] == 0).then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn a_late_payment_is_held_again_and_confirmed_while_tickets_are_left() {
    let app = spawn_with(messaging_with_short_holds()).await;
    let order = app.new_order(1, 2).await;
    // The hold (1 s) and the grace period (1 s) run out.
    app.clock.advance(time::Duration::milliseconds(2_200));
    app.expire_due().await;
    assert_eq!(app.order_of(1, &order).await["status"], "EXPIRED");
    assert_eq!(app.simulator_state().await["availability"][0]["held"], 0);

    // The buyer's payment went through anyway.
    app.simulator_admin(&order, "succeed").await;
    let recovered = app
        .eventually(1, &order, |o| o["status"] == "CONFIRMED")
        .await;
    assert_eq!(recovered["ticketIds"].as_array().map(Vec::len), Some(2));
    assert_eq!(recovered["refundedAmount"], 0);
    let history = app.history(1, &order).await;
    let confirmed = history
        .iter()
        .find(|e| e["eventType"] == "ORDER_CONFIRMED")
        .expect("confirmed");
    assert_eq!(confirmed["fromStatus"], "EXPIRED");
    assert_eq!(app.simulator_state().await["availability"][0]["sold"], 2);
}

#[tokio::test]
async fn a_late_payment_is_refunded_in_full_when_the_tickets_are_gone() {
    let mut setup = messaging_with_short_holds();
    setup.quota = 1;
    let app = spawn_with(setup).await;
    let late = app.new_order(1, 1).await;
    // The hold (1 s) and the grace period (1 s) run out.
    app.clock.advance(time::Duration::milliseconds(2_200));
    app.expire_due().await;
    // Someone else buys the last ticket.
    let other = app.new_order(2, 1).await;
    app.pay(&other).await;
    assert_eq!(app.confirm(&other).await.status(), 200);

    app.simulator_admin(&late, "succeed").await;
    let total = late["pricing"]["total"].clone();
    let refunded = app
        .eventually(1, &late, |o| o["refundedAmount"] == total)
        .await;
    assert_eq!(refunded["status"], "EXPIRED", "the order stays closed");
    let history = app.history(1, &late).await;
    assert_eq!(count(&history, "REFUND_REQUESTED"), 1);
    assert_eq!(count(&history, "REFUND_COMPLETED"), 1);
    assert_eq!(count(&history, "ORDER_CONFIRMED"), 0);
    let state = app.simulator_state().await;
    let payment = state["payments"]
        .as_array()
        .expect("payments")
        .iter()
        .find(|p| p["id"] == late["paymentIntentId"])
        .expect("the late payment");
    assert_eq!(payment["refunds"][0]["amount"], total);
    assert_eq!(
        state["availability"][0]["sold"], 1,
        "no ticket was oversold"
    );
}
