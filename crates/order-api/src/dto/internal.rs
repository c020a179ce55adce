//! The answers of the internal routes (`/internal/v1/orders/…`): confirmation, expiry, the
//! expiring list and bulk cancellation.

use order_domain::ids::EventId;
use order_domain::order::{Order, OrderStatus};
use order_domain::ports::ExpiringOrder;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::schemas::OrderStatusSchema;

/// `POST /internal/v1/orders/{id}/confirm`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Confirmation)]
pub struct ConfirmationResponse {
    #[schema(value_type = uuid::Uuid)]
    order_id: order_domain::ids::OrderId,
    #[schema(value_type = OrderStatusSchema)]
    status: OrderStatus,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    confirmed_at: Option<OffsetDateTime>,
    ticket_ids: Vec<String>,
}

impl ConfirmationResponse {
    /// The confirmed `order`.
    pub fn new(order: &Order) -> Self {
        Self {
            order_id: order.id(),
            status: order.status(),
            confirmed_at: order.record().milestones.confirmed_at,
            ticket_ids: order
                .record()
                .ticket_ids
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
        }
    }
}

/// `POST /internal/v1/orders/{id}/expire`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Expiry)]
pub struct ExpiryResponse {
    message: &'static str,
    #[schema(value_type = uuid::Uuid)]
    order_id: order_domain::ids::OrderId,
    #[schema(value_type = OrderStatusSchema)]
    status: OrderStatus,
}

impl ExpiryResponse {
    /// The expired `order`.
    pub fn new(order: &Order) -> Self {
        Self {
            message: "Order expired successfully",
            order_id: order.id(),
            status: order.status(),
        }
    }
}

/// `GET /internal/v1/orders/expiring`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ExpiringList)]
pub struct ExpiringListResponse {
    orders: Vec<ExpiringEntry>,
}

/// One hold about to end.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExpiringEntry {
    #[schema(value_type = uuid::Uuid)]
    id: order_domain::ids::OrderId,
    #[schema(value_type = uuid::Uuid)]
    tenant_id: order_domain::ids::TenantId,
    #[schema(value_type = OrderStatusSchema)]
    status: OrderStatus,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    reservation_expires_at: OffsetDateTime,
    minutes_until_expiration: i64,
}

impl ExpiringListResponse {
    /// `orders` as seen at `now`.
    pub fn new(orders: &[ExpiringOrder], now: OffsetDateTime) -> Self {
        Self {
            orders: orders
                .iter()
                .map(|o| ExpiringEntry {
                    id: o.order_id,
                    tenant_id: o.tenant_id,
                    status: o.status,
                    reservation_expires_at: o.expires_at,
                    minutes_until_expiration: (o.expires_at - now).whole_minutes().max(0),
                })
                .collect(),
        }
    }
}

/// `POST /internal/v1/orders/bulk/cancel`: 200 when every order was cancelled, 207 when some
/// were, 500 when none could be.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BulkCancelResult)]
pub struct BulkCancelResponse {
    #[schema(value_type = uuid::Uuid)]
    pub(crate) event_id: EventId,
    pub(crate) total: usize,
    pub(crate) succeeded: usize,
    pub(crate) failed: usize,
    pub(crate) results: Vec<BulkCancelLine>,
}

/// One order of a bulk cancellation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkCancelLine {
    #[schema(value_type = uuid::Uuid)]
    pub(crate) order_id: order_domain::ids::OrderId,
    pub(crate) success: bool,
    /// The order's status after a success; the HTTP status the failure would have had otherwise.
    #[schema(value_type = Object)]
    pub(crate) status: serde_json::Value,
    /// The problem code of a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) code: Option<&'static str>,
}
