//! The outbox relay across a real restart of the RabbitMQ node (`deploy/local/services.sh
//! restart-rabbitmq`). This is the only test of its binary: `cargo test` runs test binaries one
//! after another, so no other test loses its broker meanwhile.

mod common;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use common::*;
use lapin::options::QueueDeleteOptions;
use lapin::{Connection, ConnectionProperties};
use order_amqp::OutboxRelay;
use order_domain::events::EventEnvelope;
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
async fn events_arrive_once_in_order_per_order_across_a_broker_restart() {
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
    received.extend(receive(&mut consumer, &after).await);
    let all: Vec<EventEnvelope> = before.iter().chain(&after).cloned().collect();
    assert_no_more(&mut consumer, &all).await;
    let _ = stop.send(true);
    task.await.expect("relay stops");
    assert_eq!(unpublished(&db.owner).await, 0);

    assert_once_in_order_per_order(&all, &received);

    let cleanup = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .expect("broker");
    let channel = cleanup.create_channel().await.expect("channel");
    let _ = channel
        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await;
}
