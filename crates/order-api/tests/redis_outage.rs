//! Redis really stopped and started again (`deploy/local/services.sh stop-redis|start-redis`)
//! under a running API: creation with an `Idempotency-Key` fails closed, everything else fails
//! open, and all of it works again once Redis is back. The only test of its binary: `cargo test`
//! runs test binaries one after another, so no other test loses Redis meanwhile.

#[path = "api/helpers.rs"]
#[allow(dead_code, unused_imports)] // the end-to-end tests' helpers; this test uses a few
mod helpers;

use helpers::*;
use serde_json::json;

const SERVICES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../deploy/local/services.sh"
);

async fn services(command: &str) {
    let status = tokio::process::Command::new("bash")
        .arg(SERVICES)
        .arg(command)
        .status()
        .await
        .expect("run services.sh");
    assert!(status.success(), "services.sh {command} failed");
}

/// Starts Redis again even when the test fails half-way, so later tests keep their server.
struct RedisComesBack;

impl Drop for RedisComesBack {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .arg(SERVICES)
            .arg("start-redis")
            .status();
    }
}

async fn create_with_key(app: &TestApp, key: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/orders"))
        .bearer_auth(customer(1))
        .header("idempotency-key", key)
        .json(&order_body(1))
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn a_redis_outage_closes_keyed_creation_opens_the_rest_and_heals() {
    let app = spawn_app().await;
    let before = create_with_key(&app, "before-outage").await;
    assert_eq!(before.status(), 201);
    let order: serde_json::Value = before.json().await.expect("json");
    let id = order["id"].as_str().expect("id").to_owned();

    let _guard = RedisComesBack;
    services("stop-redis").await;
    let keyed = create_with_key(&app, "during-outage").await;
    assert_problem(keyed, 503, "guard_unavailable").await;
    // Rate limits and the order lock fail open.
    assert_eq!(app.new_order(2, 1).await["status"], "RESERVED");
    let reserved = app
        .post(
            &customer(1),
            &format!("/api/v1/orders/{id}/reserve"),
            &json!({}),
        )
        .await;
    assert_eq!(reserved.status(), 200);

    services("start-redis").await;
    let after = create_with_key(&app, "after-outage").await;
    assert_eq!(after.status(), 201, "Redis is used again at once");
    let replay = create_with_key(&app, "after-outage").await;
    assert_eq!(
        replay
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
}
