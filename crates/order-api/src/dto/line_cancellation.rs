//! `POST /orders/{id}/items/{itemId}/cancel`: the order after one line was cancelled, and the
//! refund that started.

use order_domain::ids::RefundId;
use order_domain::order::Order;
use serde::Serialize;
use utoipa::ToSchema;

use super::{OrderResponse, RefundOutcome, RefundResponse};

/// `POST …/items/{itemId}/cancel`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = LineCancellation)]
pub struct LineCancellationResponse {
    /// The order, the line in `cancelledItemIds` (or CANCELLED when it was the last line).
    order: OrderResponse,
    /// Whether the line's share was paid back.
    refund_status: RefundOutcome,
    /// The refund of the line's share, for a paid order.
    refund: Option<RefundResponse>,
}

impl LineCancellationResponse {
    /// `answer` for `order`, with the refund `refund_id` the cancellation started.
    pub fn new(order: &Order, answer: OrderResponse, refund_id: Option<RefundId>) -> Self {
        let refund = refund_id.and_then(|id| order.refund(id));
        Self {
            order: answer,
            refund_status: RefundOutcome::of(refund),
            refund: refund.map(|r| RefundResponse::new(order, r)),
        }
    }
}
