//! Request guard ports: idempotency, rate limits and distributed locks, and the responses they
//! store.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::Duration;

/// Why a guard's store failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// The store (Redis) could not be reached.
    #[error("guard store unavailable")]
    Unavailable(#[source] crate::cause::Cause),
}

/// A response kept for idempotent replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// Body bytes.
    pub body: Vec<u8>,
    /// The headers to replay with it (`Location`, `Content-Type`, …), in order.
    pub headers: Vec<(String, String)>,
}

/// What [`IdempotencyStore::begin`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyBegin {
    /// First use: the caller runs the request and then completes or abandons the key.
    Started,
    /// An earlier attempt with this key failed (5xx) or vanished (its claim ran out without an
    /// answer): the caller runs the request again, knowing the earlier one may have committed.
    StartedAgain,
    /// The caller's rate limit refused the request; the key was not claimed.
    RateLimited(RateDecision),
    /// Done before with the same request: replay this.
    Replay(StoredResponse),
    /// The same key is running right now.
    InFlight,
    /// The key was used with a different request.
    Mismatch,
}

/// `Idempotency-Key` storage.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Counts the request against `rate` (when given) and, when admitted, claims `key` (already
    /// scoped to tenant + caller) for a request with `fingerprint` — in one round trip.
    ///
    /// # Errors
    /// [`GuardError::Unavailable`]; the claim MUST be atomic (two concurrent calls: one
    /// `Started`, the other `InFlight`) and so MUST the count (as [`RateLimiter::hit`]).
    async fn begin(
        &self,
        rate: Option<RateCheck>,
        key: &str,
        fingerprint: &str,
        ttl: Duration,
    ) -> Result<IdempotencyBegin, GuardError>;

    /// Stores the response of a finished request.
    ///
    /// # Errors
    /// [`GuardError::Unavailable`].
    async fn complete(
        &self,
        key: &str,
        fingerprint: &str,
        response: &StoredResponse,
        ttl: Duration,
    ) -> Result<(), GuardError>;

    /// Frees the key of a request that failed (5xx) so that it may be retried; the retry's
    /// [`IdempotencyStore::begin`] answers [`IdempotencyBegin::StartedAgain`].
    ///
    /// # Errors
    /// [`GuardError::Unavailable`].
    async fn abandon(&self, key: &str) -> Result<(), GuardError>;

    /// Deletes every stored answer whose key starts with `prefix` (a customer's erasure: their
    /// answers may hold their addresses); answers how many.
    ///
    /// # Errors
    /// [`GuardError::Unavailable`].
    async fn forget_prefix(&self, prefix: &str) -> Result<u64, GuardError>;
}

/// One attempt to count against a per-caller limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateCheck {
    /// The counter (scoped to tenant, caller and action).
    pub key: String,
    /// Attempts admitted per window.
    pub limit: u32,
    /// The window.
    pub window: Duration,
}

/// The outcome of one rate-limited attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    /// Whether the attempt is admitted.
    pub allowed: bool,
    /// The limit.
    pub limit: u32,
    /// Attempts left in the window.
    pub remaining: u32,
    /// Until the window resets.
    pub reset_after: Duration,
}

/// Fixed-window counters.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Counts one attempt under `key`.
    ///
    /// # Errors
    /// [`GuardError::Unavailable`]. Counting MUST be atomic: never more than `limit` admitted per
    /// window, however many callers race.
    async fn hit(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
    ) -> Result<RateDecision, GuardError>;
}

/// A held lock; release it with [`DistributedLock::release`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockGuard {
    /// The lock key (`order:lock:{orderId}`).
    pub key: String,
    /// Random owner token: only the holder can release.
    pub token: String,
}

/// Short mutual exclusion across replicas.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait DistributedLock: Send + Sync {
    /// Tries to take `key` for `ttl`, retrying a few times; `None` when someone else holds it.
    ///
    /// # Errors
    /// [`GuardError::Unavailable`].
    async fn acquire(&self, key: &str, ttl: Duration) -> Result<Option<LockGuard>, GuardError>;

    /// Releases the lock if `guard` still owns it; `false` when it had expired or been taken.
    ///
    /// # Errors
    /// [`GuardError::Unavailable`].
    async fn release(&self, guard: &LockGuard) -> Result<bool, GuardError>;
}
