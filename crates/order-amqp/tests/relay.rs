//! The outbox relay against the real PostgreSQL and RabbitMQ servers `just services-up` starts.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use futures_util::StreamExt;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};
use order_amqp::{EXCHANGE, EventPublisher, OutboxRelay};
use order_domain::events::{EventEnvelope, OrderEvent, StatusChanged, TicketsAllocated};
use order_domain::ids::{DomainEventId, OrderId, TenantId, TicketId};
use order_domain::order::OrderStatus;
use order_postgres::PgStore;
use time::OffsetDateTime;
use uuid::Uuid;

fn amqp_url() -> String {
    std::env::var("TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:56720/%2f".into())
}

/// Writes `per_order` events for each of `orders` orders, interleaved, straight into the outbox.
async fn seed_outbox(owner: &sqlx::PgPool, orders: u128, per_order: u128) -> Vec<EventEnvelope> {
    let mut all = Vec::new();
    for step in 0..per_order {
        for n in 0..orders {
            let envelope = EventEnvelope::new(
                DomainEventId::from_uuid(Uuid::now_v7()),
                TenantId::from_uuid(Uuid::from_u128(n % 2 + 1)),
                OrderId::from_uuid(Uuid::from_u128(1_000 + n)),
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
async fn listen() -> (Connection, lapin::Consumer) {
    let connection = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .expect("RabbitMQ is not reachable: run `just services-up` first");
    let channel = connection.create_channel().await.expect("channel");
    // The publisher declares the exchange; make sure it exists before binding.
    EventPublisher::connect(&amqp_url())
        .await
        .expect("publisher");
    let queue = channel
        .queue_declare(
            "".into(),
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

/// Receives `count` messages (message id, order id) or fails after a timeout.
async fn receive(consumer: &mut lapin::Consumer, count: usize) -> Vec<(String, OrderId, String)> {
    let mut received = Vec::new();
    while received.len() < count {
        let delivery = tokio::time::timeout(StdDuration::from_secs(10), consumer.next())
            .await
            .expect("a message within 10 s")
            .expect("stream open")
            .expect("delivery");
        let envelope: EventEnvelope = serde_json::from_slice(&delivery.data).expect("envelope");
        let message_id = delivery
            .properties
            .message_id()
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        received.push((
            message_id,
            envelope.order_id,
            delivery.routing_key.to_string(),
        ));
        delivery.ack(BasicAckOptions::default()).await.expect("ack");
    }
    received
}

async fn unpublished(owner: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        .fetch_one(owner)
        .await
        .expect("count")
}

#[tokio::test]
async fn each_event_is_published_once_in_order_per_order_with_its_id_as_message_id() {
    let db = order_postgres::setup::testing::fresh_database().await;
    let store = Arc::new(PgStore::from_pool(db.app_pool(4).await));
    let (_connection, mut consumer) = listen().await;
    let events = seed_outbox(&db.owner, 4, 3).await;

    // Two relays at once, small batches: the leases keep them apart.
    let relay = OutboxRelay::new(store.clone(), 3, time::Duration::seconds(30));
    let publisher_a = EventPublisher::connect(&amqp_url())
        .await
        .expect("publisher");
    let publisher_b = EventPublisher::connect(&amqp_url())
        .await
        .expect("publisher");
    let mut published = 0;
    while unpublished(&db.owner).await > 0 {
        let (a, b) = tokio::join!(
            relay.relay_once(&publisher_a),
            relay.relay_once(&publisher_b)
        );
        published += a.expect("relay a") + b.expect("relay b");
    }
    assert_eq!(published, events.len());

    let received = receive(&mut consumer, events.len()).await;
    let mut ids: Vec<&String> = received.iter().map(|(id, _, _)| id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), events.len(), "each event exactly once");
    for order in events.iter().map(|e| e.order_id) {
        let sent: Vec<String> = events
            .iter()
            .filter(|e| e.order_id == order)
            .map(|e| e.id.to_string())
            .collect();
        let got: Vec<String> = received
            .iter()
            .filter(|(_, o, _)| *o == order)
            .map(|(id, _, _)| id.clone())
            .collect();
        assert_eq!(got, sent, "events of one order arrive in order");
    }
    assert!(received.iter().any(|(_, _, key)| key == "order.processing"));
    let extra = tokio::time::timeout(StdDuration::from_millis(500), consumer.next()).await;
    assert!(extra.is_err(), "no duplicates in the normal case");
}

#[tokio::test]
async fn rows_wait_while_the_broker_is_unreachable_and_go_out_when_it_returns() {
    let db = order_postgres::setup::testing::fresh_database().await;
    let store = Arc::new(PgStore::from_pool(db.app_pool(2).await));
    let (_connection, mut consumer) = listen().await;
    let events = seed_outbox(&db.owner, 2, 1).await;
    assert!(
        EventPublisher::connect("amqp://guest:guest@127.0.0.1:9/%2f")
            .await
            .is_err()
    );
    assert_eq!(
        unpublished(&db.owner).await,
        2,
        "nothing is lost while the broker is away"
    );

    // The running relay keeps retrying and publishes once the broker answers.
    let relay = OutboxRelay::new(store, 10, time::Duration::milliseconds(200));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(relay.run(amqp_url(), StdDuration::from_millis(100), stopped));
    let received = receive(&mut consumer, events.len()).await;
    assert_eq!(received.len(), 2);
    let _ = stop.send(true);
    task.await.expect("relay stops");
    assert_eq!(unpublished(&db.owner).await, 0);
}
