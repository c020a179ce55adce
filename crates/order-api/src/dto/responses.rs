//! The answers of commands on an order: reservation, cancellation and refunds (a refund, its
//! outcome, the review queue's lists and decisions). Each is a type, so the OpenAPI document
//! describes exactly what the handlers send.

use order_domain::ids::OrderItemId;
use order_domain::order::{Order, OrderStatus, Refund, RefundStatus};
use order_domain::ports::RefundView;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::OrderResponse;
use super::schemas::{CurrencySchema, OrderStatusSchema, RefundStatusSchema};

/// One refund.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Refund)]
pub struct RefundResponse {
    #[schema(value_type = uuid::Uuid)]
    refund_id: order_domain::ids::RefundId,
    #[schema(value_type = uuid::Uuid)]
    order_id: order_domain::ids::OrderId,
    amount: i64,
    #[schema(value_type = CurrencySchema)]
    currency: &'static str,
    #[schema(value_type = RefundStatusSchema)]
    status: RefundStatus,
    reason: String,
    #[schema(value_type = Vec<uuid::Uuid>)]
    item_ids: Vec<OrderItemId>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    requested_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
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

/// `POST …/reserve`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Reservation)]
pub struct ReservationResponse {
    #[schema(value_type = uuid::Uuid)]
    order_id: order_domain::ids::OrderId,
    #[schema(value_type = OrderStatusSchema)]
    status: OrderStatus,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    reservation_expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    reserved_at: Option<OffsetDateTime>,
    order: OrderResponse,
}

impl ReservationResponse {
    /// The hold of `order`.
    pub fn new(order: &Order) -> Self {
        Self {
            order_id: order.id(),
            status: order.status(),
            reservation_expires_at: order.expires_at(),
            reserved_at: order.milestones().reserved_at,
            order: OrderResponse::new(order, None),
        }
    }
}

/// Whether a cancellation paid money back.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RefundOutcome {
    /// Nothing was paid, nothing to refund.
    None,
    /// A refund is on its way (pending review or approved).
    Initiated,
    /// Paid back.
    Completed,
    /// The payment service refused; retried by a job.
    Failed,
}

impl RefundOutcome {
    /// What `refund` (started by a cancellation) has come to.
    pub fn of(refund: Option<&order_domain::order::Refund>) -> Self {
        refund.map_or(Self::None, |r| match r.status {
            RefundStatus::Completed => Self::Completed,
            RefundStatus::Failed => Self::Failed,
            _ => Self::Initiated,
        })
    }
}

/// `POST …/cancel`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Cancellation)]
pub struct CancellationResponse {
    #[schema(value_type = uuid::Uuid)]
    order_id: order_domain::ids::OrderId,
    #[schema(value_type = OrderStatusSchema)]
    status: OrderStatus,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    cancelled_at: Option<OffsetDateTime>,
    refund_status: RefundOutcome,
    refund: Option<RefundResponse>,
}

impl CancellationResponse {
    /// The cancelled `order` and the refund it started, if any.
    pub fn new(order: &Order, refund_id: Option<order_domain::ids::RefundId>) -> Self {
        let refund = refund_id.and_then(|r| order.refund(r));
        Self {
            order_id: order.id(),
            status: order.status(),
            cancelled_at: order.milestones().cancelled_at,
            refund_status: RefundOutcome::of(refund),
            refund: refund.map(|r| RefundResponse::new(order, r)),
        }
    }
}

/// `GET /admin/refunds`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RefundList)]
pub struct RefundListResponse {
    /// Oldest first.
    pub refunds: Vec<RefundResponse>,
}

/// An admin's decision on a refund: the refund and its order after it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RefundDecision)]
pub struct RefundDecisionResponse {
    refund: RefundResponse,
    order: OrderResponse,
}

impl RefundDecisionResponse {
    /// Refund `refund` of `order`.
    pub fn new(order: &Order, refund: &Refund) -> Self {
        Self {
            refund: RefundResponse::new(order, refund),
            order: OrderResponse::new(order, None),
        }
    }
}
