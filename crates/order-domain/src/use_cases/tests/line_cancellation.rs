//! Cancelling one line: the release after the commit, the refund of exactly its share, the last
//! line cancelling the order, and the refund of a line cancelled before payment.

use mockall::Sequence;
use time::Duration;

use super::*;
use crate::order::{OrderError, RefundStatus, RefundTerms};
use crate::use_cases::UseCaseError;

/// `order` with line `index` already cancelled (before payment) and stored again.
fn with_line_cancelled(mut order: Order, index: usize) -> Order {
    let line = order.items()[index].id;
    order
        .cancel_line(line, "not needed", None, T0)
        .expect("line cancelled");
    order.mark_committed();
    order
}

/// One recorded commit, the next step of `steps`.
fn commit_in(h: &mut Harness, steps: &mut Sequence) {
    let commits = Arc::clone(&h.commits);
    h.unit_of_work
        .expect_commit()
        .times(1)
        .in_sequence(steps)
        .returning(move |change| {
            commits.lock().expect("lock").push(change.clone());
            Ok(())
        });
}

#[tokio::test]
async fn a_paid_ticket_line_is_released_after_the_commit_and_refunded_exactly_its_share() {
    let order = stored(OrderKind::Ticket, OrderStatus::Confirmed);
    let line = order.items()[1].clone();
    // The customer policy keeps 2.5 % of the subtotal + 30 of the whole order: 593.
    let terms = RefundTerms {
        refundable_max: order.total().minor() - 593,
        retained: 593,
    };
    let share = order.line_refund_amounts(terms)[1].1;
    let mut h = Harness::new()
        .with_order(order)
        .with_event(Duration::days(3), EventStatus::Scheduled);
    let mut steps = Sequence::new();
    commit_in(&mut h, &mut steps);
    h.tickets
        .expect_release_line()
        .withf(move |hold, id, tickets| {
            hold == &HoldId::new("hold-1") && *id == line.id && tickets.quantity == line.quantity
        })
        .times(1)
        .in_sequence(&mut steps)
        .returning(|_, _, _| Ok(()));
    h.payments
        .expect_refund()
        .withf(move |_, _, amount| amount.minor() == share)
        .times(1)
        .in_sequence(&mut steps)
        .returning(|_, _, _| Ok("re_line".into()));
    commit_in(&mut h, &mut steps);
    let (service, commits) = h.build();
    let outcome = service
        .cancel_line(&customer(), order_id(), line.id, "one ticket less")
        .await
        .expect("cancelled");
    assert_eq!(outcome.order.status(), OrderStatus::Confirmed);
    assert_eq!(outcome.order.cancelled_items(), [line.id]);
    let refund = outcome
        .refund_id
        .and_then(|id| outcome.order.refund(id).cloned())
        .expect("refund");
    assert_eq!(
        (refund.amount, refund.status),
        (share, RefundStatus::Completed)
    );
    let commits = commits.lock().expect("lock");
    assert_eq!(
        event_names(&commits[0]),
        ["order.item_cancelled", "refund.requested"]
    );
    assert_eq!(
        audit_names(&commits[0]),
        ["order.item_cancelled", "refund.requested"]
    );
    assert_eq!(event_names(&commits[1]), ["refund.completed"]);
}

#[tokio::test]
async fn cancelling_the_last_active_line_cancels_the_order_and_releases_everything() {
    let order = with_line_cancelled(stored(OrderKind::Goods, OrderStatus::Reserved), 0);
    let last = order.items()[1].id;
    let mut h = Harness::new().with_order(order);
    h.inventory
        .expect_release()
        .times(1)
        .returning(|_, _| Ok(()));
    h.payments
        .expect_cancel_intent()
        .times(1)
        .returning(|_| Ok(()));
    let (service, commits) = h.committing().build();
    let outcome = service
        .cancel_line(&customer(), order_id(), last, "nothing left I want")
        .await
        .expect("cancelled");
    assert_eq!(outcome.order.status(), OrderStatus::Cancelled);
    assert_eq!(
        event_names(&commits.lock().expect("lock")[0]),
        ["order.cancelled"]
    );
}

#[tokio::test]
async fn the_payment_of_an_order_with_a_line_cancelled_before_it_refunds_that_line_in_full() {
    let order = with_line_cancelled(stored(OrderKind::Goods, OrderStatus::Reserved), 1);
    let line_total = order.items()[1].pricing.total().minor();
    let mut h = Harness::new().with_order(order);
    h.inventory
        .expect_commit()
        .times(1)
        .returning(|_, _| Ok(()));
    h.payments
        .expect_refund()
        .withf(move |_, _, amount| amount.minor() == line_total)
        .times(1)
        .returning(|_, _, _| Ok("re_unpaid_line".into()));
    let (service, commits) = h.committing().build();
    let order = service
        .confirm(
            &service_caller(),
            order_id(),
            PaymentIntentId::new("pi-1"),
            None,
        )
        .await
        .expect("confirmed");
    assert_eq!(order.status(), OrderStatus::Confirmed);
    assert_eq!(order.completed_refunds(), line_total);
    let commits = commits.lock().expect("lock");
    assert_eq!(
        event_names(&commits[0]),
        ["order.confirmed", "refund.requested"]
    );
    assert_eq!(event_names(&commits[1]), ["refund.completed"]);
}

#[tokio::test]
async fn warehouse_staff_cannot_cancel_a_line_and_a_shipped_order_keeps_its_lines() {
    let order = stored(OrderKind::Goods, OrderStatus::Shipped);
    let line = order.items()[0].id;
    let (service, _) = Harness::new().with_order(order).build();
    assert!(matches!(
        service
            .cancel_line(&warehouse(), order_id(), line, "x")
            .await,
        Err(UseCaseError::NotFound { .. })
    ));
    assert!(matches!(
        service
            .cancel_line(&customer(), order_id(), line, "x")
            .await,
        Err(UseCaseError::Order(OrderError::LineCancellationClosed {
            status: OrderStatus::Shipped
        }))
    ));
}
