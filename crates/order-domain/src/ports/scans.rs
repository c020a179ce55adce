//! The cross-tenant and batch queries background jobs run (the expiry job, refund retries, an
//! event's bulk cancellation): apart from [`OrderRepository`](super::OrderRepository), so a
//! service that only serves requests implements none of them.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::RepositoryError;
use crate::ids::{EventId, OrderId, RefundId, TenantId};
use crate::order::OrderStatus;

/// An order whose reservation or payment window has ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpiringOrder {
    /// Tenant.
    pub tenant_id: TenantId,
    /// Order.
    pub order_id: OrderId,
    /// Its status (PENDING or RESERVED).
    pub status: OrderStatus,
    /// When its window ends.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// A refund whose payout is due again: FAILED with its retry due, or APPROVED so long ago that
/// the payout that should have followed the approval evidently never recorded its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueRefund {
    /// Its tenant.
    pub tenant_id: TenantId,
    /// The refund.
    pub refund_id: RefundId,
}

/// An order with a payment intent that changed in a reconciliation window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangedPayment {
    /// Its tenant.
    pub tenant_id: TenantId,
    /// The order.
    pub order_id: OrderId,
}

/// An order whose edit waited for its payment past its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueEdit {
    /// Its tenant.
    pub tenant_id: TenantId,
    /// The order.
    pub order_id: OrderId,
}

/// The queries of the background jobs.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OrderScans: Send + Sync {
    /// PENDING or RESERVED orders of every tenant whose window ended before `before`, oldest
    /// first, at most `limit`.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn expiring(
        &self,
        before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<ExpiringOrder>, RepositoryError>;

    /// Ids of the tenant's orders for `event` that are not yet in a final state (PENDING,
    /// RESERVED, CONFIRMED), in id order after `after` (a keyset), at most `limit`.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn active_for_event(
        &self,
        tenant: TenantId,
        event: EventId,
        after: Option<OrderId>,
        limit: u32,
    ) -> Result<Vec<OrderId>, RepositoryError>;

    /// Refunds whose payout is due across tenants (the refund job), at most `limit`: FAILED
    /// refunds whose `retry_at` is before `before`, and APPROVED refunds decided before
    /// `approved_before` (their payout lease ran out without a recorded result). Stalled
    /// APPROVED refunds come first, then FAILED ones soonest first.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn due_for_retry(
        &self,
        before: OffsetDateTime,
        approved_before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<DueRefund>, RepositoryError>;

    /// Orders of every tenant whose edit waits for its payment past its deadline (before
    /// `before`), the longest overdue first, at most `limit` (the lapse job).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn edits_due(
        &self,
        before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<DueEdit>, RepositoryError>;

    /// Orders with a payment intent, past their payment window (neither PENDING nor RESERVED),
    /// whose last change falls in `from..to`, of `tenant` or of every tenant, oldest change
    /// first, at most `limit` (reconciliation).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn payments_changed(
        &self,
        tenant: Option<TenantId>,
        from: OffsetDateTime,
        to: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<ChangedPayment>, RepositoryError>;
}
