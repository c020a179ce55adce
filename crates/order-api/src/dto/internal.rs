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
            confirmed_at: order.milestones().confirmed_at,
            ticket_ids: order
                .ticket_ids()
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

/// A bulk cancellation job (`POST /internal/v1/orders/bulk/cancel`, `GET /internal/v1/jobs/{id}`):
/// `RUNNING` with the figures so far, or `DONE` with the ticketing API's summary.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BulkCancelJob)]
pub struct BulkJobResponse {
    #[schema(value_type = uuid::Uuid)]
    id: order_domain::ids::BulkJobId,
    /// `RUNNING` or `DONE`.
    #[schema(example = "DONE")]
    status: &'static str,
    #[schema(value_type = uuid::Uuid)]
    event_id: EventId,
    results: BulkResults,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    finished_at: Option<OffsetDateTime>,
}

/// The ticketing API's summary of a bulk cancellation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkResults {
    /// Orders tried.
    total: u32,
    /// Orders cancelled.
    succeeded: u32,
    /// Orders that could not be cancelled (they are as they were).
    failed: u32,
    /// The first 100 failures.
    errors: Vec<BulkFailure>,
}

/// An order a bulk cancellation could not cancel.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkFailure {
    #[schema(value_type = uuid::Uuid)]
    order_id: order_domain::ids::OrderId,
    /// The HTTP status the failure would have answered.
    status: u16,
    /// Its problem code.
    code: String,
}

impl BulkJobResponse {
    /// The API view of `job`.
    pub fn new(job: &order_domain::bulk_cancel::BulkCancelJob) -> Self {
        Self {
            id: job.id,
            status: job.status.as_str(),
            event_id: job.event_id,
            results: BulkResults {
                total: job.total,
                succeeded: job.succeeded,
                failed: job.failed,
                errors: job
                    .errors
                    .iter()
                    .map(|f| BulkFailure {
                        order_id: f.order_id,
                        status: f.status,
                        code: f.code.clone(),
                    })
                    .collect(),
            },
            created_at: job.created_at,
            finished_at: job.finished_at,
        }
    }
}
