//! Redis adapters: [`RedisGuards`] implements the idempotency store, the rate limiter and the
//! distributed lock over one connection pool.
//!
//! Every multi-step operation is a Lua script, so Redis runs it atomically: two racing requests
//! can never both claim an idempotency key, pass a full rate-limit window, or take a lock.

use async_trait::async_trait;
use deadpool_redis::redis::{RedisError, Script};
use deadpool_redis::{Config, Connection, Pool, Runtime};
use order_domain::cause::Cause;
use order_domain::ports::{
    DistributedLock, GuardError, IdempotencyBegin, IdempotencyStore, LockGuard, RateCheck,
    RateDecision, RateLimiter, StoredResponse,
};
use time::Duration;

/// How long a claimed key stays in flight before a crashed request stops pinning it.
const IN_FLIGHT_LEASE_SECONDS: i64 = 60;

/// Lock acquisition: 3 attempts, 100 ms apart (ticketing).
const LOCK_ATTEMPTS: u32 = 3;
/// Pauses between tries of a taken lock: 100 ms each (the shared backoff rule, held flat).
const LOCK_RETRY: order_domain::backoff::Backoff = order_domain::backoff::Backoff::new(
    std::time::Duration::from_millis(100),
    std::time::Duration::from_millis(100),
);

// KEYS[1]: the idempotency key; KEYS[2] (optional): the caller's rate-limit counter.
// ARGV: fingerprint, in-flight lease (s), ttl (s), rate limit, rate window (ms).
// A claim is a lease: a request that dies holding it stops pinning the key when the lease ends,
// and the next attempt learns that the dead one may have committed ('again').
const BEGIN: &str = r"
if KEYS[2] then
  local count = redis.call('INCR', KEYS[2])
  if count == 1 then
    redis.call('PEXPIRE', KEYS[2], ARGV[5])
  end
  local ttl = redis.call('PTTL', KEYS[2])
  if ttl < 0 then
    redis.call('PEXPIRE', KEYS[2], ARGV[5])
    ttl = tonumber(ARGV[5])
  end
  if count > tonumber(ARGV[4]) then
    return {'rate_limited', tostring(count), tostring(ttl)}
  end
end
local now = tonumber(redis.call('TIME')[1])
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  redis.call('HSET', KEYS[1], 'state', 'in_flight', 'fingerprint', ARGV[1], 'lease_until', now + ARGV[2])
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  return {'started'}
end
if redis.call('HGET', KEYS[1], 'fingerprint') ~= ARGV[1] then
  return {'mismatch'}
end
if state == 'in_flight' and tonumber(redis.call('HGET', KEYS[1], 'lease_until') or '0') > now then
  return {'in_flight'}
end
if state == 'in_flight' or state == 'failed' then
  redis.call('HSET', KEYS[1], 'state', 'in_flight', 'lease_until', now + ARGV[2])
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  return {'again'}
end
return {'done', redis.call('HGET', KEYS[1], 'status'), redis.call('HGET', KEYS[1], 'body'),
  redis.call('HGET', KEYS[1], 'headers') or ''}
";

const COMPLETE: &str = r"
if redis.call('HGET', KEYS[1], 'fingerprint') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'done', 'status', ARGV[2], 'body', ARGV[3], 'headers', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
";

// The key stays (with its fingerprint) as 'failed', so the retry knows an attempt went before.
const ABANDON: &str = r"
if redis.call('HGET', KEYS[1], 'state') == 'in_flight' then
  return redis.call('HSET', KEYS[1], 'state', 'failed')
end
return 0
";

// Fixed window: the first hit of a window starts its expiry; INCR is atomic, so no more than
// `limit` hits are ever admitted per window.
const HIT: &str = r"
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {count, ttl}
";

const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// The Redis-backed guards.
#[derive(Clone)]
pub struct RedisGuards {
    pool: Pool,
    in_flight_lease: Duration,
    begin: Script,
    complete: Script,
    abandon: Script,
    hit: Script,
    release: Script,
}

impl std::fmt::Debug for RedisGuards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisGuards").finish_non_exhaustive()
    }
}

impl RedisGuards {
    /// A pool for `url` (`redis://host:port`); connections are made on first use.
    ///
    /// # Errors
    /// When the URL is malformed.
    pub fn connect(url: &str, max_connections: usize) -> Result<Self, String> {
        let mut config = Config::from_url(url);
        config.pool = Some(deadpool_redis::PoolConfig {
            max_size: max_connections,
            timeouts: deadpool_redis::Timeouts {
                wait: Some(std::time::Duration::from_secs(2)),
                create: Some(std::time::Duration::from_secs(2)),
                recycle: Some(std::time::Duration::from_secs(2)),
            },
            ..deadpool_redis::PoolConfig::default()
        });
        let pool = config
            .create_pool(Some(Runtime::Tokio1))
            .map_err(|e| e.to_string())?;
        Ok(Self {
            pool,
            in_flight_lease: Duration::seconds(IN_FLIGHT_LEASE_SECONDS),
            begin: Script::new(BEGIN),
            complete: Script::new(COMPLETE),
            abandon: Script::new(ABANDON),
            hit: Script::new(HIT),
            release: Script::new(RELEASE),
        })
    }

    /// How long a claimed idempotency key stays in flight before a request that died holding it
    /// stops pinning it (default 60 s).
    #[must_use]
    pub fn with_in_flight_lease(mut self, lease: Duration) -> Self {
        self.in_flight_lease = lease;
        self
    }

    /// Whether Redis answers (`/health/readiness`).
    pub async fn ping(&self) -> bool {
        match self.connection().await {
            Ok(mut conn) => deadpool_redis::redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .is_ok(),
            Err(_) => false,
        }
    }

    async fn connection(&self) -> Result<Connection, GuardError> {
        self.pool
            .get()
            .await
            .map_err(|e| GuardError::Unavailable(Cause::new(e)))
    }
}

fn unavailable(error: RedisError) -> GuardError {
    GuardError::Unavailable(Cause::new(error))
}

fn seconds(duration: Duration) -> i64 {
    duration.whole_seconds().max(1)
}

fn milliseconds(duration: Duration) -> i64 {
    i64::try_from(duration.whole_milliseconds())
        .unwrap_or(i64::MAX)
        .max(1)
}

/// The decision for the `count`-th hit of a window that ends in `ttl_ms`.
fn decision(limit: u32, count: i64, ttl_ms: i64) -> RateDecision {
    let count = u32::try_from(count).unwrap_or(u32::MAX);
    RateDecision {
        allowed: count <= limit,
        limit,
        remaining: limit.saturating_sub(count),
        reset_after: Duration::milliseconds(ttl_ms.max(0)),
    }
}

#[async_trait]
impl IdempotencyStore for RedisGuards {
    async fn begin(
        &self,
        rate: Option<RateCheck>,
        key: &str,
        fingerprint: &str,
        ttl: Duration,
    ) -> Result<IdempotencyBegin, GuardError> {
        let mut conn = self.connection().await?;
        let mut invocation = self.begin.key(key);
        if let Some(rate) = &rate {
            invocation.key(&rate.key);
        }
        let answer: Vec<Vec<u8>> = invocation
            .arg(fingerprint)
            .arg(seconds(self.in_flight_lease))
            .arg(seconds(ttl).max(seconds(self.in_flight_lease)))
            .arg(rate.as_ref().map_or(0, |r| r.limit))
            .arg(rate.as_ref().map_or(1, |r| milliseconds(r.window)))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let number = |index: usize| -> Result<i64, GuardError> {
            answer
                .get(index)
                .and_then(|s| std::str::from_utf8(s).ok())
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| GuardError::Unavailable("stored number unreadable".into()))
        };
        match answer.first().map(Vec::as_slice) {
            Some(b"started") => Ok(IdempotencyBegin::Started),
            Some(b"again") => Ok(IdempotencyBegin::StartedAgain),
            Some(b"mismatch") => Ok(IdempotencyBegin::Mismatch),
            Some(b"in_flight") => Ok(IdempotencyBegin::InFlight),
            Some(b"rate_limited") => {
                let limit = rate.as_ref().map_or(0, |r| r.limit);
                Ok(IdempotencyBegin::RateLimited(decision(
                    limit,
                    number(1)?,
                    number(2)?,
                )))
            }
            Some(b"done") => Ok(IdempotencyBegin::Replay(StoredResponse {
                status: u16::try_from(number(1)?)
                    .map_err(|_| GuardError::Unavailable("stored status unreadable".into()))?,
                body: answer.get(2).cloned().unwrap_or_default(),
                headers: decode_headers(answer.get(3).map_or(&[][..], Vec::as_slice)),
            })),
            _ => Err(GuardError::Unavailable(
                "unexpected idempotency answer".into(),
            )),
        }
    }

    async fn complete(
        &self,
        key: &str,
        fingerprint: &str,
        response: &StoredResponse,
        ttl: Duration,
    ) -> Result<(), GuardError> {
        let mut conn = self.connection().await?;
        let _: i64 = self
            .complete
            .key(key)
            .arg(fingerprint)
            .arg(response.status)
            .arg(response.body.as_slice())
            .arg(encode_headers(&response.headers))
            .arg(seconds(ttl))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn abandon(&self, key: &str) -> Result<(), GuardError> {
        let mut conn = self.connection().await?;
        let _: i64 = self
            .abandon
            .key(key)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn forget_prefix(&self, prefix: &str) -> Result<u64, GuardError> {
        // SCAN walks the keyspace in bounded steps (never blocking Redis like KEYS would);
        // UNLINK frees the values off the main thread.
        let pattern = format!("{}*", glob_escape(prefix));
        let mut conn = self.connection().await?;
        let mut cursor: u64 = 0;
        let mut deleted = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = deadpool_redis::redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1_000)
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            if !keys.is_empty() {
                let unlinked: u64 = deadpool_redis::redis::cmd("UNLINK")
                    .arg(&keys)
                    .query_async(&mut conn)
                    .await
                    .map_err(unavailable)?;
                deleted += unlinked;
            }
            if next == 0 {
                return Ok(deleted);
            }
            cursor = next;
        }
    }
}

/// `text` matched literally by a Redis glob.
fn glob_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[async_trait]
impl RateLimiter for RedisGuards {
    async fn hit(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
    ) -> Result<RateDecision, GuardError> {
        let mut conn = self.connection().await?;
        let (count, ttl_ms): (i64, i64) = self
            .hit
            .key(key)
            .arg(limit)
            .arg(milliseconds(window))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(decision(limit, count, ttl_ms))
    }
}

#[async_trait]
impl DistributedLock for RedisGuards {
    async fn acquire(&self, key: &str, ttl: Duration) -> Result<Option<LockGuard>, GuardError> {
        let token = uuid::Uuid::new_v4().to_string();
        let ttl_ms = i64::try_from(ttl.whole_milliseconds())
            .unwrap_or(i64::MAX)
            .max(1);
        for attempt in 0..LOCK_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(LOCK_RETRY.nominal(attempt - 1)).await;
            }
            let mut conn = self.connection().await?;
            let taken: Option<String> = deadpool_redis::redis::cmd("SET")
                .arg(key)
                .arg(&token)
                .arg("NX")
                .arg("PX")
                .arg(ttl_ms)
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            if taken.is_some() {
                return Ok(Some(LockGuard {
                    key: key.to_owned(),
                    token,
                }));
            }
        }
        Ok(None)
    }

    async fn release(&self, guard: &LockGuard) -> Result<bool, GuardError> {
        let mut conn = self.connection().await?;
        let deleted: i64 = self
            .release
            .key(&guard.key)
            .arg(&guard.token)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(deleted == 1)
    }
}

/// Stored headers as `name:value` lines: header names hold no `:` and values no line break, so the
/// first `:` of a line splits it.
fn encode_headers(headers: &[(String, String)]) -> String {
    headers
        .iter()
        .map(|(name, value)| format!("{name}:{value}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn decode_headers(stored: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(stored)
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}
