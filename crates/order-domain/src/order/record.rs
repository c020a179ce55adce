//! The stored form of an order ([`OrderRecord`]) and the checks that rebuild an aggregate from it
//! ([`Order::restore`]).

use time::OffsetDateTime;

use super::{
    ContactEmail, GoodsDetails, ItemProduct, Milestones, Order, OrderItem, OrderKind,
    OrderMetadata, OrderStatus, Refund, Shipment,
};
use crate::ids::{
    EventId, HoldId, OrderEditId, OrderId, OrderItemId, OrderNumber, PaymentIntentId, TenantId,
    TicketId, UserId,
};
use crate::pricing::PriceBreakdown;

/// Every field of an order, as adapters store and load it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // each field is documented on its getter of `Order`
pub struct OrderRecord {
    pub id: OrderId,
    pub tenant_id: TenantId,
    pub number: OrderNumber,
    pub user_id: UserId,
    pub kind: OrderKind,
    pub status: OrderStatus,
    /// Version of the stored row this was loaded from; 0 for an order never stored.
    pub version: u64,
    pub event_id: Option<EventId>,
    pub items: Vec<OrderItem>,
    pub pricing: PriceBreakdown,
    pub goods: GoodsDetails,
    /// The client's own data.
    pub metadata: OrderMetadata,
    /// Where notifications go.
    pub contact_email: Option<ContactEmail>,
    /// The upstream hold (ticket hold or stock reservation).
    pub hold_id: Option<HoldId>,
    /// When the reservation or payment window ends.
    pub expires_at: OffsetDateTime,
    /// How often the reservation was extended (docs/product/reservations-and-refunds.md's hold
    /// cap).
    pub hold_extensions: u32,
    pub payment_intent_id: Option<PaymentIntentId>,
    pub shipment: Option<Shipment>,
    pub ticket_ids: Vec<TicketId>,
    pub refunds: Vec<Refund>,
    /// The refundable maximum of the latest refund terms.
    pub refundable_max: Option<i64>,
    pub cancellation_reason: Option<String>,
    pub return_reason: Option<String>,
    /// The lines of a partial return; empty when the whole order was returned (or none was).
    pub return_items: Vec<OrderItemId>,
    /// The lines cancelled one by one (decision 0050), in the order they were cancelled.
    pub cancelled_items: Vec<OrderItemId>,
    /// The edits applied to the order, oldest first (their details are in the audit trail).
    pub edits: Vec<OrderEditId>,
    /// An edit raising the paid order's total, waiting for its difference to be paid.
    pub pending_edit: Option<super::PendingEdit>,
    /// The differences edits' own intents captured.
    pub edit_payments: Vec<super::EditPayment>,
    pub milestones: Milestones,
}

/// A stored order that breaks an invariant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored order {order_id} is inconsistent: {problem}")]
pub struct InvalidOrderRecord {
    /// The order.
    pub order_id: OrderId,
    /// What is wrong.
    pub problem: &'static str,
}

impl Order {
    /// Rebuilds a stored order, checking its invariants.
    ///
    /// # Errors
    /// [`InvalidOrderRecord`] when the lines do not add up to the order, refunds exceed it, the
    /// status has no milestone or a milestone lies outside the order's lifetime, or the kind does
    /// not match the event and the lines.
    pub fn restore(record: OrderRecord) -> Result<Order, InvalidOrderRecord> {
        let order_id = record.id;
        let invalid = |problem| InvalidOrderRecord { order_id, problem };
        if record.items.is_empty() {
            return Err(invalid("no items"));
        }
        if let Some(problem) = record.milestones.contradiction(record.status) {
            return Err(invalid(problem));
        }
        if (record.kind == OrderKind::Ticket) != record.event_id.is_some() {
            return Err(invalid(
                "a ticket order needs its event, a goods order has none",
            ));
        }
        let lines_fit_kind = record.items.iter().all(|item| {
            matches!(
                (&item.product, record.kind),
                (ItemProduct::Ticket { .. }, OrderKind::Ticket)
                    | (ItemProduct::Goods { .. }, OrderKind::Goods)
            )
        });
        if !lines_fit_kind {
            return Err(invalid("a line of the other kind of order"));
        }
        let cancelled_on_order = record.cancelled_items.iter().enumerate().all(|(n, id)| {
            record.items.iter().any(|item| item.id == *id)
                && !record.cancelled_items[..n].contains(id)
        });
        if !cancelled_on_order {
            return Err(invalid(
                "a cancelled line that is not on the order, or twice",
            ));
        }
        let order_parts = record.pricing.components();
        let mut sums = [0i64; 6];
        for item in &record.items {
            if item.pricing.currency() != record.pricing.currency() {
                return Err(invalid("line currency differs from the order's"));
            }
            let c = item.pricing.components();
            for (sum, part) in sums.iter_mut().zip([
                c.subtotal,
                c.discount,
                c.platform_fee,
                c.processing_fee,
                c.shipping,
                c.tax,
            ]) {
                *sum = sum
                    .checked_add(part)
                    .ok_or_else(|| invalid("line amounts overflow"))?;
            }
        }
        let expected = [
            order_parts.subtotal,
            order_parts.discount,
            order_parts.platform_fee,
            order_parts.processing_fee,
            order_parts.shipping,
            order_parts.tax,
        ];
        if sums != expected {
            return Err(invalid("lines do not add up to the order"));
        }
        let order = Order {
            stored_status: Some(record.status),
            record,
        };
        if order.committed_refunds() > order.total().minor() {
            return Err(invalid("refunds exceed the total"));
        }
        Ok(order)
    }
}
