//! What an order shows. Callers read an order through these getters; only the storage adapters
//! take its stored form ([`Order::record`]) and rebuild it ([`Order::restore`]).

use time::OffsetDateTime;

use super::{
    ContactEmail, GoodsDetails, Milestones, Order, OrderItem, OrderKind, OrderMetadata,
    OrderRecord, OrderStatus, Refund, Shipment,
};
use crate::ids::{
    EventId, HoldId, OrderId, OrderItemId, OrderNumber, PaymentIntentId, TenantId, TicketId, UserId,
};
use crate::money::{Currency, Money};
use crate::pricing::PriceBreakdown;

impl Order {
    /// The stored form, for the storage adapters (and tests of them); everyone else reads the
    /// getters, so the stored shape can change without touching them. `just lint` checks that no
    /// other code calls it.
    pub fn record(&self) -> &OrderRecord {
        &self.record
    }

    /// The stored form by value, for the storage adapters.
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

    /// The edits applied to the order, oldest first.
    pub fn edits(&self) -> &[crate::ids::OrderEditId] {
        &self.record.edits
    }

    /// The stored version this order was loaded with (0: never stored); each stored change adds
    /// one, and a change made from an older version is refused.
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

    /// When the order reached each status it has passed through.
    pub fn milestones(&self) -> &Milestones {
        &self.record.milestones
    }

    /// The goods order's addresses, shipping method, promo code, notes and payment method
    /// (empty for tickets).
    pub fn goods(&self) -> &GoodsDetails {
        &self.record.goods
    }

    /// The parcel, once shipped.
    pub fn shipment(&self) -> Option<&Shipment> {
        self.record.shipment.as_ref()
    }

    /// The tickets the ticket service issued (ticket orders, once paid).
    pub fn ticket_ids(&self) -> &[TicketId] {
        &self.record.ticket_ids
    }

    /// Why the order was cancelled, when it was.
    pub fn cancellation_reason(&self) -> Option<&str> {
        self.record.cancellation_reason.as_deref()
    }

    /// Why the buyer returned the order, when they did.
    pub fn return_reason(&self) -> Option<&str> {
        self.record.return_reason.as_deref()
    }
}
