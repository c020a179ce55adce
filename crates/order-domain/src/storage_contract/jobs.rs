//! Contracts of what the background jobs rely on: batches of status changes, the scans for
//! due orders, an event's active orders and due refunds, and the refund queue.

use time::Duration;

use super::Storage;
use super::fixtures::*;
use crate::ids::{OrderId, RefundId};
use crate::money::Currency;
use crate::order::{Order, OrderStatus, RefundStatus, RetrySchedule};
use crate::ports::{InboxMessage, PageRequest, QuotaClaim, RepositoryError};

/// A batch stores each change whose version is current and reports the others as not stored;
/// an order it expires gives its place in the event quota back.
pub async fn a_batch_stores_each_change_under_its_own_version(store: &impl Storage) {
    let only_one_for_event_9 = |n: u128, seed: u128| {
        let (order, mut change) = reserved(OrderFixture::new(n).build(), seed);
        change.quota = Some(QuotaClaim {
            day: NOW.date(),
            max_orders_per_day: 20,
            active_for_event: Some((event(9), 1)),
        });
        (order, change)
    };
    let (mut kept, first) = only_one_for_event_9(70, 70_000);
    store.commit(&first).await.expect("stored");
    kept.mark_committed();
    let raced = store_reserved(store, OrderFixture::new(71).buyer(8).build(), 71_000).await;
    // Someone confirms order 71 first.
    store_confirmed(store, raced.clone(), 71_500).await;
    let expired = |order: &Order, seed: u128| {
        let mut order = order.clone();
        let events = order.expire(NOW + Duration::hours(1)).expect("expire");
        change(&order, events, seed)
    };
    let stored = store
        .commit_batch(&[expired(&kept, 72_000), expired(&raced, 73_000)])
        .await
        .expect("batch");
    assert_eq!(stored, [true, false]);
    let statuses = store
        .find_many(tenant_a(), &[kept.id(), raced.id()])
        .await
        .expect("find_many");
    let status_of = |id| {
        statuses
            .iter()
            .find(|o| o.id() == id)
            .map(|o| (o.status(), o.version()))
    };
    assert_eq!(status_of(kept.id()), Some((OrderStatus::Expired, 2)));
    assert_eq!(status_of(raced.id()), Some((OrderStatus::Confirmed, 2)));
    let trail = store
        .audit_trail(tenant_a(), raced.id())
        .await
        .expect("trail");
    assert_eq!(trail.len(), 2, "the refused change left no audit entry");
    let (_, next) = only_one_for_event_9(74, 74_000);
    store
        .commit(&next)
        .await
        .expect("the expired order's place in the event quota is free again");
}

/// A batch carrying anything but status changes of stored orders of one tenant is refused
/// whole.
pub async fn a_batch_refuses_changes_it_cannot_store_in_full(store: &impl Storage) {
    let a = store_reserved(store, OrderFixture::new(80).build(), 80_000).await;
    let b = store_reserved(
        store,
        OrderFixture::new(81).tenant(tenant_b()).build(),
        81_000,
    )
    .await;
    let expire = |order: &Order, seed: u128| {
        let mut order = order.clone();
        let events = order.expire(NOW + Duration::hours(1)).expect("expire");
        change(&order, events, seed)
    };
    let mixed = store
        .commit_batch(&[expire(&a, 82_000), expire(&b, 83_000)])
        .await;
    assert!(
        matches!(mixed, Err(RepositoryError::Corrupt(_))),
        "{mixed:?}"
    );
    let mut with_message = expire(&a, 84_000);
    with_message.inbox = Some(InboxMessage {
        consumer: "c".into(),
        message_id: "m".into(),
    });
    let extras = store.commit_batch(&[with_message]).await;
    assert!(
        matches!(extras, Err(RepositoryError::Corrupt(_))),
        "{extras:?}"
    );
    let stored = store
        .find(tenant_a(), a.id())
        .await
        .expect("find")
        .expect("present");
    assert_eq!(stored.status(), OrderStatus::Reserved, "nothing was stored");
    assert_eq!(store.commit_batch(&[]).await, Ok(Vec::new()));
}

/// The expiry scan spans tenants and finds only orders past their window, oldest first; an
/// event's active orders are its unfinished ones; due refunds are FAILED ones past `retry_at` and
/// APPROVED ones decided before the lease's start.
pub async fn scans_find_due_orders_an_events_active_orders_and_due_refunds(store: &impl Storage) {
    let early = store_reserved(store, OrderFixture::new(90).build(), 90_000).await;
    let late = store_reserved(
        store,
        OrderFixture::new(91)
            .tenant(tenant_b())
            .minutes_later(5)
            .build(),
        91_000,
    )
    .await;
    let paid = store_reserved(
        store,
        OrderFixture::new(92).buyer(8).minutes_later(1).build(),
        92_000,
    )
    .await;
    let paid = store_confirmed(store, paid, 92_500).await;
    store_reserved(
        store,
        OrderFixture::new(93).event(10).minutes_later(2).build(),
        93_000,
    )
    .await;

    let due = store
        .expiring(NOW + Duration::minutes(19), 100)
        .await
        .expect("expiring");
    assert_eq!(
        due.iter().map(|d| d.order_id).collect::<Vec<_>>(),
        [early.id(), OrderId::from_uuid(id(93))],
        "orders whose 15 minutes ended before the instant, oldest first; never paid ones"
    );
    assert_eq!(due[0].tenant_id, tenant_a());
    assert_eq!(due[0].status, OrderStatus::Reserved);
    let later = store
        .expiring(NOW + Duration::hours(1), 100)
        .await
        .expect("expiring");
    assert_eq!(later.len(), 3);
    assert!(
        later
            .iter()
            .any(|d| d.order_id == late.id() && d.tenant_id == tenant_b())
    );
    assert_eq!(
        store
            .expiring(NOW + Duration::hours(1), 1)
            .await
            .expect("expiring")
            .len(),
        1
    );
    assert!(store.expiring(NOW, 100).await.expect("expiring").is_empty());

    let active = store
        .active_for_event(tenant_a(), event(9), None, 100)
        .await
        .expect("active");
    let mut by_id = vec![early.id(), paid.id()];
    by_id.sort();
    assert_eq!(
        active, by_id,
        "PENDING, RESERVED and CONFIRMED, in id order"
    );
    // A keyset: after the first, the second; after the last, nothing.
    assert_eq!(
        store
            .active_for_event(tenant_a(), event(9), Some(by_id[0]), 100)
            .await
            .expect("active"),
        [by_id[1]]
    );
    assert!(
        store
            .active_for_event(tenant_a(), event(9), Some(by_id[1]), 100)
            .await
            .expect("active")
            .is_empty()
    );

    let failed = failed_refund(store, paid, 94_000).await;
    let due = store
        .due_for_retry(NOW + Duration::minutes(2), NOW, 10)
        .await
        .expect("due");
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].tenant_id, due[0].refund_id), (tenant_a(), failed));
    assert!(
        store
            .due_for_retry(NOW, NOW, 10)
            .await
            .expect("due")
            .is_empty()
    );

    // An APPROVED refund (decided at NOW) whose payout never recorded a result is due once its
    // lease has run out, before any FAILED one.
    let other = store_reserved(
        store,
        OrderFixture::new(193).tenant(tenant_b()).build(),
        193_000,
    )
    .await;
    let mut other = store_confirmed(store, other, 193_500).await;
    let stalled = RefundId::from_uuid(id(193_700));
    let events = request_refund_of_1_000(&mut other, stalled, Approval::Automatic);
    store
        .commit(&change(&other, events, 193_800))
        .await
        .expect("approved");
    let within_lease = store
        .due_for_retry(NOW + Duration::minutes(2), NOW, 10)
        .await
        .expect("due");
    assert_eq!(within_lease.len(), 1, "the lease has not run out yet");
    let after_lease = store
        .due_for_retry(NOW + Duration::minutes(2), NOW + Duration::seconds(1), 10)
        .await
        .expect("due");
    let ids: Vec<_> = after_lease
        .iter()
        .map(|d| (d.tenant_id, d.refund_id))
        .collect();
    assert_eq!(ids, [(tenant_b(), stalled), (tenant_a(), failed)]);
}

/// Requests a 1 000 refund of `order` (confirmed) and fails its payout, to be retried a
/// minute later; returns its id.
async fn failed_refund(store: &impl Storage, mut order: Order, seed: u128) -> RefundId {
    let refund = RefundId::from_uuid(id(seed));
    let mut events = request_refund_of_1_000(&mut order, refund, Approval::Automatic);
    events.extend(
        order
            .fail_refund(refund, "declined", &RetrySchedule::default(), NOW)
            .expect("fail"),
    );
    store
        .commit(&change(&order, events, seed))
        .await
        .expect("commit");
    refund
}

/// Refunds are listed per status, oldest first, with their order and buyer; a refund leads to
/// its order in its own tenant only.
pub async fn refunds_are_listed_by_status_and_lead_to_their_order(store: &impl Storage) {
    let order = store_reserved(store, OrderFixture::new(95).build(), 95_000).await;
    let mut order = store_confirmed(store, order, 95_500).await;
    let refund = RefundId::from_uuid(id(96));
    let events = request_refund_of_1_000(&mut order, refund, Approval::Review);
    store
        .commit(&change(&order, events, 96_000))
        .await
        .expect("commit");
    let page = PageRequest {
        limit: 10,
        offset: 0,
    };
    let pending = store
        .list_by_status(tenant_a(), RefundStatus::Pending, page)
        .await
        .expect("queue");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].order_id, order.id());
    assert_eq!(pending[0].user_id, user(7));
    assert_eq!(pending[0].currency, Currency::Usd);
    assert_eq!(
        (pending[0].refund.id, pending[0].refund.amount),
        (refund, 1_000)
    );
    assert!(
        store
            .list_by_status(tenant_a(), RefundStatus::Completed, page)
            .await
            .expect("queue")
            .is_empty()
    );
    assert!(
        store
            .list_by_status(tenant_b(), RefundStatus::Pending, page)
            .await
            .expect("queue")
            .is_empty()
    );
    assert_eq!(
        store.order_of(tenant_a(), refund).await.expect("order_of"),
        Some(order.id())
    );
    assert_eq!(
        store.order_of(tenant_b(), refund).await.expect("order_of"),
        None
    );
}
