//! The order aggregate: one order's items, prices, reservation, payment, fulfillment and refunds.
//!
//! Every change goes through a command method that checks the transition table
//! ([`status::transition_allowed`]) and returns the [`OrderEvent`]s it produced; a command in the
//! wrong state is an error naming both states, never a silent no-op. Fields are private: adapters
//! read and rebuild an order through [`OrderRecord`], which [`Order::restore`] checks.

mod cancellation;
mod contact;
mod edit;
mod edit_payment;
mod fulfillment;
mod goods;
mod line_cancellation;
mod lines;
mod metadata;
mod milestones;
mod payment;
mod read;
mod record;
mod refund;
pub mod status;

use time::OffsetDateTime;

pub use self::contact::{ContactEmail, InvalidEmail, MAX_EMAIL_CHARS};
pub use self::edit::{EditBalance, EditChange, EditWindow, PriceDifference};
pub use self::edit_payment::{DifferenceDue, EditPayment, PendingEdit};
pub use self::goods::{Address, GoodsDetails, Shipment};
pub use self::line_cancellation::LineRefund;
pub use self::lines::{ItemProduct, OrderItem, price_items};
pub use self::metadata::{InvalidMetadata, MAX_METADATA_BYTES, OrderMetadata};
pub use self::milestones::Milestones;
pub use self::record::{InvalidOrderRecord, OrderRecord};
pub use self::refund::{
    Refund, RefundError, RefundRequest, RefundScope, RefundTerms, RetrySchedule,
};
pub use self::status::{
    InvalidTransition, OrderKind, OrderStatus, RefundStatus, check_transition, transition_allowed,
};
use crate::events::{CreatedItem, OrderCreated, OrderEvent, StatusChanged};
use crate::ids::{EventId, OrderId, OrderItemId, OrderNumber, PaymentIntentId, TenantId, UserId};
use crate::pricing::PricedOrder;

/// Why an order command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// The transition table does not allow it.
    #[error(transparent)]
    InvalidTransition(#[from] InvalidTransition),
    /// A refund rule was broken.
    #[error(transparent)]
    Refund(#[from] RefundError),
    /// The command exists for the other kind of order only.
    #[error("this command applies to {expected:?} orders only")]
    WrongKind {
        /// The kind it applies to.
        expected: OrderKind,
    },
    /// Confirmation with an intent the order did not create.
    #[error("payment intent {received} does not belong to this order")]
    PaymentIntentMismatch {
        /// The intent in the request.
        received: PaymentIntentId,
    },
    /// Confirmation of an order that has no payment intent: nothing says what was paid.
    #[error("no payment intent is attached to this order")]
    NoPaymentIntent,
    /// Expiry asked for before the reservation ran out.
    #[error("the reservation runs until {expires_at}")]
    NotYetExpired {
        /// When it runs out.
        expires_at: OffsetDateTime,
    },
    /// The return window has closed.
    #[error("the return window closed at {deadline}")]
    ReturnWindowClosed {
        /// When it closed.
        deadline: OffsetDateTime,
    },
    /// The priced lines do not match the items.
    #[error("the price breakdown does not match the items")]
    PricingMismatch,
    /// An order needs at least one item.
    #[error("an order needs at least one item")]
    NoItems,
    /// No line with that id on this order.
    #[error("order item {0} is not on this order")]
    ItemNotFound(OrderItemId),
    /// The line was cancelled already (it cannot be cancelled or returned again).
    #[error("order item {0} has been cancelled")]
    ItemAlreadyCancelled(OrderItemId),
    /// Lines are cancelled only before shipping, while the order is open.
    #[error("lines of a {status} order cannot be cancelled")]
    LineCancellationClosed {
        /// The order's status.
        status: OrderStatus,
    },
    /// The last active line: cancelling it is cancelling the order.
    #[error("the last active line is cancelled by cancelling the order")]
    LastActiveItem,
    /// The order may not be edited now.
    #[error("a {status} order cannot be edited: {why}")]
    NotEditable {
        /// The order's status.
        status: OrderStatus,
        /// Which rule refuses.
        why: &'static str,
    },
}

/// Everything needed to create an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// New id.
    pub id: OrderId,
    /// Tenant.
    pub tenant_id: TenantId,
    /// New order number.
    pub number: OrderNumber,
    /// Buyer.
    pub user_id: UserId,
    /// Ticket or goods.
    pub kind: OrderKind,
    /// The event (ticket orders).
    pub event_id: Option<EventId>,
    /// The lines, in the order they were priced.
    pub items: Vec<NewOrderItem>,
    /// The price of the order and of each line.
    pub priced: PricedOrder,
    /// Goods details (empty for tickets).
    pub goods: GoodsDetails,
    /// The client's own data, stored and returned as given.
    pub metadata: OrderMetadata,
    /// Where notifications about the order go (the JWT `email` claim), when known.
    pub contact_email: Option<ContactEmail>,
    /// End of the reservation / payment window.
    pub expires_at: OffsetDateTime,
    /// Creation time.
    pub now: OffsetDateTime,
}

/// One line of a [`NewOrder`]: what it is and the unit price its upstream answered, before the
/// order's components are allocated to it (then it is an [`OrderItem`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrderItem {
    /// New line id.
    pub id: OrderItemId,
    /// What it is.
    pub product: ItemProduct,
    /// Units.
    pub quantity: u32,
    /// Price of one unit, minor units.
    pub unit_price: i64,
}

/// The order aggregate.
#[derive(Debug, Clone)]
pub struct Order {
    record: OrderRecord,
    /// The status of the stored row this order was loaded from (`None`: never stored). The unit
    /// of work gives a per-event quota place back when an order leaves the active statuses.
    stored_status: Option<OrderStatus>,
}

/// Two orders are equal when their state is; which stored row they came from is bookkeeping.
impl PartialEq for Order {
    fn eq(&self, other: &Self) -> bool {
        self.record == other.record
    }
}

impl Eq for Order {}

impl Order {
    /// Creates a PENDING order.
    ///
    /// # Errors
    /// [`OrderError::NoItems`] or [`OrderError::PricingMismatch`] when the priced lines do not
    /// belong to the items.
    pub fn create(new: NewOrder) -> Result<(Order, Vec<OrderEvent>), OrderError> {
        if new.items.is_empty() {
            return Err(OrderError::NoItems);
        }
        if new.priced.lines.len() != new.items.len() {
            return Err(OrderError::PricingMismatch);
        }
        let currency = new.priced.order.currency();
        let items = priced_items(new.items, new.priced.lines, currency)?;
        let record = OrderRecord {
            id: new.id,
            tenant_id: new.tenant_id,
            number: new.number,
            user_id: new.user_id,
            kind: new.kind,
            status: OrderStatus::Pending,
            version: 0,
            event_id: new.event_id,
            items,
            pricing: new.priced.order,
            goods: new.goods,
            metadata: new.metadata,
            contact_email: new.contact_email,
            hold_id: None,
            expires_at: new.expires_at,
            hold_extensions: 0,
            payment_intent_id: None,
            shipment: None,
            ticket_ids: Vec::new(),
            refunds: Vec::new(),
            refundable_max: None,
            cancellation_reason: None,
            return_reason: None,
            return_items: Vec::new(),
            cancelled_items: Vec::new(),
            edits: Vec::new(),
            pending_edit: None,
            edit_payments: Vec::new(),
            milestones: Milestones::new(new.now),
        };
        let order = Order {
            record,
            stored_status: None,
        };
        let event = OrderEvent::Created(OrderCreated {
            order_number: order.record.number.clone(),
            kind: order.record.kind,
            user_id: order.record.user_id,
            event_id: order.record.event_id,
            currency: order.currency(),
            subtotal: order.record.pricing.subtotal().minor(),
            total: order.total().minor(),
            items: order
                .record
                .items
                .iter()
                .map(|item| CreatedItem {
                    item_id: item.id,
                    reference: item.product.reference(),
                    quantity: item.quantity,
                    unit_price: item.unit_price,
                    total: item.pricing.total().minor(),
                })
                .collect(),
        });
        Ok((order, vec![event]))
    }

    /// Gives a new order another number (its first was taken: numbers carry 30 random bits per
    /// tenant and day, so a busy day meets a collision now and then) and the creation event
    /// among `events` the same. A stored order keeps its number: `false` then, nothing changed.
    pub fn renumber(&mut self, number: OrderNumber, events: &mut [OrderEvent]) -> bool {
        if self.record.version != 0 {
            return false;
        }
        for event in events.iter_mut() {
            if let OrderEvent::Created(created) = event {
                created.order_number = number.clone();
            }
        }
        self.record.number = number;
        true
    }

    /// Records that the unit of work stored this state: the next save expects the new version.
    pub fn mark_committed(&mut self) {
        self.record.version += 1;
        self.stored_status = Some(self.record.status);
    }

    fn require_kind(&self, expected: OrderKind) -> Result<(), OrderError> {
        if self.kind() == expected {
            Ok(())
        } else {
            Err(OrderError::WrongKind { expected })
        }
    }

    fn invalid(&self, to: OrderStatus) -> InvalidTransition {
        InvalidTransition {
            kind: self.kind(),
            from: self.status(),
            to,
        }
    }

    fn transition(
        &mut self,
        to: OrderStatus,
        now: OffsetDateTime,
    ) -> Result<StatusChanged, InvalidTransition> {
        let from = self.status();
        check_transition(self.kind(), from, to)?;
        self.record.status = to;
        self.record.milestones.reach(to, now);
        Ok(StatusChanged { from, to })
    }
}

/// The lines with their share of the breakdown, checked to belong together: one price per line,
/// each line's subtotal its unit price × quantity, one currency. Creation and edits both take
/// their lines through here.
fn priced_items(
    items: Vec<NewOrderItem>,
    prices: Vec<crate::pricing::PriceBreakdown>,
    currency: crate::money::Currency,
) -> Result<Vec<OrderItem>, OrderError> {
    if items.is_empty() {
        return Err(OrderError::NoItems);
    }
    if prices.len() != items.len() {
        return Err(OrderError::PricingMismatch);
    }
    items
        .into_iter()
        .zip(prices)
        .map(|(item, pricing)| {
            let expected = item.unit_price.checked_mul(i64::from(item.quantity));
            if expected != Some(pricing.subtotal().minor()) || pricing.currency() != currency {
                return Err(OrderError::PricingMismatch);
            }
            Ok(OrderItem {
                id: item.id,
                product: item.product,
                quantity: item.quantity,
                unit_price: item.unit_price,
                pricing,
            })
        })
        .collect()
}

#[cfg(test)]
mod edit_tests;
#[cfg(test)]
pub(crate) mod tests;
