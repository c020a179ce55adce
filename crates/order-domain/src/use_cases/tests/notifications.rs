//! Notifications: one per committed status change, sent before the inbox records it, with the
//! order's recipient; outages are retryable, repeats are not sent again.

use mockall::predicate::eq;

use super::*;
use crate::events::{EventEnvelope, OrderConfirmed, OrderEvent, OrderShipped, StatusChanged};
use crate::ids::DomainEventId;
use crate::messages::MessageOutcome;
use crate::order::ContactEmail;
use crate::use_cases::{Announcer, UseCaseError};

const CONSUMER: &str = "order-service.notifications";

fn envelope(event: OrderEvent) -> EventEnvelope {
    EventEnvelope::new(
        DomainEventId::from_uuid(uuid(77)),
        tenant(),
        order_id(),
        T0,
        event,
    )
}

fn confirmed() -> EventEnvelope {
    envelope(OrderEvent::Confirmed(OrderConfirmed {
        change: StatusChanged {
            from: OrderStatus::Reserved,
            to: OrderStatus::Confirmed,
        },
        payment_intent_id: PaymentIntentId::new("pi-1"),
        total: 100,
    }))
}

struct Rig {
    orders: MockOrderRepository,
    inbox: MockInbox,
    notifier: MockNotifier,
}

impl Rig {
    fn new() -> Self {
        Self {
            orders: MockOrderRepository::new(),
            inbox: MockInbox::new(),
            notifier: MockNotifier::new(),
        }
    }

    fn unseen(mut self) -> Self {
        self.inbox
            .expect_contains()
            .with(eq(tenant()), eq(CONSUMER), eq(uuid(77).to_string()))
            .returning(|_, _, _| Ok(false));
        self
    }

    /// `order`, with the invoice its confirmation issued.
    fn with_order(mut self, order: Order) -> Self {
        let invoice = crate::documents::documents_for(
            &order,
            &[confirmed().event],
            &crate::documents::Seller::default(),
            || crate::money::Rate::ZERO,
            T0,
        )
        .into_iter()
        .map(|content| crate::documents::Document {
            number: "INV-2026-000007".into(),
            corrects: None,
            content,
        })
        .collect::<Vec<_>>();
        self.orders
            .expect_find()
            .with(eq(tenant()), eq(order_id()))
            .returning(move |_, _| Ok(Some(order.clone())));
        self.orders
            .expect_documents()
            .returning(move |_, _| Ok(invoice.clone()));
        self
    }

    fn build(self) -> Announcer {
        Announcer::new(
            Arc::new(self.orders),
            Arc::new(self.inbox),
            Arc::new(self.notifier),
        )
    }
}

#[tokio::test]
async fn a_status_change_is_sent_to_the_buyer_under_the_event_id_and_then_recorded() {
    let mut rig = Rig::new()
        .unseen()
        .with_order(stored(OrderKind::Ticket, OrderStatus::Confirmed));
    let sent = Arc::new(Mutex::new(Vec::new()));
    let log = sent.clone();
    let mut sequence = mockall::Sequence::new();
    rig.notifier
        .expect_notify()
        .times(1)
        .in_sequence(&mut sequence)
        .returning(move |n| {
            log.lock().expect("lock").push(n.clone());
            Ok(())
        });
    rig.inbox
        .expect_record()
        .with(eq(tenant()), eq(CONSUMER), eq(uuid(77).to_string()))
        .times(1)
        .in_sequence(&mut sequence)
        .returning(|_, _, _| Ok(()));
    let outcome = rig.build().announce(CONSUMER, &confirmed()).await;
    assert_eq!(outcome, Ok(MessageOutcome::Applied));
    let sent = sent.lock().expect("lock");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].id, DomainEventId::from_uuid(uuid(77)));
    assert_eq!(sent[0].user_id, owner());
    assert_eq!(sent[0].email, ContactEmail::parse("buyer@example.com").ok());
    assert_eq!(sent[0].template, "order.confirmed");
    assert_eq!(sent[0].status, OrderStatus::Confirmed);
    assert_eq!(sent[0].tracking_number, None);
    assert_eq!(
        sent[0].invoice_number.as_deref(),
        Some("INV-2026-000007"),
        "the receipt names the invoice"
    );
}

#[tokio::test]
async fn a_shipment_notification_carries_the_tracking_number() {
    let mut rig = Rig::new()
        .unseen()
        .with_order(stored(OrderKind::Goods, OrderStatus::Shipped));
    rig.notifier
        .expect_notify()
        .withf(|n| n.template == "order.shipped" && n.tracking_number.as_deref() == Some("1Z"))
        .times(1)
        .returning(|_| Ok(()));
    rig.inbox
        .expect_record()
        .times(1)
        .returning(|_, _, _| Ok(()));
    let shipped = envelope(OrderEvent::Shipped(OrderShipped {
        change: StatusChanged {
            from: OrderStatus::Processing,
            to: OrderStatus::Shipped,
        },
        carrier: "UPS".into(),
        tracking_number: "1Z".into(),
        estimated_delivery: None,
    }));
    let outcome = rig.build().announce(CONSUMER, &shipped).await;
    assert_eq!(outcome, Ok(MessageOutcome::Applied));
}

#[tokio::test]
async fn an_edit_is_announced_with_the_orders_status() {
    let mut rig = Rig::new()
        .unseen()
        .with_order(stored(OrderKind::Ticket, OrderStatus::Reserved));
    rig.notifier
        .expect_notify()
        .withf(|n| n.template == "order.edited" && n.status == OrderStatus::Reserved)
        .times(1)
        .returning(|_| Ok(()));
    rig.inbox
        .expect_record()
        .times(1)
        .returning(|_, _, _| Ok(()));
    let breakdown = *stored(OrderKind::Ticket, OrderStatus::Reserved).pricing();
    let edited = envelope(OrderEvent::Edited(crate::events::OrderEdited {
        edit_id: crate::ids::OrderEditId::from_uuid(uuid(5)),
        reason: "friends".into(),
        added: Vec::new(),
        changed: Vec::new(),
        removed: Vec::new(),
        before: breakdown,
        after: breakdown,
        paid: None,
    }));
    let outcome = rig.build().announce(CONSUMER, &edited).await;
    assert_eq!(outcome, Ok(MessageOutcome::Applied));
}

#[tokio::test]
async fn an_announced_event_is_not_sent_again() {
    let mut rig = Rig::new();
    rig.inbox.expect_contains().returning(|_, _, _| Ok(true));
    let outcome = rig.build().announce(CONSUMER, &confirmed()).await;
    assert_eq!(outcome, Ok(MessageOutcome::Duplicate));
}

#[tokio::test]
async fn events_that_change_no_status_are_not_announced() {
    let extended = envelope(OrderEvent::Reserved(crate::events::OrderReserved {
        change: StatusChanged {
            from: OrderStatus::Reserved,
            to: OrderStatus::Reserved,
        },
        hold_id: HoldId::new("hold-1"),
        expires_at: T0,
        extended: true,
    }));
    let outcome = Rig::new().build().announce(CONSUMER, &extended).await;
    assert_eq!(
        outcome,
        Ok(MessageOutcome::Ignored("no status change to announce"))
    );
}

#[tokio::test]
async fn a_notifier_outage_is_retryable_and_leaves_the_inbox_unrecorded() {
    let mut rig = Rig::new()
        .unseen()
        .with_order(stored(OrderKind::Ticket, OrderStatus::Confirmed));
    rig.notifier.expect_notify().returning(|_| {
        Err(UpstreamError::Unavailable {
            service: "notifications",
            cause: "timeout".into(),
        })
    });
    let outcome = rig.build().announce(CONSUMER, &confirmed()).await;
    assert!(matches!(&outcome, Err(e @ UseCaseError::Upstream(_)) if e.is_retryable()));
}
