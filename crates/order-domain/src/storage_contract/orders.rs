//! Contracts of the order reads, the unit of work's version check, tenant scoping, the inbox
//! and lists.

use time::Duration;

use super::Storage;
use super::fixtures::*;
use crate::ids::{OrderId, PaymentIntentId, TicketId};
use crate::money::{Currency, Money};
use crate::order::{ContactEmail, Order, OrderStatus};
use crate::ports::{
    IdempotencyRecord, InboxMessage, OrderFilter, OrderPageRequest, RepositoryError,
};

const FIRST_PAGE: OrderPageRequest = OrderPageRequest {
    limit: 2,
    offset: 0,
    after: None,
};

/// A stored order reads back equal at version 1, with its audit entry and its outbox event.
pub async fn an_order_round_trips_with_its_audit_trail_and_outbox_event(store: &impl Storage) {
    let order = store_reserved(store, OrderFixture::new(1).build(), 10_000).await;
    let loaded = store
        .find(tenant_a(), order.id())
        .await
        .expect("find")
        .expect("the stored order is found");
    assert_eq!(loaded, order);
    assert_eq!(loaded.version(), 1);
    let missing = OrderId::from_uuid(id(999));
    assert_eq!(
        store
            .find_many(tenant_a(), &[order.id(), missing])
            .await
            .expect("find_many"),
        vec![order.clone()],
        "find_many leaves missing orders out"
    );
    let trail = store
        .audit_trail(tenant_a(), order.id())
        .await
        .expect("trail");
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].event_type, "order.reserved");
    assert_eq!(trail[0].actor, actor());
    assert_eq!(
        trail[0].ip,
        Some("198.51.100.4".parse().expect("an address"))
    );
    let outbox = store
        .claim_unpublished(10, Duration::seconds(30))
        .await
        .expect("claim");
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].envelope.order_id, order.id());
    assert_eq!(outbox[0].envelope.event_type(), "order.reserved");
}

/// The second writer of one version gets `Conflict` and leaves no audit or outbox behind; a
/// new order stored twice is a conflict at version 0.
pub async fn a_stale_version_is_a_conflict_and_writes_nothing(store: &impl Storage) {
    let order = store_reserved(store, OrderFixture::new(2).build(), 20_000).await;
    store_confirmed(store, order.clone(), 20_500).await;
    let mut second = order.clone();
    let events = second.expire(NOW + Duration::hours(1)).expect("expire");
    let result = store.commit(&change(&second, events, 20_600)).await;
    assert_eq!(result, Err(RepositoryError::Conflict { expected: 1 }));
    let stored = store
        .find(tenant_a(), order.id())
        .await
        .expect("find")
        .expect("present");
    assert_eq!(stored.status(), OrderStatus::Confirmed);
    assert_eq!(stored.version(), 2);
    let trail = store
        .audit_trail(tenant_a(), order.id())
        .await
        .expect("trail");
    assert_eq!(
        trail
            .iter()
            .map(|e| e.event_type.as_str())
            .collect::<Vec<_>>(),
        ["order.reserved", "order.confirmed"],
        "the losing change left no audit entry"
    );
    let outbox = store
        .claim_unpublished(10, Duration::seconds(30))
        .await
        .expect("claim");
    assert_eq!(outbox.len(), 2, "the losing change left no outbox event");
    let again = OrderFixture::new(2).build();
    let result = store.commit(&change(&again, Vec::new(), 20_700)).await;
    assert_eq!(result, Err(RepositoryError::Conflict { expected: 0 }));
}

/// Reads with another tenant find nothing of tenant A's, and a change of A's order under B's
/// name stores nothing.
pub async fn another_tenant_sees_none_of_the_orders_or_keys_and_changes_none(store: &impl Storage) {
    let (order, mut keyed) = reserved(OrderFixture::new(3).build(), 30_000);
    keyed.idempotency = Some(IdempotencyRecord {
        key: "key-3".into(),
        fingerprint: "f".into(),
        reusable_before: NOW - Duration::hours(24),
    });
    store.commit(&keyed).await.expect("commit");
    let b = tenant_b();
    assert_eq!(store.find(b, order.id()).await.expect("find"), None);
    assert!(
        store
            .find_many(b, &[order.id()])
            .await
            .expect("find_many")
            .is_empty()
    );
    let listed = store
        .list(b, &OrderFilter::default(), FIRST_PAGE)
        .await
        .expect("list");
    assert_eq!((listed.orders.len(), listed.total), (0, 0));
    assert!(
        store
            .audit_trail(b, order.id())
            .await
            .expect("trail")
            .is_empty()
    );
    assert_eq!(
        store
            .find_by_idempotency_key(b, user(7), "key-3", NOW - Duration::hours(1))
            .await
            .expect("key"),
        None
    );
    assert!(
        store
            .active_for_event(b, event(9), None, 10)
            .await
            .expect("active")
            .is_empty()
    );
    // A's order, changed as if it were B's, is not B's to change.
    let mut record = order.clone().into_record();
    record.tenant_id = b;
    record.version = 1;
    let mut foreign = Order::restore(record).expect("a valid record");
    let events = foreign.expire(NOW + Duration::hours(1)).expect("expire");
    assert_eq!(
        store.commit(&change(&foreign, events, 30_500)).await,
        Err(RepositoryError::Conflict { expected: 1 })
    );
    let stored = store
        .find(tenant_a(), order.id())
        .await
        .expect("find")
        .expect("present");
    assert_eq!(
        stored.status(),
        OrderStatus::Reserved,
        "A's order is unchanged"
    );
}

/// An effect recorded with its message is applied once: the same message again is a
/// `Duplicate` and changes nothing.
pub async fn a_message_is_recorded_once_with_its_effect(store: &impl Storage) {
    let order = store_reserved(store, OrderFixture::new(6).build(), 60_000).await;
    let message = InboxMessage {
        consumer: "payment.succeeded".into(),
        message_id: "msg-1".into(),
    };
    let mut confirmed = order.clone();
    confirmed
        .attach_payment_intent(PaymentIntentId::new("pi"))
        .expect("intent");
    let events = confirmed
        .confirm(&PaymentIntentId::new("pi"), NOW)
        .expect("confirm");
    let mut first = change(&confirmed, events, 60_500);
    first.inbox = Some(message.clone());
    store.commit(&first).await.expect("first delivery");
    assert!(
        store
            .contains(tenant_a(), "payment.succeeded", "msg-1")
            .await
            .expect("inbox")
    );
    confirmed.mark_committed();
    let mut attached = confirmed.clone();
    let events = attached
        .attach_tickets(vec![TicketId::new("t")], NOW)
        .expect("attach");
    let mut duplicate = change(&attached, events, 61_000);
    duplicate.inbox = Some(message);
    let result = store.commit(&duplicate).await;
    assert!(
        matches!(result, Err(RepositoryError::Duplicate { .. })),
        "{result:?}"
    );
    let stored = store
        .find(tenant_a(), order.id())
        .await
        .expect("find")
        .expect("present");
    assert_eq!(stored.version(), 2, "the duplicate changed nothing");
    // A message whose effect is not a change is recorded alone; recording it again is a no-op.
    for _ in 0..2 {
        store
            .record(tenant_a(), "notifications", "msg-2")
            .await
            .expect("record");
    }
    assert!(
        store
            .contains(tenant_a(), "notifications", "msg-2")
            .await
            .expect("inbox")
    );
    assert!(
        !store
            .contains(tenant_a(), "notifications", "msg-3")
            .await
            .expect("inbox")
    );
}

/// A message id is a tenant's: the same id in another tenant is another message, applied with
/// its own effect, and each tenant's inbox answers for itself.
pub async fn a_message_id_belongs_to_its_tenant(store: &impl Storage) {
    let message = InboxMessage {
        consumer: "payment.succeeded".into(),
        message_id: "msg-shared".into(),
    };
    for (tenant, n, seed) in [(tenant_a(), 6, 60_000), (tenant_b(), 8, 70_000)] {
        assert!(
            !store
                .contains(tenant, "payment.succeeded", "msg-shared")
                .await
                .expect("inbox"),
            "not seen yet in {tenant}"
        );
        let order = store_reserved(store, OrderFixture::new(n).tenant(tenant).build(), seed).await;
        let mut confirmed = order.clone();
        confirmed
            .attach_payment_intent(PaymentIntentId::new("pi"))
            .expect("intent");
        let events = confirmed
            .confirm(&PaymentIntentId::new("pi"), NOW)
            .expect("confirm");
        let mut applied = change(&confirmed, events, seed + 500);
        applied.inbox = Some(message.clone());
        store
            .commit(&applied)
            .await
            .expect("each tenant applies its own message");
        assert!(
            store
                .contains(tenant, "payment.succeeded", "msg-shared")
                .await
                .expect("inbox")
        );
    }
    store
        .record(tenant_b(), "notifications", "msg-alone")
        .await
        .expect("record");
    assert!(
        !store
            .contains(tenant_a(), "notifications", "msg-alone")
            .await
            .expect("inbox"),
        "B's message is not A's"
    );
}

/// Lists filter by user, status, event, number and creation time, page newest first by offset
/// and by cursor, count only matching orders and sum the paid ones.
pub async fn lists_filter_page_count_and_sum_only_matching_orders(store: &impl Storage) {
    let mut mine = Vec::new();
    for n in 10..15 {
        let minutes = i64::try_from(n).expect("small");
        mine.push(
            store_reserved(
                store,
                OrderFixture::new(n).minutes_later(minutes).build(),
                n * 1_000,
            )
            .await,
        );
    }
    store_reserved(
        store,
        OrderFixture::new(15).buyer(8).minutes_later(15).build(),
        15_000,
    )
    .await;
    let other_event = store_reserved(
        store,
        OrderFixture::new(16).event(10).minutes_later(16).build(),
        16_000,
    )
    .await;
    store_reserved(
        store,
        OrderFixture::new(17)
            .tenant(tenant_b())
            .minutes_later(17)
            .build(),
        17_000,
    )
    .await;
    let paid = store_confirmed(store, mine[0].clone(), 10_500).await;

    let by_buyer = OrderFilter {
        user_id: Some(user(7)),
        ..OrderFilter::default()
    };
    let first = store
        .list(tenant_a(), &by_buyer, FIRST_PAGE)
        .await
        .expect("list");
    assert_eq!(
        first.orders.iter().map(|o| o.id()).collect::<Vec<_>>(),
        [other_event.id(), mine[4].id()],
        "newest first"
    );
    assert_eq!(first.total, 6);
    assert!(first.has_more && !first.total_is_estimate);
    assert_eq!(first.summary.orders, 6);
    assert_eq!(
        first.summary.spent,
        Some(Money::new(paid.total().minor(), Currency::Usd))
    );

    let after = crate::ports::OrderCursor::after(&first.orders[1]);
    let second = store
        .list(
            tenant_a(),
            &by_buyer,
            OrderPageRequest {
                after: Some(after),
                ..FIRST_PAGE
            },
        )
        .await
        .expect("list");
    assert_eq!(
        second.orders.iter().map(|o| o.id()).collect::<Vec<_>>(),
        [mine[3].id(), mine[2].id()],
        "the cursor continues without a gap or a repeat"
    );
    let past_end = store
        .list(
            tenant_a(),
            &by_buyer,
            OrderPageRequest {
                offset: 50,
                ..FIRST_PAGE
            },
        )
        .await
        .expect("list");
    assert_eq!((past_end.orders.len(), past_end.total), (0, 6));
    assert!(!past_end.has_more);

    let reserved_for_10 = OrderFilter {
        event_id: Some(event(10)),
        status: Some(OrderStatus::Reserved),
        ..OrderFilter::default()
    };
    let one = store
        .list(tenant_a(), &reserved_for_10, FIRST_PAGE)
        .await
        .expect("list");
    assert_eq!((one.total, one.has_more), (1, false));
    let confirmed = OrderFilter {
        status: Some(OrderStatus::Confirmed),
        ..OrderFilter::default()
    };
    let paid_only = store
        .list(tenant_a(), &confirmed, FIRST_PAGE)
        .await
        .expect("list");
    assert_eq!(paid_only.orders, vec![paid.clone()]);
    let by_number = OrderFilter {
        order_number: Some(mine[2].number().to_string()),
        ..OrderFilter::default()
    };
    let found = store
        .list(tenant_a(), &by_number, FIRST_PAGE)
        .await
        .expect("list");
    assert_eq!(found.orders, vec![mine[2].clone()]);
    let window = OrderFilter {
        created_from: Some(NOW + Duration::minutes(11)),
        created_to: Some(NOW + Duration::minutes(13)),
        ..OrderFilter::default()
    };
    let in_window = store
        .list(
            tenant_a(),
            &window,
            OrderPageRequest {
                limit: 10,
                ..FIRST_PAGE
            },
        )
        .await
        .expect("list");
    assert_eq!(
        in_window.orders.iter().map(|o| o.id()).collect::<Vec<_>>(),
        [mine[2].id(), mine[1].id()],
        "from is inclusive, to exclusive"
    );
    let nothing = store
        .list(
            tenant_a(),
            &OrderFilter {
                user_id: Some(user(99)),
                ..OrderFilter::default()
            },
            FIRST_PAGE,
        )
        .await
        .expect("list");
    assert_eq!((nothing.total, nothing.summary.spent), (0, None));
}

/// Contact e-mails are found in any letter case, only in the caller's tenant, and only exactly.
pub async fn orders_are_found_by_contact_email_in_any_case(store: &impl Storage) {
    let ada = store_reserved(
        store,
        OrderFixture::new(20)
            .email("Ada.Lovelace@Example.org")
            .build(),
        20_000,
    )
    .await;
    let ada_again = store_reserved(
        store,
        OrderFixture::new(21)
            .buyer(8)
            .minutes_later(1)
            .email("ada.lovelace@example.org")
            .build(),
        21_000,
    )
    .await;
    store_reserved(store, OrderFixture::new(22).build(), 22_000).await;
    store_reserved(
        store,
        OrderFixture::new(23)
            .tenant(tenant_b())
            .email("ada.lovelace@example.org")
            .build(),
        23_000,
    )
    .await;
    let by_email = |address: &str| OrderFilter {
        contact_email: Some(ContactEmail::parse(address).expect("an e-mail")),
        ..OrderFilter::default()
    };
    let found = store
        .list(
            tenant_a(),
            &by_email("ADA.lovelace@EXAMPLE.org"),
            OrderPageRequest {
                limit: 10,
                ..FIRST_PAGE
            },
        )
        .await
        .expect("list");
    assert_eq!(found.orders, vec![ada_again.clone(), ada.clone()]);
    assert_eq!(found.total, 2);
    let of_one_buyer = OrderFilter {
        user_id: Some(user(8)),
        ..by_email("ada.lovelace@example.org")
    };
    let narrowed = store
        .list(tenant_a(), &of_one_buyer, FIRST_PAGE)
        .await
        .expect("list");
    assert_eq!(narrowed.orders, vec![ada_again]);
    let nobody = store
        .list(tenant_a(), &by_email("ada@example.org"), FIRST_PAGE)
        .await
        .expect("list");
    assert_eq!(
        (nobody.orders.len(), nobody.total),
        (0, 0),
        "no prefix match"
    );
}
