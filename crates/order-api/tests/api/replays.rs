//! Event replay against the real servers: stored events published again with their original ids
//! to the broker or to the webhook subscriptions, by the durable job, one tenant's only.

use futures_util::StreamExt;
use lapin::options::{BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use serde_json::{Value, json};
use time::Duration;
use uuid::Uuid;

use crate::helpers::*;

/// The stored event ids of `order`, in outbox order.
async fn stored_events(app: &TestApp, order: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT id::text FROM outbox WHERE order_id = $1::uuid ORDER BY position")
        .bind(order)
        .fetch_all(&app.owner)
        .await
        .expect("events")
}

fn webhooks(app: &TestApp) -> order_domain::use_cases::WebhookService {
    let config = test_config(&Setup::default(), &app.database_url, &app.simulator);
    order_api::startup::build_webhooks(&app.store, &config).expect("webhooks")
}

/// Runs the replay job until it has worked one replay.
async fn work_one(app: &TestApp) -> order_domain::replay::EventReplay {
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    order_api::jobs::replay_once(&app.service, &webhooks(app), &amqp_url(), &stopped)
        .await
        .expect("the replay ran")
        .expect("a replay was waiting")
}

async fn start(app: &TestApp, body: &Value) -> Value {
    let response = app
        .post(&admin(), "/api/v1/admin/events/replay", body)
        .await;
    assert_eq!(response.status(), 202, "{:?}", response.text().await);
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("a location");
    let replay: Value = response.json().await.expect("json");
    assert_eq!(replay["status"], "RUNNING");
    assert_eq!(
        location,
        format!(
            "/api/v1/admin/events/replay/{}",
            replay["id"].as_str().expect("id")
        )
    );
    replay
}

#[tokio::test]
async fn an_orders_events_go_to_the_broker_again_with_their_original_ids_and_nothing_else() {
    let app = spawn_app().await;
    let order = app.confirmed_order(1, 1).await;
    let id = order["id"].as_str().expect("id").to_owned();
    let _other = app.confirmed_order(2, 1).await;
    let expected = stored_events(&app, &id).await;
    assert!(
        expected.len() >= 2,
        "created, reserved, confirmed: {expected:?}"
    );

    // A queue of our own sees what reaches the exchange.
    let connection =
        lapin::Connection::connect(&amqp_url(), lapin::ConnectionProperties::default())
            .await
            .expect("RabbitMQ");
    let channel = connection.create_channel().await.expect("channel");
    let queue = channel
        .queue_declare(
            "".into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("queue");
    channel
        .queue_bind(
            queue.name().as_str().into(),
            order_amqp::EXCHANGE.into(),
            "#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("bind");
    let mut consumer = channel
        .basic_consume(
            queue.name().as_str().into(),
            "replay-test".into(),
            BasicConsumeOptions {
                no_ack: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("consume");

    let replay = start(&app, &json!({ "orderId": id, "target": "broker" })).await;
    let done = work_one(&app).await;
    assert_eq!(done.replayed, expected.len() as u64);

    let mut received = Vec::new();
    while received.len() < expected.len() {
        let delivery = tokio::time::timeout(std::time::Duration::from_secs(10), consumer.next())
            .await
            .expect("the events arrive")
            .expect("a delivery")
            .expect("ok");
        let message_id = delivery
            .properties
            .message_id()
            .clone()
            .expect("message id");
        received.push(message_id.to_string());
    }
    assert_eq!(
        received, expected,
        "the order's events, in order, with their ids"
    );
    let more = tokio::time::timeout(std::time::Duration::from_millis(300), consumer.next()).await;
    assert!(more.is_err(), "no other order's events");

    let progress: Value = app
        .get(
            &admin(),
            &format!(
                "/api/v1/admin/events/replay/{}",
                replay["id"].as_str().expect("id")
            ),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(progress["status"], "DONE");
    assert_eq!(progress["replayed"], expected.len());
}

#[tokio::test]
async fn a_range_replay_to_webhooks_queues_each_event_once_per_subscription_and_walks_its_range() {
    let app = spawn_app().await;
    let subscription: Value = app
        .post(
            &admin(),
            "/api/v1/admin/webhooks",
            &json!({ "url": "http://127.0.0.1:9/hooks", "eventTypes": ["order.confirmed"] }),
        )
        .await
        .json()
        .await
        .expect("json");
    let subscription = subscription["webhook"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let first = app.confirmed_order(1, 1).await;
    let second = app.confirmed_order(2, 1).await;
    // Another shop's confirmation in the same range, copied under tenant B: never replayed here.
    sqlx::query(
        "INSERT INTO outbox (id, tenant_id, order_id, event_type, payload, occurred_at)
         SELECT gen_random_uuid(), $2, order_id, event_type, payload, occurred_at
         FROM outbox WHERE order_id = $1::uuid AND event_type = 'order.confirmed'",
    )
    .bind(first["id"].as_str().expect("id"))
    .bind(tenant_b().as_uuid())
    .execute(&app.owner)
    .await
    .expect("another tenant's event");
    let now = time::OffsetDateTime::now_utc();
    let from = (now - Duration::days(30))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("time");
    let to = (now + Duration::hours(1))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("time");
    start(
        &app,
        &json!({ "from": from, "to": to, "types": ["order.confirmed"], "target": "webhooks" }),
    )
    .await;
    let done = work_one(&app).await;
    assert_eq!(
        done.replayed, 2,
        "one order.confirmed per order of this shop"
    );
    assert_eq!(done.status, order_domain::replay::ReplayStatus::Done);

    let deliveries: Value = app
        .get(
            &admin(),
            &format!("/api/v1/admin/webhooks/{subscription}/deliveries"),
        )
        .await
        .json()
        .await
        .expect("json");
    let mut orders: Vec<String> = deliveries["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .map(|d| d["orderId"].as_str().expect("order").to_owned())
        .collect();
    orders.sort();
    let mut expected = vec![
        first["id"].as_str().expect("id").to_owned(),
        second["id"].as_str().expect("id").to_owned(),
    ];
    expected.sort();
    assert_eq!(orders, expected, "{deliveries}");

    // Again: the same deliveries are due again, none added.
    start(
        &app,
        &json!({ "from": from, "to": to, "types": ["order.confirmed"], "target": "webhooks" }),
    )
    .await;
    work_one(&app).await;
    let again: Value = app
        .get(
            &admin(),
            &format!("/api/v1/admin/webhooks/{subscription}/deliveries"),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(again["deliveries"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn replays_refuse_what_they_cannot_do_and_run_one_at_a_time_per_tenant() {
    let app = spawn_app().await;
    let order = app.new_order(1, 1).await;
    let path = "/api/v1/admin/events/replay";
    let id = order["id"].as_str().expect("id");
    assert_problem(
        app.post(
            &customer(1),
            path,
            &json!({ "orderId": id, "target": "broker" }),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.post(
            &admin(),
            path,
            &json!({ "orderId": Uuid::now_v7(), "target": "broker" }),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    for body in [
        json!({ "target": "broker" }),
        json!({ "orderId": id, "from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "target": "broker" }),
        json!({ "from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z", "target": "broker" }),
        json!({ "from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z", "target": "broker" }),
        json!({ "orderId": id, "types": ["order.teleported"], "target": "broker" }),
        json!({ "orderId": id, "target": "carrier-pigeon" }),
    ] {
        let refused = app.post(&admin(), path, &body).await;
        assert_eq!(refused.status(), 422, "{body}");
    }
    // Ten million events asked at once are one bounded job like any other; a second waits.
    let big = start(
        &app,
        &json!({ "from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z", "target": "broker" }),
    )
    .await;
    assert_problem(
        app.post(
            &admin(),
            path,
            &json!({ "orderId": id, "target": "broker" }),
        )
        .await,
        409,
        "replay_running",
    )
    .await;
    let elsewhere = other_shop_admin();
    assert_problem(
        app.get(
            &elsewhere,
            &format!("{path}/{}", big["id"].as_str().expect("id")),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get(&admin(), &format!("{path}/{}", Uuid::now_v7()))
            .await,
        404,
        "not_found",
    )
    .await;
}

/// `order-api events rebuild` with the app's database.
fn rebuild(app: &TestApp, args: &[&str]) -> std::process::Output {
    crate::cli::order_api()
        .env("DATABASE_URL", &app.database_url)
        .env(
            "REDIS_URL",
            std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:56379".into()),
        )
        .args(["events", "rebuild"])
        .args(args)
        .output()
        .expect("runs")
}

#[tokio::test]
async fn every_order_rebuilt_from_its_events_agrees_with_the_store_until_someone_changes_it() {
    let app = spawn_app().await;
    // A spread of lives: unpaid, paid and cancelled with its refund paid, edited, shipped and
    // delivered goods.
    app.new_order(1, 1).await;
    let cancelled = app.confirmed_order(2, 2).await;
    let cancelled_id = cancelled["id"].as_str().expect("id").to_owned();
    let answer = app
        .post(
            &customer(2),
            &format!("/api/v1/orders/{cancelled_id}/cancel"),
            &json!({ "reason": "no" }),
        )
        .await;
    assert_eq!(answer.status(), 200);
    let edited = app.new_order(3, 1).await;
    let edit = app
        .post(
            &customer(3),
            &format!("/api/v1/orders/{}/edits", edited["id"].as_str().expect("id")),
            &json!({ "changes": [{ "type": "CHANGE_QUANTITY", "itemId": edited["items"][0]["id"], "quantity": 2 }] }),
        )
        .await;
    assert_eq!(edit.status(), 200, "{:?}", edit.text().await);
    let goods = app.paid_goods_order(&customer(4), 1).await;
    app.deliver(&goods).await;

    let all = rebuild(&app, &["--all"]);
    let printed = String::from_utf8_lossy(&all.stdout).to_string();
    assert!(
        all.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&all.stderr)
    );
    assert!(
        printed.contains("4 orders rebuilt from their events, 0 differ"),
        "{printed}"
    );

    // The owner rewrites a status behind the events' back: the rebuild names it.
    sqlx::query(
        "UPDATE orders SET status = 'EXPIRED', expired_at = updated_at WHERE id = $1::uuid",
    )
    .bind(&cancelled_id)
    .execute(&app.owner)
    .await
    .expect("tamper");
    let one = rebuild(&app, &["--order", &cancelled_id]);
    let printed = String::from_utf8_lossy(&one.stdout).to_string();
    assert_eq!(
        one.status.code(),
        Some(1),
        "{printed}{}",
        String::from_utf8_lossy(&one.stderr)
    );
    assert!(
        printed.contains("status: the events say CANCELLED, the order has EXPIRED"),
        "{printed}"
    );
    let unknown = rebuild(&app, &["--order", &Uuid::now_v7().to_string()]);
    assert_eq!(unknown.status.code(), Some(2));
}
