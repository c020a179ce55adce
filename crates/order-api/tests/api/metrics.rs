//! `/metrics` after an order's lifecycle: the counters it moved, by their documented names and
//! labels, counted by this application alone (each has its own registry), and route templates —
//! never raw ids — as labels.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::helpers::*;

/// Sample lines (`name{labels} value`) by their series.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

#[tokio::test]
async fn an_orders_lifecycle_moves_the_counters_of_its_steps() {
    let app = spawn_app().await;
    let buyer = customer(81);
    let paid = app.paid_goods_order(&buyer, 5).await;
    app.deliver(&paid).await;
    let unpaid: Value = app.goods_order(&buyer, 6, 1).await;
    let unpaid_id = unpaid["order"]["id"].as_str().expect("id").to_owned();
    let cancelled = app
        .post(
            &buyer,
            &format!("/api/v1/orders/{unpaid_id}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(cancelled.status(), 200);
    let total = app.get(&buyer, &format!("/api/v1/orders/{paid}")).await;
    let total: Value = total.json().await.expect("json");
    let total = total["pricing"]["total"].as_f64().expect("total");

    let response = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/plain")
    );
    let text = response.text().await.expect("text");
    let s = samples(&text);
    let value = |series: &str| {
        *s.get(series)
            .unwrap_or_else(|| panic!("{series} missing from\n{text}"))
    };
    assert_eq!(
        value(r#"order_service_orders_created_total{kind="GOODS"}"#),
        2.0
    );
    assert_eq!(
        value(r#"order_service_orders_confirmed_total{kind="GOODS"}"#),
        1.0
    );
    assert_eq!(
        value(r#"order_service_orders_cancelled_total{kind="GOODS"}"#),
        1.0
    );
    assert_eq!(
        value(r#"order_service_revenue_total{currency="USD"}"#),
        total
    );
    assert_eq!(
        value(r#"orders_created_total{source="cart",payment_method="card"}"#),
        2.0
    );
    assert_eq!(value(r#"order_value_count{kind="GOODS"}"#), 2.0);
    // Each order emptied the cart its buyer had started: two carts started, both converted.
    assert_eq!(value("carts_created_total"), 2.0);
    assert_eq!(value("cart_conversion_rate"), 1.0);
    assert_eq!(value("order_processing_duration_seconds_count"), 1.0);
    assert_eq!(
        value(
            r#"http_requests_total{method="POST",route="/api/v1/orders/{id}/confirm-payment",status="200"}"#
        ),
        1.0
    );
    assert_eq!(
        value(r#"http_requests_total{method="POST",route="/api/v1/orders",status="201"}"#),
        2.0
    );
    assert!(
        value(r#"order_service_external_call_duration_seconds_count{service="payments"}"#) >= 2.0
    );
    assert!(
        value(r#"order_service_external_calls_total{service="inventory",outcome="ok"}"#) >= 2.0
    );
    assert!(value(r#"order_service_operation_duration_seconds_count{operation="commit"}"#) >= 6.0);
    assert_eq!(
        value(r#"upstream_circuit_breaker_state{service="tickets"}"#),
        0.0
    );
    assert!(value(r#"db_pool_connections{state="idle"}"#) >= 0.0);
    assert!(
        value("order_service_outbox_unpublished") >= 1.0,
        "nothing relays in this test"
    );
    assert!(value("order_service_outbox_lag_seconds") >= 0.0);
    assert_eq!(value("webhook_deliveries_pending"), 0.0);
    assert!(
        !text.contains(&paid) && !text.contains(&unpaid_id),
        "ids never become label values"
    );
}

#[tokio::test]
async fn detailed_health_names_each_dependency_with_its_latency_for_operators_only() {
    let app = spawn_app().await;
    let anonymous = app
        .client
        .get(app.url("/health/detailed"))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), 401);
    let buyer = app.get(&customer(82), "/health/detailed").await;
    assert_problem(buyer, 403, "forbidden").await;
    let report: Value = app
        .client
        .get(app.url("/health/detailed"))
        .header("authorization", format!("Service-Key {SERVICE_KEY}"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(report["status"], "ok", "{report}");
    for dependency in ["database", "redis"] {
        assert_eq!(report["dependencies"][dependency]["status"], "ok");
        assert!(report["dependencies"][dependency]["latencyMs"].is_u64());
    }
    assert_eq!(
        report["dependencies"]["upstream.tickets"]["status"],
        "closed"
    );
    let admin_view = app.get(&admin(), "/health/detailed").await;
    assert_eq!(admin_view.status(), 200);
}

#[tokio::test]
async fn a_contended_order_lock_counts_as_a_lock_failure() {
    use order_domain::ports::DistributedLock;

    let app = spawn_app().await;
    let order = app.new_order(83, 1).await;
    let id = order["id"].as_str().expect("id");
    let url = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:56379".into());
    let redis = order_redis::RedisGuards::connect(&url, 2).expect("redis");
    let held = redis
        .acquire(&format!("order:lock:{id}"), time::Duration::seconds(30))
        .await
        .expect("redis answers")
        .expect("taken by the test");
    let reserve = app
        .post(
            &customer(83),
            &format!("/api/v1/orders/{id}/reserve"),
            &json!({}),
        )
        .await;
    assert_problem(reserve, 409, "order_locked").await;
    redis.release(&held).await.expect("released");
    let text = app.metrics_text().await;
    assert_eq!(
        samples(&text).get(r#"order_service_lock_failures_total{reason="contended"}"#),
        Some(&1.0),
        "{text}"
    );
}

#[tokio::test]
async fn invented_methods_and_paths_add_no_series() {
    let app = spawn_app().await;
    for n in 0..20 {
        let method = reqwest::Method::from_bytes(format!("ZZQ{n}").as_bytes()).expect("method");
        let response = app
            .client
            .request(method, app.url(&format!("/nowhere-{n}")))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 404);
        let on_a_route = reqwest::Method::from_bytes(b"FOO1").expect("method");
        app.client
            .request(on_a_route, app.url("/api/v1/orders"))
            .send()
            .await
            .expect("request");
    }
    let text = app.metrics_text().await;
    assert!(!text.contains("ZZQ") && !text.contains("FOO1") && !text.contains("nowhere"));
    assert!(
        text.contains(r#"http_requests_total{method="OTHER",route="unmatched",status="404"} 20"#),
        "{}",
        text.lines()
            .filter(|l| l.starts_with("http_requests_total"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[tokio::test]
async fn scrapes_in_a_burst_share_one_backlog_query() {
    let app = spawn_app().await;
    app.new_order(150, 1).await;
    let unpublished = |text: String| samples(&text)["order_service_outbox_unpublished"];
    let first = unpublished(app.metrics_text().await);
    assert!(first >= 1.0, "nothing relays in this test");
    // More rows wait now, but a scrape right after the last one reuses its figures.
    app.new_order(151, 1).await;
    let second = unpublished(app.metrics_text().await);
    assert!(
        (second - first).abs() < f64::EPSILON,
        "{first} then {second}"
    );
}

/// The names docs/product/running.md takes from the ticketing API, each of which a fresh instance
/// must show.
const SEED_NAMES: [&str; 8] = [
    "order_service_orders_created_total",
    "order_service_orders_confirmed_total",
    "order_service_orders_cancelled_total",
    "order_service_reservation_expires_total",
    "order_service_refunds_processed_total",
    "order_service_revenue_total",
    "order_service_operation_duration_seconds",
    "order_service_external_call_duration_seconds",
];

/// `promtool check metrics` on `text`: its complaints (none when clean).
fn promtool_lint(text: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool is installed by `just services-up` (Debian's prometheus package)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("promtool runs");
    let complaints = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() {
        complaints
    } else {
        format!("promtool failed: {complaints}")
    }
}

#[tokio::test]
async fn a_fresh_instance_shows_every_named_series_at_zero_and_passes_promtool() {
    let app = spawn_app().await;
    let fresh = app.metrics_text().await;
    let values = samples(&fresh);
    for name in SEED_NAMES {
        let series: Vec<_> = values.keys().filter(|k| k.starts_with(name)).collect();
        assert!(!series.is_empty(), "{name} is missing from a fresh scrape");
    }
    assert_eq!(
        values[r#"order_service_orders_created_total{kind="TICKET"}"#],
        0.0
    );
    assert_eq!(
        values[r#"order_service_revenue_total{currency="USD"}"#],
        0.0
    );
    assert_eq!(
        values[r#"order_service_external_call_duration_seconds_count{service="payments"}"#],
        0.0
    );
    assert_eq!(promtool_lint(&fresh), "", "a fresh scrape");

    // And once every kind of series has values.
    let order = app.confirmed_order(180, 1).await;
    let id = order["id"].as_str().expect("id");
    app.post(
        &customer(180),
        &format!("/api/v1/orders/{id}/refund"),
        &json!({ "reason": "cannot come" }),
    )
    .await;
    app.get(&customer(180), "/api/v1/nowhere").await;
    let busy = app.metrics_text().await;
    assert_eq!(promtool_lint(&busy), "", "a scrape after an order's life");
}
