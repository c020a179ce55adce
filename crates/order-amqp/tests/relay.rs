//! The outbox relay against the real PostgreSQL and RabbitMQ servers `just services-up` starts.

mod common;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use common::*;
use order_amqp::{EventPublisher, OutboxRelay};
use order_postgres::PgStore;

#[tokio::test]
async fn each_event_is_published_once_in_order_per_order_with_its_id_as_message_id() {
    let db = order_postgres::setup::testing::fresh_database().await;
    let store = Arc::new(PgStore::from_pool(
        db.app_pool(4).await,
        order_postgres::setup::testing::address_keys(),
    ));
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

    let received = receive(&mut consumer, &events).await;
    assert_once_in_order_per_order(&events, &received);
    assert!(received.iter().any(|(_, _, key)| key == "order.processing"));
    assert_no_more(&mut consumer, &events).await;
}

#[tokio::test]
async fn rows_wait_while_the_broker_is_unreachable_and_go_out_when_it_returns() {
    let db = order_postgres::setup::testing::fresh_database().await;
    let store = Arc::new(PgStore::from_pool(
        db.app_pool(2).await,
        order_postgres::setup::testing::address_keys(),
    ));
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
    let received = receive(&mut consumer, &events).await;
    assert_eq!(received.len(), 2);
    // The mark follows the broker's confirm: a consumer can see a message before its row is
    // marked.
    order_test_support::eventually(
        "the rows marked published",
        StdDuration::from_secs(10),
        || async { (unpublished(&db.owner).await == 0).then_some(()) },
    )
    .await;
    let _ = stop.send(true);
    task.await.expect("relay stops");
}

#[tokio::test]
async fn a_broker_that_stops_confirming_ends_the_batch_in_time_and_nothing_is_marked() {
    let db = order_postgres::setup::testing::fresh_database().await;
    let store = Arc::new(PgStore::from_pool(
        db.app_pool(2).await,
        order_postgres::setup::testing::address_keys(),
    ));
    let events = seed_outbox(&db.owner, 2, 2).await;
    let proxy = FreezingProxy::start().await;
    let publisher = EventPublisher::connect(&proxy.url)
        .await
        .expect("publisher through the proxy");
    proxy.freeze();

    let relay = OutboxRelay::new(store, 10, time::Duration::seconds(30))
        .confirm_within(StdDuration::from_millis(300));
    let stuck = relay.relay_once(&publisher).await;
    assert!(
        matches!(stuck, Err(order_amqp::RelayError::ConfirmTimeout(_))),
        "{stuck:?}"
    );
    assert!(stuck.is_err_and(|e| e.is_broker()), "the relay reconnects");
    assert_eq!(
        unpublished(&db.owner).await,
        i64::try_from(events.len()).expect("count"),
        "unconfirmed rows stay unpublished for the next lease"
    );
}

#[tokio::test]
async fn the_readiness_probe_keeps_one_connection_and_reports_a_broker_that_left() {
    let probe = order_amqp::BrokerProbe::new(amqp_url());
    for _ in 0..20 {
        assert!(probe.reachable(StdDuration::from_secs(2)).await);
    }
    assert_eq!(
        probe.connections_opened(),
        1,
        "one connection for twenty checks"
    );

    let nowhere = order_amqp::BrokerProbe::new("amqp://guest:guest@127.0.0.1:9/%2f");
    assert!(!nowhere.reachable(StdDuration::from_secs(2)).await);
    assert_eq!(nowhere.connections_opened(), 0);
}
