//! Many orders stored in one transaction (the expiry job's batches), against the real server.

mod common;

use common::*;
use order_domain::ids::HoldId;
use order_domain::order::Order;
use order_domain::ports::*;
use time::Duration;

/// A stored RESERVED order `n` of buyer `user` for event 9, as the unit of work left it.
async fn stored(db: &TestDb, n: u128, user: u128) -> Order {
    let mut order = new_order(tenant_a(), n, user, 9);
    let events = order
        .reserve(
            HoldId::new(format!("hold-{n}")),
            NOW + Duration::minutes(15),
            NOW,
        )
        .expect("reserved");
    let mut first = change(&order, events, n * 10_000);
    first.quota = Some(QuotaClaim {
        day: NOW.date(),
        max_orders_per_day: 20,
        active_for_event: Some((order_domain::ids::EventId::from_uuid(id(9)), 5)),
    });
    db.store.commit(&first).await.expect("stored");
    order.mark_committed();
    order
}

fn expired(order: &Order, seed: u128) -> OrderChange {
    let mut order = order.clone();
    let events = order.expire(NOW + Duration::minutes(20)).expect("expired");
    change(&order, events, seed)
}

#[tokio::test]
async fn a_batch_stores_each_change_under_its_own_version_and_gives_quota_places_back() {
    let db = fresh_db().await;
    let a = stored(&db, 1, 7).await;
    let b = stored(&db, 2, 7).await;
    let c = stored(&db, 3, 8).await;
    // `b` changes meanwhile (someone cancels it): the batch's change of `b` is stale.
    let mut cancelled = b.clone();
    let events = cancelled
        .cancel("changed my mind", None, NOW)
        .expect("cancelled");
    db.store
        .commit(&change(&cancelled, events, 500_000))
        .await
        .expect("cancel stored");

    let stored = db
        .store
        .commit_batch(&[
            expired(&a, 600_000),
            expired(&b, 700_000),
            expired(&c, 800_000),
        ])
        .await
        .expect("batch");
    assert_eq!(stored, vec![true, false, true]);

    let statuses: Vec<(uuid::Uuid, String)> =
        sqlx::query_as("SELECT id, status FROM orders ORDER BY id")
            .fetch_all(&db.owner)
            .await
            .expect("statuses");
    let statuses: Vec<&str> = statuses.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(statuses, ["EXPIRED", "CANCELLED", "EXPIRED"]);
    // Audit and outbox rows only for what was stored: 3 + 1 before, 2 by the batch.
    let (audit, outbox): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM order_events WHERE event_type = 'order.expired'),
                (SELECT count(*) FROM outbox WHERE event_type = 'order.expired')",
    )
    .fetch_one(&db.owner)
    .await
    .expect("counts");
    assert_eq!((audit, outbox), (2, 2));
    // Buyer 7 had two active orders: one cancelled, one expired by the batch.
    let active: Vec<i32> = sqlx::query_scalar(
        "SELECT active FROM buyer_event_orders WHERE event_id = $1 ORDER BY user_id",
    )
    .bind(id(9))
    .fetch_all(&db.owner)
    .await
    .expect("places");
    assert_eq!(active, [0, 0]);
}

#[tokio::test]
async fn a_batch_refuses_changes_it_cannot_store_in_full() {
    let db = fresh_db().await;
    let a = stored(&db, 1, 7).await;
    let mut with_message = expired(&a, 600_000);
    with_message.inbox = Some(InboxMessage {
        consumer: "payments".into(),
        message_id: "m-1".into(),
    });
    assert!(matches!(
        db.store.commit_batch(&[with_message]).await,
        Err(RepositoryError::Corrupt(_))
    ));
    let found = db
        .store
        .find_many(
            tenant_a(),
            &[a.id(), order_domain::ids::OrderId::from_uuid(id(99))],
        )
        .await
        .expect("read");
    assert_eq!(found, vec![a], "nothing changed; unknown ids are left out");
}
