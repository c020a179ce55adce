//! The audit trail as the history route reads it (writes go with each change through
//! [`UnitOfWork`](super::UnitOfWork)), and the checks of its hash chains.

use async_trait::async_trait;

use super::RepositoryError;
use time::{Date, OffsetDateTime};

use crate::audit::AuditEntry;
use crate::audit_chain::{AuditAnchor, AuditBreak};
use crate::ids::{OrderId, TenantId};

/// Reads of the audit trail.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// The order's audit trail, oldest first.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn audit_trail(
        &self,
        tenant: TenantId,
        order: OrderId,
    ) -> Result<Vec<AuditEntry>, RepositoryError>;
}

/// The audit trail's hash chains and daily anchors (docs/audit.md): checks and the anchor job.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AuditChain: Send + Sync {
    /// The first link that does not hold in the chains of `orders` (by order id, then place),
    /// each chain recomputed whole.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn chain_break(
        &self,
        tenant: TenantId,
        orders: &[OrderId],
    ) -> Result<Option<AuditBreak>, RepositoryError>;

    /// Up to `limit` of the tenant's orders with an entry in `from..to`, by id after `after`.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn orders_with_entries(
        &self,
        tenant: TenantId,
        from: OffsetDateTime,
        to: OffsetDateTime,
        after: Option<OrderId>,
        limit: u32,
    ) -> Result<Vec<OrderId>, RepositoryError>;

    /// The first anchor of the tenant's days `from..=to` that does not hold, and how many
    /// anchors were checked.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn anchor_break(
        &self,
        tenant: TenantId,
        from: Date,
        to: Date,
    ) -> Result<(u32, Option<AuditBreak>), RepositoryError>;

    /// The tenant's anchors of the days `from..=to`, oldest first.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn anchors(
        &self,
        tenant: TenantId,
        from: Date,
        to: Date,
    ) -> Result<Vec<AuditAnchor>, RepositoryError>;

    /// The anchor job: anchors every tenant's whole days before `before`, at most `max_days`
    /// days per call; answers how many anchors it wrote. Safe on several replicas at once.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn anchor_days(&self, before: Date, max_days: u32) -> Result<u32, RepositoryError>;
}
