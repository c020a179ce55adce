//! Where reconciliation runs and their differences are kept.

use async_trait::async_trait;

use super::RepositoryError;
use crate::ids::{ReconciliationRunId, TenantId};
use crate::reconciliation::{ReconciliationRun, RunSummary};

/// Reconciliation runs.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Reconciliations: Send + Sync {
    /// Stores a finished run with its differences.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn save_run(&self, run: &ReconciliationRun) -> Result<(), RepositoryError>;

    /// The tenant's run `id` with its differences.
    ///
    /// # Errors
    /// MUST return `Ok(None)` when the run does not exist in this tenant.
    async fn run(
        &self,
        tenant: TenantId,
        id: ReconciliationRunId,
    ) -> Result<Option<ReconciliationRun>, RepositoryError>;

    /// The tenant's `limit` latest runs, newest first, each with how many differences it found
    /// and repaired.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn recent_runs(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> Result<Vec<RunSummary>, RepositoryError>;
}
