//! Request and response bodies (seed 002's shapes, camelCase, amounts in minor units). Bodies are
//! parsed strictly (`deny_unknown_fields`) and converted to domain types at the boundary.

use order_domain::audit::AuditEntry;
use order_domain::ids::{EventId, OrderItemId, TicketPricingId, TicketTypeId};
use order_domain::order::{ItemProduct, Order, Refund};
use order_domain::ports::RefundView;
use order_domain::pricing::PriceBreakdown;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::ApiError;

/// The longest free-text reason we store.
const MAX_REASON: usize = 500;

/// `POST /api/v1/orders`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateOrderBody {
    /// The event.
    pub event_id: EventId,
    /// The lines.
    pub items: Vec<CreateItemBody>,
    /// When given, must be the event's currency.
    pub currency: Option<String>,
    /// The client's own data: a JSON object of at most 4 KiB, stored and returned as given.
    pub metadata: Option<serde_json::Value>,
}

/// One line of [`CreateOrderBody`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateItemBody {
    /// Ticket type.
    pub ticket_type_id: TicketTypeId,
    /// Price point.
    pub ticket_pricing_id: TicketPricingId,
    /// Units (signed so that negatives are reported as a field error).
    pub quantity: i64,
}

/// The `metadata` of a new order: absent is empty; otherwise an object within the domain's bound.
///
/// # Errors
/// A field error on `metadata` (`invalid` for a non-object, `too_large` past the bound).
pub fn metadata(
    value: Option<serde_json::Value>,
) -> Result<order_domain::order::OrderMetadata, ApiError> {
    use order_domain::order::{InvalidMetadata, OrderMetadata};
    match value.map(OrderMetadata::new).transpose() {
        Ok(metadata) => Ok(metadata.unwrap_or_default()),
        Err(InvalidMetadata::NotAnObject) => Err(ApiError::field(
            "metadata",
            "invalid",
            "must be a JSON object",
        )),
        Err(InvalidMetadata::TooLarge { .. }) => Err(ApiError::field(
            "metadata",
            "too_large",
            format!(
                "at most {} bytes of JSON",
                order_domain::order::MAX_METADATA_BYTES
            ),
        )),
    }
}

/// `POST …/cancel`, `POST …/expire`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReasonBody {
    /// Why.
    pub reason: Option<String>,
}

/// `POST /internal/v1/orders/{id}/expire`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpireBody {
    /// Why.
    pub reason: Option<String>,
    /// Expire even while the reservation runs (an operator's decision; needs a reason).
    pub force: Option<bool>,
}

/// `POST …/refund`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefundBody {
    /// Amount in minor units; omitted for everything still refundable.
    pub amount: Option<i64>,
    /// Refund whole lines instead of an amount.
    pub item_ids: Option<Vec<OrderItemId>>,
    /// Why.
    pub reason: Option<String>,
}

/// `POST /internal/v1/orders/{id}/confirm`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfirmBody {
    /// The paid intent.
    pub payment_intent_id: String,
}

/// `POST /internal/v1/orders/bulk/cancel`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkCancelBody {
    /// The cancelled event.
    pub event_id: EventId,
    /// Why.
    pub reason: Option<String>,
}

/// `POST /api/v1/admin/refunds/{id}/reject`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RejectBody {
    /// Why (required).
    pub reason: String,
}

/// Checks a free-text reason and supplies `default` when absent.
///
/// # Errors
/// 422 at `path` when longer than 500 characters.
pub fn reason(text: Option<String>, path: &str, default: &str) -> Result<String, ApiError> {
    let text = text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    match text {
        Some(t) if t.chars().count() > MAX_REASON => {
            Err(ApiError::field(path, "too_long", "at most 500 characters"))
        }
        Some(t) => Ok(t),
        None => Ok(default.to_owned()),
    }
}

/// Money components of an order or line.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PricingBody {
    subtotal: i64,
    discount: i64,
    platform_fee: i64,
    processing_fee: i64,
    shipping: i64,
    tax: i64,
    total: i64,
}

impl From<&PriceBreakdown> for PricingBody {
    fn from(p: &PriceBreakdown) -> Self {
        let c = p.components();
        Self {
            subtotal: c.subtotal,
            discount: c.discount,
            platform_fee: c.platform_fee,
            processing_fee: c.processing_fee,
            shipping: c.shipping,
            tax: c.tax,
            total: p.total().minor(),
        }
    }
}

/// One order line.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemBody {
    id: OrderItemId,
    #[serde(flatten)]
    product: ItemProduct,
    quantity: u32,
    unit_price: i64,
    pricing: PricingBody,
}

/// One refund.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundResponse {
    refund_id: order_domain::ids::RefundId,
    order_id: order_domain::ids::OrderId,
    amount: i64,
    currency: &'static str,
    status: order_domain::order::RefundStatus,
    reason: String,
    item_ids: Vec<OrderItemId>,
    #[serde(with = "time::serde::rfc3339")]
    requested_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    completed_at: Option<OffsetDateTime>,
    failure_reason: Option<String>,
}

impl RefundResponse {
    /// A refund of `order`.
    pub fn new(order: &Order, refund: &Refund) -> Self {
        Self::from_parts(order.id(), order.currency().code(), refund)
    }

    fn from_parts(
        order_id: order_domain::ids::OrderId,
        currency: &'static str,
        refund: &Refund,
    ) -> Self {
        Self {
            refund_id: refund.id,
            order_id,
            amount: refund.amount,
            currency,
            status: refund.status,
            reason: refund.reason.clone(),
            item_ids: refund.items.clone(),
            requested_at: refund.requested_at,
            completed_at: refund.completed_at,
            failure_reason: refund.failure_reason.clone(),
        }
    }
}

impl From<&RefundView> for RefundResponse {
    fn from(view: &RefundView) -> Self {
        Self::from_parts(view.order_id, view.currency.code(), &view.refund)
    }
}

/// An order as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderResponse {
    id: order_domain::ids::OrderId,
    order_number: String,
    user_id: order_domain::ids::UserId,
    event_id: Option<EventId>,
    kind: order_domain::order::OrderKind,
    status: order_domain::order::OrderStatus,
    items: Vec<ItemBody>,
    pricing: PricingBody,
    currency: &'static str,
    payment_intent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    reservation_expires_at: Option<OffsetDateTime>,
    ticket_ids: Vec<String>,
    refunds: Vec<RefundResponse>,
    refunded_amount: i64,
    cancellation_reason: Option<String>,
    metadata: serde_json::Value,
    version: u64,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    reserved_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    confirmed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    cancelled_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    expired_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    refunded_at: Option<OffsetDateTime>,
}

impl OrderResponse {
    /// The API view of `order`; `client_secret` only right after creation.
    pub fn new(order: &Order, client_secret: Option<String>) -> Self {
        let record = order.record();
        let m = record.milestones;
        Self {
            id: order.id(),
            order_number: record.number.to_string(),
            user_id: order.user_id(),
            event_id: order.event_id(),
            kind: order.kind(),
            status: order.status(),
            items: record
                .items
                .iter()
                .map(|item| ItemBody {
                    id: item.id,
                    product: item.product.clone(),
                    quantity: item.quantity,
                    unit_price: item.unit_price,
                    pricing: (&item.pricing).into(),
                })
                .collect(),
            pricing: order.pricing().into(),
            currency: order.currency().code(),
            payment_intent_id: order.payment_intent_id().map(|p| p.as_str().to_owned()),
            client_secret,
            reservation_expires_at: order.status().is_unpaid().then(|| order.expires_at()),
            ticket_ids: record
                .ticket_ids
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            refunds: record
                .refunds
                .iter()
                .map(|r| RefundResponse::new(order, r))
                .collect(),
            refunded_amount: order.completed_refunds(),
            cancellation_reason: record.cancellation_reason.clone(),
            metadata: order.metadata().to_value(),
            version: order.version(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            reserved_at: m.reserved_at,
            confirmed_at: m.confirmed_at,
            cancelled_at: m.cancelled_at,
            expired_at: m.expired_at,
            refunded_at: m.refunded_at,
        }
    }
}

/// One line of an order's history.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    id: order_domain::ids::AuditEntryId,
    order_id: order_domain::ids::OrderId,
    event_type: String,
    from_status: Option<order_domain::order::OrderStatus>,
    to_status: Option<order_domain::order::OrderStatus>,
    actor: order_domain::actor::Actor,
    ip_address: Option<String>,
    metadata: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

impl From<AuditEntry> for HistoryEntry {
    fn from(entry: AuditEntry) -> Self {
        Self {
            id: entry.id,
            order_id: entry.order_id,
            event_type: history_event_type(&entry.event_type),
            from_status: entry.from_status,
            to_status: entry.to_status,
            actor: entry.actor,
            ip_address: entry.ip.map(|ip| ip.to_string()),
            metadata: entry.metadata,
            created_at: entry.occurred_at,
        }
    }
}

/// The audit history's name for a domain event (SPEC §9, seed 002's style): `order.created` is
/// `ORDER_CREATED`, an expiry is `RESERVATION_EXPIRED`, `refund.approved` is `REFUND_APPROVED`.
/// Messages on the broker keep the dotted names.
pub fn history_event_type(event: &str) -> String {
    match event {
        "order.expired" => "RESERVATION_EXPIRED".to_owned(),
        "order.tickets_allocated" => "TICKETS_ALLOCATED".to_owned(),
        other => other.replace('.', "_").to_ascii_uppercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::history_event_type;

    #[test]
    fn history_names_follow_seed_002() {
        let names = [
            ("order.created", "ORDER_CREATED"),
            ("order.reserved", "ORDER_RESERVED"),
            ("order.confirmed", "ORDER_CONFIRMED"),
            ("order.cancelled", "ORDER_CANCELLED"),
            ("order.refunded", "ORDER_REFUNDED"),
            ("order.expired", "RESERVATION_EXPIRED"),
            ("order.processing", "ORDER_PROCESSING"),
            ("order.shipped", "ORDER_SHIPPED"),
            ("order.delivered", "ORDER_DELIVERED"),
            ("order.returned", "ORDER_RETURNED"),
            ("order.tickets_allocated", "TICKETS_ALLOCATED"),
            ("refund.requested", "REFUND_REQUESTED"),
            ("refund.approved", "REFUND_APPROVED"),
            ("refund.rejected", "REFUND_REJECTED"),
            ("refund.completed", "REFUND_COMPLETED"),
            ("refund.failed", "REFUND_FAILED"),
        ];
        for (event, name) in names {
            assert_eq!(history_event_type(event), name, "{event}");
        }
    }
}
