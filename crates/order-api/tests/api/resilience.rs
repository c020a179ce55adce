//! An upstream outage through the API: retries, then the open circuit breaker answering
//! 503 `upstream_unavailable` at once with `Retry-After`, then recovery.

use std::time::Duration as StdDuration;

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn an_open_breaker_answers_503_with_retry_after_without_calling_and_recovers() {
    let mut setup = Setup::default();
    setup.resilience.open_for = StdDuration::from_millis(1_500);
    let app = spawn_with(setup).await;
    app.set_faults(json!({"tickets": {"errorPercent": 100}}))
        .await;

    // Each creation tries the ticket service 4 times; the 10th failure opens the breaker.
    for _ in 0..3 {
        let response = app.create_order(&customer(1), &order_body(1)).await;
        assert_problem(response, 503, "upstream_unavailable").await;
    }
    let served = app.ticket_requests().await;
    assert_eq!(served, 10);

    let rejected = app.create_order(&customer(1), &order_body(1)).await;
    let retry_after: u64 = rejected
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=2).contains(&retry_after), "Retry-After {retry_after}");
    let body = assert_problem(rejected, 503, "upstream_unavailable").await;
    assert!(
        !body["detail"].as_str().unwrap_or("").contains("breaker"),
        "no internals in the answer"
    );
    assert_eq!(app.ticket_requests().await, served, "no upstream call");

    // The ticket service recovers; once the breaker's 1.5 s have run out (on the breaker's own
    // clock), its probe succeeds and closes it. Until then every creation is refused at once.
    app.set_faults(json!({})).await;
    eventually(
        "the breaker lets a probe through",
        StdDuration::from_secs(5),
        || async {
            let response = app.create_order(&customer(1), &order_body(1)).await;
            if response.status() == 201 {
                return Some(());
            }
            assert_problem(response, 503, "upstream_unavailable").await;
            None
        },
    )
    .await;
}
