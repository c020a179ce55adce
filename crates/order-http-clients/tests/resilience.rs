//! Retries and the circuit breaker against the simulator's fault injection
//! (`PUT /_admin/faults`), which fails requests deterministically.

mod common;

use std::time::Duration;

use common::*;
use order_domain::ids::{OrderId, PaymentIntentId};
use order_domain::money::{Currency, Money};
use order_domain::ports::*;
use order_http_clients::{
    BreakerState, HttpPaymentGateway, HttpTicketService, Resilience, UpstreamConfig,
};
use serde_json::{Value, json};

fn resilient(base: &str, open_for: Duration) -> UpstreamConfig {
    UpstreamConfig {
        resilience: Resilience {
            open_for,
            // Short pauses keep the test quick; the schedule itself is unit-tested.
            retry_base: Duration::from_millis(5),
            ..Resilience::default()
        },
        ..config(base)
    }
}

async fn set_faults(base: &str, faults: Value) {
    let response = reqwest::Client::new()
        .put(format!("{base}/_admin/faults"))
        .json(&faults)
        .send()
        .await
        .expect("simulator");
    assert!(response.status().is_success());
}

/// Requests `service` served since the faults were last set.
async fn requests(base: &str, service: &str) -> u64 {
    let faults: Value = reqwest::get(format!("{base}/_admin/faults"))
        .await
        .expect("simulator")
        .json()
        .await
        .expect("json");
    faults[service]["requests"].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn an_idempotent_call_is_retried_through_transient_failures() {
    let base = simulator(10).await;
    let tickets =
        HttpTicketService::new(resilient(&base, Duration::from_secs(30))).expect("client");
    // The first 3 of every 100 ticket requests fail: 3 retries get through.
    set_faults(&base, json!({"tickets": {"errorPercent": 3}})).await;
    let prices = tickets
        .prices(tenant(), event(), &[line(1)])
        .await
        .expect("succeeds on the 4th attempt");
    assert_eq!(prices.len(), 1);
    assert_eq!(requests(&base, "tickets").await, 4);
    assert_eq!(tickets.breaker_state(), BreakerState::Closed);
}

#[tokio::test]
async fn retries_stop_after_three_and_report_the_outage() {
    let base = simulator(10).await;
    let tickets =
        HttpTicketService::new(resilient(&base, Duration::from_secs(30))).expect("client");
    set_faults(&base, json!({"tickets": {"errorPercent": 100}})).await;
    let error = tickets
        .prices(tenant(), event(), &[line(1)])
        .await
        .expect_err("every attempt fails");
    assert!(matches!(
        error,
        UpstreamError::Unavailable {
            service: "tickets",
            ..
        }
    ));
    assert_eq!(requests(&base, "tickets").await, 4, "1 attempt + 3 retries");
}

#[tokio::test]
async fn a_call_that_is_not_safe_to_repeat_is_tried_once() {
    let base = simulator(10).await;
    let payments =
        HttpPaymentGateway::new(resilient(&base, Duration::from_secs(30))).expect("client");
    let intent = payments
        .create_intent(
            tenant(),
            OrderId::from_uuid(uuid::Uuid::new_v4()),
            Money::new(1_000, Currency::Eur),
            time::OffsetDateTime::now_utc() + time::Duration::hours(1),
            "key-1",
        )
        .await
        .expect("intent");
    set_faults(&base, json!({"payments": {"errorPercent": 1}})).await;
    let result = payments.confirm_intent(&intent.id).await;
    assert!(matches!(
        result,
        Err(PaymentError::Upstream(UpstreamError::Unavailable { .. }))
    ));
    assert_eq!(requests(&base, "payments").await, 1, "no retry");
    // Cancelling is idempotent: it is retried.
    set_faults(&base, json!({"payments": {"errorPercent": 1}})).await;
    let cancelled = payments
        .cancel_intent(&PaymentIntentId::new(intent.id.to_string()))
        .await;
    assert!(cancelled.is_ok());
    assert_eq!(requests(&base, "payments").await, 2, "one retry");
}

#[tokio::test]
async fn the_breaker_opens_fails_fast_and_closes_again_after_a_successful_probe() {
    let base = simulator(10).await;
    let open_for = Duration::from_millis(600);
    let tickets = HttpTicketService::new(resilient(&base, open_for)).expect("client");
    set_faults(
        &base,
        json!({"tickets": {"errorPercent": 100, "latencyMs": 20}}),
    )
    .await;
    // Ten failed attempts (3 calls of 4 attempts; the breaker opens at the 10th).
    for _ in 0..3 {
        let _ = tickets.prices(tenant(), event(), &[line(1)]).await;
    }
    assert_eq!(tickets.breaker_state(), BreakerState::Open);
    let served = requests(&base, "tickets").await;
    assert_eq!(served, 10, "the breaker stopped the 11th attempt");

    let error = tickets
        .prices(tenant(), event(), &[line(1)])
        .await
        .expect_err("rejected");
    match error {
        UpstreamError::CircuitOpen {
            service,
            retry_after,
        } => {
            assert_eq!(service, "tickets");
            assert!(retry_after <= open_for);
        }
        other => panic!("expected CircuitOpen, got {other:?}"),
    }
    assert_eq!(
        requests(&base, "tickets").await,
        served,
        "rejected at once: no call went out"
    );

    // The upstream recovers; once the reset time has run out on the breaker's own clock, a
    // probe goes through and closes the breaker. Until then calls are refused at once.
    set_faults(&base, json!({})).await;
    let prices = order_test_support::eventually(
        "the breaker lets a probe through",
        open_for + Duration::from_secs(5),
        || async {
            match tickets.prices(tenant(), event(), &[line(1)]).await {
                Ok(prices) => Some(prices),
                Err(UpstreamError::CircuitOpen { .. }) => None,
                Err(other) => panic!("the probe failed: {other:?}"),
            }
        },
    )
    .await;
    assert_eq!(prices.len(), 1);
    assert_eq!(tickets.breaker_state(), BreakerState::Closed);
}

#[tokio::test]
async fn refusals_do_not_trip_the_breaker() {
    let base = simulator(1).await;
    let tickets =
        HttpTicketService::new(resilient(&base, Duration::from_secs(30))).expect("client");
    // Twenty 404s (an unknown event) are answers, not outages.
    for _ in 0..20 {
        let unknown = order_domain::ids::EventId::from_uuid(uuid::Uuid::from_u128(999));
        let result = tickets.prices(tenant(), unknown, &[line(1)]).await;
        assert!(matches!(result, Err(UpstreamError::NotFound { .. })));
    }
    assert_eq!(tickets.breaker_state(), BreakerState::Closed);
}
