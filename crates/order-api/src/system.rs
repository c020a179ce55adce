//! Process-local adapters: the log of dropped failures and the fail-open wrapper of the order
//! lock. (The system clock and UUID v7 ids come ready from `order_domain::adapters`.)

use async_trait::async_trait;
use order_domain::cause::Chain;
use order_domain::ids::OrderId;
use order_domain::ports::{DistributedLock, GuardError, Incidents, LockGuard};
use time::Duration;

/// Dropped failures (failed compensations, unreleased locks) as warnings with the orders and the
/// cause chain.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoggedIncidents;

impl Incidents for LoggedIncidents {
    fn dropped(&self, orders: &[OrderId], action: &'static str, error: &dyn std::error::Error) {
        let orders: Vec<String> = orders.iter().map(ToString::to_string).collect();
        tracing::warn!(
            orders = %orders.join(","),
            action,
            error = %Chain(error),
            "a step failed and was left to expire on its own"
        );
    }
}

/// The order lock with Redis's failure mode decided: when Redis cannot be reached the command
/// runs without the lock (fail open). That is safe because every write checks the order's
/// version; the lock only spares concurrent requests wasted upstream calls (decision 0014).
pub struct FailOpenLock<L> {
    inner: L,
}

impl<L> FailOpenLock<L> {
    /// Wraps `inner`.
    pub fn new(inner: L) -> Self {
        Self { inner }
    }
}

impl<L> std::fmt::Debug for FailOpenLock<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FailOpenLock")
    }
}

/// The token of a lock taken while Redis was down: releasing it does nothing.
const UNLOCKED: &str = "unlocked-redis-down";

#[async_trait]
impl<L: DistributedLock> DistributedLock for FailOpenLock<L> {
    async fn acquire(&self, key: &str, ttl: Duration) -> Result<Option<LockGuard>, GuardError> {
        match self.inner.acquire(key, ttl).await {
            Ok(guard) => Ok(guard),
            Err(error) => {
                tracing::warn!(error = %Chain(&error), key, "lock store unavailable; continuing without the lock");
                Ok(Some(LockGuard {
                    key: key.to_owned(),
                    token: UNLOCKED.to_owned(),
                }))
            }
        }
    }

    async fn release(&self, guard: &LockGuard) -> Result<bool, GuardError> {
        if guard.token == UNLOCKED {
            return Ok(false);
        }
        self.inner.release(guard).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Down;

    #[async_trait]
    impl DistributedLock for Down {
        async fn acquire(&self, _: &str, _: Duration) -> Result<Option<LockGuard>, GuardError> {
            Err(GuardError::Unavailable("connection refused".into()))
        }
        async fn release(&self, _: &LockGuard) -> Result<bool, GuardError> {
            Err(GuardError::Unavailable("connection refused".into()))
        }
    }

    #[tokio::test]
    async fn a_lock_store_that_is_down_lets_the_command_run() {
        let lock = FailOpenLock::new(Down);
        let guard = lock
            .acquire("order:lock:1", Duration::seconds(30))
            .await
            .expect("fail open")
            .expect("guard");
        assert_eq!(lock.release(&guard).await, Ok(false));
    }
}
