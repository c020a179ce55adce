//! The order aggregate: one order's items, prices, reservation, payment, fulfillment and refunds.
//!
//! Every change goes through a command method that checks the transition table
//! ([`status::transition_allowed`]) and returns the [`OrderEvent`]s it produced; a command in the
//! wrong state is an error naming both states, never a silent no-op. Fields are private: adapters
//! read and rebuild an order through [`OrderRecord`], which [`Order::restore`] checks.

mod refund;
pub mod status;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

pub use self::refund::{Refund, RefundError, RefundScope, RefundStatus, RefundTerms};
pub use self::status::{
    InvalidTransition, OrderKind, OrderStatus, check_transition, transition_allowed,
};
use crate::events::{
    CreatedItem, OrderCancelled, OrderConfirmed, OrderCreated, OrderEvent, OrderExpired,
    OrderRefunded, OrderReserved, OrderReturned, OrderShipped, RefundCompleted, RefundDecided,
    RefundFailed, RefundRequested, StatusChanged, TicketsAllocated,
};
use crate::ids::{
    EventId, HoldId, OrderId, OrderItemId, OrderNumber, PaymentIntentId, ProductId, RefundId,
    TenantId, TicketId, TicketPricingId, TicketTypeId, UserId,
};
use crate::money::Currency;
use crate::pricing::allocation::allocate;
use crate::pricing::{PriceBreakdown, PricedOrder};

/// What an order line is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ItemProduct {
    /// Tickets of one type at one price.
    #[serde(rename_all = "camelCase")]
    Ticket {
        /// The ticket type (section, tier).
        ticket_type_id: TicketTypeId,
        /// The price point within the type.
        ticket_pricing_id: TicketPricingId,
    },
    /// A product with the shopper's selected attributes.
    #[serde(rename_all = "camelCase")]
    Goods {
        /// The catalog product.
        product_id: ProductId,
        /// Name at the time of ordering.
        name: String,
        /// Selected attributes (size, colour, …).
        attributes: BTreeMap<String, String>,
    },
}

impl ItemProduct {
    /// A short text reference for events and logs.
    pub fn reference(&self) -> String {
        match self {
            Self::Ticket { ticket_type_id, .. } => format!("ticket-type:{ticket_type_id}"),
            Self::Goods { product_id, .. } => format!("product:{product_id}"),
        }
    }
}

/// One line of an order with its share of every price component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    /// Line id.
    pub id: OrderItemId,
    /// What it is.
    pub product: ItemProduct,
    /// Units, ≥ 1.
    pub quantity: u32,
    /// Price of one unit, minor units.
    pub unit_price: i64,
    /// The line's share of the order's breakdown; the lines add up to the order exactly.
    pub pricing: PriceBreakdown,
}

/// A postal address (goods orders).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// Recipient.
    pub name: String,
    /// Street and number.
    pub line1: String,
    /// Apartment, floor, …
    pub line2: Option<String>,
    /// City.
    pub city: String,
    /// State, province or region code.
    pub region: Option<String>,
    /// Postal code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

/// Shipping data recorded when the order ships.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shipment {
    /// Carrier name.
    pub carrier: String,
    /// Carrier tracking number.
    pub tracking_number: String,
    /// Label document.
    pub label_url: Option<String>,
    /// Delivery estimate.
    pub estimated_delivery: Option<Date>,
}

/// Goods-only order details.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GoodsDetails {
    /// Where it ships.
    pub shipping_address: Option<Address>,
    /// Where the invoice goes (the shipping address when absent).
    pub billing_address: Option<Address>,
    /// Chosen shipping method code.
    pub shipping_method: Option<String>,
    /// Applied promo code.
    pub promo_code: Option<String>,
    /// The shopper's notes.
    pub notes: Option<String>,
    /// Payment method label.
    pub payment_method: Option<String>,
}

/// When each milestone was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Milestones {
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub reserved_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub confirmed_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub processing_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub shipped_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub delivered_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub cancelled_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expired_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub returned_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub refunded_at: Option<OffsetDateTime>,
}

impl Milestones {
    fn new(now: OffsetDateTime) -> Self {
        Self {
            created_at: now,
            updated_at: now,
            reserved_at: None,
            confirmed_at: None,
            processing_at: None,
            shipped_at: None,
            delivered_at: None,
            cancelled_at: None,
            expired_at: None,
            returned_at: None,
            refunded_at: None,
        }
    }

    /// When the order reached `status`; `created_at` for PENDING, where every order starts.
    pub fn reached(&self, status: OrderStatus) -> Option<OffsetDateTime> {
        match status {
            OrderStatus::Pending => Some(self.created_at),
            OrderStatus::Reserved => self.reserved_at,
            OrderStatus::Confirmed => self.confirmed_at,
            OrderStatus::Processing => self.processing_at,
            OrderStatus::Shipped => self.shipped_at,
            OrderStatus::Delivered => self.delivered_at,
            OrderStatus::Cancelled => self.cancelled_at,
            OrderStatus::Expired => self.expired_at,
            OrderStatus::Returned => self.returned_at,
            OrderStatus::Refunded => self.refunded_at,
        }
    }

    /// The first milestone that contradicts `status`: the status itself not reached, or a
    /// milestone outside `created_at..=updated_at`.
    fn contradiction(&self, status: OrderStatus) -> Option<&'static str> {
        if self.updated_at < self.created_at {
            return Some("updated before it was created");
        }
        if self.reached(status).is_none() {
            return Some("status without its milestone");
        }
        let outside = OrderStatus::ALL
            .into_iter()
            .filter_map(|s| self.reached(s))
            .any(|at| at < self.created_at || at > self.updated_at);
        outside.then_some("a milestone outside the order's lifetime")
    }

    fn reach(&mut self, status: OrderStatus, now: OffsetDateTime) {
        self.updated_at = now;
        let slot = match status {
            OrderStatus::Pending => return,
            OrderStatus::Reserved => &mut self.reserved_at,
            OrderStatus::Confirmed => &mut self.confirmed_at,
            OrderStatus::Processing => &mut self.processing_at,
            OrderStatus::Shipped => &mut self.shipped_at,
            OrderStatus::Delivered => &mut self.delivered_at,
            OrderStatus::Cancelled => &mut self.cancelled_at,
            OrderStatus::Expired => &mut self.expired_at,
            OrderStatus::Returned => &mut self.returned_at,
            OrderStatus::Refunded => &mut self.refunded_at,
        };
        *slot = Some(now);
    }
}

/// Every field of an order, as adapters store and load it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)] // each field is documented on the getter-free aggregate above
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
    /// The upstream hold (ticket hold or stock reservation).
    pub hold_id: Option<HoldId>,
    /// When the reservation or payment window ends.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub payment_intent_id: Option<PaymentIntentId>,
    pub shipment: Option<Shipment>,
    pub ticket_ids: Vec<TicketId>,
    pub refunds: Vec<Refund>,
    /// The refundable maximum of the latest refund terms.
    pub refundable_max: Option<i64>,
    pub cancellation_reason: Option<String>,
    pub return_reason: Option<String>,
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
    /// End of the reservation / payment window.
    pub expires_at: OffsetDateTime,
    /// Creation time.
    pub now: OffsetDateTime,
}

/// One line of a [`NewOrder`].
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

/// A refund to record: its new id, what it covers, and the policy's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// New refund id.
    pub id: RefundId,
    /// What it covers.
    pub scope: RefundScope,
    /// Why.
    pub reason: String,
    /// Who asks.
    pub requested_by: String,
    /// Refunds below this amount (minor units) are approved at once.
    pub auto_approve_below: i64,
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
        let items = new
            .items
            .into_iter()
            .zip(new.priced.lines)
            .map(|(item, pricing)| {
                let expected = item.unit_price.checked_mul(i64::from(item.quantity));
                if expected != Some(pricing.subtotal().minor())
                    || pricing.currency() != new.priced.order.currency()
                {
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
            .collect::<Result<Vec<_>, _>>()?;
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
            hold_id: None,
            expires_at: new.expires_at,
            payment_intent_id: None,
            shipment: None,
            ticket_ids: Vec::new(),
            refunds: Vec::new(),
            refundable_max: None,
            cancellation_reason: None,
            return_reason: None,
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
            total: order.total(),
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
        if order.committed_refunds() > order.total() {
            return Err(invalid("refunds exceed the total"));
        }
        Ok(order)
    }

    /// The stored form.
    pub fn record(&self) -> &OrderRecord {
        &self.record
    }

    /// The stored form, by value.
    pub fn into_record(self) -> OrderRecord {
        self.record
    }

    /// Order id.
    pub fn id(&self) -> OrderId {
        self.record.id
    }
    /// Tenant.
    pub fn tenant_id(&self) -> TenantId {
        self.record.tenant_id
    }
    /// Buyer.
    pub fn user_id(&self) -> UserId {
        self.record.user_id
    }
    /// Ticket or goods.
    pub fn kind(&self) -> OrderKind {
        self.record.kind
    }
    /// Current status.
    pub fn status(&self) -> OrderStatus {
        self.record.status
    }
    /// Version of the stored row this order was loaded from (0: never stored).
    pub fn version(&self) -> u64 {
        self.record.version
    }
    /// The status of the stored row this order was loaded from; `None` before it is first
    /// stored.
    pub fn stored_status(&self) -> Option<OrderStatus> {
        self.stored_status
    }
    /// Currency of every amount.
    pub fn currency(&self) -> Currency {
        self.record.pricing.currency()
    }
    /// What the customer pays, minor units.
    pub fn total(&self) -> i64 {
        self.record.pricing.total().minor()
    }
    /// The order's breakdown.
    pub fn pricing(&self) -> &PriceBreakdown {
        &self.record.pricing
    }
    /// The lines.
    pub fn items(&self) -> &[OrderItem] {
        &self.record.items
    }
    /// The refunds.
    pub fn refunds(&self) -> &[Refund] {
        &self.record.refunds
    }
    /// End of the reservation or payment window.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.record.expires_at
    }
    /// The current upstream hold.
    pub fn hold_id(&self) -> Option<&HoldId> {
        self.record.hold_id.as_ref()
    }
    /// The payment intent.
    pub fn payment_intent_id(&self) -> Option<&PaymentIntentId> {
        self.record.payment_intent_id.as_ref()
    }
    /// The event (ticket orders).
    pub fn event_id(&self) -> Option<EventId> {
        self.record.event_id
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

    /// Attaches the payment intent created for this order (before it is first stored).
    ///
    /// # Errors
    /// [`InvalidTransition`] once the order is past PENDING/RESERVED.
    pub fn attach_payment_intent(&mut self, intent: PaymentIntentId) -> Result<(), OrderError> {
        if !self.status().is_unpaid() {
            return Err(self.invalid(OrderStatus::Confirmed).into());
        }
        self.record.payment_intent_id = Some(intent);
        Ok(())
    }

    /// PENDING → RESERVED (held), or RESERVED → RESERVED (extended).
    ///
    /// # Errors
    /// [`OrderError::InvalidTransition`] from any other status.
    pub fn reserve(
        &mut self,
        hold_id: HoldId,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let extended = self.status() == OrderStatus::Reserved;
        let change = self.transition(OrderStatus::Reserved, now)?;
        self.record.hold_id = Some(hold_id.clone());
        self.record.expires_at = expires_at;
        Ok(vec![OrderEvent::Reserved(OrderReserved {
            change,
            hold_id,
            expires_at,
            extended,
        })])
    }

    /// PENDING/RESERVED → CONFIRMED: the payment succeeded.
    ///
    /// # Errors
    /// [`OrderError::PaymentIntentMismatch`] when the intent is not this order's;
    /// [`OrderError::InvalidTransition`] from any other status.
    pub fn confirm(
        &mut self,
        intent: &PaymentIntentId,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        // Closed orders take the late-payment path instead (`recover_late_payment`).
        if !self.status().is_unpaid() {
            return Err(self.invalid(OrderStatus::Confirmed).into());
        }
        self.confirm_paid(intent, now)
    }

    /// Whether a payment for this order would arrive too late: the order EXPIRED, or was
    /// CANCELLED before anything was paid (decision 0015).
    pub fn closed_unpaid(&self) -> bool {
        match self.status() {
            OrderStatus::Expired => true,
            OrderStatus::Cancelled => self.record.milestones.confirmed_at.is_none(),
            _ => false,
        }
    }

    /// EXPIRED, or CANCELLED before payment → CONFIRMED: the payment arrived after the window
    /// closed and the tickets or stock were held again under `hold_id` (decision 0015).
    ///
    /// # Errors
    /// [`OrderError::InvalidTransition`] unless [`Order::closed_unpaid`];
    /// [`OrderError::PaymentIntentMismatch`] when the intent is not this order's.
    pub fn recover_late_payment(
        &mut self,
        intent: &PaymentIntentId,
        hold_id: HoldId,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        if !self.closed_unpaid() {
            return Err(self.invalid(OrderStatus::Confirmed).into());
        }
        let events = self.confirm_paid(intent, now)?;
        self.record.hold_id = Some(hold_id);
        Ok(events)
    }

    /// A payment that arrived after the order closed and cannot be honoured (nothing left to
    /// hold): an APPROVED refund of the whole payment, to be paid out at once (decision 0015).
    /// The order keeps its status.
    ///
    /// # Errors
    /// [`OrderError::InvalidTransition`] unless [`Order::closed_unpaid`];
    /// [`OrderError::PaymentIntentMismatch`] when the intent is not this order's;
    /// [`RefundError::NothingToRefund`] when this payment is already being refunded.
    pub fn refund_late_payment(
        &mut self,
        refund_id: RefundId,
        intent: &PaymentIntentId,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        if !self.closed_unpaid() {
            return Err(self.invalid(OrderStatus::Refunded).into());
        }
        self.check_intent(intent)?;
        if self.committed_refunds() > 0 {
            return Err(RefundError::NothingToRefund.into());
        }
        let amount = self.total();
        let reason = format!("late payment for a {} order", self.status());
        self.record.payment_intent_id = Some(intent.clone());
        self.record.refundable_max = Some(amount);
        self.record.refunds.push(Refund {
            id: refund_id,
            amount,
            status: RefundStatus::Approved,
            items: Vec::new(),
            reason: reason.clone(),
            requested_by: "system".to_owned(),
            requested_at: now,
            decided_by: Some("late-payment policy".to_owned()),
            decided_at: Some(now),
            decision_note: Some("nothing left to hold; the payment is returned".to_owned()),
            payment_reference: None,
            failure_reason: None,
            attempts: 0,
            completed_at: None,
        });
        self.record.milestones.updated_at = now;
        Ok(vec![
            OrderEvent::RefundRequested(RefundRequested {
                refund_id,
                amount,
                status: RefundStatus::Approved,
                items: Vec::new(),
                reason,
            }),
            OrderEvent::RefundApproved(RefundDecided {
                refund_id,
                amount,
                note: Some("late payment refunded in full".to_owned()),
            }),
        ])
    }

    fn check_intent(&self, intent: &PaymentIntentId) -> Result<(), OrderError> {
        if self
            .record
            .payment_intent_id
            .as_ref()
            .is_some_and(|own| own != intent)
        {
            return Err(OrderError::PaymentIntentMismatch {
                received: intent.clone(),
            });
        }
        Ok(())
    }

    fn confirm_paid(
        &mut self,
        intent: &PaymentIntentId,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        check_transition(self.kind(), self.status(), OrderStatus::Confirmed)?;
        self.check_intent(intent)?;
        let change = self.transition(OrderStatus::Confirmed, now)?;
        self.record.payment_intent_id = Some(intent.clone());
        Ok(vec![OrderEvent::Confirmed(OrderConfirmed {
            change,
            payment_intent_id: intent.clone(),
            total: self.total(),
        })])
    }

    /// → CANCELLED. An unpaid order needs no refund terms; a paid one gets an APPROVED refund of
    /// everything the terms still allow.
    ///
    /// # Errors
    /// [`OrderError::InvalidTransition`] when the table does not allow CANCELLED.
    pub fn cancel(
        &mut self,
        reason: &str,
        refund: Option<(RefundId, RefundTerms, &str)>,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        check_transition(self.kind(), self.status(), OrderStatus::Cancelled)?;
        let paid = !self.status().is_unpaid();
        let mut events = Vec::new();
        let mut started = None;
        if let (true, Some((id, terms, requested_by))) = (paid, refund) {
            self.record.refundable_max = Some(terms.refundable_max);
            let remaining = self.remaining_refundable();
            if remaining > 0 {
                self.record.refunds.push(Refund {
                    id,
                    amount: remaining,
                    status: RefundStatus::Approved,
                    items: Vec::new(),
                    reason: reason.to_owned(),
                    requested_by: requested_by.to_owned(),
                    requested_at: now,
                    decided_by: Some(requested_by.to_owned()),
                    decided_at: Some(now),
                    decision_note: Some("cancellation".to_owned()),
                    payment_reference: None,
                    failure_reason: None,
                    attempts: 0,
                    completed_at: None,
                });
                started = Some((id, remaining));
            }
        }
        let change = self.transition(OrderStatus::Cancelled, now)?;
        self.record.cancellation_reason = Some(reason.to_owned());
        events.push(OrderEvent::Cancelled(OrderCancelled {
            change,
            reason: reason.to_owned(),
            refund_id: started.map(|(id, _)| id),
            refund_amount: started.map(|(_, amount)| amount),
            hold_id: if change.from.is_unpaid() {
                self.record.hold_id.clone()
            } else {
                None
            },
        }));
        if let Some((id, amount)) = started {
            events.push(OrderEvent::RefundRequested(RefundRequested {
                refund_id: id,
                amount,
                status: RefundStatus::Approved,
                items: Vec::new(),
                reason: reason.to_owned(),
            }));
        }
        Ok(events)
    }

    /// PENDING/RESERVED → EXPIRED once the window has ended.
    ///
    /// # Errors
    /// [`OrderError::NotYetExpired`] before `expires_at`; [`OrderError::InvalidTransition`] from
    /// any other status.
    pub fn expire(&mut self, now: OffsetDateTime) -> Result<Vec<OrderEvent>, OrderError> {
        check_transition(self.kind(), self.status(), OrderStatus::Expired)?;
        if now < self.record.expires_at {
            return Err(OrderError::NotYetExpired {
                expires_at: self.record.expires_at,
            });
        }
        let change = self.transition(OrderStatus::Expired, now)?;
        Ok(vec![OrderEvent::Expired(OrderExpired {
            change,
            hold_id: self.record.hold_id.clone(),
        })])
    }

    /// Records the tickets the ticket service issued (ticket orders, CONFIRMED); tickets it
    /// already has produce no event.
    ///
    /// # Errors
    /// [`OrderError::WrongKind`] for goods; [`OrderError::InvalidTransition`] unless CONFIRMED.
    pub fn attach_tickets(
        &mut self,
        ticket_ids: Vec<TicketId>,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        self.require_kind(OrderKind::Ticket)?;
        if self.status() != OrderStatus::Confirmed {
            return Err(self.invalid(OrderStatus::Confirmed).into());
        }
        let mut new_ids: Vec<TicketId> = Vec::new();
        for id in ticket_ids {
            if !self.record.ticket_ids.contains(&id) && !new_ids.contains(&id) {
                new_ids.push(id);
            }
        }
        if new_ids.is_empty() {
            // Already known (the confirmation attached them): nothing happened.
            return Ok(Vec::new());
        }
        self.record.ticket_ids.extend(new_ids.iter().cloned());
        self.record.milestones.updated_at = now;
        Ok(vec![OrderEvent::TicketsAllocated(TicketsAllocated {
            ticket_ids: new_ids,
        })])
    }

    /// CONFIRMED → PROCESSING (goods).
    ///
    /// # Errors
    /// [`OrderError::InvalidTransition`] from any other status or kind.
    pub fn start_fulfillment(
        &mut self,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let change = self.transition(OrderStatus::Processing, now)?;
        Ok(vec![OrderEvent::FulfillmentStarted(change)])
    }

    /// PROCESSING → SHIPPED with carrier and tracking number.
    ///
    /// # Errors
    /// [`OrderError::InvalidTransition`] from any other status or kind.
    pub fn ship(
        &mut self,
        shipment: Shipment,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let change = self.transition(OrderStatus::Shipped, now)?;
        let event = OrderEvent::Shipped(OrderShipped {
            change,
            carrier: shipment.carrier.clone(),
            tracking_number: shipment.tracking_number.clone(),
            estimated_delivery: shipment.estimated_delivery,
        });
        self.record.shipment = Some(shipment);
        Ok(vec![event])
    }

    /// SHIPPED → DELIVERED.
    ///
    /// # Errors
    /// [`OrderError::InvalidTransition`] from any other status or kind.
    pub fn deliver(&mut self, now: OffsetDateTime) -> Result<Vec<OrderEvent>, OrderError> {
        let change = self.transition(OrderStatus::Delivered, now)?;
        Ok(vec![OrderEvent::Delivered(change)])
    }

    /// SHIPPED/DELIVERED → RETURNED, while `return_window` after delivery has not passed.
    ///
    /// # Errors
    /// [`OrderError::ReturnWindowClosed`] or [`OrderError::InvalidTransition`].
    pub fn request_return(
        &mut self,
        reason: &str,
        return_window: time::Duration,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        check_transition(self.kind(), self.status(), OrderStatus::Returned)?;
        if let Some(delivered) = self.record.milestones.delivered_at {
            let deadline = delivered + return_window;
            if now > deadline {
                return Err(OrderError::ReturnWindowClosed { deadline });
            }
        }
        let change = self.transition(OrderStatus::Returned, now)?;
        self.record.return_reason = Some(reason.to_owned());
        Ok(vec![OrderEvent::Returned(OrderReturned {
            change,
            reason: reason.to_owned(),
        })])
    }

    /// Asks for a refund under `terms`. Ticket orders refund while CONFIRMED; goods orders once
    /// RETURNED (before that, goods are cancelled instead). Below the auto-approval threshold
    /// the refund is APPROVED at once, otherwise it waits for an admin.
    ///
    /// # Errors
    /// [`OrderError::InvalidTransition`] (to REFUNDED) when the order's status allows no refund;
    /// [`RefundError`] when the amount is invalid, a line is unknown or already refunded, or the
    /// request exceeds what is left.
    pub fn request_refund(
        &mut self,
        request: RefundRequest,
        terms: RefundTerms,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let allowed = match self.kind() {
            OrderKind::Ticket => self.status() == OrderStatus::Confirmed,
            OrderKind::Goods => self.status() == OrderStatus::Returned,
        };
        if !allowed {
            return Err(self.invalid(OrderStatus::Refunded).into());
        }
        self.record.refundable_max = Some(terms.refundable_max);
        let remaining = self.remaining_refundable();
        let (amount, items) = match request.scope {
            RefundScope::Remaining => (remaining, Vec::new()),
            RefundScope::Amount(amount) if amount <= 0 => {
                return Err(RefundError::InvalidAmount.into());
            }
            RefundScope::Amount(amount) => (amount, Vec::new()),
            RefundScope::Items(items) => (self.items_refund_amount(&items, terms)?, items),
        };
        if remaining <= 0 {
            return Err(RefundError::NothingToRefund.into());
        }
        if amount <= 0 {
            return Err(RefundError::NothingToRefund.into());
        }
        if amount > remaining {
            return Err(RefundError::ExceedsRefundable {
                requested: amount,
                remaining,
            }
            .into());
        }
        let auto = amount < request.auto_approve_below;
        let status = if auto {
            RefundStatus::Approved
        } else {
            RefundStatus::Pending
        };
        self.record.refunds.push(Refund {
            id: request.id,
            amount,
            status,
            items: items.clone(),
            reason: request.reason.clone(),
            requested_by: request.requested_by.clone(),
            requested_at: now,
            decided_by: auto.then(|| "auto-approval".to_owned()),
            decided_at: auto.then_some(now),
            decision_note: None,
            payment_reference: None,
            failure_reason: None,
            attempts: 0,
            completed_at: None,
        });
        self.record.milestones.updated_at = now;
        let mut events = vec![OrderEvent::RefundRequested(RefundRequested {
            refund_id: request.id,
            amount,
            status,
            items,
            reason: request.reason,
        })];
        if auto {
            events.push(OrderEvent::RefundApproved(RefundDecided {
                refund_id: request.id,
                amount,
                note: Some("auto-approved below the threshold".to_owned()),
            }));
        }
        Ok(events)
    }

    /// A PENDING refund approved by an admin.
    ///
    /// # Errors
    /// [`RefundError::NotFound`] or [`RefundError::InvalidState`].
    pub fn approve_refund(
        &mut self,
        id: RefundId,
        admin: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let refund = self.refund_in(id, RefundStatus::Approved)?;
        refund.status = RefundStatus::Approved;
        refund.decided_by = Some(admin.to_owned());
        refund.decided_at = Some(now);
        let event = RefundDecided {
            refund_id: id,
            amount: refund.amount,
            note: None,
        };
        self.record.milestones.updated_at = now;
        Ok(vec![OrderEvent::RefundApproved(event)])
    }

    /// A PENDING refund rejected by an admin; it no longer counts toward the maximum.
    ///
    /// # Errors
    /// [`RefundError::NotFound`] or [`RefundError::InvalidState`].
    pub fn reject_refund(
        &mut self,
        id: RefundId,
        admin: &str,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let refund = self.refund_in(id, RefundStatus::Rejected)?;
        refund.status = RefundStatus::Rejected;
        refund.decided_by = Some(admin.to_owned());
        refund.decided_at = Some(now);
        refund.decision_note = Some(reason.to_owned());
        let event = RefundDecided {
            refund_id: id,
            amount: refund.amount,
            note: Some(reason.to_owned()),
        };
        self.record.milestones.updated_at = now;
        Ok(vec![OrderEvent::RefundRejected(event)])
    }

    /// The payment service paid an APPROVED (or previously FAILED) refund. When completed refunds
    /// reach the refundable maximum, a CONFIRMED ticket order or RETURNED goods order becomes
    /// REFUNDED.
    ///
    /// # Errors
    /// [`RefundError::NotFound`] or [`RefundError::InvalidState`].
    pub fn complete_refund(
        &mut self,
        id: RefundId,
        payment_reference: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let refund = self.refund_in(id, RefundStatus::Completed)?;
        refund.status = RefundStatus::Completed;
        refund.payment_reference = Some(payment_reference.to_owned());
        refund.attempts += 1;
        refund.completed_at = Some(now);
        refund.failure_reason = None;
        let mut events = vec![OrderEvent::RefundCompleted(RefundCompleted {
            refund_id: id,
            amount: refund.amount,
            payment_reference: payment_reference.to_owned(),
        })];
        self.record.milestones.updated_at = now;
        let completed = self.completed_refunds();
        let fully_refunded = self
            .record
            .refundable_max
            .is_some_and(|max| completed >= max);
        if fully_refunded && transition_allowed(self.kind(), self.status(), OrderStatus::Refunded) {
            let change = self.transition(OrderStatus::Refunded, now)?;
            events.push(OrderEvent::Refunded(OrderRefunded {
                change,
                refunded_total: completed,
            }));
        }
        Ok(events)
    }

    /// The payment service refused a refund; it stays FAILED until retried.
    ///
    /// # Errors
    /// [`RefundError::NotFound`] or [`RefundError::InvalidState`].
    pub fn fail_refund(
        &mut self,
        id: RefundId,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let refund = self.refund_in(id, RefundStatus::Failed)?;
        refund.status = RefundStatus::Failed;
        refund.failure_reason = Some(reason.to_owned());
        refund.attempts += 1;
        let event = RefundFailed {
            refund_id: id,
            reason: reason.to_owned(),
            attempts: refund.attempts,
        };
        self.record.milestones.updated_at = now;
        Ok(vec![OrderEvent::RefundFailed(event)])
    }

    /// The refund with `id`.
    pub fn refund(&self, id: RefundId) -> Option<&Refund> {
        self.record.refunds.iter().find(|r| r.id == id)
    }

    /// Refunds that are or will be paid out (all but REJECTED), minor units.
    pub fn committed_refunds(&self) -> i64 {
        self.record
            .refunds
            .iter()
            .filter(|r| r.status.counts_toward_maximum())
            .map(|r| r.amount)
            .sum()
    }

    /// Refunds paid out, minor units.
    pub fn completed_refunds(&self) -> i64 {
        self.record
            .refunds
            .iter()
            .filter(|r| r.status == RefundStatus::Completed)
            .map(|r| r.amount)
            .sum()
    }

    /// What the latest terms still allow, minor units (the total when no terms were given yet).
    pub fn remaining_refundable(&self) -> i64 {
        let max = self.record.refundable_max.unwrap_or(self.total());
        (max - self.committed_refunds()).max(0)
    }

    /// Each line's refundable amount under `terms`: the retained amount is spread over the lines
    /// by their totals, so refunding every line one by one refunds exactly the maximum.
    pub fn line_refund_amounts(&self, terms: RefundTerms) -> Vec<(OrderItemId, i64)> {
        let totals: Vec<i64> = self
            .record
            .items
            .iter()
            .map(|i| i.pricing.total().minor())
            .collect();
        let retained = allocate(terms.retained.clamp(0, self.total()), &totals);
        self.record
            .items
            .iter()
            .zip(totals.iter().zip(retained))
            .map(|(item, (total, kept))| (item.id, total - kept))
            .collect()
    }

    fn items_refund_amount(
        &self,
        items: &[OrderItemId],
        terms: RefundTerms,
    ) -> Result<i64, RefundError> {
        if items.is_empty() {
            return Err(RefundError::NothingToRefund);
        }
        let amounts = self.line_refund_amounts(terms);
        let mut sum = 0i64;
        for (index, id) in items.iter().enumerate() {
            if items[..index].contains(id) {
                return Err(RefundError::ItemAlreadyRefunded(*id));
            }
            let (_, amount) = amounts
                .iter()
                .find(|(item, _)| item == id)
                .ok_or(RefundError::UnknownItem(*id))?;
            let already = self
                .record
                .refunds
                .iter()
                .any(|r| r.status.counts_toward_maximum() && r.items.contains(id));
            if already {
                return Err(RefundError::ItemAlreadyRefunded(*id));
            }
            sum += amount;
        }
        Ok(sum)
    }

    fn refund_in(&mut self, id: RefundId, to: RefundStatus) -> Result<&mut Refund, RefundError> {
        let refund = self
            .record
            .refunds
            .iter_mut()
            .find(|r| r.id == id)
            .ok_or(RefundError::NotFound(id))?;
        if !refund.status.can_become(to) {
            return Err(RefundError::InvalidState {
                from: refund.status,
                to,
            });
        }
        Ok(refund)
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

#[cfg(test)]
pub(crate) mod tests;
