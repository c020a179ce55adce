//! Refunds are paid exactly once through the whole stack: a process killed between the refund's
//! commit and its payout, and a repeated request whose stored answer the guard store no longer
//! has, each end with one payout at the payment service and one COMPLETED refund.

use serde_json::{Value, json};

use crate::crash::{Process, count, put_faults, simulator_state};
use crate::helpers::*;

/// A paid, CONFIRMED order of customer 1 created through `base`.
async fn confirmed_order(base: &str, simulator: &str) -> Value {
    let client = reqwest::Client::new();
    let order: Value = client
        .post(format!("{base}/api/v1/orders"))
        .bearer_auth(customer(1))
        .json(&order_body(2))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let intent = order["paymentIntentId"].as_str().expect("intent");
    let paid = client
        .post(format!("{simulator}/payments/intents/{intent}/confirm"))
        .header("authorization", format!("Service-Key {UPSTREAM_KEY}"))
        .send()
        .await
        .expect("simulator");
    assert!(paid.status().is_success());
    let confirmed = client
        .post(format!(
            "{base}/internal/v1/orders/{}/confirm",
            order["id"].as_str().expect("id")
        ))
        .header("authorization", format!("Service-Key {SERVICE_KEY}"))
        .header("x-tenant-id", tenant_a().to_string())
        .json(&json!({ "paymentIntentId": intent }))
        .send()
        .await
        .expect("confirm");
    assert_eq!(confirmed.status(), 200);
    order
}

fn payouts(state: &Value) -> usize {
    state["payments"][0]["refunds"]
        .as_array()
        .map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_whose_process_died_before_its_payout_is_paid_once_by_another_instance() {
    let mut setup = Setup::default();
    setup.domain.refund.payout_lease = time::Duration::seconds(2);
    let db = order_postgres::setup::testing::fresh_database().await;
    let simulator = start_simulator(&setup);
    let config = test_config(&setup, &db.app_url, &simulator);
    let process = Process::start(config.clone());
    let order = confirmed_order(&process.base, &simulator).await;
    let id = order["id"].as_str().expect("id").to_owned();

    // Payouts are slow: the process dies after the APPROVED refund committed, before its payout
    // reported back.
    put_faults(&simulator, json!({"payments": {"latencyMs": 1_500}})).await;
    let request = tokio::spawn(
        reqwest::Client::new()
            .post(format!("{}/api/v1/orders/{id}/refund", process.base))
            .bearer_auth(customer(1))
            .json(&json!({ "amount": 5_000 }))
            .send(),
    );
    let approved = "SELECT count(*) FROM order_refunds WHERE status = 'APPROVED'";
    eventually(
        "the refund is APPROVED",
        std::time::Duration::from_secs(2),
        || async { (count(&db.owner, approved).await == 1).then_some(()) },
    )
    .await;
    process.crash();
    assert!(
        request.await.expect("task").is_err(),
        "the client never got an answer"
    );
    assert_eq!(count(&db.owner, approved).await, 1, "left APPROVED");
    put_faults(&simulator, json!({})).await;

    // Another instance's refund job finds it once the lease has run out (its clock is passed in,
    // so the test does not wait for the lease) and pays it.
    let (survivor, _, _) = order_api::startup::build_service(&config)
        .await
        .expect("service");
    let within_lease = survivor
        .retry_due_refunds(time::OffsetDateTime::now_utc(), 10)
        .await
        .expect("pass");
    assert_eq!(within_lease.attempted, 0, "the lease has not run out");
    let after_lease = time::OffsetDateTime::now_utc() + time::Duration::seconds(3);
    let report = survivor
        .retry_due_refunds(after_lease, 10)
        .await
        .expect("pass");
    assert_eq!((report.attempted, report.completed), (1, 1));
    let again = survivor
        .retry_due_refunds(after_lease, 10)
        .await
        .expect("pass");
    assert_eq!(again.attempted, 0, "nothing is left to pay");

    // The crashed process's slow payout, if it reached the payment service at all, was the
    // same payout (the refund id is its idempotency key).
    eventually(
        "the payment service answered every request",
        std::time::Duration::from_secs(5),
        || async { (simulator_in_flight(&simulator).await == 0).then_some(()) },
    )
    .await;
    assert_eq!(payouts(&simulator_state(&simulator).await), 1);
    assert_eq!(
        count(
            &db.owner,
            "SELECT count(*) FROM order_refunds WHERE status = 'COMPLETED' AND amount = 5000"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &db.owner,
            "SELECT count(*) FROM outbox WHERE event_type = 'refund.completed'"
        )
        .await,
        1,
        "the completion is announced"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_refund_request_the_guard_store_forgot_answers_the_first_refund() {
    let setup = Setup::default();
    let db = order_postgres::setup::testing::fresh_database().await;
    let simulator = start_simulator(&setup);
    // Two instances with separate guard-store prefixes: the second knows nothing of the first's
    // stored answers, as after Redis lost them.
    let first = Process::start(test_config(&setup, &db.app_url, &simulator));
    let second = Process::start(test_config(&setup, &db.app_url, &simulator));
    let order = confirmed_order(&first.base, &simulator).await;
    let id = order["id"].as_str().expect("id").to_owned();
    let refund = |base: &str, amount: i64| {
        reqwest::Client::new()
            .post(format!("{base}/api/v1/orders/{id}/refund"))
            .bearer_auth(customer(1))
            .header("idempotency-key", "refund-once-1")
            .json(&json!({ "amount": amount, "reason": "one ticket" }))
            .send()
    };
    let answered = refund(&first.base, 5_000).await.expect("first");
    assert_eq!(answered.status(), 200);
    let answered: Value = answered.json().await.expect("json");
    assert_eq!(answered["status"], "COMPLETED");

    let repeated = refund(&second.base, 5_000).await.expect("repeat");
    assert_eq!(repeated.status(), 200);
    assert_eq!(
        repeated
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let repeated: Value = repeated.json().await.expect("json");
    assert_eq!(repeated["refundId"], answered["refundId"]);

    let other_body = refund(&second.base, 1_000).await.expect("other body");
    assert_problem(other_body, 422, "idempotency_key_reused").await;

    assert_eq!(payouts(&simulator_state(&simulator).await), 1);
    assert_eq!(
        count(&db.owner, "SELECT count(*) FROM order_refunds").await,
        1
    );
    first.crash();
    second.crash();
}
