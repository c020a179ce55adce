//! Races through the whole stack.

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn fifty_buyers_for_ten_tickets_exactly_ten_succeed_and_nobody_sees_a_5xx() {
    let app = spawn_with(Setup {
        quota: 10,
        ..Setup::default()
    })
    .await;
    let attempts = (0..50u128).map(|n| {
        let app = &app;
        async move {
            app.create_order(&customer(n), &order_body(1))
                .await
                .status()
                .as_u16()
        }
    });
    let statuses = join_all(attempts).await;
    let created = statuses.iter().filter(|s| **s == 201).count();
    let sold_out = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((created, sold_out), (10, 40), "statuses: {statuses:?}");
    let state = app.simulator_state().await;
    assert_eq!(state["availability"][0]["held"], 10);
}

/// Sends every body at once as buyer 1; answers `(status, body)` in request order.
async fn all_at_once(app: &TestApp, bodies: &[serde_json::Value]) -> Vec<(u16, serde_json::Value)> {
    let token = customer(1);
    join_all(bodies.iter().map(|body| {
        let token = &token;
        async move {
            let response = app.create_order(token, body).await;
            let status = response.status().as_u16();
            (status, response.json().await.expect("json"))
        }
    }))
    .await
}

fn refused_by(answers: &[(u16, serde_json::Value)], path: &str, code: &str) -> usize {
    answers
        .iter()
        .filter(|(status, body)| {
            *status == 422
                && body["code"] == "limit_exceeded"
                && body["errors"][0]["path"] == path
                && body["errors"][0]["code"] == code
        })
        .count()
}

#[tokio::test]
async fn one_buyer_sending_twenty_orders_for_one_event_at_once_gets_exactly_five() {
    let app = spawn_app().await;
    let bodies = vec![order_body(1); 20];
    let answers = all_at_once(&app, &bodies).await;
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    let refused = refused_by(&answers, "eventId", "active_orders_per_event");
    assert_eq!((created, refused), (5, 15), "answers: {answers:?}");
    let listed: serde_json::Value = app
        .get(&customer(1), "/api/v1/orders")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed["pagination"]["total"], 5);
    // A refused order leaves nothing upstream: its hold released, its intent cancelled.
    let state = app.simulator_state().await;
    assert_eq!(state["availability"][0]["held"], 5);
    let payments = state["payments"].as_array().expect("payments");
    let open = payments
        .iter()
        .filter(|p| p["status"] != "CANCELED")
        .count();
    assert_eq!(open, 5);
}

#[tokio::test]
async fn one_buyer_sending_thirty_orders_over_six_events_at_once_gets_exactly_twenty_today() {
    let app = spawn_with(Setup {
        extra_events: 5,
        ..Setup::default()
    })
    .await;
    // Five per event: the per-event quota alone would admit all thirty.
    let bodies: Vec<_> = (0..30u128).map(|n| order_body_for(n % 6, 1)).collect();
    let answers = all_at_once(&app, &bodies).await;
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    let refused = refused_by(&answers, "", "orders_per_day");
    assert_eq!((created, refused), (20, 10), "answers: {answers:?}");
    let state = app.simulator_state().await;
    let held: u64 = state["availability"]
        .as_array()
        .expect("availability")
        .iter()
        .map(|a| a["held"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(held, 20);
}

#[tokio::test]
async fn a_concurrent_confirm_and_expire_have_exactly_one_winner() {
    let mut setup = Setup::default();
    setup.domain.reservation.ticket_hold = time::Duration::seconds(1);
    let app = spawn_with(setup).await;
    for n in 0..3u128 {
        let order = app.new_order(n, 1).await;
        let id = order["id"].as_str().expect("id").to_owned();
        // The reservation (1 s) runs out.
        app.clock.advance(time::Duration::milliseconds(1_100));
        let expire_path = format!("/internal/v1/orders/{id}/expire");
        let empty = json!({});
        let (confirm, expire) = tokio::join!(
            app.confirm(&order),
            app.internal(&expire_path, Some(tenant_a()), &empty)
        );
        let statuses = [confirm.status().as_u16(), expire.status().as_u16()];
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "exactly one wins: {statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == 409).count(),
            1,
            "the other gets 409: {statuses:?}"
        );
        let stored: serde_json::Value = app
            .get(&customer(n), &format!("/api/v1/orders/{id}"))
            .await
            .json()
            .await
            .expect("json");
        let expected = if statuses[0] == 200 {
            "CONFIRMED"
        } else {
            "EXPIRED"
        };
        assert_eq!(stored["status"], expected);
    }
}
