//! When an order reached each status; a stored order's status must have its milestone.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::OrderStatus;

/// When each milestone was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Milestones {
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub reserved_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub confirmed_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub processing_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub shipped_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub delivered_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub cancelled_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expired_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub returned_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub refunded_at: Option<OffsetDateTime>,
}

impl Milestones {
    pub(super) fn new(now: OffsetDateTime) -> Self {
        Self {
            created_at: now,
            updated_at: now,
            reserved_at: None,
            confirmed_at: None,
            processing_at: None,
            shipped_at: None,
            delivered_at: None,
            cancelled_at: None,
            expired_at: None,
            returned_at: None,
            refunded_at: None,
        }
    }

    /// When the order reached `status`; `created_at` for PENDING, where every order starts.
    pub fn reached(&self, status: OrderStatus) -> Option<OffsetDateTime> {
        match status {
            OrderStatus::Pending => Some(self.created_at),
            OrderStatus::Reserved => self.reserved_at,
            OrderStatus::Confirmed => self.confirmed_at,
            OrderStatus::Processing => self.processing_at,
            OrderStatus::Shipped => self.shipped_at,
            OrderStatus::Delivered => self.delivered_at,
            OrderStatus::Cancelled => self.cancelled_at,
            OrderStatus::Expired => self.expired_at,
            OrderStatus::Returned => self.returned_at,
            OrderStatus::Refunded => self.refunded_at,
        }
    }

    /// The first milestone that contradicts `status`: the status itself not reached, or a
    /// milestone outside `created_at..=updated_at`.
    pub(super) fn contradiction(&self, status: OrderStatus) -> Option<&'static str> {
        if self.updated_at < self.created_at {
            return Some("updated before it was created");
        }
        if self.reached(status).is_none() {
            return Some("status without its milestone");
        }
        let outside = OrderStatus::ALL
            .into_iter()
            .filter_map(|s| self.reached(s))
            .any(|at| at < self.created_at || at > self.updated_at);
        outside.then_some("a milestone outside the order's lifetime")
    }

    pub(super) fn reach(&mut self, status: OrderStatus, now: OffsetDateTime) {
        self.updated_at = now;
        let slot = match status {
            OrderStatus::Pending => return,
            OrderStatus::Reserved => &mut self.reserved_at,
            OrderStatus::Confirmed => &mut self.confirmed_at,
            OrderStatus::Processing => &mut self.processing_at,
            OrderStatus::Shipped => &mut self.shipped_at,
            OrderStatus::Delivered => &mut self.delivered_at,
            OrderStatus::Cancelled => &mut self.cancelled_at,
            OrderStatus::Expired => &mut self.expired_at,
            OrderStatus::Returned => &mut self.returned_at,
            OrderStatus::Refunded => &mut self.refunded_at,
        };
        *slot = Some(now);
    }
}
