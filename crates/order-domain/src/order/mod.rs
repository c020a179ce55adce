//! The order aggregate: one order's items, prices, reservation, payment, fulfillment and refunds.
//!
//! Every change goes through a command method that checks the transition table
//! ([`status::transition_allowed`]) and returns the [`OrderEvent`]s it produced; a command in the
//! wrong state is an error naming both states, never a silent no-op. Fields are private: adapters
//! read and rebuild an order through [`OrderRecord`], which [`Order::restore`] checks.

mod contact;
mod fulfillment;
mod goods;
mod line_cancellation;
mod lines;
mod metadata;
mod milestones;
mod record;
mod refund;
pub mod status;

use time::OffsetDateTime;

pub use self::contact::{ContactEmail, InvalidEmail, MAX_EMAIL_CHARS};
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
use crate::events::{
    CreatedItem, OrderCancelled, OrderConfirmed, OrderCreated, OrderEvent, OrderExpired,
    OrderReserved, RefundDecided, RefundRequested, StatusChanged, TicketsAllocated,
};
use crate::ids::{
    EventId, HoldId, OrderId, OrderItemId, OrderNumber, PaymentIntentId, RefundId, TenantId,
    TicketId, UserId,
};
use crate::money::{Currency, Money};
use crate::pricing::{PriceBreakdown, PricedOrder};

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
    /// A paid goods order: what the warehouse may see and act on (docs/product/routes.md's role
    /// matrix).
    pub fn is_fulfillment_work(&self) -> bool {
        self.record.kind == OrderKind::Goods && self.record.milestones.confirmed_at.is_some()
    }
    /// How often the reservation was extended.
    pub fn hold_extensions(&self) -> u32 {
        self.record.hold_extensions
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
    /// What the customer pays.
    pub fn total(&self) -> Money {
        self.record.pricing.total()
    }
    /// The order number, `ORD-YYYYMMDD-XXXXXX`, unique in its tenant.
    pub fn number(&self) -> &OrderNumber {
        &self.record.number
    }
    /// When the order was created.
    pub fn created_at(&self) -> OffsetDateTime {
        self.record.milestones.created_at
    }
    /// The order's breakdown.
    pub fn pricing(&self) -> &PriceBreakdown {
        &self.record.pricing
    }
    /// The client's own data (the ticketing API's `metadata`).
    pub fn metadata(&self) -> &OrderMetadata {
        &self.record.metadata
    }

    /// The lines of a partial return (empty when the whole order was returned, or none was).
    pub fn return_items(&self) -> &[OrderItemId] {
        &self.record.return_items
    }

    /// Where notifications about the order go, when the buyer's token named an address.
    pub fn contact_email(&self) -> Option<&ContactEmail> {
        self.record.contact_email.as_ref()
    }

    /// The lines.
    pub fn items(&self) -> &[OrderItem] {
        &self.record.items
    }
    /// The refunds.
    pub fn refunds(&self) -> &[Refund] {
        &self.record.refunds
    }
    /// The most all refunds together may reach under the latest refund terms; none before any
    /// refund or paid cancellation.
    pub fn refundable_max(&self) -> Option<i64> {
        self.record.refundable_max
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
        if extended {
            self.record.hold_extensions += 1;
        }
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
        let amount = self.total().minor();
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
            retry_at: None,
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

    /// Only the intent attached at creation pays for the order.
    fn check_intent(&self, intent: &PaymentIntentId) -> Result<(), OrderError> {
        match &self.record.payment_intent_id {
            None => Err(OrderError::NoPaymentIntent),
            Some(own) if own != intent => Err(OrderError::PaymentIntentMismatch {
                received: intent.clone(),
            }),
            Some(_) => Ok(()),
        }
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
            total: self.total().minor(),
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
                self.record.refunds.push(Refund::approved(
                    id,
                    remaining,
                    Vec::new(),
                    reason,
                    requested_by,
                    "cancellation",
                    now,
                ));
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
        self.expire_now(None, now)
    }

    /// PENDING/RESERVED → EXPIRED now, whether or not the window has ended: an operator's
    /// decision (docs/product/reservations-and-refunds.md, `"force": true`), recorded with `reason`
    /// in the event.
    ///
    /// # Errors
    /// [`OrderError::InvalidTransition`] from any other status.
    pub fn force_expire(
        &mut self,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        check_transition(self.kind(), self.status(), OrderStatus::Expired)?;
        self.expire_now(Some(reason.to_owned()), now)
    }

    fn expire_now(
        &mut self,
        forced_reason: Option<String>,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let change = self.transition(OrderStatus::Expired, now)?;
        Ok(vec![OrderEvent::Expired(OrderExpired {
            change,
            hold_id: self.record.hold_id.clone(),
            forced_reason,
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
