//! Requests that name one order (`orderId`) or a time range (`from` and `to`): the audit check
//! and event replay read the same three fields the same way.

use order_domain::ids::OrderId;
use time::OffsetDateTime;

use crate::error::ApiError;

/// Which of the two a request named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderOrRange {
    /// One order.
    Order(OrderId),
    /// `from..to`.
    Range(OffsetDateTime, OffsetDateTime),
}

/// The order, or the range, a request gave.
///
/// # Errors
/// 422 when neither or both are given, or half a range.
pub fn order_or_range(
    order: Option<uuid::Uuid>,
    from: Option<OffsetDateTime>,
    to: Option<OffsetDateTime>,
) -> Result<OrderOrRange, ApiError> {
    match (order, from, to) {
        (Some(id), None, None) => Ok(OrderOrRange::Order(OrderId::from_uuid(id))),
        (None, Some(from), Some(to)) => Ok(OrderOrRange::Range(from, to)),
        (Some(_), _, _) => Err(ApiError::field(
            "orderId",
            "conflict",
            "give an order, or a range, not both",
        )),
        (None, None, None) => Err(ApiError::field(
            "orderId",
            "required",
            "give an order (orderId), or a range (from and to)",
        )),
        (None, None, Some(_)) => Err(ApiError::field("from", "required", "a range needs from")),
        (None, Some(_), None) => Err(ApiError::field("to", "required", "a range needs to")),
    }
}
