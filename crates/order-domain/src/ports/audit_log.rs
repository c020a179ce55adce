//! The audit trail as the history route reads it (writes go with each change through
//! [`UnitOfWork`](super::UnitOfWork)).

use async_trait::async_trait;

use super::RepositoryError;
use crate::audit::AuditEntry;
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
