//! The expiry job, with two workers racing over the same orders.

use order_api::jobs::expire_due_orders;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn two_expiry_workers_expire_each_due_order_exactly_once() {
    let mut setup = Setup::default();
    setup.domain.reservation.ticket_hold = time::Duration::seconds(1);
    setup.domain.reservation.grace = time::Duration::seconds(1);
    let app = spawn_with(setup).await;
    let mut ids = Vec::new();
    for n in 0..20u128 {
        let order = app.new_order(n, 1).await;
        ids.push((n, order["id"].as_str().expect("id").to_owned()));
    }
    let fresh = app.new_order(99, 1).await;
    assert_eq!(app.simulator_state().await["availability"][0]["held"], 21);
    // The hold (1 s) and the grace period (1 s) run out.
    app.clock.advance(time::Duration::milliseconds(2_200));
    let still_fresh = app.new_order(100, 1).await;

    let (_stop, stopped) = tokio::sync::watch::channel(false);
    // Small batches: the workers loop several times and overlap on the same rows.
    let (a, b) = tokio::join!(
        expire_due_orders(&app.service, 5, &stopped),
        expire_due_orders(&app.replica, 5, &stopped)
    );
    assert_eq!(
        a.expired + b.expired,
        21,
        "20 + the first fresh one, now past expiry: {a:?} {b:?}"
    );
    assert_eq!(a.failed + b.failed, 0);

    for (n, id) in &ids {
        let history: Value = app
            .get(&customer(*n), &format!("/api/v1/orders/{id}/events"))
            .await
            .json()
            .await
            .expect("json");
        let expired = history["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter(|e| e["eventType"] == "RESERVATION_EXPIRED")
            .count();
        assert_eq!(expired, 1, "order {id} expired once");
    }
    let _ = fresh;
    let still: Value = app
        .get(
            &customer(100),
            &format!("/api/v1/orders/{}", still_fresh["id"].as_str().expect("id")),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        still["status"], "RESERVED",
        "orders inside their window are left alone"
    );
    assert_eq!(
        app.simulator_state().await["availability"][0]["held"],
        1,
        "expired holds were released"
    );
}

#[tokio::test]
async fn the_refund_retry_job_pays_a_failed_refund_once_its_retry_is_due() {
    let app = spawn_app().await;
    let (order, _) = order_with_failed_refund(&app).await;
    let id = order["id"].as_str().expect("id");

    // Not due yet: the first retry waits a minute.
    let now = time::OffsetDateTime::now_utc();
    let early = app.service.retry_due_refunds(now, 100).await.expect("pass");
    assert_eq!(early.attempted, 0);
    let due = app
        .service
        .retry_due_refunds(now + time::Duration::minutes(2), 100)
        .await
        .expect("pass");
    assert_eq!((due.attempted, due.completed), (1, 1));
    let stored: Value = app
        .get(&customer(1), &format!("/api/v1/orders/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(stored["status"], "REFUNDED");
    // Paid: the next pass finds nothing.
    let after = app
        .service
        .retry_due_refunds(now + time::Duration::hours(2), 100)
        .await
        .expect("pass");
    assert_eq!(after.attempted, 0);
}

#[tokio::test]
async fn housekeeping_deletes_keys_after_their_window_and_quota_days_once_past() {
    let app = spawn_app().await;
    let created = app
        .client
        .post(app.url("/api/v1/orders"))
        .bearer_auth(customer(1))
        .header("idempotency-key", "housekeeping-1")
        .json(&order_body(1))
        .send()
        .await
        .expect("request");
    assert_eq!(created.status(), 201);
    let count = |sql: &'static str| {
        let owner = app.owner.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&owner)
                .await
                .expect("count")
        }
    };
    let retention = order_api::jobs::Retention {
        idempotency_ttl: time::Duration::minutes(30),
        inbox: time::Duration::days(30),
    };
    let now = time::OffsetDateTime::now_utc();
    let pass = |at| order_api::jobs::housekeeping_pass(&app.store, retention, at);

    // Within the key's window (and its hour of margin) and the quota's day: nothing goes.
    assert!(
        !pass(now + time::Duration::minutes(60))
            .await
            .expect("pass")
            .any()
    );
    assert_eq!(
        count("SELECT count(*) FROM order_idempotency_keys").await,
        1
    );
    // Past the window: the key goes, today's quota counter stays.
    let later = pass(now + time::Duration::hours(2)).await.expect("pass");
    assert_eq!((later.idempotency_keys, later.daily_quotas), (1, 0));
    assert_eq!(count("SELECT count(*) FROM buyer_daily_orders").await, 1);
    // Two days on, the day is over: its counter goes too; the order itself stays.
    let days_later = pass(now + time::Duration::days(2)).await.expect("pass");
    assert_eq!(days_later.daily_quotas, 1);
    assert_eq!(count("SELECT count(*) FROM orders").await, 1);
}
