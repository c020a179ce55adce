//! Reserve, confirm, cancel, expire, bulk cancel, fulfillment, returns and queries.

use mockall::predicate::eq;
use time::Duration;

use super::*;
use crate::ids::TicketId;
use crate::order::{OrderError, RefundStatus};
use crate::ports::OrderSummary;
use crate::use_cases::{ReadError, UseCaseError};

fn locking(h: &mut Harness) {
    h.locks
        .expect_acquire()
        .withf(|key, ttl| {
            key == format!("order:lock:{}", order_id()) && *ttl == Duration::seconds(30)
        })
        .times(1)
        .returning(|key, _| {
            Ok(Some(LockGuard {
                key: key.to_owned(),
                token: "token".into(),
            }))
        });
    h.locks.expect_release().times(1).returning(|_| Ok(true));
}

#[tokio::test]
async fn reserving_a_pending_order_holds_its_tickets_under_the_lock() {
    let mut h = Harness::new().with_order(stored(OrderKind::Ticket, OrderStatus::Pending));
    locking(&mut h);
    h.tickets
        .expect_hold()
        .times(1)
        .returning(|_, _, _, lines, expires_at| {
            assert_eq!(lines.len(), 2);
            Ok(Hold {
                hold_id: HoldId::new("hold-2"),
                expires_at,
            })
        });
    let (service, commits) = h.committing().build();
    let order = service
        .reserve(&customer(), order_id())
        .await
        .expect("reserved");
    assert_eq!(order.status(), OrderStatus::Reserved);
    assert_eq!(
        event_names(&commits.lock().expect("lock")[0]),
        ["order.reserved"]
    );
}

#[tokio::test]
async fn reserving_a_reserved_order_extends_its_hold() {
    let mut h = Harness::new().with_order(stored(OrderKind::Ticket, OrderStatus::Reserved));
    locking(&mut h);
    h.tickets
        .expect_extend()
        .withf(|hold, _| hold == &HoldId::new("hold-1"))
        .times(1)
        .returning(|hold, expires_at| {
            Ok(Hold {
                hold_id: hold.clone(),
                expires_at,
            })
        });
    let (service, _) = h.committing().build();
    let order = service
        .reserve(&customer(), order_id())
        .await
        .expect("extended");
    assert_eq!(order.expires_at(), T0 + Duration::minutes(15));
}

#[tokio::test]
async fn a_locked_order_is_not_reserved_twice() {
    let mut h = Harness::new();
    h.locks.expect_acquire().times(1).returning(|_, _| Ok(None));
    let (service, _) = h.build();
    assert_eq!(
        service.reserve(&customer(), order_id()).await,
        Err(UseCaseError::Locked)
    );
}

#[tokio::test]
async fn reserving_a_confirmed_order_is_an_invalid_transition_and_releases_the_lock() {
    let mut h = Harness::new().with_order(stored(OrderKind::Ticket, OrderStatus::Confirmed));
    locking(&mut h);
    let (service, _) = h.build();
    let result = service.reserve(&customer(), order_id()).await;
    assert!(matches!(
        result,
        Err(UseCaseError::InvalidTransition(t)) if t.from == OrderStatus::Confirmed && t.to == OrderStatus::Reserved
    ));
}

#[tokio::test]
async fn a_reservation_that_cannot_be_stored_releases_the_new_hold() {
    let mut h = Harness::new().with_order(stored(OrderKind::Ticket, OrderStatus::Pending));
    locking(&mut h);
    h.tickets
        .expect_hold()
        .times(1)
        .returning(|_, _, _, _, expires_at| {
            Ok(Hold {
                hold_id: HoldId::new("hold-2"),
                expires_at,
            })
        });
    h.unit_of_work
        .expect_commit()
        .times(1)
        .returning(|_| Err(RepositoryError::Conflict { expected: 1 }));
    h.tickets
        .expect_release()
        .with(eq(HoldId::new("hold-2")))
        .times(1)
        .returning(|_| Ok(()));
    let (service, _) = h.build();
    assert_eq!(
        service.reserve(&customer(), order_id()).await,
        Err(UseCaseError::Conflict)
    );
}

#[tokio::test]
async fn another_users_order_is_not_found() {
    let (service, _) = Harness::new()
        .with_order(stored(OrderKind::Ticket, OrderStatus::Pending))
        .build();
    assert_eq!(
        service.get_order(&stranger(), order_id()).await,
        Err(ReadError::NotFound { what: "order" })
    );
    let mut other_tenant = admin();
    other_tenant.tenant_id = TenantId::from_uuid(uuid(77));
    assert_eq!(
        service.get_order(&other_tenant, order_id()).await,
        Err(ReadError::NotFound { what: "order" })
    );
    assert!(service.get_order(&admin(), order_id()).await.is_ok());
}

#[tokio::test]
async fn confirming_commits_the_hold_and_attaches_the_tickets() {
    let mut h = Harness::new().with_order(stored(OrderKind::Ticket, OrderStatus::Reserved));
    h.tickets
        .expect_commit()
        .with(eq(HoldId::new("hold-1")))
        .times(1)
        .returning(|_| Ok(vec![TicketId::new("t-1"), TicketId::new("t-2")]));
    let (service, commits) = h.committing().build();
    let inbox = InboxMessage {
        consumer: "payment.succeeded".into(),
        message_id: "m-1".into(),
    };
    let order = service
        .confirm(
            &service_caller(),
            order_id(),
            PaymentIntentId::new("pi-1"),
            Some(inbox.clone()),
        )
        .await
        .expect("confirmed");
    assert_eq!(order.status(), OrderStatus::Confirmed);
    assert_eq!(order.ticket_ids().len(), 2);
    let commits = commits.lock().expect("lock");
    assert_eq!(
        event_names(&commits[0]),
        ["order.confirmed", "order.tickets_allocated"]
    );
    assert_eq!(commits[0].inbox, Some(inbox));
}

#[tokio::test]
async fn confirming_an_expired_order_calls_no_upstream() {
    let (service, _) = Harness::new()
        .with_order(stored(OrderKind::Ticket, OrderStatus::Expired))
        .build();
    let result = service
        .confirm(
            &service_caller(),
            order_id(),
            PaymentIntentId::new("pi-1"),
            None,
        )
        .await;
    assert!(
        matches!(result, Err(UseCaseError::InvalidTransition(t)) if t.from == OrderStatus::Expired)
    );
}

#[tokio::test]
async fn confirming_with_a_foreign_intent_is_refused() {
    let (service, _) = Harness::new()
        .with_order(stored(OrderKind::Ticket, OrderStatus::Reserved))
        .build();
    let result = service
        .confirm(
            &service_caller(),
            order_id(),
            PaymentIntentId::new("pi-x"),
            None,
        )
        .await;
    assert!(matches!(
        result,
        Err(UseCaseError::Order(
            OrderError::PaymentIntentMismatch { .. }
        ))
    ));
}

#[tokio::test]
async fn a_failed_hold_commit_leaves_the_order_unconfirmed() {
    let mut h = Harness::new().with_order(stored(OrderKind::Ticket, OrderStatus::Reserved));
    h.tickets
        .expect_commit()
        .times(1)
        .returning(|_| Err(UpstreamError::NotFound { service: "tickets" }));
    let (service, _) = h.build();
    let result = service
        .confirm(
            &service_caller(),
            order_id(),
            PaymentIntentId::new("pi-1"),
            None,
        )
        .await;
    assert_eq!(
        result,
        Err(UseCaseError::Upstream(UpstreamError::NotFound {
            service: "tickets"
        }))
    );
}

#[tokio::test]
async fn cancelling_an_unpaid_order_releases_the_hold_and_the_intent() {
    let mut h = Harness::new().with_order(stored(OrderKind::Ticket, OrderStatus::Reserved));
    h.tickets.expect_release().times(1).returning(|_| Ok(()));
    h.payments
        .expect_cancel_intent()
        .times(1)
        .returning(|_| Ok(()));
    let (service, commits) = h.committing().build();
    let outcome = service
        .cancel(&customer(), order_id(), "changed my mind")
        .await
        .expect("cancelled");
    assert_eq!(outcome.order.status(), OrderStatus::Cancelled);
    assert_eq!(outcome.refund_id, None);
    assert_eq!(
        event_names(&commits.lock().expect("lock")[0]),
        ["order.cancelled"]
    );
}

#[tokio::test]
async fn cancelling_a_paid_ticket_order_refunds_all_but_the_retention() {
    let order = stored(OrderKind::Ticket, OrderStatus::Confirmed);
    let total = order.total().minor();
    let mut h = Harness::new()
        .with_order(order)
        .with_event(Duration::days(3), EventStatus::Scheduled);
    h.payments
        .expect_refund()
        .withf(move |intent, _, amount| {
            intent == &PaymentIntentId::new("pi-1") && amount.minor() == total - 593
        })
        .times(1)
        .returning(|_, _, _| Ok("re_1".into()));
    let (service, commits) = h.committing().build();
    let outcome = service
        .cancel(&customer(), order_id(), "plans changed")
        .await
        .expect("cancelled");
    let refund = outcome
        .refund_id
        .and_then(|id| outcome.order.refund(id).cloned())
        .expect("refund");
    assert_eq!(refund.status, RefundStatus::Completed);
    assert_eq!(refund.amount, total - 593);
    assert_eq!(outcome.order.status(), OrderStatus::Cancelled);
    let commits = commits.lock().expect("lock");
    assert_eq!(
        event_names(&commits[0]),
        ["order.cancelled", "refund.requested"]
    );
    assert_eq!(event_names(&commits[1]), ["refund.completed"]);
}

#[tokio::test]
async fn a_paid_ticket_order_cannot_be_cancelled_inside_the_cutoff() {
    let (service, _) = Harness::new()
        .with_order(stored(OrderKind::Ticket, OrderStatus::Confirmed))
        .with_event(Duration::hours(23), EventStatus::Scheduled)
        .build();
    let result = service.cancel(&customer(), order_id(), "too late").await;
    assert!(matches!(result, Err(UseCaseError::RefundDenied(_))));
}

#[tokio::test]
async fn a_declined_cancellation_refund_is_recorded_as_failed() {
    let mut h = Harness::new()
        .with_order(stored(OrderKind::Ticket, OrderStatus::Confirmed))
        .with_event(Duration::days(3), EventStatus::Scheduled);
    h.payments
        .expect_refund()
        .times(1)
        .returning(|_, _, _| Err(PaymentError::Declined("card closed".into())));
    let (service, commits) = h.committing().build();
    let outcome = service
        .cancel(&customer(), order_id(), "plans changed")
        .await
        .expect("cancelled");
    let refund = outcome
        .refund_id
        .and_then(|id| outcome.order.refund(id).cloned())
        .expect("refund");
    assert_eq!(refund.status, RefundStatus::Failed);
    assert_eq!(
        event_names(&commits.lock().expect("lock")[1]),
        ["refund.failed"]
    );
}

#[tokio::test]
async fn warehouse_staff_cannot_cancel_someone_elses_order() {
    let (service, _) = Harness::new()
        .with_order(stored(OrderKind::Goods, OrderStatus::Confirmed))
        .build();
    assert_eq!(
        service
            .cancel(&warehouse(), order_id(), "x")
            .await
            .map(|_| ()),
        // Warehouse staff reach orders through fulfillment only: to them it does not exist.
        Err(UseCaseError::NotFound { what: "order" })
    );
}

#[tokio::test]
async fn expiring_releases_the_hold_and_cancels_the_intent() {
    let mut h = Harness::new().with_order(stored(OrderKind::Ticket, OrderStatus::Reserved));
    h.now = T0 + Duration::minutes(20);
    h.tickets.expect_release().times(1).returning(|_| Ok(()));
    h.payments
        .expect_cancel_intent()
        .times(1)
        .returning(|_| Ok(()));
    let (service, commits) = h.committing().build();
    let order = service
        .expire(&service_caller(), order_id())
        .await
        .expect("expired");
    assert_eq!(order.status(), OrderStatus::Expired);
    assert_eq!(
        event_names(&commits.lock().expect("lock")[0]),
        ["order.expired"]
    );
}

#[tokio::test]
async fn an_order_is_not_expired_before_its_window_ends() {
    let (service, _) = Harness::new()
        .with_order(stored(OrderKind::Ticket, OrderStatus::Reserved))
        .build();
    let result = service.expire(&service_caller(), order_id()).await;
    assert!(matches!(
        result,
        Err(UseCaseError::Order(OrderError::NotYetExpired { .. }))
    ));
}

#[tokio::test]
async fn the_expiry_job_asks_only_for_orders_past_their_window_and_grace() {
    let mut h = Harness::new();
    h.now = T0 + Duration::minutes(20);
    h.scans
        .expect_expiring()
        .with(eq(T0 + Duration::minutes(18)), eq(500))
        .times(1)
        .returning(|_, _| Ok(Vec::new()));
    let (service, _) = h.build();
    assert_eq!(service.due_for_expiry(500).await, Ok(Vec::new()));
}

#[tokio::test]
async fn listing_expiring_orders_looks_ahead_by_the_given_minutes() {
    let mut h = Harness::new();
    h.scans
        .expect_expiring()
        .with(eq(T0 + Duration::minutes(5)), eq(10))
        .times(1)
        .returning(|_, _| Ok(Vec::new()));
    let (service, _) = h.build();
    assert_eq!(
        service.list_expiring(Duration::minutes(5), 10).await,
        Ok(Vec::new())
    );
}

#[tokio::test]
async fn a_bulk_job_refunds_paid_orders_in_full_counts_each_order_and_passes_failures() {
    use crate::bulk_cancel::{BulkCancelJob, BulkJobStatus};
    use crate::ids::BulkJobId;
    use crate::ports::LeasedJob;
    use crate::use_cases::BulkRunner;

    let paid = stored(OrderKind::Ticket, OrderStatus::Confirmed);
    let total = paid.total().minor();
    let mut unpaid = crate::order::tests::pending(OrderKind::Ticket);
    // A second order with its own id, still PENDING.
    let mut record = unpaid.clone().into_record();
    record.id = OrderId::from_uuid(uuid(6));
    unpaid = Order::restore(record).expect("valid");
    let missing = OrderId::from_uuid(uuid(7));
    let mut h = Harness::new().with_event(Duration::hours(2), EventStatus::Cancelled);
    let (a, b) = (paid.clone(), unpaid.clone());
    h.orders
        .expect_find()
        .returning(move |_, id| Ok([&a, &b].into_iter().find(|o| o.id() == id).cloned()));
    let ids = vec![paid.id(), unpaid.id(), missing];
    let last = *ids.iter().max().expect("ids");
    h.scans
        .expect_active_for_event()
        .returning(move |_, _, after, _| {
            // A keyset: after the last order tried, nothing is left.
            Ok(if after == Some(last) {
                Vec::new()
            } else {
                ids.clone()
            })
        });
    h.payments
        .expect_refund()
        .withf(move |_, _, amount| amount.minor() == total)
        .times(1)
        .returning(|_, _, _| Ok("re_full".into()));
    h.payments.expect_cancel_intent().returning(|_| Ok(()));
    let job = BulkCancelJob::new(
        BulkJobId::from_uuid(uuid(40)),
        paid.tenant_id(),
        event_id(),
        "event cancelled",
        "events",
        T0,
    );
    let leases = std::sync::atomic::AtomicU32::new(0);
    h.bulk_jobs.expect_lease().returning(move |_, _| {
        Ok(
            (leases.fetch_add(1, std::sync::atomic::Ordering::Relaxed) == 0).then(|| LeasedJob {
                job: job.clone(),
                token: uuid(41),
            }),
        )
    });
    let saved = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = saved.clone();
    h.bulk_jobs.expect_save().returning(move |job, _, _| {
        kept.lock().expect("lock").push(job.clone());
        Ok(true)
    });
    let (service, _) = h.committing().build();
    let tried = service
        .run_bulk_jobs(BulkRunner::default(), &|_| (404, "not_found"))
        .await
        .expect("run");
    assert_eq!(tried, 3);
    let saved = saved.lock().expect("lock");
    let done = saved.last().expect("saved");
    assert_eq!(done.status, BulkJobStatus::Done);
    assert_eq!((done.total, done.succeeded, done.failed), (3, 2, 1));
    assert_eq!(done.errors[0].order_id, missing);
    assert_eq!(done.errors[0].code, "not_found");
    // Saved before and after every order, and once when done.
    assert_eq!(saved.len(), 7);
    assert_eq!(saved[0].current, Some(paid.id()));
}

#[tokio::test]
async fn only_a_service_asks_for_a_bulk_cancellation() {
    let (service, _) = Harness::new().build();
    assert_eq!(
        service
            .request_bulk_cancel(&customer(), event_id(), "x")
            .await
            .map(|_| ()),
        Err(UseCaseError::Forbidden)
    );
}

#[tokio::test]
async fn goods_are_processed_shipped_with_tracking_and_delivered() {
    let confirmed = stored(OrderKind::Goods, OrderStatus::Confirmed);
    let mut record = confirmed.into_record();
    record.goods.shipping_address = Some(crate::order::Address {
        name: "Ada".into(),
        line1: "1 Main".into(),
        line2: None,
        city: "X".into(),
        region: None,
        postal_code: "1".into(),
        country: "US".into(),
        phone: None,
    });
    record.goods.shipping_method = Some("express".into());
    let processing = {
        let mut o = Order::restore(record.clone()).expect("valid");
        o.start_fulfillment(T0).expect("processing");
        o
    };
    let mut h = Harness::new().with_order(Order::restore(record).expect("valid"));
    h.inventory.expect_allocate().times(1).returning(|_, _| {
        Ok(Allocation {
            warehouse: "WH-1".into(),
            picks: Vec::new(),
        })
    });
    let (service, _) = h.committing().build();
    assert_eq!(
        service
            .start_fulfillment(&customer(), order_id())
            .await
            .map(|_| ()),
        Err(UseCaseError::Forbidden)
    );
    let (order, allocation) = service
        .start_fulfillment(&warehouse(), order_id())
        .await
        .expect("processing");
    assert_eq!(order.status(), OrderStatus::Processing);
    assert_eq!(allocation.warehouse, "WH-1");

    let mut h = Harness::new().with_order(processing);
    h.shipping
        .expect_create_label()
        .withf(|_, _, _, method| method == "express")
        .times(1)
        .returning(|_, _, _, _| {
            Ok(ShippingLabel {
                carrier: "ACME".into(),
                tracking_number: "1Z42".into(),
                label_url: "https://labels.invalid/1".into(),
            })
        });
    let (service, commits) = h.committing().build();
    let shipped = service
        .ship(&warehouse(), order_id(), None)
        .await
        .expect("shipped");
    let shipment = shipped.shipment().cloned().expect("shipment");
    assert_eq!(shipment.tracking_number, "1Z42");
    // Sunday 2026-11-22 + 2 business days (express) → Tuesday 2026-11-24.
    assert_eq!(
        shipment.estimated_delivery,
        Some(time::macros::date!(2026 - 11 - 24))
    );
    assert_eq!(
        event_names(&commits.lock().expect("lock")[0]),
        ["order.shipped"]
    );

    let (service, _) = Harness::new().with_order(shipped).committing().build();
    let delivered = service
        .deliver(&warehouse(), order_id())
        .await
        .expect("delivered");
    assert_eq!(delivered.status(), OrderStatus::Delivered);
}

#[tokio::test]
async fn customers_list_only_their_own_orders() {
    let mut h = Harness::new();
    h.orders
        .expect_list()
        .withf(|_, filter, _| filter.user_id == Some(owner()))
        .times(1)
        .returning(|_, _, _| {
            Ok(OrderPage {
                orders: Vec::new(),
                total: 0,
                total_is_estimate: false,
                has_more: false,
                summary: OrderSummary::EMPTY,
            })
        });
    h.orders
        .expect_list()
        .withf(|_, filter, _| filter.user_id.is_none())
        .times(1)
        .returning(|_, _, _| {
            Ok(OrderPage {
                orders: Vec::new(),
                total: 0,
                total_is_estimate: false,
                has_more: false,
                summary: OrderSummary::EMPTY,
            })
        });
    let (service, _) = h.build();
    let page = OrderPageRequest {
        limit: 20,
        offset: 0,
        after: None,
    };
    service
        .list_orders(&customer(), OrderFilter::default(), page)
        .await
        .expect("own");
    service
        .list_orders(&admin(), OrderFilter::default(), page)
        .await
        .expect("tenant");
}

#[tokio::test]
async fn the_history_of_an_invisible_order_is_not_found() {
    let (service, _) = Harness::new()
        .with_order(stored(OrderKind::Ticket, OrderStatus::Pending))
        .build();
    assert_eq!(
        service.order_history(&stranger(), order_id()).await,
        Err(ReadError::NotFound { what: "order" })
    );
}

#[tokio::test]
async fn reserving_a_pending_goods_order_reserves_its_stock() {
    let mut h = Harness::new().with_order(stored(OrderKind::Goods, OrderStatus::Pending));
    locking(&mut h);
    h.inventory
        .expect_reserve()
        .times(1)
        .returning(|_, _, lines, expires_at| {
            assert_eq!(lines.len(), 2);
            Ok(Hold {
                hold_id: HoldId::new("stock-2"),
                expires_at,
            })
        });
    let (service, _) = h.committing().build();
    let order = service
        .reserve(&customer(), order_id())
        .await
        .expect("reserved");
    assert_eq!(
        order.expires_at(),
        T0 + Duration::minutes(30),
        "goods get the payment window"
    );
}

#[tokio::test]
async fn confirming_a_goods_order_deducts_the_reserved_stock() {
    let mut h = Harness::new().with_order(stored(OrderKind::Goods, OrderStatus::Reserved));
    h.inventory
        .expect_commit()
        .with(eq(tenant()), eq(order_id()))
        .times(1)
        .returning(|_, _| Ok(()));
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
    assert_eq!(
        event_names(&commits.lock().expect("lock")[0]),
        ["order.confirmed"]
    );
}

#[tokio::test]
async fn allocated_tickets_are_attached_once_per_message() {
    let (service, commits) = Harness::new()
        .with_order(stored(OrderKind::Ticket, OrderStatus::Confirmed))
        .committing()
        .build();
    let inbox = InboxMessage {
        consumer: "ticket.allocated".into(),
        message_id: "m-7".into(),
    };
    let order = service
        .attach_tickets(
            &service_caller(),
            order_id(),
            vec![TicketId::new("t-9")],
            Some(inbox.clone()),
        )
        .await
        .expect("attached");
    assert_eq!(order.ticket_ids(), vec![TicketId::new("t-9")]);
    let commits = commits.lock().expect("lock");
    assert_eq!(event_names(&commits[0]), ["order.tickets_allocated"]);
    assert_eq!(commits[0].inbox, Some(inbox));
}

#[tokio::test]
async fn cancelling_a_paid_goods_order_refunds_it_in_full() {
    let order = stored(OrderKind::Goods, OrderStatus::Processing);
    let total = order.total().minor();
    let mut h = Harness::new().with_order(order);
    h.payments
        .expect_refund()
        .withf(move |_, _, amount| amount.minor() == total)
        .times(1)
        .returning(|_, _, _| Ok("re_goods".into()));
    let (service, _) = h.committing().build();
    let outcome = service
        .cancel(&customer(), order_id(), "changed my mind")
        .await
        .expect("cancelled");
    assert_eq!(outcome.order.status(), OrderStatus::Cancelled);
    assert_eq!(outcome.order.completed_refunds(), total);
}

#[tokio::test]
async fn a_failed_label_purchase_leaves_the_order_processing() {
    let mut order = stored(OrderKind::Goods, OrderStatus::Processing).into_record();
    order.goods.shipping_address = Some(crate::order::Address {
        name: "Ada".into(),
        line1: "1 Main".into(),
        line2: None,
        city: "X".into(),
        region: None,
        postal_code: "1".into(),
        country: "US".into(),
        phone: None,
    });
    let mut h = Harness::new().with_order(Order::restore(order).expect("valid"));
    h.shipping
        .expect_create_label()
        .times(1)
        .returning(|_, _, _, _| {
            Err(UpstreamError::Unavailable {
                service: "shipping",
                cause: "timeout".into(),
            })
        });
    let (service, _) = h.build();
    let result = service.ship(&warehouse(), order_id(), None).await;
    assert!(matches!(result, Err(UseCaseError::Upstream(_))));
}

#[tokio::test]
async fn the_history_of_a_visible_order_is_its_audit_trail() {
    let mut h = Harness::new().with_order(stored(OrderKind::Ticket, OrderStatus::Pending));
    h.audit
        .expect_audit_trail()
        .with(eq(tenant()), eq(order_id()))
        .times(1)
        .returning(|_, _| Ok(Vec::new()));
    let (service, _) = h.build();
    assert_eq!(
        service.order_history(&customer(), order_id()).await,
        Ok(Vec::new())
    );
}

#[tokio::test]
async fn a_hold_released_by_a_concurrent_expiry_makes_confirm_an_invalid_transition() {
    let reserved = stored(OrderKind::Ticket, OrderStatus::Reserved);
    let expired = stored(OrderKind::Ticket, OrderStatus::Expired);
    let mut h = Harness::new();
    let calls = std::sync::atomic::AtomicU32::new(0);
    // First load: RESERVED; after the failed commit, the reload sees EXPIRED.
    h.orders.expect_find().returning(move |_, _| {
        let first = calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed) == 0;
        Ok(Some(if first {
            reserved.clone()
        } else {
            expired.clone()
        }))
    });
    h.tickets
        .expect_commit()
        .times(1)
        .returning(|_| Err(UpstreamError::NotFound { service: "tickets" }));
    let (service, _) = h.build();
    let result = service
        .confirm(
            &service_caller(),
            order_id(),
            PaymentIntentId::new("pi-1"),
            None,
        )
        .await;
    assert!(matches!(
        result,
        Err(UseCaseError::InvalidTransition(t)) if t.from == OrderStatus::Expired && t.to == OrderStatus::Confirmed
    ));
}

#[tokio::test]
async fn an_operator_can_force_a_running_reservation_to_expire_and_a_buyer_cannot() {
    let mut h = Harness::new().with_order(stored(OrderKind::Ticket, OrderStatus::Reserved));
    h.tickets.expect_release().times(1).returning(|_| Ok(()));
    h.payments
        .expect_cancel_intent()
        .times(1)
        .returning(|_| Ok(()));
    let (service, commits) = h.committing().build();
    let buyer = service
        .expire_with(&customer(), order_id(), Some("hoarding"))
        .await;
    assert!(matches!(buyer, Err(UseCaseError::Forbidden)));
    let expired = service
        .expire_with(&service_caller(), order_id(), Some("fraud review"))
        .await
        .expect("forced");
    assert_eq!(expired.status(), OrderStatus::Expired);
    let commits = commits.lock().expect("lock");
    let metadata = &commits[0].audit[0].metadata;
    assert_eq!(metadata["forcedReason"], "fraud review");
}
