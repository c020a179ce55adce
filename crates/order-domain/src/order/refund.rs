//! Refunds of one order: their state machine and the refundable-maximum arithmetic.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{OrderItemId, RefundId};

/// Where a refund is (SPEC §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RefundStatus {
    /// Waiting for an admin.
    Pending,
    /// Approved; the payment service has not paid it out yet.
    Approved,
    /// Turned down by an admin; does not count toward the refundable maximum.
    Rejected,
    /// Paid out.
    Completed,
    /// The payment service refused it; retried until it completes.
    Failed,
}

impl RefundStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Approved => "APPROVED",
            Self::Rejected => "REJECTED",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
        }
    }

    /// Whether money is (or will be) paid out under this refund.
    pub fn counts_toward_maximum(self) -> bool {
        !matches!(self, Self::Rejected)
    }

    /// The refund state machine: PENDING → APPROVED | REJECTED; APPROVED → COMPLETED | FAILED;
    /// FAILED → COMPLETED | FAILED (a retry).
    pub fn can_become(self, to: RefundStatus) -> bool {
        use RefundStatus::*;
        matches!(
            (self, to),
            (Pending, Approved | Rejected)
                | (Approved, Completed | Failed)
                | (Failed, Completed | Failed)
        )
    }
}

impl fmt::Display for RefundStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RefundStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Self::Pending,
            Self::Approved,
            Self::Rejected,
            Self::Completed,
            Self::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str().eq_ignore_ascii_case(s))
        .ok_or_else(|| format!("unknown refund status {s:?}"))
    }
}

/// One refund of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refund {
    /// Unique id; also the idempotency key of the payment refund.
    pub id: RefundId,
    /// Amount in the order's currency, minor units, > 0.
    pub amount: i64,
    /// Where it is.
    pub status: RefundStatus,
    /// The lines it covers; empty for an amount or whole-order refund.
    pub items: Vec<OrderItemId>,
    /// Why it was asked for.
    pub reason: String,
    /// Who asked (user id or service name).
    pub requested_by: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    /// Who approved or rejected it.
    pub decided_by: Option<String>,
    /// When it was approved or rejected.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub decided_at: Option<OffsetDateTime>,
    /// The admin's note; the reason for a rejection.
    pub decision_note: Option<String>,
    /// The payment service's refund reference.
    pub payment_reference: Option<String>,
    /// The last payment failure.
    pub failure_reason: Option<String>,
    /// Payment attempts so far.
    pub attempts: u32,
    /// When it was paid out.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
}

/// What the policy allows to be refunded on an order right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundTerms {
    /// The most all refunds together may reach, minor units.
    pub refundable_max: i64,
    /// What the order keeps (total − refundable maximum), minor units.
    pub retained: i64,
}

/// What a refund request covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundScope {
    /// Everything still refundable.
    Remaining,
    /// A given amount, minor units.
    Amount(i64),
    /// Whole lines: each line's share of the total, less its share of what is retained.
    Items(Vec<OrderItemId>),
}

/// Why a refund operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefundError {
    /// No refund with that id on this order.
    #[error("refund {0} not found on this order")]
    NotFound(RefundId),
    /// The refund state machine does not allow it.
    #[error("a refund cannot go from {from} to {to}")]
    InvalidState {
        /// Current refund status.
        from: RefundStatus,
        /// Requested refund status.
        to: RefundStatus,
    },
    /// The amount is zero or negative.
    #[error("a refund amount must be positive")]
    InvalidAmount,
    /// Nothing is left to refund.
    #[error("nothing is left to refund on this order")]
    NothingToRefund,
    /// More than what is left was asked for.
    #[error("{requested} exceeds the {remaining} still refundable")]
    ExceedsRefundable {
        /// Asked for, minor units.
        requested: i64,
        /// Still refundable, minor units.
        remaining: i64,
    },
    /// A line id that is not on the order.
    #[error("order item {0} is not on this order")]
    UnknownItem(OrderItemId),
    /// A line already covered by another refund.
    #[error("order item {0} has already been refunded")]
    ItemAlreadyRefunded(OrderItemId),
}
