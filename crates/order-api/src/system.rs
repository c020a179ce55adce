//! Process-local adapters: the system clock, UUID v7 ids, and the in-process order lock used
//! until the Redis lock (issue 4) replaces it.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use order_domain::ports::{Clock, DistributedLock, GuardError, IdGenerator, LockGuard};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// UTC now, truncated to microseconds (PostgreSQL's precision), so stored and in-memory times
/// compare equal.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        now.replace_microsecond(now.microsecond()).unwrap_or(now)
    }
}

/// Time-ordered UUID v7 ids and random order-number entropy.
#[derive(Debug, Clone, Copy, Default)]
pub struct UuidV7Ids;

impl IdGenerator for UuidV7Ids {
    fn uuid(&self) -> Uuid {
        Uuid::now_v7()
    }

    fn order_number_entropy(&self) -> u32 {
        // The random bits of a v4 UUID.
        let bytes = Uuid::new_v4().into_bytes();
        u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
    }
}

/// A lock table inside this process: correct for one replica; issue 4 brings the Redis lock
/// that spans replicas. Entries expire after their TTL like the Redis keys will.
#[derive(Debug, Default)]
pub struct ProcessLock {
    held: Mutex<HashMap<String, (String, OffsetDateTime)>>,
}

#[async_trait]
impl DistributedLock for ProcessLock {
    async fn acquire(&self, key: &str, ttl: Duration) -> Result<Option<LockGuard>, GuardError> {
        let now = OffsetDateTime::now_utc();
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if held.get(key).is_some_and(|(_, until)| *until > now) {
            return Ok(None);
        }
        let token = Uuid::new_v4().to_string();
        held.insert(key.to_owned(), (token.clone(), now + ttl));
        Ok(Some(LockGuard {
            key: key.to_owned(),
            token,
        }))
    }

    async fn release(&self, guard: &LockGuard) -> Result<bool, GuardError> {
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if held
            .get(&guard.key)
            .is_some_and(|(token, _)| *token == guard.token)
        {
            held.remove(&guard.key);
            Ok(true)
        } else {
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_the_owner_releases_and_a_held_lock_is_refused() {
        let lock = ProcessLock::default();
        let guard = lock
            .acquire("order:lock:1", Duration::seconds(30))
            .await
            .expect("ok")
            .expect("free");
        assert_eq!(
            lock.acquire("order:lock:1", Duration::seconds(30)).await,
            Ok(None)
        );
        let stranger = LockGuard {
            key: guard.key.clone(),
            token: "other".into(),
        };
        assert_eq!(lock.release(&stranger).await, Ok(false));
        assert_eq!(lock.release(&guard).await, Ok(true));
        assert!(
            lock.acquire("order:lock:1", Duration::seconds(30))
                .await
                .expect("ok")
                .is_some()
        );
    }

    #[tokio::test]
    async fn an_expired_lock_can_be_taken_again() {
        let lock = ProcessLock::default();
        lock.acquire("k", Duration::seconds(-1))
            .await
            .expect("ok")
            .expect("free");
        assert!(
            lock.acquire("k", Duration::seconds(30))
                .await
                .expect("ok")
                .is_some()
        );
    }
}
