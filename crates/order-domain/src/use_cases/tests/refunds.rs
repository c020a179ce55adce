//! Refund requests, admin review, payout and return refunds.

use time::Duration;

use super::*;
use crate::ids::RefundId;
use crate::order::{OrderError, RefundError, RefundScope, RefundStatus};
use crate::use_cases::UseCaseError;

fn paying(h: &mut Harness, times: usize) {
    h.payments
        .expect_refund()
        .times(times)
        .returning(|_, _, _| Ok("re_ok".into()));
}

#[tokio::test]
async fn a_small_refund_is_approved_and_paid_at_once() {
    let mut h = Harness::new()
        .with_order(stored(OrderKind::Ticket, OrderStatus::Confirmed))
        .with_event(Duration::days(5), EventStatus::Scheduled);
    paying(&mut h, 1);
    let (service, commits) = h.committing().build();
    let (order, id) = service
        .request_refund(
            &customer(),
            order_id(),
            RefundScope::Amount(5_000),
            "one ticket",
        )
        .await
        .expect("refunded");
    assert_eq!(
        order.refund(id).map(|r| r.status),
        Some(RefundStatus::Completed)
    );
    assert_eq!(
        order.status(),
        OrderStatus::Confirmed,
        "a partial refund keeps the order"
    );
    let commits = commits.lock().expect("lock");
    assert_eq!(
        event_names(&commits[0]),
        ["refund.requested", "refund.approved"]
    );
    assert_eq!(event_names(&commits[1]), ["refund.completed"]);
}

#[tokio::test]
async fn a_refund_above_the_threshold_waits_for_an_admin() {
    let mut h = Harness::new()
        .with_order(stored(OrderKind::Ticket, OrderStatus::Confirmed))
        .with_event(Duration::days(5), EventStatus::Scheduled);
    h.config.refund.auto_approve_below = 1_000;
    let (service, _) = h.committing().build();
    let (order, id) = service
        .request_refund(&customer(), order_id(), RefundScope::Remaining, "all")
        .await
        .expect("requested");
    assert_eq!(
        order.refund(id).map(|r| r.status),
        Some(RefundStatus::Pending)
    );
}

#[tokio::test]
async fn a_refund_beyond_the_refundable_maximum_is_refused() {
    let order = stored(OrderKind::Ticket, OrderStatus::Confirmed);
    let max = order.total().minor() - 593;
    let (service, _) = Harness::new()
        .with_order(order)
        .with_event(Duration::days(5), EventStatus::Scheduled)
        .build();
    let result = service
        .request_refund(
            &customer(),
            order_id(),
            RefundScope::Amount(max + 1),
            "too much",
        )
        .await;
    assert_eq!(
        result.map(|_| ()),
        Err(UseCaseError::Order(OrderError::Refund(
            RefundError::ExceedsRefundable {
                requested: max + 1,
                remaining: max
            }
        )))
    );
}

#[tokio::test]
async fn refunds_of_pending_orders_are_invalid_transitions() {
    let (service, _) = Harness::new()
        .with_order(stored(OrderKind::Ticket, OrderStatus::Reserved))
        .with_event(Duration::days(5), EventStatus::Scheduled)
        .build();
    let result = service
        .request_refund(&customer(), order_id(), RefundScope::Remaining, "x")
        .await;
    assert!(
        matches!(result, Err(UseCaseError::InvalidTransition(t)) if t.to == OrderStatus::Refunded)
    );
}

/// A CONFIRMED order with one PENDING refund of everything refundable, and its refund id.
fn order_with_pending_refund() -> (Order, RefundId) {
    let mut order = stored(OrderKind::Ticket, OrderStatus::Confirmed);
    let id = RefundId::from_uuid(uuid(555));
    let terms = crate::order::RefundTerms {
        refundable_max: order.total().minor(),
        retained: 0,
    };
    order
        .request_refund(
            crate::order::RefundRequest {
                id,
                scope: RefundScope::Remaining,
                reason: "all".into(),
                requested_by: "user".into(),
                auto_approve_below: 0,
            },
            terms,
            T0,
        )
        .expect("pending");
    (order, id)
}

fn refund_index(h: &mut Harness, id: RefundId) {
    h.refunds
        .expect_order_of()
        .returning(move |_, refund| Ok((refund == id).then(order_id)));
}

#[tokio::test]
async fn an_admin_approval_pays_the_refund_and_completes_the_order() {
    let (order, id) = order_with_pending_refund();
    let mut h = Harness::new().with_order(order);
    refund_index(&mut h, id);
    paying(&mut h, 1);
    let (service, commits) = h.committing().build();
    let order = service
        .approve_refund(&admin(), id)
        .await
        .expect("approved");
    assert_eq!(
        order.refund(id).map(|r| r.status),
        Some(RefundStatus::Completed)
    );
    assert_eq!(order.status(), OrderStatus::Refunded);
    let commits = commits.lock().expect("lock");
    assert_eq!(event_names(&commits[0]), ["refund.approved"]);
    assert_eq!(
        event_names(&commits[1]),
        ["refund.completed", "order.refunded"]
    );
}

#[tokio::test]
async fn only_admins_review_refunds() {
    let (service, _) = Harness::new().build();
    let id = RefundId::from_uuid(uuid(555));
    assert_eq!(
        service.approve_refund(&customer(), id).await.map(|_| ()),
        Err(UseCaseError::Forbidden)
    );
    assert_eq!(
        service
            .reject_refund(&customer(), id, "no")
            .await
            .map(|_| ()),
        Err(UseCaseError::Forbidden)
    );
}

#[tokio::test]
async fn a_rejected_refund_is_recorded_with_its_reason() {
    let (order, id) = order_with_pending_refund();
    let mut h = Harness::new().with_order(order);
    refund_index(&mut h, id);
    let (service, _) = h.committing().build();
    let order = service
        .reject_refund(&admin(), id, "used tickets")
        .await
        .expect("rejected");
    let refund = order.refund(id).expect("refund");
    assert_eq!(refund.status, RefundStatus::Rejected);
    assert_eq!(refund.decision_note.as_deref(), Some("used tickets"));
}

#[tokio::test]
async fn an_unknown_refund_is_not_found() {
    let mut h = Harness::new();
    refund_index(&mut h, RefundId::from_uuid(uuid(1)));
    let (service, _) = h.build();
    let result = service
        .approve_refund(&admin(), RefundId::from_uuid(uuid(2)))
        .await;
    assert_eq!(
        result.map(|_| ()),
        Err(UseCaseError::NotFound { what: "refund" })
    );
}

#[tokio::test]
async fn a_failed_payout_can_be_retried() {
    let (mut order, id) = order_with_pending_refund();
    order.approve_refund(id, "admin", T0).expect("approved");
    order
        .fail_refund(id, "timeout", &crate::order::RetrySchedule::default(), T0)
        .expect("failed");
    let mut h = Harness::new().with_order(order);
    refund_index(&mut h, id);
    paying(&mut h, 1);
    let (service, _) = h.committing().build();
    let order = service.retry_refund(&admin(), id).await.expect("retried");
    assert_eq!(
        order.refund(id).map(|r| r.status),
        Some(RefundStatus::Completed)
    );
}

#[tokio::test]
async fn the_retry_job_pays_due_failed_refunds_as_the_system() {
    let (mut order, id) = order_with_pending_refund();
    order.approve_refund(id, "admin", T0).expect("approved");
    order
        .fail_refund(id, "timeout", &crate::order::RetrySchedule::default(), T0)
        .expect("failed");
    let tenant = order.tenant_id();
    let mut h = Harness::new().with_order(order);
    refund_index(&mut h, id);
    paying(&mut h, 1);
    let before = T0 + time::Duration::minutes(2);
    h.scans
        .expect_due_for_retry()
        .withf(move |at, _, limit| *at == before && *limit == 100)
        .times(1)
        .returning(move |_, _, _| {
            Ok(vec![crate::ports::DueRefund {
                tenant_id: tenant,
                refund_id: id,
            }])
        });
    let (service, commits) = h.committing().build();
    let report = service
        .retry_due_refunds(before, 100)
        .await
        .expect("retried");
    assert_eq!((report.attempted, report.completed), (1, 1));
    let commits = commits.lock().expect("lock");
    assert!(matches!(
        &commits[0].audit[0].actor,
        crate::actor::Actor::System { name } if name == "refund-retry"
    ));
}

#[tokio::test]
async fn the_admin_queue_lists_refunds_by_status() {
    let mut h = Harness::new();
    h.refunds
        .expect_list_by_status()
        .withf(|_, status, _| *status == RefundStatus::Pending)
        .times(1)
        .returning(|_, _, _| Ok(Vec::new()));
    let (service, _) = h.build();
    let page = PageRequest {
        limit: 50,
        offset: 0,
    };
    assert_eq!(
        service
            .list_refunds(&admin(), RefundStatus::Pending, page)
            .await,
        Ok(Vec::new())
    );
    assert_eq!(
        service
            .list_refunds(&customer(), RefundStatus::Pending, page)
            .await,
        Err(UseCaseError::Forbidden)
    );
}

#[tokio::test]
async fn a_returned_goods_order_is_refunded_except_shipping() {
    let delivered = stored(OrderKind::Goods, OrderStatus::Delivered);
    let expected = delivered.total().minor() - delivered.pricing().shipping().minor();
    let (service, _) = Harness::new().with_order(delivered).committing().build();
    let returned = service
        .request_return(&customer(), order_id(), "too small", &[])
        .await
        .expect("returned");
    assert_eq!(returned.status(), OrderStatus::Returned);

    let mut h = Harness::new().with_order(returned);
    h.payments
        .expect_refund()
        .withf(move |_, _, amount| amount.minor() == expected)
        .times(1)
        .returning(|_, _, _| Ok("re_ret".into()));
    let (service, commits) = h.committing().build();
    assert_eq!(
        service
            .complete_return_refund(&customer(), order_id())
            .await
            .map(|_| ()),
        Err(UseCaseError::Forbidden)
    );
    let refunded = service
        .complete_return_refund(&warehouse(), order_id())
        .await
        .expect("refunded");
    assert_eq!(refunded.status(), OrderStatus::Refunded);
    let commits = commits.lock().expect("lock");
    assert_eq!(
        event_names(&commits[1]),
        ["refund.completed", "order.refunded"]
    );
}

#[tokio::test]
async fn a_partial_return_refunds_exactly_the_returned_lines_share_less_its_share_of_shipping() {
    let delivered = stored(OrderKind::Goods, OrderStatus::Delivered);
    assert!(delivered.items().len() > 1, "the fixture has several lines");
    let line = delivered.items()[0].id;
    let terms = crate::order::RefundTerms {
        refundable_max: delivered.total().minor() - delivered.pricing().shipping().minor(),
        retained: delivered.pricing().shipping().minor(),
    };
    let (_, expected) = delivered.line_refund_amounts(terms)[0];
    assert!(expected < delivered.items()[0].pricing.total().minor() || terms.retained == 0);
    let (service, _) = Harness::new().with_order(delivered).committing().build();
    let returned = service
        .request_return(&customer(), order_id(), "one too many", &[line, line])
        .await
        .expect("returned");
    assert_eq!(returned.return_items(), [line], "each line once");

    let mut h = Harness::new().with_order(returned);
    h.payments
        .expect_refund()
        .withf(move |_, _, amount| amount.minor() == expected)
        .times(1)
        .returning(|_, _, _| Ok("re_part".into()));
    let (service, _) = h.committing().build();
    let refunded = service
        .complete_return_refund(&warehouse(), order_id())
        .await
        .expect("refunded");
    assert_eq!(refunded.status(), OrderStatus::Refunded);
    assert_eq!(refunded.refunds()[0].items, [line]);
    assert_eq!(refunded.refunds()[0].amount, expected);
}

#[tokio::test]
async fn a_return_of_a_line_the_order_does_not_have_is_refused() {
    let delivered = stored(OrderKind::Goods, OrderStatus::Delivered);
    let (service, _) = Harness::new().with_order(delivered).build();
    let stranger = crate::ids::OrderItemId::from_uuid(uuid(4242));
    let result = service
        .request_return(&customer(), order_id(), "?", &[stranger])
        .await;
    assert!(
        matches!(
            result,
            Err(UseCaseError::Order(crate::order::OrderError::Refund(
                crate::order::RefundError::UnknownItem(id)
            ))) if id == stranger
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn returns_close_thirty_days_after_delivery() {
    let mut h = Harness::new().with_order(stored(OrderKind::Goods, OrderStatus::Delivered));
    h.now = T0 + Duration::days(31);
    let (service, _) = h.build();
    let result = service
        .request_return(&customer(), order_id(), "late", &[])
        .await;
    assert!(matches!(
        result,
        Err(UseCaseError::Order(OrderError::ReturnWindowClosed { .. }))
    ));
}

#[tokio::test]
async fn customers_cannot_refund_inside_the_cutoff_but_admins_can() {
    let mut h = Harness::new()
        .with_order(stored(OrderKind::Ticket, OrderStatus::Confirmed))
        .with_event(Duration::hours(12), EventStatus::Scheduled);
    paying(&mut h, 1);
    let (service, _) = h.committing().build();
    let result = service
        .request_refund(&customer(), order_id(), RefundScope::Amount(1_000), "late")
        .await;
    assert!(matches!(result, Err(UseCaseError::RefundDenied(_))));
    let (order, id) = service
        .request_refund(&admin(), order_id(), RefundScope::Amount(1_000), "goodwill")
        .await
        .expect("admin refund");
    assert_eq!(
        order.refund(id).map(|r| r.status),
        Some(RefundStatus::Completed)
    );
}

#[tokio::test]
async fn a_line_refund_pays_back_exactly_that_lines_share() {
    let order = stored(OrderKind::Ticket, OrderStatus::Confirmed);
    let policy = crate::policy::RefundPolicy::default();
    let retained = policy.retention(&order);
    let terms = crate::order::RefundTerms {
        refundable_max: order.total().minor() - retained,
        retained,
    };
    let (line, share) = order.line_refund_amounts(terms)[1];
    let mut h = Harness::new()
        .with_order(order)
        .with_event(Duration::days(5), EventStatus::Scheduled);
    h.payments
        .expect_refund()
        .withf(move |_, _, amount| amount.minor() == share)
        .times(1)
        .returning(|_, _, _| Ok("re_line".into()));
    let (service, _) = h.committing().build();
    let (order, id) = service
        .request_refund(
            &customer(),
            order_id(),
            RefundScope::Items(vec![line]),
            "one line",
        )
        .await
        .expect("refunded");
    assert_eq!(
        order.refund(id).map(|r| (r.amount, r.items.clone())),
        Some((share, vec![line]))
    );
}

#[tokio::test]
async fn strangers_cannot_ask_for_refunds_of_other_orders() {
    let (service, _) = Harness::new()
        .with_order(stored(OrderKind::Ticket, OrderStatus::Confirmed))
        .build();
    let result = service
        .request_refund(&stranger(), order_id(), RefundScope::Remaining, "x")
        .await;
    assert_eq!(
        result.map(|_| ()),
        Err(UseCaseError::NotFound { what: "order" })
    );
}
