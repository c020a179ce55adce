//! What other parts report into the metrics: consumed messages, upstream calls, the order lock's
//! failures, and the business counters of every committed change (the unit of work wrapped).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use order_domain::ports::{
    DistributedLock, GuardError, LockGuard, OrderChange, RepositoryError, UnitOfWork,
};

use super::AppMetrics;

impl order_amqp::consumers::ConsumerObserver for AppMetrics {
    fn consumed(&self, queue: &str, disposition: &'static str) {
        self.count(
            "order_service_messages_consumed_total",
            &[("queue", queue), ("disposition", disposition)],
            1,
        );
    }
}

/// The order lock, counting the times it could not be taken (the ticketing API's "lock failures"):
/// `contended` when another request holds it, `unavailable` when the lock store failed.
pub struct MeteredLock<L> {
    inner: L,
    metrics: Arc<AppMetrics>,
}

impl<L> MeteredLock<L> {
    /// `inner`, counted into `metrics`.
    pub fn new(inner: L, metrics: Arc<AppMetrics>) -> Self {
        Self { inner, metrics }
    }
}

impl<L> std::fmt::Debug for MeteredLock<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MeteredLock")
    }
}

#[async_trait]
impl<L: DistributedLock> DistributedLock for MeteredLock<L> {
    async fn acquire(
        &self,
        key: &str,
        ttl: time::Duration,
    ) -> Result<Option<LockGuard>, GuardError> {
        let acquired = self.inner.acquire(key, ttl).await;
        let failure = match &acquired {
            Ok(Some(_)) => None,
            Ok(None) => Some("contended"),
            Err(_) => Some("unavailable"),
        };
        if let Some(reason) = failure {
            self.metrics.count(
                "order_service_lock_failures_total",
                &[("reason", reason)],
                1,
            );
        }
        acquired
    }

    async fn release(&self, guard: &LockGuard) -> Result<bool, GuardError> {
        self.inner.release(guard).await
    }
}

impl order_http_clients::CallObserver for AppMetrics {
    fn observe(&self, service: &'static str, outcome: &'static str, elapsed: Duration) {
        self.external_call(service, outcome, elapsed);
    }
}

/// The unit of work, counting what every committed change did.
pub struct MeteredUnitOfWork {
    inner: Arc<dyn UnitOfWork>,
    metrics: Arc<AppMetrics>,
}

impl std::fmt::Debug for MeteredUnitOfWork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeteredUnitOfWork").finish_non_exhaustive()
    }
}

impl MeteredUnitOfWork {
    /// `inner`, counted into `metrics`.
    pub fn new(inner: Arc<dyn UnitOfWork>, metrics: Arc<AppMetrics>) -> Self {
        Self { inner, metrics }
    }

    fn timed(&self, operation: &str, started: Instant) {
        self.metrics.observe(
            "order_service_operation_duration_seconds",
            &[("operation", operation)],
            started.elapsed().as_secs_f64(),
        );
    }
}

#[async_trait]
impl UnitOfWork for MeteredUnitOfWork {
    async fn commit(&self, change: &OrderChange) -> Result<(), RepositoryError> {
        let started = Instant::now();
        let result = self.inner.commit(change).await;
        self.timed("commit", started);
        if result.is_ok() {
            self.metrics.committed(change);
        }
        result
    }

    async fn commit_batch(&self, changes: &[OrderChange]) -> Result<Vec<bool>, RepositoryError> {
        let started = Instant::now();
        let stored = self.inner.commit_batch(changes).await;
        self.timed("commit_batch", started);
        if let Ok(stored) = &stored {
            for (change, _) in changes.iter().zip(stored).filter(|(_, kept)| **kept) {
                self.metrics.committed(change);
            }
        }
        stored
    }
}
