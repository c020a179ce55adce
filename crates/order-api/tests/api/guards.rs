//! Idempotency keys and rate limits through HTTP, against the real Redis server.

use futures_util::future::join_all;
use order_api::config::RateLimits;
use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::*;

async fn create_with_key(app: &TestApp, token: &str, key: &str, body: &Value) -> Response {
    app.client
        .post(app.url("/api/v1/orders"))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .expect("request")
}

fn unique_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test]
async fn the_same_key_and_body_replay_the_first_answer() {
    let app = spawn_app().await;
    let key = unique_key();
    let first = create_with_key(&app, &customer(1), &key, &order_body(2)).await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let location = first.headers().get("location").cloned().expect("location");
    let first: Value = first.json().await.expect("json");
    let again = create_with_key(&app, &customer(1), &key, &order_body(2)).await;
    assert_eq!(again.status(), 201);
    assert_eq!(
        again
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(
        again.headers().get("location"),
        Some(&location),
        "the replay carries the original headers"
    );
    assert_eq!(
        again
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let again: Value = again.json().await.expect("json");
    assert_eq!(again, first);
    let listed: Value = app
        .get(&customer(1), "/api/v1/orders")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        listed["pagination"]["total"], 1,
        "one order, however often it is sent"
    );

    let other_body = create_with_key(&app, &customer(1), &key, &order_body(3)).await;
    assert_problem(other_body, 422, "idempotency_key_reused").await;
    // Keys are scoped per caller: another user may use the same key.
    assert_eq!(
        create_with_key(&app, &customer(2), &key, &order_body(2))
            .await
            .status(),
        201
    );
    // Errors are replayed too (4xx pins the key), so a retry cannot turn into a second attempt.
    let bad_key = unique_key();
    assert_problem(
        create_with_key(&app, &customer(3), &bad_key, &order_body(0)).await,
        422,
        "validation_failed",
    )
    .await;
    let replayed = create_with_key(&app, &customer(3), &bad_key, &order_body(0)).await;
    assert_eq!(
        replayed
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
}

#[tokio::test]
async fn the_same_key_while_the_first_request_runs_is_in_flight() {
    let app = spawn_app().await;
    // A slow payment service keeps the first creation running.
    app.set_faults(json!({"payments": {"latencyMs": 600}}))
        .await;
    let (key, token, body) = (unique_key(), customer(1), order_body(1));
    let (first, second) = tokio::join!(create_with_key(&app, &token, &key, &body), async {
        // The first request has passed the guard once it waits at the payment service.
        eventually(
            "the first request reaches the payment service",
            std::time::Duration::from_secs(5),
            || async { (app.simulator_in_flight().await > 0).then_some(()) },
        )
        .await;
        create_with_key(&app, &token, &key, &body).await
    });
    assert_eq!(first.status(), 201);
    assert_problem(second, 409, "idempotency_in_flight").await;
    let replayed = create_with_key(&app, &customer(1), &key, &order_body(1)).await;
    assert_eq!(replayed.status(), 201);
    assert_eq!(
        replayed
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
}

#[tokio::test]
async fn a_request_that_failed_with_5xx_does_not_pin_its_key() {
    let app = spawn_app().await;
    app.set_faults(json!({"tickets": {"errorPercent": 100}}))
        .await;
    let key = unique_key();
    let failed = create_with_key(&app, &customer(1), &key, &order_body(1)).await;
    assert_problem(failed, 503, "upstream_unavailable").await;
    app.set_faults(json!({})).await;
    let retried = create_with_key(&app, &customer(1), &key, &order_body(1)).await;
    assert_eq!(retried.status(), 201, "the retry runs for real");
    assert!(retried.headers().get("idempotent-replayed").is_none());
}

#[tokio::test]
async fn a_hundred_concurrent_duplicates_create_one_order() {
    let app = spawn_app().await;
    let key = unique_key();
    let token = customer(1);
    let body = order_body(1);
    let attempts = (0..100).map(|_| create_with_key(&app, &token, &key, &body));
    let responses = join_all(attempts).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "statuses: {statuses:?}"
    );
    assert!(statuses.contains(&201));
    let listed: Value = app
        .get(&token, "/api/v1/orders")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed["pagination"]["total"], 1);
    let state = app.simulator_state().await;
    assert_eq!(state["availability"][0]["held"], 1, "one hold upstream");
}

#[tokio::test]
async fn the_order_rate_limit_admits_exactly_its_limit_with_headers_on_429() {
    let mut setup = Setup {
        rate_limits: RateLimits {
            orders: 10,
            ..Setup::default().rate_limits
        },
        ..Setup::default()
    };
    setup.domain.limits.max_active_orders_per_user_per_event = 1_000;
    setup.domain.limits.max_orders_per_user_per_day = 1_000;
    let app = spawn_with(setup).await;
    let token = customer(1);
    let body = order_body(1);
    let attempts = (0..50).map(|_| app.create_order(&token, &body));
    let responses = join_all(attempts).await;
    let created = responses.iter().filter(|r| r.status() == 201).count();
    let limited: Vec<&Response> = responses.iter().filter(|r| r.status() == 429).collect();
    assert_eq!((created, limited.len()), (10, 40));
    let headers = limited[0].headers();
    assert!(headers.get("retry-after").is_some());
    assert_eq!(
        headers.get("ratelimit-limit").and_then(|v| v.to_str().ok()),
        Some("10")
    );
    assert_eq!(
        headers
            .get("ratelimit-remaining")
            .and_then(|v| v.to_str().ok()),
        Some("0")
    );
    // Another user has a window of their own.
    assert_eq!(app.create_order(&customer(2), &body).await.status(), 201);
}

#[tokio::test]
async fn with_redis_down_creation_fails_closed_and_other_commands_fail_open() {
    let app = spawn_with(Setup {
        dead_redis: true,
        ..Setup::default()
    })
    .await;
    // Without a key, creation does not need the store; rate limits fail open.
    let order = app.new_order(1, 1).await;
    let id = order["id"].as_str().expect("id");
    // With a key, creation refuses rather than risk a duplicate order.
    let keyed = create_with_key(&app, &customer(1), &unique_key(), &order_body(1)).await;
    assert_problem(keyed, 503, "guard_unavailable").await;
    // Reserve takes the order lock: Redis being down does not block it.
    let reserved = app
        .client
        .post(app.url(&format!("/api/v1/orders/{id}/reserve")))
        .bearer_auth(customer(1))
        .header("idempotency-key", unique_key())
        .send()
        .await
        .expect("request");
    assert_eq!(reserved.status(), 200);
    let cancelled = app
        .post(
            &customer(1),
            &format!("/api/v1/orders/{id}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(cancelled.status(), 200);
}

async fn readiness(app: &TestApp) -> (u16, Value) {
    let answer = app
        .client
        .get(app.url("/health/readiness"))
        .send()
        .await
        .expect("request");
    let status = answer.status().as_u16();
    (status, answer.json().await.expect("json"))
}

#[tokio::test]
async fn readiness_reports_not_ready_while_redis_is_unreachable() {
    let app = spawn_with(Setup {
        dead_redis: true,
        ..Setup::default()
    })
    .await;
    let (status, body) = readiness(&app).await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "unavailable");
    assert_eq!(
        body["checks"],
        json!({ "database": "ok", "redis": "unreachable" })
    );
}

#[tokio::test]
async fn readiness_of_an_instance_with_jobs_reports_an_unreachable_broker() {
    let app = spawn_with(Setup {
        jobs_with_dead_broker: true,
        ..Setup::default()
    })
    .await;
    let (status, body) = readiness(&app).await;
    assert_eq!(status, 503);
    assert_eq!(
        body["checks"],
        json!({ "database": "ok", "redis": "ok", "broker": "unreachable" })
    );
}

#[tokio::test]
async fn a_stored_answer_keeps_its_secrets_sealed_in_redis() {
    use order_domain::ports::{IdempotencyBegin, IdempotencyStore};
    use sha2::{Digest, Sha256};

    let app = spawn_app().await;
    let key = unique_key();
    let body = order_body(1);
    let first = create_with_key(&app, &customer(1), &key, &body).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.expect("json");
    let secret = first["clientSecret"].as_str().expect("a client secret");

    // What Redis holds under the key, read as the app reads it.
    let url = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:56379".into());
    let redis = order_redis::RedisGuards::connect(&url, 1).expect("redis");
    let mut hasher = Sha256::new();
    hasher.update(b"POST /api/v1/orders\n");
    hasher.update(serde_json::to_vec(&body).expect("json"));
    let fingerprint: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let store_key = format!(
        "{}:idem:{}:user:{}:{key}",
        app.redis_prefix,
        tenant_a(),
        user(1)
    );
    let kept = redis
        .begin(None, &store_key, &fingerprint, time::Duration::minutes(30))
        .await
        .expect("redis answers");
    let IdempotencyBegin::Replay(stored) = kept else {
        panic!("the answer is stored under {store_key}: {kept:?}");
    };
    let raw = String::from_utf8_lossy(&stored.body);
    assert!(!raw.contains(secret), "{raw}");
    assert!(!raw.contains(first["id"].as_str().expect("id")), "{raw}");

    let again: Value = create_with_key(&app, &customer(1), &key, &body)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(again["clientSecret"], secret, "the replay opens it");
}

#[tokio::test]
async fn anonymous_carts_have_a_budget_per_session_and_per_address_and_promo_guesses_are_few() {
    let app = spawn_with(Setup {
        rate_limits: RateLimits {
            anonymous_cart: 5,
            cart_per_address: 8,
            promo_code_tries: 3,
            ..Setup::default().rate_limits
        },
        ..Setup::default()
    })
    .await;
    let read = |session: &'static str, query: &'static str| {
        app.anonymous(
            reqwest::Method::GET,
            &format!("/api/v1/cart{query}"),
            session,
        )
        .send()
    };
    let first = "first-session-3f1c2b9e8d4a4f6b";
    let second = "other-session-9a7e1c2d3e4f5a6b";

    for n in 0..5 {
        assert_eq!(
            read(first, "").await.expect("get").status(),
            200,
            "read {n}"
        );
    }
    let refused = read(first, "").await.expect("get");
    assert!(refused.headers().get("retry-after").is_some());
    assert_problem(refused, 429, "rate_limited").await;
    // Another session from the same address: the address's budget (8) is what is left.
    for n in 0..3 {
        assert_eq!(
            read(second, "").await.expect("get").status(),
            200,
            "read {n}"
        );
    }
    assert_problem(read(second, "").await.expect("get"), 429, "rate_limited").await;

    // A signed-in buyer has no cart budget, but guesses promo codes three times a minute.
    let buyer = customer(170);
    for guess in ["GUESS1", "GUESS2", "GUESS3"] {
        let answer = app
            .get(&buyer, &format!("/api/v1/cart?promoCode={guess}"))
            .await;
        assert_ne!(answer.status(), 429, "{guess}");
    }
    let fourth = app.get(&buyer, "/api/v1/cart?promoCode=GUESS4").await;
    assert_problem(fourth, 429, "rate_limited").await;
    assert_eq!(
        app.get(&buyer, "/api/v1/cart").await.status(),
        200,
        "a plain read"
    );
}

#[tokio::test]
async fn a_command_that_cannot_get_its_turn_within_the_wait_is_503_overloaded_and_changes_nothing()
{
    let setup = Setup {
        command_places: (1, std::time::Duration::from_millis(300)),
        ..Setup::default()
    };
    let app = spawn_with(setup).await;
    // The ticket service answers slowly: the first order holds the only place for a while.
    crate::crash::put_faults(&app.simulator, json!({"tickets": {"latencyMs": 1500}})).await;
    let first = {
        let client = app.client.clone();
        let url = app.url("/api/v1/orders");
        let token = customer(1);
        let body = order_body(2);
        tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .header("Idempotency-Key", "first")
                .json(&body)
                .send()
                .await
                .expect("first")
                .status()
                .as_u16()
        })
    };
    // Wait until the first order is inside (its hold has reached the ticket service).
    order_test_support::eventually(
        "the first order to reach the ticket service",
        std::time::Duration::from_secs(10),
        || async {
            let faults: Value = reqwest::get(format!("{}/_admin/faults", app.simulator))
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            (faults["tickets"]["requests"].as_u64().unwrap_or(0) > 0).then_some(())
        },
    )
    .await;
    let refused = app
        .client
        .post(app.url("/api/v1/orders"))
        .bearer_auth(customer(2))
        .header("Idempotency-Key", "second")
        .json(&order_body(2))
        .send()
        .await
        .expect("second");
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_problem(refused, 503, "overloaded").await;
    assert_eq!(first.await.expect("first"), 201);
    // The refused request created nothing: sent again now, it runs and creates one order.
    crate::crash::put_faults(&app.simulator, json!({})).await;
    let again = app
        .client
        .post(app.url("/api/v1/orders"))
        .bearer_auth(customer(2))
        .header("Idempotency-Key", "second")
        .json(&order_body(2))
        .send()
        .await
        .expect("again");
    assert_eq!(again.status(), 201);
    let mine: Value = app
        .get(&customer(2), "/api/v1/orders")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(mine["pagination"]["total"], 1);
}
