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

#[tokio::test]
async fn a_concurrent_confirm_and_expire_have_exactly_one_winner() {
    let mut setup = Setup::default();
    setup.domain.reservation.ticket_hold = time::Duration::seconds(1);
    let app = spawn_with(setup).await;
    for n in 0..3u128 {
        let order = app.new_order(n, 1).await;
        let id = order["id"].as_str().expect("id").to_owned();
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
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
