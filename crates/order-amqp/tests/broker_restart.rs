//! The outbox relay across a real restart of the RabbitMQ node (`deploy/local/services.sh
//! restart-rabbitmq`). This is the only test of its binary: `cargo test` runs test binaries one
//! after another, so no other test loses its broker meanwhile.
//!
//! Delivery is at least once: a broker that confirms slowly right after its restart makes the
//! relay give up on a batch's confirms and publish it again (consumers deduplicate by message
//! id). So the test asserts what the relay guarantees — every event arrives, the first arrival
//! of each order's events is in order, and what arrives again is the same message id — not that
//! nothing ever arrives twice.

mod common;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use common::*;
use lapin::options::QueueDeleteOptions;
use lapin::{Connection, ConnectionProperties};
use order_amqp::OutboxRelay;
use order_domain::events::EventEnvelope;
use order_domain::ids::OrderId;
use order_postgres::PgStore;
use uuid::Uuid;

async fn restart_rabbitmq() {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/local/services.sh"
    );
    let status = tokio::process::Command::new("bash")
        .arg(script)
        .arg("restart-rabbitmq")
        .status()
        .await
        .expect("run services.sh");
    assert!(status.success(), "services.sh restart-rabbitmq failed");
}

#[tokio::test]
async fn no_event_is_lost_and_each_orders_events_arrive_in_order_across_a_broker_restart() {
    let db = order_postgres::setup::testing::fresh_database().await;
    let store = Arc::new(PgStore::from_pool(
        db.app_pool(2).await,
        order_postgres::setup::testing::address_keys(),
    ));
    let queue = format!("test-restart-{}", Uuid::new_v4().simple());
    let (connection, mut consumer) = listen_on(&queue).await;

    let relay = OutboxRelay::new(store, 10, time::Duration::seconds(5));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(relay.run(amqp_url(), StdDuration::from_millis(100), stopped));

    let orders = new_orders(3);
    let before = seed_outbox_steps(&db.owner, &orders, 0..2).await;
    let mut received = receive(&mut consumer, &before).await;
    // The relay marks a batch after its last confirm, a moment after delivery.
    order_test_support::eventually(
        "the relay marks the batch published",
        StdDuration::from_secs(5),
        || async { (unpublished(&db.owner).await == 0).then_some(()) },
    )
    .await;
    drop(consumer);
    drop(connection);

    restart_rabbitmq().await;
    // Written while the relay was cut off: published once it has reconnected.
    let after = seed_outbox_steps(&db.owner, &orders, 2..4).await;
    let (_connection, mut consumer) = listen_on(&queue).await;
    let all: Vec<EventEnvelope> = before.iter().chain(&after).cloned().collect();
    received.extend(receive_each(&mut consumer, &after, &all).await);
    // A batch whose confirms timed out is marked once the relay has published it again, after
    // its lease (5 s here).
    order_test_support::eventually(
        "the relay marks every event published",
        StdDuration::from_secs(30),
        || async { (unpublished(&db.owner).await == 0).then_some(()) },
    )
    .await;
    let _ = stop.send(true);
    task.await.expect("relay stops");

    assert_each_in_order_per_order(&all, &received);

    let cleanup = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .expect("broker");
    let channel = cleanup.create_channel().await.expect("channel");
    let _ = channel
        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await;
}

/// Receives until each of `wanted` has arrived at least once (10 s at most per message), then
/// whatever else of `all`'s orders arrives within half a second: every arrival, again-deliveries
/// included. Other tests' messages on the shared exchange are skipped.
async fn receive_each(
    consumer: &mut lapin::Consumer,
    wanted: &[EventEnvelope],
    all: &[EventEnvelope],
) -> Vec<(String, OrderId, String)> {
    use futures_util::StreamExt;
    use lapin::options::BasicAckOptions;

    let mut received = Vec::new();
    let missing = |received: &[(String, OrderId, String)]| {
        wanted
            .iter()
            .any(|e| !received.iter().any(|(id, _, _)| *id == e.id.to_string()))
    };
    let mut settle = None;
    loop {
        let next = match settle {
            None => tokio::time::timeout(StdDuration::from_secs(10), consumer.next())
                .await
                .ok(),
            Some(until) => tokio::time::timeout_at(until, consumer.next()).await.ok(),
        };
        let Some(delivery) = next else {
            assert!(settle.is_some(), "a message within 10 s");
            return received;
        };
        let delivery = delivery.expect("stream open").expect("delivery");
        delivery.ack(BasicAckOptions::default()).await.expect("ack");
        let envelope: EventEnvelope = serde_json::from_slice(&delivery.data).expect("envelope");
        if all.iter().any(|e| e.order_id == envelope.order_id) {
            received.push(arrival(&delivery, &envelope));
        }
        if settle.is_none() && !missing(&received) {
            settle = Some(tokio::time::Instant::now() + StdDuration::from_millis(500));
        }
    }
}

/// Every sent event arrived; each order's events first arrived in the order they were written;
/// anything that arrived again is a sent event's own message id.
fn assert_each_in_order_per_order(sent: &[EventEnvelope], received: &[(String, OrderId, String)]) {
    let sent_ids: Vec<String> = sent.iter().map(|e| e.id.to_string()).collect();
    for (id, _, _) in received {
        assert!(sent_ids.contains(id), "{id} was never written");
    }
    for order in sent.iter().map(|e| e.order_id) {
        let in_order: Vec<String> = sent
            .iter()
            .filter(|e| e.order_id == order)
            .map(|e| e.id.to_string())
            .collect();
        let mut first_arrivals: Vec<String> = Vec::new();
        for (id, _, _) in received.iter().filter(|(_, o, _)| *o == order) {
            if !first_arrivals.contains(id) {
                first_arrivals.push(id.clone());
            }
        }
        assert_eq!(
            first_arrivals, in_order,
            "each order's events arrive, in order"
        );
    }
}
