//! Refunds are paid exactly once: a payout whose result was never recorded is taken over by the
//! refund job after its lease, a result that loses a version race is applied to the fresh order,
//! and a repeated request under the same idempotency key answers the first refund.

use time::Duration;

use super::*;
use crate::ids::RefundId;
use crate::order::{RefundScope, RefundStatus, RetrySchedule};
use crate::ports::{DueRefund, KeyedRefund, RepositoryError};
use crate::use_cases::{IdempotencyKey, UseCaseError};

/// A confirmed ticket order with an APPROVED refund of 1 000 whose payout never reported back.
fn order_with_approved_refund() -> (Order, RefundId) {
    let mut order = stored(OrderKind::Ticket, OrderStatus::Confirmed);
    let id = RefundId::from_uuid(uuid(777));
    order
        .request_refund(
            crate::order::RefundRequest {
                id,
                scope: RefundScope::Amount(1_000),
                reason: "one ticket".into(),
                requested_by: "user".into(),
                auto_approve_below: i64::MAX,
            },
            crate::order::RefundTerms {
                refundable_max: order.total().minor(),
                retained: 0,
            },
            T0,
        )
        .expect("approved at once");
    order.mark_committed();
    (order, id)
}

/// The buyer's keyed request for a refund of `amount`, sent with a body whose fingerprint is
/// `fingerprint`.
async fn request(
    service: &crate::use_cases::OrderService,
    amount: i64,
    fingerprint: &str,
) -> Result<crate::use_cases::RequestedRefund, UseCaseError> {
    service
        .request_refund_with_key(
            &customer(),
            order_id(),
            RefundScope::Amount(amount),
            "tickets",
            Some(&key(fingerprint)),
        )
        .await
}

fn key(fingerprint: &str) -> IdempotencyKey {
    IdempotencyKey {
        key: "refund-1".into(),
        fingerprint: fingerprint.into(),
        ttl: Duration::minutes(30),
        earlier_attempt: false,
    }
}

#[tokio::test]
async fn the_refund_job_takes_over_an_approved_refund_once_its_payout_lease_ran_out() {
    let (order, id) = order_with_approved_refund();
    let tenant = order.tenant_id();
    let mut h = Harness::new().with_order(order);
    h.refunds
        .expect_order_of()
        .returning(move |_, refund| Ok((refund == id).then(order_id)));
    h.payments
        .expect_refund()
        .withf(move |_, refund, amount| *refund == id && amount.minor() == 1_000)
        .times(1)
        .returning(|_, _, _| Ok("re_same".into()));
    let now = T0 + Duration::minutes(10);
    let lease = h.config.refund.payout_lease;
    h.scans
        .expect_due_for_retry()
        .withf(move |before, approved_before, _| *before == now && *approved_before == now - lease)
        .times(1)
        .returning(move |_, _, _| {
            Ok(vec![DueRefund {
                tenant_id: tenant,
                refund_id: id,
            }])
        });
    let (service, commits) = h.committing().build();
    let report = service.retry_due_refunds(now, 10).await.expect("pass");
    assert_eq!((report.attempted, report.completed), (1, 1));
    let commits = commits.lock().expect("lock");
    assert_eq!(commits.len(), 1);
    assert_eq!(
        commits[0].order.refund(id).map(|r| r.status),
        Some(RefundStatus::Completed)
    );
}

#[tokio::test]
async fn an_admin_may_pay_out_an_approved_refund_that_never_recorded_a_result() {
    let (order, id) = order_with_approved_refund();
    let mut h = Harness::new().with_order(order);
    h.refunds
        .expect_order_of()
        .returning(move |_, refund| Ok((refund == id).then(order_id)));
    h.payments
        .expect_refund()
        .times(1)
        .returning(|_, _, _| Ok("re_same".into()));
    let (service, _) = h.committing().build();
    let order = service.retry_refund(&admin(), id).await.expect("paid");
    assert_eq!(
        order.refund(id).map(|r| r.status),
        Some(RefundStatus::Completed)
    );
}

#[tokio::test]
async fn a_payout_result_that_loses_a_version_race_is_recorded_on_the_fresh_order() {
    let (order, id) = order_with_approved_refund();
    // Meanwhile another writer (here: the tickets arriving) stored a newer version.
    let mut fresh = order.clone();
    fresh
        .attach_tickets(vec![crate::ids::TicketId::new("t-1")], T0)
        .expect("tickets");
    fresh.mark_committed();
    let mut h = Harness::new();
    h.orders
        .expect_find()
        .times(1)
        .returning(move |_, _| Ok(Some(fresh.clone())));
    h.payments
        .expect_refund()
        .times(1)
        .returning(|_, _, _| Ok("re_once".into()));
    let commits = Arc::clone(&h.commits);
    let mut first = true;
    h.unit_of_work.expect_commit().returning(move |change| {
        if std::mem::take(&mut first) {
            return Err(RepositoryError::Conflict {
                expected: change.order.version(),
            });
        }
        commits.lock().expect("lock").push(change.clone());
        Ok(())
    });
    let (service, commits) = h.build();
    let paid = service
        .pay_refund(&system(), order, id)
        .await
        .expect("recorded");
    assert_eq!(
        paid.refund(id).and_then(|r| r.payment_reference.clone()),
        Some("re_once".into())
    );
    assert_eq!(
        paid.ticket_ids().len(),
        1,
        "the other writer's change stands"
    );
    let commits = commits.lock().expect("lock");
    assert_eq!(commits.len(), 1);
    assert_eq!(event_names(&commits[0]), ["refund.completed"]);
}

#[tokio::test]
async fn a_result_another_payout_recorded_first_is_not_recorded_twice() {
    let (order, id) = order_with_approved_refund();
    let mut completed = order.clone();
    completed
        .complete_refund(id, "re_same", T0)
        .expect("completed");
    completed.mark_committed();
    let mut h = Harness::new();
    h.orders
        .expect_find()
        .times(1)
        .returning(move |_, _| Ok(Some(completed.clone())));
    h.payments
        .expect_refund()
        .times(1)
        .returning(|_, _, _| Ok("re_same".into()));
    h.unit_of_work.expect_commit().times(1).returning(|change| {
        Err(RepositoryError::Conflict {
            expected: change.order.version(),
        })
    });
    let (service, _) = h.build();
    let paid = service
        .pay_refund(&system(), order, id)
        .await
        .expect("already recorded");
    assert_eq!(
        paid.refund(id).map(|r| (r.status, r.attempts)),
        Some((RefundStatus::Completed, 1))
    );
}

#[tokio::test]
async fn a_repeated_refund_request_answers_the_first_refund_and_pays_nothing() {
    let (order, id) = order_with_approved_refund();
    let mut h = Harness::new().with_order(order);
    h.refunds
        .expect_find_by_request_key()
        .withf(|_, caller, key, since| {
            caller == owner().to_string()
                && key == "refund-1"
                && *since == T0 - Duration::minutes(30)
        })
        .returning(move |_, _, _, _| {
            Ok(Some(KeyedRefund {
                fingerprint: "fp".into(),
                order_id: order_id(),
                refund_id: id,
            }))
        });
    h.payments.expect_refund().never();
    h.unit_of_work.expect_commit().never();
    let (service, _) = h.build();
    let again = request(&service, 1_000, "fp").await.expect("replayed");
    assert_eq!((again.refund_id, again.replayed), (id, true));
    assert_eq!(
        request(&service, 2_000, "another body").await.err(),
        Some(UseCaseError::IdempotencyKeyReused)
    );
}

#[tokio::test]
async fn a_refund_request_whose_key_was_taken_meanwhile_answers_that_refund() {
    let (earlier, earlier_id) = order_with_approved_refund();
    let confirmed = stored(OrderKind::Ticket, OrderStatus::Confirmed);
    let mut h = Harness::new().with_event(Duration::days(5), EventStatus::Scheduled);
    let mut lookups = 0;
    h.refunds
        .expect_find_by_request_key()
        .times(2)
        .returning(move |_, _, _, _| {
            lookups += 1;
            Ok((lookups == 2).then(|| KeyedRefund {
                fingerprint: "fp".into(),
                order_id: order_id(),
                refund_id: earlier_id,
            }))
        });
    let mut finds = 0;
    h.orders.expect_find().times(2).returning(move |_, _| {
        finds += 1;
        Ok(Some(if finds == 1 {
            confirmed.clone()
        } else {
            earlier.clone()
        }))
    });
    h.unit_of_work
        .expect_commit()
        .times(1)
        .withf(|change| {
            change
                .refund_key
                .as_ref()
                .is_some_and(|k| k.record.key == "refund-1")
        })
        .returning(|_| Err(RepositoryError::IdempotencyKeyTaken));
    h.payments.expect_refund().never();
    let (service, _) = h.build();
    let answer = request(&service, 1_000, "fp")
        .await
        .expect("the earlier refund");
    assert_eq!((answer.refund_id, answer.replayed), (earlier_id, true));
}

#[tokio::test]
async fn a_declined_payout_of_a_stalled_refund_is_scheduled_for_retry() {
    let (stalled, id) = order_with_approved_refund();
    let mut h = Harness::new();
    h.payments
        .expect_refund()
        .times(1)
        .returning(|_, _, _| Err(crate::ports::PaymentError::Declined("no funds".into())));
    let (service, commits) = h.committing().build();
    let order = service
        .pay_refund(&system(), stalled, id)
        .await
        .expect("recorded");
    let refund = order.refund(id).cloned().expect("refund");
    assert_eq!(refund.status, RefundStatus::Failed);
    assert_eq!(
        refund.retry_at,
        RetrySchedule::default().next_attempt(1, T0)
    );
    assert_eq!(commits.lock().expect("lock").len(), 1);
}

fn system() -> RequestContext {
    RequestContext {
        tenant_id: tenant(),
        actor: crate::actor::Actor::System {
            name: "refund-retry".into(),
        },
        ip: None,
    }
}
