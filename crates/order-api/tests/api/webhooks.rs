//! Webhooks end to end against the real servers and local receivers started here: an order's
//! lifecycle reaches a subscriber signed and in order (checked with the reference Standard
//! Webhooks library), and — with a clock the test moves — retries, 410, a hanging receiver,
//! secret rotation, replay and a worker that dies between claiming and sending.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use order_domain::actor::{Actor, RequestContext, Role};
use order_domain::events::{EventEnvelope, OrderEvent, StatusChanged};
use order_domain::ids::{DomainEventId, OrderId, UserId, WebhookId};
use order_domain::order::OrderStatus;
use order_domain::ports::Clock;
use order_domain::use_cases::{WebhookPorts, WebhookService};
use order_domain::webhooks::{DeliveryStatus, NewSubscription, WebhookSecret};
use order_http_clients::{HttpWebhookTransport, WebhookTransportConfig};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::helpers::*;

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

impl Received {
    fn headers(&self) -> Value {
        json!({
            "webhook-id": self.id,
            "webhook-timestamp": self.timestamp,
            "webhook-signature": self.signature,
        })
    }
}

/// A receiver on loopback answering with `script` (then 204), or hanging for `hang`.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

#[derive(Clone)]
struct ReceiverState {
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
    hang: Option<StdDuration>,
}

async fn receive(
    state: web::Data<ReceiverState>,
    request: HttpRequest,
    body: String,
) -> HttpResponse {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    state.received.lock().expect("lock").push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
    });
    if let Some(hang) = state.hang {
        tokio::time::sleep(hang).await;
    }
    let status = state
        .script
        .lock()
        .expect("lock")
        .pop_front()
        .unwrap_or(204);
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("status"))
        .body("received")
}

impl Receiver {
    fn start(script: &[u16], hang: Option<StdDuration>) -> Self {
        let state = ReceiverState {
            received: Arc::new(Mutex::new(Vec::new())),
            script: Arc::new(Mutex::new(script.iter().copied().collect())),
            hang,
        };
        let received = Arc::clone(&state.received);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(state.clone()))
                .default_service(web::to(receive))
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .expect("bind");
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        Self {
            url: format!("http://127.0.0.1:{port}/hooks"),
            received,
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    /// What arrived once `count` requests did (10 s at most).
    async fn wait_for(&self, count: usize) -> Vec<Received> {
        self.wait_for_order(None, count).await
    }

    /// What arrived about `order` (every order when `None`) once `count` such requests did
    /// (10 s at most). Tests share one broker, so a subscriber of a test app may also hear of
    /// other apps' orders of the same tenant id.
    async fn wait_for_order(&self, order: Option<&str>, count: usize) -> Vec<Received> {
        let about = |r: &Received| {
            order.is_none_or(|id| {
                serde_json::from_str::<Value>(&r.body).is_ok_and(|b| b["orderId"] == id)
            })
        };
        let what = format!("{count} deliveries");
        let about = &about;
        crate::helpers::eventually(&what, StdDuration::from_secs(10), move || async move {
            let seen: Vec<Received> = self.received().into_iter().filter(|r| about(r)).collect();
            (seen.len() >= count).then_some(seen)
        })
        .await
    }
}

/// Runs the reference library over `checks`; panics unless each came out as `valid` says.
fn reference_verifies(checks: Vec<Value>) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let python = format!("{root}/.state/webhooks-venv/bin/python");
    let mut child = std::process::Command::new(&python)
        .arg(format!("{root}/deploy/webhooks/verify.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{python}: {e}; run `just webhooks-venv` first"));
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(json!({ "checks": checks }).to_string().as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("verify.py");
    assert!(
        out.status.success(),
        "reference verification: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn check(secret: &str, received: &Received, now: Option<i64>, valid: bool) -> Value {
    json!({
        "secret": secret,
        "headers": received.headers(),
        "body": received.body,
        "now": now,
        "valid": valid,
    })
}

#[tokio::test]
async fn an_orders_lifecycle_reaches_the_subscriber_signed_once_per_event_and_in_order() {
    let app = spawn_with(Setup {
        messaging: true,
        ..Setup::default()
    })
    .await;
    let receiver = Receiver::start(&[], None);
    let wanted = [
        "order.confirmed",
        "order.processing",
        "order.shipped",
        "order.delivered",
    ];
    let buyer = customer(71);
    let forbidden = app
        .post(
            &buyer,
            "/api/v1/admin/webhooks",
            &json!({ "url": receiver.url }),
        )
        .await;
    assert_problem(forbidden, 403, "forbidden").await;
    let refused = app
        .post(
            &admin(),
            "/api/v1/admin/webhooks",
            &json!({ "url": "http://example.com/hooks" }),
        )
        .await;
    let problem = assert_problem(refused, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["path"], "url", "{problem}");
    let created: Value = app
        .post(
            &admin(),
            "/api/v1/admin/webhooks",
            &json!({ "url": receiver.url, "eventTypes": wanted, "description": "erp" }),
        )
        .await
        .json()
        .await
        .expect("json");
    let secret = created["secret"]
        .as_str()
        .expect("secret shown once")
        .to_owned();
    assert!(secret.starts_with("whsec_"));
    let hook = created["webhook"]["id"].as_str().expect("id").to_owned();
    let shown: Value = app
        .get(&admin(), &format!("/api/v1/admin/webhooks/{hook}"))
        .await
        .json()
        .await
        .expect("json");
    assert!(
        shown.get("secret").is_none(),
        "the secret is not shown again"
    );

    let id = app.paid_goods_order(&buyer, 4).await;
    app.deliver(&id).await;
    app.relay_outbox().await;
    let received = receiver.wait_for_order(Some(&id), wanted.len()).await;
    let types: Vec<String> = received
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_str(&r.body).expect("json body");
            assert_eq!(body["orderId"], id.as_str());
            body["type"].as_str().expect("type").to_owned()
        })
        .collect();
    assert_eq!(types, wanted, "one delivery per subscribed event, in order");
    let mut ids: Vec<&str> = received.iter().map(|r| r.id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), wanted.len());
    let mut checks: Vec<Value> = received
        .iter()
        .map(|r| check(&secret, r, None, true))
        .collect();
    checks.push(check(
        "whsec_d3Jvbmcgc2VjcmV0IG9mIGFub3RoZXIgcmVjZWl2ZXI=",
        &received[0],
        None,
        false,
    ));
    reference_verifies(checks);

    // The log: every delivery DELIVERED with its one attempt.
    let log: Value = eventually(
        "every delivery is logged DELIVERED",
        StdDuration::from_secs(5),
        || async {
            let log: Value = app
                .get(
                    &admin(),
                    &format!("/api/v1/admin/webhooks/{hook}/deliveries?status=DELIVERED"),
                )
                .await
                .json()
                .await
                .expect("json");
            (log["deliveries"].as_array().map_or(0, Vec::len) == wanted.len()).then_some(log)
        },
    )
    .await;
    let deliveries = log["deliveries"].as_array().expect("deliveries");
    assert_eq!(deliveries.len(), wanted.len(), "{log}");
    assert!(
        deliveries
            .iter()
            .all(|d| d["attemptLog"][0]["statusCode"] == 204)
    );
    let other_tenant = token_with(
        tenant_b(),
        user(90),
        &[Role::Admin],
        OffsetDateTime::now_utc() + Duration::hours(1),
    );
    let hidden = app
        .get(&other_tenant, &format!("/api/v1/admin/webhooks/{hook}"))
        .await;
    assert_problem(hidden, 404, "not_found").await;

    // The consumers count what they took: every event of the order reached the webhooks queue.
    let text = app.metrics_text().await;
    let acked = text
        .lines()
        .find(|l| {
            l.starts_with("order_service_messages_consumed_total")
                && l.contains(".webhooks\"")
                && l.contains("disposition=\"ack\"")
        })
        .and_then(|l| l.rsplit_once(' '))
        .and_then(|(_, v)| v.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no webhooks consumer count in\n{text}"));
    assert!(acked >= 4.0, "{acked}");
}

/// A clock the test moves.
struct TestClock(Mutex<OffsetDateTime>);

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().expect("lock")
    }
}

impl TestClock {
    fn set(&self, at: OffsetDateTime) {
        *self.0.lock().expect("lock") = at;
    }
}

/// The webhook use cases over this app's database, a real transport and a clock the test moves.
fn manual_webhooks(app: &TestApp, timeout: StdDuration) -> (WebhookService, Arc<TestClock>) {
    let clock = Arc::new(TestClock(Mutex::new(OffsetDateTime::now_utc())));
    let transport = HttpWebhookTransport::new(WebhookTransportConfig {
        timeout,
        allow_private: true,
    })
    .expect("client");
    let service = WebhookService::new(WebhookPorts {
        repository: Arc::new(app.store.clone()),
        transport: Arc::new(transport),
        clock: clock.clone(),
        ids: Arc::new(order_domain::adapters::UuidV7Ids),
    });
    (service, clock)
}

fn tenant_admin() -> RequestContext {
    RequestContext {
        tenant_id: tenant_a(),
        actor: Actor::User {
            id: UserId::from_uuid(Uuid::from_u128(50)),
            roles: vec![Role::Admin],
            vip: false,
        },
        ip: None,
    }
}

async fn subscribe(webhooks: &WebhookService, url: &str) -> (WebhookId, WebhookSecret) {
    let (subscription, secret) = webhooks
        .subscribe(
            &tenant_admin(),
            NewSubscription {
                url: url.to_owned(),
                event_types: vec![],
                enabled: true,
                description: None,
            },
        )
        .await
        .expect("subscribed");
    (subscription.id, secret)
}

async fn event(webhooks: &WebhookService, order: u128, at: OffsetDateTime) {
    let envelope = EventEnvelope::new(
        DomainEventId::from_uuid(Uuid::now_v7()),
        tenant_a(),
        OrderId::from_uuid(Uuid::from_u128(order)),
        at,
        OrderEvent::Delivered(StatusChanged {
            from: OrderStatus::Shipped,
            to: OrderStatus::Delivered,
        }),
    );
    webhooks.enqueue(&envelope).await.expect("enqueued");
}

/// Claims what is due and sends it, like one worker pass; returns how many attempts were made.
async fn pass(webhooks: &WebhookService) -> usize {
    let claimed = webhooks.claim_due(10).await.expect("claimed");
    let count = claimed.len();
    for delivery in claimed {
        webhooks.deliver(delivery).await.expect("recorded");
    }
    count
}

#[tokio::test]
async fn a_receiver_that_fails_three_times_gets_the_delivery_on_the_fourth_attempt() {
    let app = spawn_app().await;
    let receiver = Receiver::start(&[500, 503, 502], None);
    let (webhooks, clock) = manual_webhooks(&app, StdDuration::from_secs(2));
    let (hook, secret) = subscribe(&webhooks, &receiver.url).await;
    let start = clock.now();
    event(&webhooks, 1, start).await;
    for attempt in 1..=4 {
        assert_eq!(pass(&webhooks).await, 1, "attempt {attempt} is due");
        assert_eq!(
            pass(&webhooks).await,
            0,
            "nothing more is due before the pause ends"
        );
        let log = webhooks
            .deliveries(&tenant_admin(), hook, None, 10)
            .await
            .expect("log");
        let delivery = &log[0].delivery;
        if attempt < 4 {
            assert_eq!(delivery.status, DeliveryStatus::Pending);
            clock.set(delivery.next_attempt_at.expect("retried"));
        } else {
            assert_eq!(delivery.status, DeliveryStatus::Delivered);
            assert_eq!(log[0].attempts.len(), 4);
        }
    }
    let pauses = clock.now() - start;
    assert!(
        pauses > Duration::minutes(30) && pauses < Duration::minutes(45),
        "5 s + 5 min + 30 min, with jitter: {pauses}"
    );
    let received = receiver.received();
    assert_eq!(received.len(), 4);
    assert!(
        received.iter().all(|r| r.id == received[0].id),
        "one webhook-id"
    );
    let checks = received
        .iter()
        .map(|r| check(secret.expose(), r, r.timestamp.parse().ok(), true))
        .collect();
    reference_verifies(checks);
}

#[tokio::test]
async fn a_410_disables_the_subscription_and_its_deliveries_stop() {
    let app = spawn_app().await;
    let receiver = Receiver::start(&[410], None);
    let (webhooks, clock) = manual_webhooks(&app, StdDuration::from_secs(2));
    let (hook, _) = subscribe(&webhooks, &receiver.url).await;
    event(&webhooks, 1, clock.now()).await;
    assert_eq!(pass(&webhooks).await, 1);
    let view = webhooks
        .subscription(&tenant_admin(), hook)
        .await
        .expect("view");
    assert!(!view.subscription.enabled);
    assert!(view.subscription.disabled_reason.is_some());
    event(&webhooks, 2, clock.now()).await;
    clock.set(clock.now() + Duration::days(2));
    assert_eq!(
        pass(&webhooks).await,
        0,
        "a disabled subscription gets nothing"
    );
    assert_eq!(view.stats.failed, 1);
}

#[tokio::test]
async fn a_hanging_receiver_does_not_delay_another_receivers_delivery() {
    let app = spawn_app().await;
    let hanging = Receiver::start(&[], Some(StdDuration::from_secs(3)));
    let healthy = Receiver::start(&[], None);
    let (webhooks, clock) = manual_webhooks(&app, StdDuration::from_secs(2));
    let (slow, _) = subscribe(&webhooks, &hanging.url).await;
    let (fast, _) = subscribe(&webhooks, &healthy.url).await;
    event(&webhooks, 1, clock.now()).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let settings = order_api::config::WebhookSettings {
        transport: WebhookTransportConfig {
            timeout: StdDuration::from_secs(2),
            allow_private: true,
        },
        concurrency: 4,
        poll_interval: StdDuration::from_millis(20),
    };
    let worker = tokio::spawn(order_api::webhook_worker::run_webhook_deliveries(
        webhooks.clone(),
        settings,
        stopped,
    ));
    healthy.wait_for(1).await;
    let status_of = |id| {
        let webhooks = webhooks.clone();
        async move {
            webhooks
                .deliveries(&tenant_admin(), id, None, 1)
                .await
                .expect("log")[0]
                .delivery
                .status
        }
    };
    eventually(
        "the healthy receiver's delivery is DELIVERED",
        StdDuration::from_secs(2),
        || async { (status_of(fast).await == DeliveryStatus::Delivered).then_some(()) },
    )
    .await;
    assert_eq!(
        hanging.received().len(),
        1,
        "the hanging receiver has its request, unanswered"
    );
    let slow_log = webhooks
        .deliveries(&tenant_admin(), slow, None, 1)
        .await
        .expect("log");
    assert_eq!(slow_log[0].delivery.attempts, 0, "still in flight");
    let _ = stop.send(true);
    worker.await.expect("worker stops");
    let slow_log = webhooks
        .deliveries(&tenant_admin(), slow, None, 1)
        .await
        .expect("log");
    let timed_out = &slow_log[0].attempts[0];
    assert!(
        timed_out
            .error
            .as_deref()
            .is_some_and(|e| e.contains("timed out")),
        "{timed_out:?}"
    );
}

#[tokio::test]
async fn during_a_rotation_both_secrets_sign_then_only_the_new_one() {
    let app = spawn_app().await;
    let receiver = Receiver::start(&[], None);
    let (webhooks, clock) = manual_webhooks(&app, StdDuration::from_secs(2));
    let (hook, old) = subscribe(&webhooks, &receiver.url).await;
    let (_, new) = webhooks
        .rotate_secret(&tenant_admin(), hook)
        .await
        .expect("rotated");
    let rotated_at = clock.now();
    clock.set(rotated_at + Duration::hours(1));
    event(&webhooks, 1, clock.now()).await;
    assert_eq!(pass(&webhooks).await, 1);
    clock.set(rotated_at + Duration::hours(25));
    event(&webhooks, 2, clock.now()).await;
    assert_eq!(pass(&webhooks).await, 1);
    let received = receiver.received();
    assert_eq!(received[0].signature.split(' ').count(), 2);
    assert_eq!(received[1].signature.split(' ').count(), 1);
    let at = |r: &Received| r.timestamp.parse::<i64>().ok();
    reference_verifies(vec![
        check(old.expose(), &received[0], at(&received[0]), true),
        check(new.expose(), &received[0], at(&received[0]), true),
        check(old.expose(), &received[1], at(&received[1]), false),
        check(new.expose(), &received[1], at(&received[1]), true),
    ]);
}

#[tokio::test]
async fn a_replay_sends_the_same_webhook_id_with_a_fresh_timestamp_and_a_crashed_claim_is_sent_later()
 {
    let app = spawn_app().await;
    let receiver = Receiver::start(&[], None);
    let (webhooks, clock) = manual_webhooks(&app, StdDuration::from_secs(2));
    let (hook, secret) = subscribe(&webhooks, &receiver.url).await;
    event(&webhooks, 1, clock.now()).await;

    // A worker claims and dies before sending: the lease runs out and another worker sends.
    let claimed = webhooks.claim_due(10).await.expect("claimed");
    assert_eq!(claimed.len(), 1);
    drop(claimed);
    clock.set(clock.now() + Duration::seconds(30));
    assert_eq!(pass(&webhooks).await, 0, "leased to the dead worker");
    clock.set(clock.now() + Duration::seconds(31));
    assert_eq!(pass(&webhooks).await, 1, "sent once the lease ran out");

    let delivery = webhooks
        .deliveries(&tenant_admin(), hook, None, 1)
        .await
        .expect("log")[0]
        .delivery
        .clone();
    clock.set(clock.now() + Duration::hours(2));
    let queued = webhooks
        .replay(&tenant_admin(), hook, delivery.id)
        .await
        .expect("replayed");
    assert_eq!(queued.status, DeliveryStatus::Pending);
    assert_eq!(pass(&webhooks).await, 1);
    let received = receiver.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].id, received[1].id, "the same webhook-id");
    assert_ne!(
        received[0].timestamp, received[1].timestamp,
        "a fresh timestamp"
    );
    let at = |r: &Received| r.timestamp.parse::<i64>().ok();
    reference_verifies(vec![
        check(secret.expose(), &received[0], at(&received[0]), true),
        check(secret.expose(), &received[1], at(&received[1]), true),
    ]);
}
