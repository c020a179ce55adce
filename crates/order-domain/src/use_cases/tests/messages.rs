//! Consumed messages: each applied once, late payments never leave money without tickets.

use mockall::predicate::eq;

use super::*;
use crate::ids::TicketId;
use crate::messages::{
    InboundEvent, InboundMessage, MessageOutcome, PaymentFailed, PaymentSucceeded, TicketAllocated,
};
use crate::order::RefundStatus;
use crate::use_cases::UseCaseError;

const CONSUMER: &str = "order-service.payment.succeeded";

fn message(event: InboundEvent) -> InboundMessage {
    InboundMessage {
        id: "msg-1".into(),
        version: 1,
        occurred_at: T0,
        tenant_id: tenant(),
        order_id: order_id(),
        event,
    }
}

fn paid(intent: &str) -> InboundMessage {
    message(InboundEvent::PaymentSucceeded(PaymentSucceeded {
        payment_intent_id: PaymentIntentId::new(intent),
    }))
}

fn recorded_inbox() -> Option<InboxMessage> {
    Some(InboxMessage {
        consumer: CONSUMER.into(),
        message_id: "msg-1".into(),
    })
}

/// The inbox has not seen the message yet.
fn fresh(mut h: Harness) -> Harness {
    h.inbox
        .expect_contains()
        .with(eq(tenant()), eq(CONSUMER), eq("msg-1"))
        .returning(|_, _, _| Ok(false));
    h
}

#[tokio::test]
async fn payment_succeeded_confirms_a_reserved_order_with_the_message_in_the_same_commit() {
    let mut h = fresh(Harness::new().with_order(stored(OrderKind::Ticket, OrderStatus::Reserved)));
    h.tickets
        .expect_commit()
        .times(1)
        .returning(|_| Ok(vec![TicketId::new("t-1")]));
    let (service, commits) = h.committing().build();
    let outcome = service.apply_message(CONSUMER, &paid("pi-1")).await;
    assert_eq!(outcome, Ok(MessageOutcome::Applied));
    let commits = commits.lock().expect("lock");
    assert_eq!(commits.len(), 1);
    assert_eq!(commits[0].order.status(), OrderStatus::Confirmed);
    assert_eq!(commits[0].inbox, recorded_inbox());
}

#[tokio::test]
async fn a_message_the_inbox_has_seen_changes_nothing() {
    let mut h = Harness::new();
    h.inbox.expect_contains().returning(|_, _, _| Ok(true));
    let (service, _) = h.build();
    let outcome = service.apply_message(CONSUMER, &paid("pi-1")).await;
    assert_eq!(outcome, Ok(MessageOutcome::Duplicate));
}

#[tokio::test]
async fn a_concurrent_duplicate_that_loses_the_inbox_insert_is_a_duplicate() {
    let mut h = fresh(Harness::new().with_order(stored(OrderKind::Ticket, OrderStatus::Reserved)));
    h.tickets.expect_commit().returning(|_| Ok(Vec::new()));
    h.unit_of_work.expect_commit().times(1).returning(|_| {
        Err(RepositoryError::Duplicate {
            what: "inbox message".into(),
        })
    });
    let (service, _) = h.build();
    let outcome = service.apply_message(CONSUMER, &paid("pi-1")).await;
    assert_eq!(outcome, Ok(MessageOutcome::Duplicate));
}

#[tokio::test]
async fn a_payment_for_a_confirmed_order_is_acknowledged_without_change() {
    let (service, commits) =
        fresh(Harness::new().with_order(stored(OrderKind::Ticket, OrderStatus::Confirmed))).build();
    let outcome = service.apply_message(CONSUMER, &paid("pi-1")).await;
    assert!(matches!(outcome, Ok(MessageOutcome::Ignored(_))));
    assert!(commits.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_payment_with_another_intent_for_a_paid_order_is_a_permanent_failure() {
    let (service, commits) =
        fresh(Harness::new().with_order(stored(OrderKind::Ticket, OrderStatus::Confirmed))).build();
    let error = service
        .apply_message(CONSUMER, &paid("pi-other"))
        .await
        .expect_err("not this order's payment");
    assert!(matches!(
        error,
        UseCaseError::Order(crate::order::OrderError::PaymentIntentMismatch { .. })
    ));
    assert!(!error.is_retryable(), "dead-lettered for an operator");
    assert!(commits.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_late_payment_re_holds_and_confirms_when_tickets_are_left() {
    let mut h = fresh(Harness::new().with_order(stored(OrderKind::Ticket, OrderStatus::Expired)));
    h.tickets
        .expect_hold()
        .times(1)
        .returning(|_, _, _, _, expires_at| {
            Ok(Hold {
                hold_id: HoldId::new("hold-again"),
                expires_at,
            })
        });
    h.tickets
        .expect_commit()
        .with(eq(HoldId::new("hold-again")))
        .times(1)
        .returning(|_| Ok(vec![TicketId::new("t-9")]));
    let (service, commits) = h.committing().build();
    let outcome = service.apply_message(CONSUMER, &paid("pi-1")).await;
    assert_eq!(outcome, Ok(MessageOutcome::LatePaymentRecovered));
    let commits = commits.lock().expect("lock");
    let change = &commits[0];
    assert_eq!(change.order.status(), OrderStatus::Confirmed);
    assert_eq!(change.order.hold_id(), Some(&HoldId::new("hold-again")));
    assert_eq!(change.order.ticket_ids(), [TicketId::new("t-9")]);
    assert_eq!(
        event_names(change),
        ["order.confirmed", "order.tickets_allocated"]
    );
    assert_eq!(change.audit[0].from_status, Some(OrderStatus::Expired));
    assert_eq!(change.inbox, recorded_inbox());
}

#[tokio::test]
async fn a_late_payment_is_refunded_in_full_when_the_tickets_are_gone() {
    let order = stored(OrderKind::Ticket, OrderStatus::Expired);
    let total = order.total().minor();
    let mut h = fresh(Harness::new().with_order(order));
    h.tickets.expect_hold().times(1).returning(|_, _, _, _, _| {
        Err(HoldError::SoldOut {
            ticket_type_id: crate::ids::TicketTypeId::from_uuid(uuid(200)),
            available: 0,
        })
    });
    h.payments
        .expect_refund()
        .withf(move |intent, _, amount| {
            intent == &PaymentIntentId::new("pi-1") && amount.minor() == total
        })
        .times(1)
        .returning(|_, _, _| Ok("re-1".into()));
    let (service, commits) = h.committing().build();
    let outcome = service.apply_message(CONSUMER, &paid("pi-1")).await;
    assert_eq!(outcome, Ok(MessageOutcome::LatePaymentRefunded));
    let commits = commits.lock().expect("lock");
    assert_eq!(commits.len(), 2, "the refund is recorded, then its payout");
    assert_eq!(
        event_names(&commits[0]),
        ["refund.requested", "refund.approved"]
    );
    assert_eq!(commits[0].inbox, recorded_inbox());
    assert_eq!(event_names(&commits[1]), ["refund.completed"]);
    let order = &commits[1].order;
    assert_eq!(order.status(), OrderStatus::Expired);
    assert_eq!(order.refunds()[0].status, RefundStatus::Completed);
    assert_eq!(order.refunds()[0].amount, total);
}

#[tokio::test]
async fn an_unreachable_ticket_service_leaves_a_late_payment_for_a_retry() {
    let mut h = fresh(Harness::new().with_order(stored(OrderKind::Ticket, OrderStatus::Expired)));
    h.tickets.expect_hold().times(1).returning(|_, _, _, _, _| {
        Err(HoldError::Upstream(UpstreamError::Unavailable {
            service: "tickets",
            cause: "timeout".into(),
        }))
    });
    let (service, commits) = h.build();
    let error = service
        .apply_message(CONSUMER, &paid("pi-1"))
        .await
        .expect_err("retry later");
    assert!(error.is_retryable());
    assert!(commits.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn payment_failed_cancels_an_unpaid_order_and_releases_its_hold() {
    let mut h = Harness::new().with_order(stored(OrderKind::Ticket, OrderStatus::Reserved));
    h.inbox.expect_contains().returning(|_, _, _| Ok(false));
    h.tickets
        .expect_release()
        .with(eq(HoldId::new("hold-1")))
        .times(1)
        .returning(|_| Ok(()));
    h.payments.expect_cancel_intent().returning(|_| Ok(()));
    let (service, commits) = h.committing().build();
    let failed = message(InboundEvent::PaymentFailed(PaymentFailed {
        payment_intent_id: PaymentIntentId::new("pi-1"),
        reason: Some("card_declined".into()),
    }));
    let outcome = service.apply_message("failed-queue", &failed).await;
    assert_eq!(outcome, Ok(MessageOutcome::Applied));
    let commits = commits.lock().expect("lock");
    assert_eq!(commits[0].order.status(), OrderStatus::Cancelled);
    assert_eq!(
        commits[0].order.cancellation_reason(),
        Some("payment failed: card_declined")
    );
    assert_eq!(
        commits[0].inbox.as_ref().map(|m| m.consumer.as_str()),
        Some("failed-queue")
    );
}

#[tokio::test]
async fn payment_failed_after_confirmation_is_ignored() {
    let mut h = Harness::new().with_order(stored(OrderKind::Ticket, OrderStatus::Confirmed));
    h.inbox.expect_contains().returning(|_, _, _| Ok(false));
    let (service, commits) = h.build();
    let failed = message(InboundEvent::PaymentFailed(PaymentFailed {
        payment_intent_id: PaymentIntentId::new("pi-1"),
        reason: None,
    }));
    let outcome = service.apply_message("failed-queue", &failed).await;
    assert!(matches!(outcome, Ok(MessageOutcome::Ignored(_))));
    assert!(commits.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn tickets_attach_to_confirmed_orders_and_wait_for_unpaid_ones() {
    let allocated = message(InboundEvent::TicketAllocated(TicketAllocated {
        ticket_ids: vec![TicketId::new("t-7")],
    }));

    let mut h = Harness::new().with_order(stored(OrderKind::Ticket, OrderStatus::Confirmed));
    h.inbox.expect_contains().returning(|_, _, _| Ok(false));
    let (service, commits) = h.committing().build();
    let outcome = service.apply_message("tickets", &allocated).await;
    assert_eq!(outcome, Ok(MessageOutcome::Applied));
    {
        let commits = commits.lock().expect("lock");
        assert_eq!(event_names(&commits[0]), ["order.tickets_allocated"]);
        assert!(commits[0].inbox.is_some());
    }

    let mut h = Harness::new().with_order(stored(OrderKind::Ticket, OrderStatus::Reserved));
    h.inbox.expect_contains().returning(|_, _, _| Ok(false));
    let (service, _) = h.build();
    let outcome = service.apply_message("tickets", &allocated).await;
    assert!(matches!(outcome, Ok(MessageOutcome::NotYet(_))));
}

#[tokio::test]
async fn a_message_for_an_unknown_order_is_a_permanent_failure() {
    let mut h = Harness::new();
    h.inbox.expect_contains().returning(|_, _, _| Ok(false));
    h.orders.expect_find().returning(|_, _| Ok(None));
    let (service, _) = h.build();
    let error = service
        .apply_message(CONSUMER, &paid("pi-1"))
        .await
        .expect_err("unknown order");
    assert_eq!(error, UseCaseError::NotFound { what: "order" });
    assert!(!error.is_retryable());
}
