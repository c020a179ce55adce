//! Upstream service ports: tickets, inventory, products, payments, events, notifications and
//! shipping, with the data they exchange.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Hold;
use crate::ids::{
    EventId, OrderId, OrderItemId, PaymentIntentId, ProductId, RefundId, TenantId, UserId,
};
use crate::money::{Currency, Money};
use crate::order::Address;

/// Why an upstream call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// Timed out, refused, 5xx, or an answer that could not be read; retry later.
    #[error("{service} unavailable")]
    Unavailable {
        /// Which upstream.
        service: &'static str,
        /// What happened, with its own causes (for logs, never for clients).
        #[source]
        cause: crate::cause::Cause,
    },
    /// The upstream's circuit breaker is open: no call was made. Retry after `retry_after`.
    #[error("{service} unavailable: circuit breaker open")]
    CircuitOpen {
        /// Which upstream.
        service: &'static str,
        /// How long until the breaker lets calls through again.
        retry_after: std::time::Duration,
    },
    /// The upstream refused the request (4xx) for the given reason.
    #[error("{service} rejected the request: {detail}")]
    Rejected {
        /// Which upstream.
        service: &'static str,
        /// The upstream's reason.
        detail: String,
    },
    /// The thing asked about does not exist upstream.
    #[error("{service}: not found")]
    NotFound {
        /// Which upstream.
        service: &'static str,
    },
}

/// One product line for stock checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockLine {
    /// Product.
    pub product_id: ProductId,
    /// Units.
    pub quantity: u32,
}

/// Why stock could not be reserved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StockError {
    /// Not enough units.
    #[error("insufficient stock of product {product_id}: {available} left")]
    Insufficient {
        /// The product.
        product_id: ProductId,
        /// Units left.
        available: u32,
    },
    /// Any other failure.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
}

/// Units of a product free now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    /// Product.
    pub product_id: ProductId,
    /// Units free (stock minus live reservations).
    pub available: u32,
    /// Whether the asked quantity is free.
    pub in_stock: bool,
}

/// Where a paid order's units are picked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Allocation {
    /// The warehouse that ships the order.
    pub warehouse: String,
    /// What to take from where.
    pub picks: Vec<Pick>,
}

/// One line of a pick list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pick {
    /// Product.
    pub product_id: ProductId,
    /// Units.
    pub quantity: u32,
    /// Where in the warehouse.
    pub location: String,
}

/// The inventory service (the shop's `/check-availability`, `/reserve`, `/release/{orderId}`;
/// plus commit after payment and allocation for fulfillment).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait InventoryService: Send + Sync {
    /// How many units of each product are free now (for carts; nothing is reserved).
    ///
    /// # Errors
    /// [`UpstreamError::Unavailable`].
    async fn availability(
        &self,
        tenant: TenantId,
        lines: &[StockLine],
    ) -> Result<Vec<Availability>, UpstreamError>;

    /// Reserves stock for `order` until `expires_at`; all lines or none.
    ///
    /// # Errors
    /// [`StockError::Insufficient`] naming the first short product.
    async fn reserve(
        &self,
        tenant: TenantId,
        order: OrderId,
        lines: &[StockLine],
        expires_at: OffsetDateTime,
    ) -> Result<Hold, StockError>;

    /// Releases the order's reservation. Idempotent.
    ///
    /// # Errors
    /// [`UpstreamError::Unavailable`].
    async fn release(&self, tenant: TenantId, order: OrderId) -> Result<(), UpstreamError>;

    /// Gives line `line` of `order` back to stock: the units reserved, or already deducted and
    /// allocated (they return to stock and leave the pick list). Idempotent per line.
    ///
    /// # Errors
    /// [`UpstreamError::Unavailable`]; [`UpstreamError::NotFound`] when the order has no such
    /// units.
    async fn release_line(
        &self,
        tenant: TenantId,
        order: OrderId,
        line: OrderItemId,
        stock: StockLine,
    ) -> Result<(), UpstreamError>;

    /// Changes `order`'s stock for an edit: `added` units reserved too (deducted at once when
    /// the order's stock is already committed) and `released` ones back (from the reservation,
    /// or to stock once committed), all or nothing. Idempotent per `key`.
    ///
    /// # Errors
    /// [`StockError::Insufficient`] naming the first short product (nothing changes then);
    /// [`StockError::Upstream`] with [`UpstreamError::NotFound`] when the order has no live
    /// reservation or not that many units to give back.
    async fn adjust(
        &self,
        tenant: TenantId,
        order: OrderId,
        key: uuid::Uuid,
        added: &[StockLine],
        released: &[StockLine],
    ) -> Result<(), StockError>;

    /// Deducts the reserved stock (after payment). Idempotent.
    ///
    /// # Errors
    /// [`UpstreamError::NotFound`] when the reservation expired.
    async fn commit(&self, tenant: TenantId, order: OrderId) -> Result<(), UpstreamError>;

    /// Allocates a committed order's units at a warehouse: the pick list of fulfillment.
    /// Idempotent: the same allocation again.
    ///
    /// # Errors
    /// [`UpstreamError::NotFound`] when the order's stock was not committed.
    async fn allocate(&self, tenant: TenantId, order: OrderId)
    -> Result<Allocation, UpstreamError>;
}

/// A product as the catalog sells it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// Product.
    pub id: ProductId,
    /// Stock keeping unit.
    pub sku: String,
    /// Display name.
    pub name: String,
    /// Picture.
    pub image_url: Option<String>,
    /// Current price of one unit.
    pub price: Money,
    /// Whether it can be ordered.
    pub active: bool,
    /// Attribute sets priced differently from `price`.
    pub variants: Vec<ProductVariant>,
}

/// The price of one attribute set of a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductVariant {
    /// The selected attributes (`{"size": "XL"}`).
    pub attributes: std::collections::BTreeMap<String, String>,
    /// Price of one unit of this set.
    pub price: Money,
}

impl Product {
    /// The price of one unit with `attributes` selected: the variant with exactly these
    /// attributes, or the product's price.
    pub fn price_for(&self, attributes: &std::collections::BTreeMap<String, String>) -> Money {
        self.variants
            .iter()
            .find(|v| &v.attributes == attributes)
            .map_or(self.price, |v| v.price)
    }
}

/// The product service.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ProductCatalog: Send + Sync {
    /// The requested products; unknown ids are left out of the answer.
    ///
    /// # Errors
    /// [`UpstreamError::Unavailable`].
    async fn products(
        &self,
        tenant: TenantId,
        ids: &[ProductId],
    ) -> Result<Vec<Product>, UpstreamError>;
}

/// A payment intent created upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentIntent {
    /// Upstream id.
    pub id: PaymentIntentId,
    /// Handed to the front end to complete payment.
    pub client_secret: Option<String>,
}

/// What the payment service holds for one intent (docs/product/after-the-sale.md): what it captured
/// and every refund it paid out, by our refund id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PaymentRecord {
    /// Captured, minor units (0 while unpaid).
    pub captured: i64,
    /// Refunds paid out.
    pub payouts: Vec<Payout>,
}

/// One refund the payment service paid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payout {
    /// Our refund id (the payout's idempotency key).
    pub refund_id: RefundId,
    /// Paid back, minor units.
    pub amount: i64,
    /// The payment service's reference.
    pub reference: String,
}

/// Why a payment call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// The payment service declined (card, limits).
    #[error("payment declined: {0}")]
    Declined(String),
    /// Any other failure.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
}

/// The payment service.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PaymentGateway: Send + Sync {
    /// Creates an intent for `amount` that lapses unless confirmed by `expires_at` (the order's
    /// window and grace, like its hold); `idempotency_key` (the order id) makes retries safe.
    ///
    /// # Errors
    /// [`PaymentError`].
    async fn create_intent(
        &self,
        tenant: TenantId,
        order: OrderId,
        amount: Money,
        expires_at: OffsetDateTime,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, PaymentError>;

    /// Confirms an intent server-side (confirm-payment flow).
    ///
    /// # Errors
    /// [`PaymentError::Declined`] when the payment fails.
    async fn confirm_intent(&self, intent: &PaymentIntentId) -> Result<(), PaymentError>;

    /// Cancels an unpaid intent. Idempotent.
    ///
    /// # Errors
    /// [`PaymentError`].
    async fn cancel_intent(&self, intent: &PaymentIntentId) -> Result<(), PaymentError>;

    /// Pays `amount` back; `refund` is the idempotency key. Returns the upstream reference.
    ///
    /// # Errors
    /// [`PaymentError::Declined`] when the refund is refused.
    async fn refund(
        &self,
        intent: &PaymentIntentId,
        refund: RefundId,
        amount: Money,
    ) -> Result<String, PaymentError>;

    /// What the payment service holds for `intent`: captured amount and payouts; `None` when it
    /// does not know the intent.
    ///
    /// # Errors
    /// [`PaymentError::Upstream`] when it cannot answer.
    async fn payment(
        &self,
        intent: &PaymentIntentId,
    ) -> Result<Option<PaymentRecord>, PaymentError>;
}

/// An event's lifecycle state upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventStatus {
    /// On sale.
    Scheduled,
    /// Cancelled by the organiser.
    Cancelled,
    /// Over.
    Completed,
}

/// What the order service needs to know about an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventInfo {
    /// Event.
    pub id: EventId,
    /// Start time (refund cutoff).
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    /// State.
    pub status: EventStatus,
    /// Currency tickets are sold in.
    pub currency: Currency,
}

/// The event service.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventCatalog: Send + Sync {
    /// The event as the event service knows it now, or `None` when it does not exist. Used
    /// where the answer decides money (the refund cutoff).
    ///
    /// # Errors
    /// [`UpstreamError::Unavailable`].
    async fn event(
        &self,
        tenant: TenantId,
        event: EventId,
    ) -> Result<Option<EventInfo>, UpstreamError>;

    /// The event, possibly from a short-lived cache (decision 0022). Used for the on-sale
    /// pre-check of a new order, where the ticket service's hold has the last word.
    ///
    /// # Errors
    /// [`UpstreamError::Unavailable`] when nothing is cached and the service cannot be asked.
    async fn recent_event(
        &self,
        tenant: TenantId,
        event: EventId,
    ) -> Result<Option<EventInfo>, UpstreamError>;
}

/// A message to the customer about one committed status change of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// The domain event it announces: sending it twice is sending it once.
    pub id: crate::ids::DomainEventId,
    /// Tenant.
    pub tenant_id: TenantId,
    /// Recipient.
    pub user_id: UserId,
    /// The recipient's address, when the order knows it (else the service looks the user up).
    pub email: Option<crate::order::ContactEmail>,
    /// The order.
    pub order_id: OrderId,
    /// The order's number, as the buyer knows it.
    pub order_number: crate::ids::OrderNumber,
    /// Template: the domain event's name (`order.confirmed`, `order.shipped`, …).
    pub template: String,
    /// The status the order moved to.
    pub status: crate::order::OrderStatus,
    /// The parcel's tracking number, once it shipped.
    pub tracking_number: Option<String>,
    /// The invoice of a confirmed order (the receipt names it).
    pub invoice_number: Option<String>,
}

/// The notification service. Called after the change committed, so a failure never undoes it.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Sends one notification.
    ///
    /// # Errors
    /// [`UpstreamError`].
    async fn notify(&self, notification: &Notification) -> Result<(), UpstreamError>;
}

/// A shipping rate quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingRate {
    /// Method code.
    pub method: String,
    /// Price.
    pub price: Money,
    /// Business days in transit.
    pub transit_days: u16,
}

/// A created shipping label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingLabel {
    /// Carrier.
    pub carrier: String,
    /// Tracking number.
    pub tracking_number: String,
    /// Label document.
    pub label_url: String,
}

/// The shipping service.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ShippingService: Send + Sync {
    /// Rates to `destination`.
    ///
    /// # Errors
    /// [`UpstreamError`].
    async fn rates(
        &self,
        tenant: TenantId,
        destination: &Address,
    ) -> Result<Vec<ShippingRate>, UpstreamError>;

    /// Buys a label for the order; `order` is the idempotency key.
    ///
    /// # Errors
    /// [`UpstreamError`].
    async fn create_label(
        &self,
        tenant: TenantId,
        order: OrderId,
        destination: &Address,
        method: &str,
    ) -> Result<ShippingLabel, UpstreamError>;
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn a_variant_with_exactly_the_selected_attributes_sets_the_price() {
        let attributes = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let shirt = Product {
            id: ProductId::from_uuid(uuid::Uuid::from_u128(1)),
            sku: "TEE".into(),
            name: "T-shirt".into(),
            image_url: None,
            price: Money::new(2_000, Currency::Usd),
            active: true,
            variants: vec![ProductVariant {
                attributes: attributes(&[("size", "XL")]),
                price: Money::new(2_500, Currency::Usd),
            }],
        };
        assert_eq!(
            shirt.price_for(&attributes(&[("size", "XL")])).minor(),
            2_500
        );
        assert_eq!(
            shirt.price_for(&attributes(&[("size", "M")])).minor(),
            2_000
        );
        assert_eq!(
            shirt
                .price_for(&attributes(&[("size", "XL"), ("colour", "red")]))
                .minor(),
            2_000,
            "only an exact attribute set has its own price"
        );
    }
}
