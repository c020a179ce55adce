//! Where durable bulk jobs are kept and leased to the runner that works them.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::RepositoryError;
use crate::bulk_cancel::BulkCancelJob;
use crate::ids::{BulkJobId, TenantId};

/// A job leased to one runner until `until`; only the holder of `token` may save it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeasedJob {
    /// The job as saved.
    pub job: BulkCancelJob,
    /// The lease's token.
    pub token: uuid::Uuid,
}

/// Bulk jobs.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait BulkJobs: Send + Sync {
    /// Stores `job`, unless its tenant already has a job for the same event: then that one is
    /// answered instead (a request sent again starts nothing new).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn start(&self, job: &BulkCancelJob) -> Result<BulkCancelJob, RepositoryError>;

    /// The tenant's job `id`.
    ///
    /// # Errors
    /// MUST return `Ok(None)` when the job does not exist in this tenant.
    async fn job(
        &self,
        tenant: TenantId,
        id: BulkJobId,
    ) -> Result<Option<BulkCancelJob>, RepositoryError>;

    /// Leases one running job of any tenant whose lease ran out by `now`, until `until`. MUST
    /// lease each job to one caller at a time, however many ask at once.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn lease(
        &self,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Option<LeasedJob>, RepositoryError>;

    /// Saves the progress of a leased job and extends its lease to `until` (a done job's lease
    /// ends). Answers `false`, saving nothing, when the lease is no longer `token`'s.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn save(
        &self,
        job: &BulkCancelJob,
        token: uuid::Uuid,
        until: OffsetDateTime,
    ) -> Result<bool, RepositoryError>;
}
