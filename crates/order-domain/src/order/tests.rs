//! Given/when/then tests of the aggregate (`given(order).when(command).then_events([…])`): every
//! (from, to) pair of statuses through the command that asks for `to`, plus refunds and their
//! arithmetic.

use std::collections::BTreeMap;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::*;
use crate::events::TicketsAllocated;
use crate::ids::{HoldId, ProductId, RefundId, TicketId, TicketPricingId, TicketTypeId};
use crate::money::Currency;
use crate::pricing::FeeSchedule;

pub(crate) const T0: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

pub(crate) fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// A new PENDING order with two lines (10000 × 2 and 2500 × 1) priced with the ticket schedule.
pub(crate) fn pending(kind: OrderKind) -> Order {
    let (mut order, events) = Order::create(new_order(kind)).expect("created");
    assert_eq!(names(&events), ["order.created"]);
    // The creation saga attaches the payment service's intent before the order is stored.
    order
        .attach_payment_intent(PaymentIntentId::new("pi-1"))
        .expect("intent");
    order
}

/// A ticket or goods order of two lines (2 × 100.00, 1 × 25.00), priced by the ticket fees.
pub(crate) fn new_order(kind: OrderKind) -> NewOrder {
    let lines = [(10_000, 2), (2_500, 1)];
    let items: Vec<NewOrderItem> = lines
        .iter()
        .enumerate()
        .map(|(i, &(unit_price, quantity))| NewOrderItem {
            id: OrderItemId::from_uuid(uuid(100 + i as u128)),
            product: match kind {
                OrderKind::Ticket => ItemProduct::Ticket {
                    ticket_type_id: TicketTypeId::from_uuid(uuid(200 + i as u128)),
                    ticket_pricing_id: TicketPricingId::from_uuid(uuid(300 + i as u128)),
                },
                OrderKind::Goods => ItemProduct::Goods {
                    product_id: ProductId::from_uuid(uuid(400 + i as u128)),
                    name: format!("product {i}"),
                    attributes: BTreeMap::new(),
                },
            },
            quantity,
            unit_price,
        })
        .collect();
    let priced = price_items(&FeeSchedule::tickets(), Currency::Usd, &items).expect("priced");
    NewOrder {
        id: OrderId::from_uuid(uuid(1)),
        tenant_id: TenantId::from_uuid(uuid(2)),
        number: OrderNumber::new(T0.date(), 42),
        user_id: UserId::from_uuid(uuid(3)),
        kind,
        event_id: (kind == OrderKind::Ticket).then(|| EventId::from_uuid(uuid(4))),
        items,
        priced,
        goods: GoodsDetails::default(),
        metadata: Default::default(),
        contact_email: ContactEmail::parse("buyer@example.com").ok(),
        expires_at: T0 + Duration::minutes(15),
        now: T0,
    }
}

/// The events' names, each checked to be listed in [`crate::events::EVENT_TYPES`].
pub(crate) fn names(events: &[OrderEvent]) -> Vec<&'static str> {
    let names: Vec<&'static str> = events.iter().map(OrderEvent::name).collect();
    for name in &names {
        assert!(
            crate::events::EVENT_TYPES.contains(name),
            "{name} is not listed"
        );
    }
    names
}

/// Given an order in some state, when one command runs, then its events (or its refusal) and
/// the state it leaves: `given(order).when(|o| o.expire(t)).then_events(["order.expired"])`.
pub(crate) fn given(order: Order) -> Given {
    Given(order)
}

pub(crate) struct Given(Order);

/// What a command did to the order it ran on.
pub(crate) struct Then {
    order: Order,
    before: Order,
    outcome: Result<Vec<OrderEvent>, OrderError>,
}

impl Given {
    /// Runs `command` on the order.
    pub(crate) fn when(
        self,
        command: impl FnOnce(&mut Order) -> Result<Vec<OrderEvent>, OrderError>,
    ) -> Then {
        let before = self.0.clone();
        let mut order = self.0;
        let outcome = command(&mut order);
        Then {
            order,
            before,
            outcome,
        }
    }
}

impl Then {
    /// The command succeeded with exactly these events, in order; answers the order after it.
    #[track_caller]
    pub(crate) fn then_events<const N: usize>(self, expected: [&str; N]) -> Order {
        match &self.outcome {
            Ok(events) => assert_eq!(names(events), expected),
            Err(error) => panic!("expected {expected:?}, the command failed: {error:?}"),
        }
        self.order
    }

    /// The command was refused with `expected`, and the order did not change.
    #[track_caller]
    pub(crate) fn then_refused(self, expected: OrderError) {
        assert_eq!(self.outcome, Err(expected));
        assert_eq!(self.order, self.before, "a refused command changes nothing");
    }

    /// The command was refused with an error `check` accepts, and the order did not change.
    #[track_caller]
    pub(crate) fn then_refused_with(self, check: impl FnOnce(&OrderError) -> bool) {
        match &self.outcome {
            Err(error) => assert!(check(error), "refused with {error:?}"),
            Ok(events) => panic!("expected a refusal, got {:?}", names(events)),
        }
        assert_eq!(self.order, self.before, "a refused command changes nothing");
    }
}

fn terms_full(order: &Order) -> RefundTerms {
    RefundTerms {
        refundable_max: order.total().minor(),
        retained: 0,
    }
}

fn refund_everything(order: &mut Order, n: u128) -> Result<Vec<OrderEvent>, OrderError> {
    let id = RefundId::from_uuid(uuid(900 + n));
    let terms = terms_full(order);
    let mut events = order.request_refund(
        RefundRequest {
            id,
            scope: RefundScope::Remaining,
            reason: "asked".into(),
            requested_by: "user".into(),
            auto_approve_below: i64::MAX,
        },
        terms,
        T0,
    )?;
    events.extend(order.complete_refund(id, "pay-ref", T0)?);
    Ok(events)
}

/// Drives a new order to `status` through the commands; `None` when the kind never gets there.
pub(crate) fn order_in(kind: OrderKind, status: OrderStatus) -> Option<Order> {
    use OrderStatus::*;
    let mut order = pending(kind);
    let path: &[OrderStatus] = match (kind, status) {
        (_, Pending) => &[],
        (_, Reserved) => &[Reserved],
        (_, Confirmed) => &[Reserved, Confirmed],
        (_, Cancelled) => &[Cancelled],
        (_, Expired) => &[Reserved, Expired],
        (OrderKind::Ticket, Refunded) => &[Reserved, Confirmed, Refunded],
        (OrderKind::Ticket, _) => return None,
        (OrderKind::Goods, Processing) => &[Reserved, Confirmed, Processing],
        (OrderKind::Goods, Shipped) => &[Reserved, Confirmed, Processing, Shipped],
        (OrderKind::Goods, Delivered) => &[Reserved, Confirmed, Processing, Shipped, Delivered],
        (OrderKind::Goods, Returned) => &[
            Reserved, Confirmed, Processing, Shipped, Delivered, Returned,
        ],
        (OrderKind::Goods, Refunded) => &[
            Reserved, Confirmed, Processing, Shipped, Delivered, Returned, Refunded,
        ],
    };
    for step in path {
        command_to(&mut order, *step).expect("path step");
    }
    assert_eq!(order.status(), status);
    Some(order)
}

/// The command that asks for `to`.
fn command_to(order: &mut Order, to: OrderStatus) -> Result<Vec<OrderEvent>, OrderError> {
    let later = T0 + Duration::hours(1);
    match to {
        OrderStatus::Pending => unreachable!("no command leads back to PENDING"),
        OrderStatus::Reserved => {
            order.reserve(HoldId::new("hold-1"), T0 + Duration::minutes(15), T0)
        }
        OrderStatus::Confirmed if order.closed_unpaid() => {
            order.recover_late_payment(&PaymentIntentId::new("pi-1"), HoldId::new("hold-2"), T0)
        }
        OrderStatus::Confirmed => order.confirm(&PaymentIntentId::new("pi-1"), T0),
        OrderStatus::Cancelled => {
            let terms = terms_full(order);
            order.cancel(
                "changed my mind",
                Some((RefundId::from_uuid(uuid(800)), terms, "user")),
                T0,
            )
        }
        OrderStatus::Expired => order.expire(later),
        OrderStatus::Processing => order.start_fulfillment(T0),
        OrderStatus::Shipped => order.ship(
            Shipment {
                carrier: "ACME".into(),
                tracking_number: "1Z999".into(),
                label_url: None,
                estimated_delivery: None,
            },
            T0,
        ),
        OrderStatus::Delivered => order.deliver(T0),
        OrderStatus::Returned => order.request_return("too small", &[], Duration::days(30), T0),
        OrderStatus::Refunded => refund_everything(order, 1),
    }
}

fn expected_events(from: OrderStatus, to: OrderStatus) -> Vec<&'static str> {
    match to {
        OrderStatus::Reserved => vec!["order.reserved"],
        OrderStatus::Confirmed => vec!["order.confirmed"],
        OrderStatus::Cancelled if from.is_unpaid() => vec!["order.cancelled"],
        OrderStatus::Cancelled => vec!["order.cancelled", "refund.requested"],
        OrderStatus::Expired => vec!["order.expired"],
        OrderStatus::Processing => vec!["order.processing"],
        OrderStatus::Shipped => vec!["order.shipped"],
        OrderStatus::Delivered => vec!["order.delivered"],
        OrderStatus::Returned => vec!["order.returned"],
        OrderStatus::Refunded => vec![
            "refund.requested",
            "refund.approved",
            "refund.completed",
            "order.refunded",
        ],
        OrderStatus::Pending => vec![],
    }
}

#[test]
fn every_status_pair_is_allowed_or_rejected_by_its_command() {
    for kind in [OrderKind::Ticket, OrderKind::Goods] {
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                if to == OrderStatus::Pending {
                    // No command leads to PENDING; the table rejects every such pair.
                    assert!(!transition_allowed(kind, from, to));
                    continue;
                }
                let Some(mut order) = order_in(kind, from) else {
                    continue;
                };
                let before = order.clone();
                let result = command_to(&mut order, to);
                if transition_allowed(kind, from, to) {
                    let events = result.unwrap_or_else(|e| panic!("{kind:?} {from} → {to}: {e}"));
                    assert_eq!(order.status(), to, "{kind:?} {from} → {to}");
                    assert_eq!(
                        names(&events),
                        expected_events(from, to),
                        "{kind:?} {from} → {to}"
                    );
                    let changed = events.iter().find_map(OrderEvent::status_change);
                    assert_eq!(changed, Some((from, to)), "{kind:?} {from} → {to}");
                } else {
                    assert_eq!(
                        result,
                        Err(OrderError::InvalidTransition(InvalidTransition {
                            kind,
                            from,
                            to
                        })),
                        "{kind:?} {from} → {to}"
                    );
                    assert_eq!(
                        order, before,
                        "a rejected command leaves the order untouched"
                    );
                }
            }
        }
    }
}

#[test]
fn milestones_record_when_each_status_was_reached() {
    let order = order_in(OrderKind::Goods, OrderStatus::Delivered).expect("reachable");
    let m = order.record().milestones;
    assert_eq!(m.reserved_at, Some(T0));
    assert_eq!(m.confirmed_at, Some(T0));
    assert_eq!(m.delivered_at, Some(T0));
    assert_eq!(m.cancelled_at, None);
}

#[test]
fn extending_a_reservation_is_flagged_and_moves_the_expiry() {
    let mut order = order_in(OrderKind::Ticket, OrderStatus::Reserved).expect("reachable");
    let later = T0 + Duration::minutes(30);
    let events = order
        .reserve(HoldId::new("hold-2"), later, T0)
        .expect("extended");
    let OrderEvent::Reserved(reserved) = &events[0] else {
        panic!("order.reserved expected")
    };
    assert!(reserved.extended);
    assert_eq!(order.expires_at(), later);
    assert_eq!(order.hold_id(), Some(&HoldId::new("hold-2")));
}

#[test]
fn expiry_before_the_window_ends_is_refused() {
    given(order_in(OrderKind::Ticket, OrderStatus::Reserved).expect("reachable"))
        .when(|order| order.expire(T0 + Duration::minutes(14)))
        .then_refused(OrderError::NotYetExpired {
            expires_at: T0 + Duration::minutes(15),
        });
}

#[test]
fn expiry_once_the_window_has_ended_expires_the_order() {
    let expired = given(order_in(OrderKind::Ticket, OrderStatus::Reserved).expect("reachable"))
        .when(|order| order.expire(T0 + Duration::minutes(15)))
        .then_events(["order.expired"]);
    assert_eq!(expired.status(), OrderStatus::Expired);
}

#[test]
fn confirming_with_another_orders_intent_is_refused() {
    let mut order = pending(OrderKind::Ticket);
    order
        .attach_payment_intent(PaymentIntentId::new("pi-own"))
        .expect("attached");
    given(order)
        .when(|order| order.confirm(&PaymentIntentId::new("pi-other"), T0))
        .then_refused_with(|error| matches!(error, OrderError::PaymentIntentMismatch { .. }));
}

#[test]
fn cancelling_a_paid_order_starts_a_refund_of_what_the_terms_allow() {
    let mut order = order_in(OrderKind::Ticket, OrderStatus::Confirmed).expect("reachable");
    let terms = RefundTerms {
        refundable_max: order.total().minor() - 530,
        retained: 530,
    };
    let refund_id = RefundId::from_uuid(uuid(77));
    let events = order
        .cancel("plans changed", Some((refund_id, terms, "user")), T0)
        .expect("cancelled");
    let OrderEvent::Cancelled(cancelled) = &events[0] else {
        panic!("order.cancelled expected")
    };
    assert_eq!(cancelled.refund_amount, Some(order.total().minor() - 530));
    assert_eq!(
        order.refund(refund_id).map(|r| r.status),
        Some(RefundStatus::Approved)
    );
    // Completing it keeps the order CANCELLED: CANCELLED → REFUNDED is not in the table.
    order
        .complete_refund(refund_id, "re_1", T0)
        .expect("completed");
    assert_eq!(order.status(), OrderStatus::Cancelled);
}

fn request(
    order: &mut Order,
    n: u128,
    scope: RefundScope,
    terms: RefundTerms,
) -> Result<Vec<OrderEvent>, OrderError> {
    request_with_threshold(order, n, scope, terms, 50_000)
}

fn request_with_threshold(
    order: &mut Order,
    n: u128,
    scope: RefundScope,
    terms: RefundTerms,
    auto_approve_below: i64,
) -> Result<Vec<OrderEvent>, OrderError> {
    order.request_refund(
        RefundRequest {
            id: RefundId::from_uuid(uuid(500 + n)),
            scope,
            reason: "partial".into(),
            requested_by: "user".into(),
            auto_approve_below,
        },
        terms,
        T0,
    )
}

#[test]
fn partial_refunds_add_up_to_at_most_the_refundable_maximum() {
    let mut order = order_in(OrderKind::Ticket, OrderStatus::Confirmed).expect("reachable");
    let terms = RefundTerms {
        refundable_max: 10_000,
        retained: order.total().minor() - 10_000,
    };
    request(&mut order, 1, RefundScope::Amount(6_000), terms).expect("first");
    let too_much = request(&mut order, 2, RefundScope::Amount(4_001), terms);
    assert_eq!(
        too_much,
        Err(OrderError::Refund(RefundError::ExceedsRefundable {
            requested: 4_001,
            remaining: 4_000
        }))
    );
    request(&mut order, 3, RefundScope::Amount(4_000), terms).expect("the rest");
    assert_eq!(
        request(&mut order, 4, RefundScope::Amount(1), terms),
        Err(OrderError::Refund(RefundError::NothingToRefund))
    );
    assert_eq!(
        request(&mut order, 5, RefundScope::Amount(0), terms),
        Err(OrderError::Refund(RefundError::InvalidAmount))
    );
}

#[test]
fn refunds_above_the_threshold_wait_for_an_admin_and_rejected_ones_free_the_amount() {
    let mut order = order_in(OrderKind::Ticket, OrderStatus::Confirmed).expect("reachable");
    let terms = terms_full(&order);
    // The order total is above a threshold of 10 000: the refund waits.
    let events = request_with_threshold(&mut order, 1, RefundScope::Remaining, terms, 10_000)
        .expect("requested");
    assert_eq!(names(&events), ["refund.requested"]);
    let id = RefundId::from_uuid(uuid(501));
    assert_eq!(
        order.refund(id).map(|r| r.status),
        Some(RefundStatus::Pending)
    );
    assert_eq!(order.remaining_refundable(), 0);
    let events = order
        .reject_refund(id, "admin", "not eligible", T0)
        .expect("rejected");
    assert_eq!(names(&events), ["refund.rejected"]);
    assert_eq!(order.remaining_refundable(), order.total().minor());
    assert_eq!(
        order.approve_refund(id, "admin", T0),
        Err(OrderError::Refund(RefundError::InvalidState {
            from: RefundStatus::Rejected,
            to: RefundStatus::Approved
        }))
    );
}

#[test]
fn a_failed_refund_can_be_retried_and_then_completes_the_order() {
    let mut order = order_in(OrderKind::Ticket, OrderStatus::Confirmed).expect("reachable");
    let terms = terms_full(&order);
    request_with_threshold(&mut order, 1, RefundScope::Remaining, terms, 10_000)
        .expect("requested");
    let id = RefundId::from_uuid(uuid(501));
    let events = order.approve_refund(id, "admin", T0).expect("approved");
    assert_eq!(names(&events), ["refund.approved"]);
    let events = order
        .fail_refund(id, "card expired", &RetrySchedule::default(), T0)
        .expect("failed");
    assert_eq!(names(&events), ["refund.failed"]);
    assert_eq!(
        order.refund(id).and_then(|r| r.retry_at),
        Some(T0 + Duration::minutes(1))
    );
    let events = order.complete_refund(id, "re_2", T0).expect("completed");
    assert_eq!(order.refund(id).and_then(|r| r.retry_at), None);
    assert_eq!(names(&events), ["refund.completed", "order.refunded"]);
    assert_eq!(order.status(), OrderStatus::Refunded);
    assert_eq!(order.refund(id).map(|r| r.attempts), Some(2));
}

#[test]
fn line_refunds_return_exactly_each_lines_share_and_never_twice() {
    let mut order = order_in(OrderKind::Ticket, OrderStatus::Confirmed).expect("reachable");
    let terms = RefundTerms {
        refundable_max: order.total().minor() - 563,
        retained: 563,
    };
    let shares = order.line_refund_amounts(terms);
    assert_eq!(
        shares.iter().map(|(_, a)| a).sum::<i64>(),
        terms.refundable_max
    );
    let first = order.items()[0].id;
    let second = order.items()[1].id;
    request(&mut order, 1, RefundScope::Items(vec![second]), terms).expect("second line");
    assert_eq!(order.refunds()[0].amount, shares[1].1);
    assert_eq!(
        request(&mut order, 2, RefundScope::Items(vec![second]), terms),
        Err(OrderError::Refund(RefundError::ItemAlreadyRefunded(second)))
    );
    let unknown = OrderItemId::from_uuid(uuid(999));
    assert_eq!(
        request(&mut order, 3, RefundScope::Items(vec![unknown]), terms),
        Err(OrderError::Refund(RefundError::UnknownItem(unknown)))
    );
    request(&mut order, 4, RefundScope::Items(vec![first]), terms).expect("first line");
    assert_eq!(order.committed_refunds(), terms.refundable_max);
    assert_eq!(order.remaining_refundable(), 0);
}

#[test]
fn tickets_attach_only_to_confirmed_ticket_orders() {
    let order = given(order_in(OrderKind::Ticket, OrderStatus::Confirmed).expect("reachable"))
        .when(|order| order.attach_tickets(vec![TicketId::new("t1"), TicketId::new("t2")], T0))
        .then_events(["order.tickets_allocated"]);
    assert_eq!(order.ticket_ids().len(), 2);
    given(order_in(OrderKind::Goods, OrderStatus::Confirmed).expect("reachable"))
        .when(|goods| goods.attach_tickets(vec![TicketId::new("t1")], T0))
        .then_refused(OrderError::WrongKind {
            expected: OrderKind::Ticket,
        });
}

#[test]
fn returns_close_after_the_window() {
    given(order_in(OrderKind::Goods, OrderStatus::Delivered).expect("reachable"))
        .when(|order| {
            order.request_return("late", &[], Duration::days(30), T0 + Duration::days(31))
        })
        .then_refused(OrderError::ReturnWindowClosed {
            deadline: T0 + Duration::days(30),
        });
}

#[test]
fn stored_orders_are_checked_when_restored() {
    let order = order_in(OrderKind::Ticket, OrderStatus::Confirmed).expect("reachable");
    let record = order.clone().into_record();
    assert_eq!(Order::restore(record.clone()), Ok(order));
    let problem = |change: &dyn Fn(&mut OrderRecord)| {
        let mut broken = record.clone();
        change(&mut broken);
        Order::restore(broken).map(|_| ()).map_err(|e| e.problem)
    };
    assert_eq!(
        problem(&|r| drop(r.items.pop())),
        Err("lines do not add up to the order")
    );
    assert_eq!(
        problem(&|r| r.milestones.confirmed_at = None),
        Err("status without its milestone")
    );
    assert_eq!(
        problem(&|r| r.milestones.reserved_at = Some(T0 + Duration::days(1))),
        Err("a milestone outside the order's lifetime")
    );
    assert_eq!(
        problem(&|r| r.event_id = None),
        Err("a ticket order needs its event, a goods order has none")
    );
    assert_eq!(
        problem(&|r| r.kind = OrderKind::Goods),
        Err("a ticket order needs its event, a goods order has none")
    );
}

#[test]
fn confirm_refuses_closed_orders_which_take_the_late_payment_path() {
    let mut expired = order_in(OrderKind::Ticket, OrderStatus::Expired).expect("expired");
    let refused = expired.confirm(&PaymentIntentId::new("pi-1"), T0);
    assert_eq!(
        refused,
        Err(OrderError::InvalidTransition(InvalidTransition {
            kind: OrderKind::Ticket,
            from: OrderStatus::Expired,
            to: OrderStatus::Confirmed,
        }))
    );
    let events = expired
        .recover_late_payment(&PaymentIntentId::new("pi-1"), HoldId::new("hold-2"), T0)
        .expect("recovered");
    assert_eq!(names(&events), ["order.confirmed"]);
    assert_eq!(expired.status(), OrderStatus::Confirmed);
    assert_eq!(expired.hold_id(), Some(&HoldId::new("hold-2")));
}

#[test]
fn an_order_cancelled_after_payment_is_not_recovered_by_a_late_payment() {
    let mut paid = order_in(OrderKind::Ticket, OrderStatus::Confirmed).expect("confirmed");
    command_to(&mut paid, OrderStatus::Cancelled).expect("cancelled with refund");
    assert!(!paid.closed_unpaid());
    let before = paid.clone();
    let intent = PaymentIntentId::new("pi-1");
    assert!(matches!(
        paid.recover_late_payment(&intent, HoldId::new("hold-3"), T0),
        Err(OrderError::InvalidTransition(_))
    ));
    assert!(matches!(
        paid.refund_late_payment(RefundId::from_uuid(uuid(950)), &intent, T0),
        Err(OrderError::InvalidTransition(_))
    ));
    assert_eq!(paid, before);
}

#[test]
fn a_late_payment_that_cannot_be_honoured_is_refunded_in_full_once() {
    let mut expired = order_in(OrderKind::Ticket, OrderStatus::Expired).expect("expired");
    let refund = RefundId::from_uuid(uuid(951));
    let intent = PaymentIntentId::new("pi-1");
    let events = expired
        .refund_late_payment(refund, &intent, T0)
        .expect("refund recorded");
    assert_eq!(names(&events), ["refund.requested", "refund.approved"]);
    assert_eq!(expired.status(), OrderStatus::Expired);
    let recorded = expired.refund(refund).expect("refund");
    assert_eq!(recorded.amount, expired.total().minor());
    assert_eq!(recorded.status, RefundStatus::Approved);
    assert_eq!(expired.payment_intent_id(), Some(&intent));
    assert_eq!(
        expired.refund_late_payment(RefundId::from_uuid(uuid(952)), &intent, T0),
        Err(OrderError::Refund(RefundError::NothingToRefund))
    );
    // Paying it out completes the refund; the order stays EXPIRED (no table row to REFUNDED).
    let completed = expired.complete_refund(refund, "re-1", T0).expect("paid");
    assert_eq!(names(&completed), ["refund.completed"]);
    assert_eq!(expired.status(), OrderStatus::Expired);
}

#[test]
fn a_late_payment_with_another_orders_intent_is_refused() {
    let mut cancelled = order_in(OrderKind::Goods, OrderStatus::Cancelled).expect("cancelled");
    cancelled
        .attach_payment_intent(PaymentIntentId::new("pi-own"))
        .expect_err("closed orders take no new intent");
    let mut reserved = order_in(OrderKind::Goods, OrderStatus::Reserved).expect("reserved");
    reserved
        .attach_payment_intent(PaymentIntentId::new("pi-own"))
        .expect("intent");
    command_to(&mut reserved, OrderStatus::Cancelled).expect("cancelled unpaid");
    let other = PaymentIntentId::new("pi-other");
    assert_eq!(
        reserved.recover_late_payment(&other, HoldId::new("h"), T0),
        Err(OrderError::PaymentIntentMismatch {
            received: other.clone()
        })
    );
    assert_eq!(
        reserved.refund_late_payment(RefundId::from_uuid(uuid(953)), &other, T0),
        Err(OrderError::PaymentIntentMismatch { received: other })
    );
}

#[test]
fn tickets_already_attached_produce_no_event() {
    let mut order = order_in(OrderKind::Ticket, OrderStatus::Confirmed).expect("confirmed");
    let first = order
        .attach_tickets(vec![TicketId::new("t-1"), TicketId::new("t-1")], T0)
        .expect("attached");
    assert_eq!(
        first,
        vec![OrderEvent::TicketsAllocated(TicketsAllocated {
            ticket_ids: vec![TicketId::new("t-1")]
        })]
    );
    let again = order
        .attach_tickets(vec![TicketId::new("t-1")], T0)
        .expect("idempotent");
    assert!(again.is_empty());
    assert_eq!(order.record().ticket_ids, [TicketId::new("t-1")]);
}

#[test]
fn failed_payouts_are_retried_after_doubling_pauses_until_the_attempts_run_out() {
    let schedule = RetrySchedule::default();
    let pauses: Vec<Option<Duration>> = (1..=8)
        .map(|attempts| schedule.next_attempt(attempts, T0).map(|at| at - T0))
        .collect();
    let minutes = |m| Some(Duration::minutes(m));
    assert_eq!(
        pauses,
        [
            minutes(1),
            minutes(2),
            minutes(4),
            minutes(8),
            minutes(16),
            minutes(32),
            minutes(60),
            None
        ]
    );
}

#[test]
fn an_order_without_a_payment_intent_cannot_be_confirmed_by_any_intent() {
    let (order, _) = Order::create(new_order(OrderKind::Ticket)).expect("created");
    given(order)
        .when(|order| order.confirm(&PaymentIntentId::new("pi-anything"), T0))
        .then_refused(OrderError::NoPaymentIntent);
}

#[test]
fn an_order_answers_its_number_creation_time_and_total_as_money() {
    let order = pending(OrderKind::Ticket);
    assert_eq!(order.number(), &OrderNumber::new(T0.date(), 42));
    assert_eq!(order.created_at(), T0);
    assert_eq!(order.total(), order.pricing().total());
    assert_eq!(order.total().currency(), Currency::Usd);
}
