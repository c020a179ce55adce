//! Cancelling one line of an order before it ships (decision 0050): the line's tickets or stock
//! go back upstream and, when the order is paid, exactly the line's share of what the terms allow
//! is refunded. A line cancelled before payment is refunded in full once the payment arrives, so
//! the payment intent never changes and every amount stays the order's own breakdown.

use time::OffsetDateTime;

use super::{Order, OrderError, OrderItem, OrderKind, OrderStatus, Refund, RefundTerms};
use crate::events::{ItemCancelled, OrderEvent, RefundRequested};
use crate::ids::{OrderItemId, RefundId};

/// The refund a paid order's line cancellation starts: its new id, the policy's terms and who
/// asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineRefund<'a> {
    /// New refund id.
    pub id: RefundId,
    /// What the policy allows on the whole order now.
    pub terms: RefundTerms,
    /// Who asks (user id or service name).
    pub requested_by: &'a str,
}

impl Order {
    /// Whether a line may be cancelled in the order's status: before shipping, while the order is
    /// still open (goods up to PROCESSING, tickets up to CONFIRMED).
    pub fn lines_cancellable(&self) -> bool {
        match self.kind() {
            OrderKind::Goods => matches!(
                self.status(),
                OrderStatus::Pending
                    | OrderStatus::Reserved
                    | OrderStatus::Confirmed
                    | OrderStatus::Processing
            ),
            OrderKind::Ticket => matches!(
                self.status(),
                OrderStatus::Pending | OrderStatus::Reserved | OrderStatus::Confirmed
            ),
        }
    }

    /// The lines that were cancelled one by one, in the order they were cancelled.
    pub fn cancelled_items(&self) -> &[OrderItemId] {
        &self.record.cancelled_items
    }

    /// Whether line `id` was cancelled.
    pub fn is_line_cancelled(&self, id: OrderItemId) -> bool {
        self.record.cancelled_items.contains(&id)
    }

    /// The lines still ordered: every line but the cancelled ones.
    pub fn active_items(&self) -> impl Iterator<Item = &OrderItem> {
        self.record
            .items
            .iter()
            .filter(|item| !self.is_line_cancelled(item.id))
    }

    /// Cancels line `item`, which must not be the last active one (cancelling the last line is
    /// cancelling the order). A paid order gets an APPROVED refund of the line's share under
    /// `refund`'s terms; an unpaid one needs none (the line is refunded when payment arrives).
    ///
    /// # Errors
    /// [`OrderError::LineCancellationClosed`] once the order shipped or closed;
    /// [`OrderError::ItemNotFound`], [`OrderError::ItemAlreadyCancelled`],
    /// [`OrderError::LastActiveItem`].
    pub fn cancel_line(
        &mut self,
        item: OrderItemId,
        reason: &str,
        refund: Option<LineRefund<'_>>,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        if !self.lines_cancellable() {
            return Err(OrderError::LineCancellationClosed {
                status: self.status(),
            });
        }
        self.no_edit_waiting()?;
        let line = self
            .record
            .items
            .iter()
            .find(|line| line.id == item)
            .ok_or(OrderError::ItemNotFound(item))?;
        if self.is_line_cancelled(item) {
            return Err(OrderError::ItemAlreadyCancelled(item));
        }
        if self.active_items().count() == 1 {
            return Err(OrderError::LastActiveItem);
        }
        let quantity = line.quantity;
        let reference = line.product.reference();
        let started = match (self.status().is_unpaid(), refund) {
            (false, Some(refund)) => {
                let amount = self
                    .line_refund_amounts(refund.terms)
                    .into_iter()
                    .find_map(|(id, amount)| (id == item).then_some(amount))
                    .unwrap_or(0)
                    .min(self.remaining_refundable_under(refund.terms));
                self.record.refundable_max = Some(refund.terms.refundable_max);
                (amount > 0).then(|| {
                    self.record.refunds.push(Refund::approved(
                        refund.id,
                        amount,
                        vec![item],
                        reason,
                        refund.requested_by,
                        "line cancellation",
                        now,
                    ));
                    (refund.id, amount)
                })
            }
            _ => None,
        };
        self.record.cancelled_items.push(item);
        self.record.milestones.updated_at = now;
        let mut events = vec![OrderEvent::ItemCancelled(ItemCancelled {
            item_id: item,
            reference,
            quantity,
            reason: reason.to_owned(),
            refund_id: started.map(|(id, _)| id),
            refund_amount: started.map(|(_, amount)| amount),
        })];
        if let Some((id, amount)) = started {
            events.push(OrderEvent::RefundRequested(RefundRequested {
                refund_id: id,
                amount,
                status: super::RefundStatus::Approved,
                items: vec![item],
                reason: reason.to_owned(),
            }));
        }
        Ok(events)
    }

    /// At payment (right after [`Order::confirm`] or [`Order::recover_late_payment`]): an
    /// APPROVED refund `id` of every line cancelled while the order was unpaid, each line's whole
    /// share (nothing is retained for a line the buyer never had); no events when there is none.
    pub fn refund_lines_cancelled_unpaid(
        &mut self,
        id: RefundId,
        now: OffsetDateTime,
    ) -> Vec<OrderEvent> {
        let lines: Vec<(OrderItemId, i64)> = self
            .record
            .items
            .iter()
            .filter(|line| {
                self.is_line_cancelled(line.id)
                    && !self
                        .record
                        .refunds
                        .iter()
                        .any(|r| r.status.counts_toward_maximum() && r.items.contains(&line.id))
            })
            .map(|line| (line.id, line.pricing.total().minor()))
            .collect();
        let amount: i64 = lines.iter().map(|(_, amount)| amount).sum();
        if amount <= 0 {
            return Vec::new();
        }
        let items: Vec<OrderItemId> = lines.into_iter().map(|(id, _)| id).collect();
        let reason = "lines cancelled before payment";
        self.record.refunds.push(Refund::approved(
            id,
            amount,
            items.clone(),
            reason,
            "system",
            "line cancellation",
            now,
        ));
        vec![OrderEvent::RefundRequested(RefundRequested {
            refund_id: id,
            amount,
            status: super::RefundStatus::Approved,
            items,
            reason: reason.to_owned(),
        })]
    }

    fn remaining_refundable_under(&self, terms: RefundTerms) -> i64 {
        (terms.refundable_max - self.committed_refunds()).max(0)
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use super::*;
    use crate::ids::PaymentIntentId;
    use crate::order::tests::{T0, names, order_in, uuid};
    use crate::order::{OrderRecord, RefundStatus};

    fn refund_of(id: u128, terms: RefundTerms) -> Option<LineRefund<'static>> {
        Some(LineRefund {
            id: RefundId::from_uuid(uuid(id)),
            terms,
            requested_by: "buyer",
        })
    }

    #[test]
    fn a_paid_line_is_refunded_its_share_and_the_rest_of_the_order_what_is_left() {
        // Given a confirmed order of two lines whose policy keeps 563.
        let mut order = order_in(OrderKind::Ticket, OrderStatus::Confirmed).expect("reachable");
        let terms = RefundTerms {
            refundable_max: order.total().minor() - 563,
            retained: 563,
        };
        let (first, second) = (order.items()[0].id, order.items()[1].id);
        let share = order.line_refund_amounts(terms)[1].1;
        // When the second line is cancelled.
        let events = order
            .cancel_line(second, "one ticket less", refund_of(901, terms), T0)
            .expect("cancelled");
        // Then exactly its share is refunded and the order stays CONFIRMED.
        assert_eq!(names(&events), ["order.item_cancelled", "refund.requested"]);
        assert_eq!(order.status(), OrderStatus::Confirmed);
        assert_eq!(order.cancelled_items(), [second]);
        assert_eq!(
            order.active_items().map(|i| i.id).collect::<Vec<_>>(),
            [first]
        );
        let refund = &order.refunds()[0];
        assert_eq!(
            (refund.amount, refund.status),
            (share, RefundStatus::Approved)
        );
        assert_eq!(refund.items, [second]);
        // The last line is the whole order; cancelling it refunds what the terms still allow.
        assert_eq!(
            order.cancel_line(first, "none", refund_of(902, terms), T0),
            Err(OrderError::LastActiveItem)
        );
        order
            .cancel(
                "none at all",
                Some((RefundId::from_uuid(uuid(903)), terms, "buyer")),
                T0,
            )
            .expect("order cancelled");
        assert_eq!(order.committed_refunds(), terms.refundable_max);
    }

    #[test]
    fn a_line_cancelled_before_payment_is_refunded_in_full_once_the_payment_arrives() {
        let mut order = order_in(OrderKind::Goods, OrderStatus::Reserved).expect("reachable");
        let line = order.items()[1].clone();
        let events = order
            .cancel_line(line.id, "changed my mind", None, T0)
            .expect("cancelled");
        assert_eq!(names(&events), ["order.item_cancelled"]);
        assert!(order.refunds().is_empty(), "nothing was paid yet");
        order
            .confirm(&PaymentIntentId::new("pi-1"), T0)
            .expect("confirmed");
        let refund = RefundId::from_uuid(uuid(904));
        let events = order.refund_lines_cancelled_unpaid(refund, T0);
        assert_eq!(names(&events), ["refund.requested"]);
        let refunded = order.refund(refund).expect("recorded");
        assert_eq!(refunded.amount, line.pricing.total().minor());
        assert_eq!(refunded.items, [line.id]);
        assert!(
            order
                .refund_lines_cancelled_unpaid(RefundId::from_uuid(uuid(905)), T0)
                .is_empty(),
            "the line is refunded once"
        );
    }

    #[test]
    fn lines_are_cancelled_once_only_while_the_order_has_not_shipped() {
        let mut order = order_in(OrderKind::Goods, OrderStatus::Processing).expect("reachable");
        let (first, second) = (order.items()[0].id, order.items()[1].id);
        let unknown = OrderItemId::from_uuid(uuid(999));
        assert_eq!(
            order.cancel_line(unknown, "?", None, T0),
            Err(OrderError::ItemNotFound(unknown))
        );
        let full = RefundTerms {
            refundable_max: order.total().minor(),
            retained: 0,
        };
        order
            .cancel_line(first, "out of stock", refund_of(906, full), T0)
            .expect("cancelled while processing");
        assert_eq!(
            order.refunds()[0].amount,
            order.items()[0].pricing.total().minor(),
            "goods lines come back in full"
        );
        assert_eq!(
            order.cancel_line(first, "again", refund_of(907, full), T0),
            Err(OrderError::ItemAlreadyCancelled(first))
        );
        let shipped = order_in(OrderKind::Goods, OrderStatus::Shipped).expect("reachable");
        assert_eq!(
            shipped.clone().cancel_line(second, "late", None, T0),
            Err(OrderError::LineCancellationClosed {
                status: OrderStatus::Shipped
            })
        );
    }

    #[test]
    fn a_cancelled_line_is_not_returned_and_a_whole_return_covers_the_lines_still_ordered() {
        let mut order = order_in(OrderKind::Goods, OrderStatus::Confirmed).expect("reachable");
        let (first, second) = (order.items()[0].id, order.items()[1].id);
        let full = RefundTerms {
            refundable_max: order.total().minor(),
            retained: 0,
        };
        order
            .cancel_line(second, "not needed", refund_of(908, full), T0)
            .expect("cancelled");
        order.start_fulfillment(T0).expect("processing");
        order
            .ship(
                crate::order::Shipment {
                    carrier: "ACME".into(),
                    tracking_number: "1Z".into(),
                    label_url: None,
                    estimated_delivery: None,
                },
                T0,
            )
            .expect("shipped");
        assert_eq!(
            order
                .clone()
                .request_return("no", &[second], Duration::days(30), T0),
            Err(OrderError::ItemAlreadyCancelled(second))
        );
        order
            .request_return("no", &[], Duration::days(30), T0)
            .expect("returned");
        assert_eq!(order.return_items(), [first]);
    }

    #[test]
    fn a_stored_order_cancelling_a_line_it_does_not_have_is_refused() {
        let order = order_in(OrderKind::Goods, OrderStatus::Confirmed).expect("reachable");
        let mut record: OrderRecord = order.into_record();
        record.cancelled_items = vec![OrderItemId::from_uuid(uuid(999))];
        assert!(Order::restore(record.clone()).is_err());
        record.cancelled_items = vec![record.items[0].id, record.items[0].id];
        assert!(Order::restore(record).is_err(), "the same line twice");
    }
}
