//! Traces end to end, in a test binary of its own because it installs the process-wide
//! subscriber: the SDK's in-memory exporter stands in for the collector, and the W3C propagator
//! is installed as `OTEL_EXPORTER_OTLP_ENDPOINT` would install it. One trace id follows an
//! order from the incoming request through its use case, its database transaction and its
//! upstream calls (whose `traceparent` the simulator saw) to the message the relay published; a
//! consumed message continues the trace its sender gave it, and a webhook delivery sent later
//! continues the trace its event was handled in.

#[path = "api/helpers.rs"]
#[allow(dead_code, unused_imports)]
mod helpers;
#[path = "api/messaging.rs"]
#[allow(dead_code)]
mod messaging;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration as StdDuration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use futures_util::StreamExt;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Connection, ConnectionProperties};
use opentelemetry::trace::SpanKind;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use order_amqp::{EXCHANGE, EventPublisher, OutboxRelay};
use order_domain::actor::{Actor, RequestContext, Role};
use order_domain::events::{EventEnvelope, OrderEvent, StatusChanged};
use order_domain::ids::{DomainEventId, OrderId, UserId};
use order_domain::order::OrderStatus;
use order_domain::use_cases::{WebhookPorts, WebhookService};
use order_domain::webhooks::NewSubscription;
use order_http_clients::{HttpWebhookTransport, WebhookTransportConfig};
use serde_json::Value;
use tracing::Instrument;
use uuid::Uuid;

use helpers::*;
use messaging::{messaging, publish_payment_succeeded};

/// The exporter every test of this binary reads (the subscriber is global, installed once).
fn exporter() -> &'static InMemorySpanExporter {
    static EXPORTER: OnceLock<InMemorySpanExporter> = OnceLock::new();
    EXPORTER.get_or_init(|| {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        // Log lines off (TEST_LOG turns them on); spans are exported at INFO regardless.
        let level = if std::env::var("TEST_LOG").is_ok() {
            "info"
        } else {
            "off"
        };
        order_api::telemetry::init_with_provider(level, false, Some(provider));
        exporter
    })
}

/// A fresh trace id and the `traceparent` of a remote caller's span in it.
fn remote_caller() -> (String, String) {
    let trace_id = Uuid::new_v4().simple().to_string();
    let parent = &Uuid::new_v4().simple().to_string()[..16];
    (trace_id.clone(), format!("00-{trace_id}-{parent}-01"))
}

/// The spans of `trace_id` finished so far.
fn spans_of(trace_id: &str) -> Vec<SpanData> {
    exporter()
        .get_finished_spans()
        .expect("spans")
        .into_iter()
        .filter(|span| format!("{:032x}", span.span_context.trace_id()) == trace_id)
        .collect()
}

/// The spans of `trace_id` once `done` holds for them (a span is exported when it ends, which for
/// a request's span can be just after its answer arrived); 10 s at most.
async fn spans_once(trace_id: &str, done: impl Fn(&[SpanData]) -> bool) -> Vec<SpanData> {
    let done = &done;
    eventually(
        "the awaited spans are exported",
        StdDuration::from_secs(10),
        || async move {
            let spans = spans_of(trace_id);
            done(&spans).then_some(spans)
        },
    )
    .await
}

fn has_span(spans: &[SpanData], name: &str, kind: SpanKind) -> bool {
    spans.iter().any(|s| s.name == name && s.span_kind == kind)
}

/// A queue of our own on the events exchange, to read what the relay publishes.
async fn listen_to_order_events() -> (Connection, lapin::Consumer) {
    let connection = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .expect("RabbitMQ is not reachable: run `just services-up` first");
    let channel = connection.create_channel().await.expect("channel");
    EventPublisher::connect(&amqp_url())
        .await
        .expect("the exchange is declared");
    let queue = format!("test-traces-{}", Uuid::new_v4().simple());
    channel
        .queue_declare(
            queue.as_str().into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("queue");
    channel
        .queue_bind(
            queue.as_str().into(),
            EXCHANGE.into(),
            "order.created".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("bound");
    let consumer = channel
        .basic_consume(
            queue.as_str().into(),
            "traces-test".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("consumer");
    (connection, consumer)
}

fn header(delivery: &lapin::message::Delivery, name: &str) -> Option<String> {
    match delivery.properties.headers().as_ref()?.inner().get(name)? {
        AMQPValue::LongString(text) => String::from_utf8(text.as_bytes().to_vec()).ok(),
        _ => None,
    }
}

#[tokio::test]
async fn one_trace_follows_an_order_from_the_request_to_its_upstream_calls_and_its_published_event()
{
    exporter();
    let app = spawn_with(Setup::default()).await;
    let (_connection, mut published) = listen_to_order_events().await;
    let (trace_id, traceparent) = remote_caller();

    let response = app
        .client
        .post(app.url("/api/v1/orders"))
        .bearer_auth(customer(1))
        .header("traceparent", &traceparent)
        .json(&order_body(2))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 201);
    let order: Value = response.json().await.expect("json");

    let spans = spans_once(&trace_id, |spans| {
        spans.iter().any(|s| s.span_kind == SpanKind::Server)
    })
    .await;
    let names: Vec<_> = spans
        .iter()
        .map(|s| (s.name.clone(), s.span_kind.clone()))
        .collect();
    for (name, kind) in [
        ("POST /api/v1/orders", SpanKind::Server),
        ("create_order", SpanKind::Internal),
        ("db.transaction", SpanKind::Client),
        ("tickets call", SpanKind::Client),
        ("payments call", SpanKind::Client),
    ] {
        assert!(has_span(&spans, name, kind), "{name}: {names:?}");
    }
    // The request's server span is a child of the caller's span.
    let parent = &traceparent[36..52];
    assert!(
        spans
            .iter()
            .any(|s| s.span_kind == SpanKind::Server
                && format!("{:016x}", s.parent_span_id) == parent),
        "{names:?}"
    );

    // The upstreams received our trace in their `traceparent`.
    let seen = app.simulator_read("traceparents").await;
    let seen = seen.as_array().expect("a list of requests");
    for service in ["tickets", "payments"] {
        assert!(
            seen.iter().any(|r| r["service"] == service
                && r["traceparent"]
                    .as_str()
                    .is_some_and(|t| t.contains(&trace_id))),
            "{service}: {seen:?}"
        );
    }

    // The relay publishes after the commit, in a task of its own: the event still carries the
    // request's trace.
    let relay = OutboxRelay::new(
        Arc::new(app.store.clone()),
        100,
        time::Duration::seconds(30),
    );
    let publisher = EventPublisher::connect(&amqp_url()).await.expect("broker");
    while relay.relay_once(&publisher).await.expect("relayed") > 0 {}
    let message = tokio::time::timeout(StdDuration::from_secs(10), async {
        loop {
            let delivery = published
                .next()
                .await
                .expect("a message")
                .expect("delivered");
            delivery.ack(BasicAckOptions::default()).await.expect("ack");
            let body: Value = serde_json::from_slice(&delivery.data).expect("json");
            if body["orderId"] == order["id"] {
                return delivery;
            }
        }
    })
    .await
    .expect("order.created was published");
    let carried = header(&message, "traceparent").expect("a traceparent header");
    assert!(carried.contains(&trace_id), "{carried}");
    let spans = spans_once(&trace_id, |spans| {
        has_span(spans, "order.created publish", SpanKind::Producer)
    })
    .await;
    assert!(
        has_span(&spans, "order.created publish", SpanKind::Producer),
        "the publish is a span of the same trace"
    );
}

#[tokio::test]
async fn a_consumed_message_continues_the_trace_its_sender_gave_it() {
    exporter();
    let app = spawn_with(messaging()).await;
    let order = app.new_order(1, 1).await;
    let (trace_id, traceparent) = remote_caller();

    let id = format!("traced-{}", Uuid::new_v4());
    publish_payment_succeeded(&order, &id, Some(&traceparent)).await;

    // The consumer's span and the transaction that confirmed the order are in the sender's trace.
    let spans = spans_once(&trace_id, |spans| {
        has_span(spans, "db.transaction", SpanKind::Client)
            && spans.iter().any(|s| s.span_kind == SpanKind::Consumer)
    })
    .await;
    let names: Vec<_> = spans
        .iter()
        .map(|s| (s.name.clone(), s.span_kind.clone()))
        .collect();
    assert!(
        spans
            .iter()
            .any(|s| s.span_kind == SpanKind::Consumer && s.name.ends_with(" process")),
        "{names:?}"
    );
    assert!(
        has_span(&spans, "db.transaction", SpanKind::Client),
        "{names:?}"
    );
    let confirmed: Value = app
        .get(
            &customer(1),
            &format!("/api/v1/orders/{}", order["id"].as_str().expect("id")),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(confirmed["status"], "CONFIRMED");
}

/// A webhook receiver on loopback that keeps the `traceparent` of every request.
fn traceparent_receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&seen);
    let server = HttpServer::new(move || {
        let kept = Arc::clone(&kept);
        App::new().default_service(web::to(move |request: HttpRequest| {
            let kept = Arc::clone(&kept);
            async move {
                if let Some(value) = request.headers().get("traceparent") {
                    kept.lock()
                        .expect("lock")
                        .push(value.to_str().unwrap_or_default().to_owned());
                }
                HttpResponse::NoContent().finish()
            }
        }))
    })
    .workers(1)
    .disable_signals()
    .bind("127.0.0.1:0")
    .expect("bind");
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    (format!("http://127.0.0.1:{port}/hooks"), seen)
}

#[tokio::test]
async fn a_webhook_delivery_sent_later_continues_the_trace_its_event_was_handled_in() {
    exporter();
    let app = spawn_with(Setup::default()).await;
    let (url, seen) = traceparent_receiver();
    let webhooks = WebhookService::new(WebhookPorts {
        repository: Arc::new(app.store.clone()),
        transport: Arc::new(
            HttpWebhookTransport::new(WebhookTransportConfig {
                timeout: StdDuration::from_secs(5),
                allow_private: true,
            })
            .expect("client"),
        ),
        clock: Arc::new(order_domain::adapters::SystemClock),
        ids: Arc::new(order_domain::adapters::UuidV7Ids),
    });
    let admin = RequestContext {
        tenant_id: tenant_a(),
        actor: Actor::User {
            id: UserId::from_uuid(Uuid::from_u128(50)),
            roles: vec![Role::Admin],
            vip: false,
        },
        ip: None,
    };
    webhooks
        .subscribe(
            &admin,
            NewSubscription {
                url,
                event_types: vec![],
                enabled: true,
                description: None,
            },
        )
        .await
        .expect("subscribed");

    // The event is handled in the trace its message came with (the consumer's span)…
    let (trace_id, traceparent) = remote_caller();
    let order = OrderId::from_uuid(Uuid::now_v7());
    let envelope = EventEnvelope::new(
        DomainEventId::from_uuid(Uuid::now_v7()),
        tenant_a(),
        order,
        time::OffsetDateTime::now_utc(),
        OrderEvent::Delivered(StatusChanged {
            from: OrderStatus::Shipped,
            to: OrderStatus::Delivered,
        }),
    );
    let consume = tracing::info_span!("consume");
    order_trace_context::adopt(&consume, Some(&traceparent));
    webhooks
        .enqueue(&envelope)
        .instrument(consume)
        .await
        .expect("enqueued");

    // …and a worker sends it later, outside that span: the attempt still carries the trace.
    for delivery in webhooks.claim_due(10).await.expect("claimed") {
        if delivery.delivery.order_id == order {
            webhooks.deliver(delivery).await.expect("recorded");
        }
    }
    let received = seen.lock().expect("lock").clone();
    assert_eq!(received.len(), 1, "{received:?}");
    assert!(received[0].contains(&trace_id), "{received:?}");
    let spans = spans_once(&trace_id, |spans| {
        has_span(spans, "webhook delivery", SpanKind::Client)
    })
    .await;
    assert!(has_span(&spans, "webhook delivery", SpanKind::Client));
}

#[tokio::test]
async fn a_use_case_span_names_the_tenant_the_caller_and_the_order() {
    exporter();
    let app = spawn_with(Setup::default()).await;
    let order = app.new_order(7, 1).await;
    let id = order["id"].as_str().expect("id");
    let (trace_id, traceparent) = remote_caller();
    let response = app
        .client
        .post(app.url(&format!("/api/v1/orders/{id}/cancel")))
        .bearer_auth(customer(7))
        .header("traceparent", &traceparent)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);

    let spans = spans_once(&trace_id, |spans| spans.iter().any(|s| s.name == "cancel")).await;
    let span = spans
        .iter()
        .find(|s| s.name == "cancel")
        .expect("the use case's span");
    let field = |name: &str| {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == name)
            .map(|kv| kv.value.to_string())
    };
    assert_eq!(field("tenant_id"), Some(tenant_a().to_string()));
    assert_eq!(field("user_id"), Some(user(7).to_string()));
    assert_eq!(field("caller"), Some(format!("user:{}", user(7))));
    assert_eq!(field("order_id").as_deref(), Some(id));
}
