//! Helpers shared by the relay tests.

#![allow(dead_code)] // each test binary uses its own subset

use std::time::Duration as StdDuration;

use futures_util::StreamExt;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};
use order_amqp::{EXCHANGE, EventPublisher};
use order_domain::events::{EventEnvelope, OrderEvent, StatusChanged, TicketsAllocated};
use order_domain::ids::{DomainEventId, OrderId, TenantId, TicketId};
use order_domain::order::OrderStatus;
use time::OffsetDateTime;
use uuid::Uuid;

pub(crate) fn amqp_url() -> String {
    std::env::var("TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:56720/%2f".into())
}

/// `count` fresh order ids: tests running at once never share an order.
pub(crate) fn new_orders(count: usize) -> Vec<OrderId> {
    (0..count)
        .map(|_| OrderId::from_uuid(Uuid::new_v4()))
        .collect()
}

/// Writes `per_order` events for each of `orders` new orders, interleaved, straight into the
/// outbox.
pub(crate) async fn seed_outbox(
    owner: &sqlx::PgPool,
    orders: usize,
    per_order: u128,
) -> Vec<EventEnvelope> {
    seed_outbox_steps(owner, &new_orders(orders), 0..per_order).await
}

/// Like [`seed_outbox`] for the given orders and the steps in `steps` (to add later events of
/// the same orders).
pub(crate) async fn seed_outbox_steps(
    owner: &sqlx::PgPool,
    orders: &[OrderId],
    steps: std::ops::Range<u128>,
) -> Vec<EventEnvelope> {
    let mut all = Vec::new();
    for step in steps {
        for (n, order) in orders.iter().enumerate() {
            let envelope = EventEnvelope::new(
                DomainEventId::from_uuid(Uuid::now_v7()),
                TenantId::from_uuid(Uuid::from_u128(n as u128 % 2 + 1)),
                *order,
                OffsetDateTime::now_utc(),
                if step == 0 {
                    OrderEvent::FulfillmentStarted(StatusChanged {
                        from: OrderStatus::Confirmed,
                        to: OrderStatus::Processing,
                    })
                } else {
                    OrderEvent::TicketsAllocated(TicketsAllocated {
                        ticket_ids: vec![TicketId::new(format!("t-{step}"))],
                    })
                },
            );
            sqlx::query(
                "INSERT INTO outbox (id, tenant_id, order_id, event_type, payload, occurred_at)
                 VALUES ($1, $2, $3, $4, $5, now())",
            )
            .bind(envelope.id.as_uuid())
            .bind(envelope.tenant_id.as_uuid())
            .bind(envelope.order_id.as_uuid())
            .bind(envelope.event_type())
            .bind(serde_json::to_value(&envelope).expect("json"))
            .execute(owner)
            .await
            .expect("outbox row");
            all.push(envelope);
        }
    }
    all
}

/// An exclusive queue bound to every event; returns a consumer of it.
pub(crate) async fn listen() -> (Connection, lapin::Consumer) {
    listen_on("").await
}

/// A consumer of queue `name` bound to every event: durable when named (it outlives a broker
/// restart), exclusive and server-named when `name` is empty.
pub(crate) async fn listen_on(name: &str) -> (Connection, lapin::Consumer) {
    let connection = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .expect("RabbitMQ is not reachable: run `just services-up` first");
    let channel = connection.create_channel().await.expect("channel");
    // The publisher declares the exchange; make sure it exists before binding.
    EventPublisher::connect(&amqp_url())
        .await
        .expect("publisher");
    let options = if name.is_empty() {
        QueueDeclareOptions {
            exclusive: true,
            auto_delete: true,
            ..QueueDeclareOptions::default()
        }
    } else {
        QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        }
    };
    let queue = channel
        .queue_declare(name.into(), options, FieldTable::default())
        .await
        .expect("queue");
    channel
        .queue_bind(
            queue.name().clone(),
            EXCHANGE.into(),
            "#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("bind");
    let consumer = channel
        .basic_consume(
            queue.name().clone(),
            "test".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("consume");
    (connection, consumer)
}

/// Receives the messages of `expected`'s orders until there are as many as `expected` (10 s at
/// most per message); other tests' messages on the shared exchange are skipped.
pub(crate) async fn receive(
    consumer: &mut lapin::Consumer,
    expected: &[EventEnvelope],
) -> Vec<(String, OrderId, String)> {
    let mut received = Vec::new();
    while received.len() < expected.len() {
        let delivery = tokio::time::timeout(StdDuration::from_secs(10), consumer.next())
            .await
            .expect("a message within 10 s")
            .expect("stream open")
            .expect("delivery");
        delivery.ack(BasicAckOptions::default()).await.expect("ack");
        let envelope: EventEnvelope = serde_json::from_slice(&delivery.data).expect("envelope");
        if !expected.iter().any(|e| e.order_id == envelope.order_id) {
            continue;
        }
        received.push(arrival(&delivery, &envelope));
    }
    received
}

/// What the tests note of a delivery: its message id, its order and its routing key.
pub(crate) fn arrival(
    delivery: &lapin::message::Delivery,
    envelope: &EventEnvelope,
) -> (String, OrderId, String) {
    let message_id = delivery
        .properties
        .message_id()
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    (
        message_id,
        envelope.order_id,
        delivery.routing_key.to_string(),
    )
}

/// Asserts that no further message of `expected`'s orders arrives within half a second.
pub(crate) async fn assert_no_more(consumer: &mut lapin::Consumer, expected: &[EventEnvelope]) {
    let deadline = tokio::time::Instant::now() + StdDuration::from_millis(500);
    while let Ok(Some(Ok(delivery))) = tokio::time::timeout_at(deadline, consumer.next()).await {
        let envelope: EventEnvelope = serde_json::from_slice(&delivery.data).expect("envelope");
        assert!(
            !expected.iter().any(|e| e.order_id == envelope.order_id),
            "event {} arrived twice",
            envelope.id
        );
    }
}

pub(crate) async fn unpublished(owner: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        .fetch_one(owner)
        .await
        .expect("count")
}

/// Asserts that `received` holds each of `sent` exactly once, every order's events in the order
/// they were written.
pub(crate) fn assert_once_in_order_per_order(
    sent: &[EventEnvelope],
    received: &[(String, OrderId, String)],
) {
    let mut ids: Vec<&String> = received.iter().map(|(id, _, _)| id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), received.len(), "no event twice");
    assert_eq!(ids.len(), sent.len(), "each event exactly once");
    for order in sent.iter().map(|e| e.order_id) {
        let in_order: Vec<String> = sent
            .iter()
            .filter(|e| e.order_id == order)
            .map(|e| e.id.to_string())
            .collect();
        let got: Vec<String> = received
            .iter()
            .filter(|(_, o, _)| *o == order)
            .map(|(id, _, _)| id.clone())
            .collect();
        assert_eq!(got, in_order, "events of one order arrive in order");
    }
}

/// A loopback TCP proxy in front of RabbitMQ whose broker-to-client direction can be frozen: the
/// broker then looks alive (every frame we send is taken) but never answers, as over a link that
/// dropped one way.
pub(crate) struct FreezingProxy {
    /// `amqp_url()` through the proxy.
    pub(crate) url: String,
    frozen: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl FreezingProxy {
    pub(crate) async fn start() -> Self {
        use std::sync::atomic::{AtomicBool, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // amqp://user:password@host:port/vhost
        let upstream = amqp_url();
        let (credentials, rest) = upstream.split_once('@').expect("user@host");
        let (broker, vhost) = rest.split_once('/').expect("host/vhost");
        let broker = broker.to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let frozen = std::sync::Arc::new(AtomicBool::new(false));
        let flag = frozen.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = tokio::net::TcpStream::connect(&broker)
                    .await
                    .expect("broker");
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                tokio::spawn(
                    async move { tokio::io::copy(&mut client_read, &mut server_write).await },
                );
                let flag = flag.clone();
                tokio::spawn(async move {
                    let mut buffer = vec![0u8; 64 * 1024];
                    while let Ok(n) = server_read.read(&mut buffer).await {
                        if n == 0 {
                            break;
                        }
                        // Frozen: what the broker says is dropped on the floor.
                        if !flag.load(Ordering::SeqCst)
                            && client_write.write_all(&buffer[..n]).await.is_err()
                        {
                            break;
                        }
                    }
                });
            }
        });
        Self {
            url: format!("{credentials}@127.0.0.1:{port}/{vhost}"),
            frozen,
        }
    }

    pub(crate) fn freeze(&self) {
        self.frozen.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}
