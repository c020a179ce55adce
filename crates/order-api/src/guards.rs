//! Request guards in front of the use cases: `Idempotency-Key` replay and per-user rate limits.
//!
//! What happens when Redis is down is decided per feature (docs/idempotency-and-rate-limits.md):
//! idempotency fails closed for commands that create money movements (order creation, refund
//! requests) and open for commands the state machine already makes idempotent; rate limits fail
//! open.

use std::future::Future;

use actix_web::body::to_bytes;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use order_domain::actor::RequestContext;
use order_domain::ports::{GuardError, IdempotencyBegin, RateCheck, RateDecision, StoredResponse};
use order_domain::use_cases::IdempotencyKey;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::routes::AppState;

/// How a command behaves when the idempotency store is unreachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenStoreDown {
    /// Refuse with 503: a retried request could otherwise create a second order or refund.
    FailClosed,
    /// Run the command: the state machine rejects a repeated transition anyway.
    FailOpen,
}

/// The caller part of idempotency and rate-limit keys: tenant plus user or service.
fn caller_scope(ctx: &RequestContext) -> String {
    let who = match &ctx.actor {
        order_domain::actor::Actor::User { id, .. } => format!("user:{id}"),
        order_domain::actor::Actor::Service { name }
        | order_domain::actor::Actor::System { name } => format!("service:{name}"),
    };
    format!("{}:{who}", ctx.tenant_id)
}

/// A per-minute limit on one action of a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    action: &'static str,
    per_minute: u32,
}

impl Limit {
    /// At most `per_minute` `action`s per caller and minute.
    pub fn per_minute(action: &'static str, per_minute: u32) -> Self {
        Self { action, per_minute }
    }

    fn check(self, state: &AppState, ctx: &RequestContext) -> RateCheck {
        RateCheck {
            key: format!(
                "{}:rl:{}:{}",
                state.redis_key_prefix,
                caller_scope(ctx),
                self.action
            ),
            limit: self.per_minute,
            window: time::Duration::minutes(1),
        }
    }
}

/// Counts the request against `limit` and runs `command` at most once per `Idempotency-Key`
/// (scoped to `ctx`'s tenant and caller); both decided in one Redis round trip. The same key and
/// body replay the stored answer with `Idempotent-Replayed: true`; the same key with another
/// body is 422; a key still running is 409. A 5xx answer does not pin its key: the retry runs
/// with [`IdempotencyKey::earlier_attempt`] set, since the failed attempt may have committed.
/// `command` receives the key (and fingerprint) to store with what it creates.
///
/// # Errors
/// 422 for an unusable key; 429 over the limit; the guard errors above.
pub async fn idempotent<F, Fut>(
    state: &AppState,
    request: &HttpRequest,
    ctx: &RequestContext,
    body: &[u8],
    limit: Option<Limit>,
    when_down: WhenStoreDown,
    command: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(Option<IdempotencyKey>) -> Fut,
    Fut: Future<Output = Result<HttpResponse, ApiError>>,
{
    let Some(raw) = request.headers().get("idempotency-key") else {
        if let Some(limit) = limit {
            rate_limit(state, &limit.check(state, ctx)).await?;
        }
        return command(None).await;
    };
    let key = raw
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.chars().all(|c| c.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::field(
                "header.Idempotency-Key",
                "invalid",
                "1 to 255 visible ASCII characters",
            )
        })?;
    let store_key = format!(
        "{}:idem:{}:{key}",
        state.redis_key_prefix,
        caller_scope(ctx)
    );
    let fingerprint = fingerprint(request, body);
    let ttl = state.idempotency_ttl;
    let rate = limit.map(|l| l.check(state, ctx));
    let earlier_attempt = match state
        .idempotency
        .begin(rate, &store_key, &fingerprint, ttl)
        .await
    {
        Ok(IdempotencyBegin::Started) => false,
        Ok(IdempotencyBegin::StartedAgain) => true,
        Ok(IdempotencyBegin::RateLimited(decision)) => return Err(rate_limited(decision)),
        Ok(IdempotencyBegin::Replay(stored)) => return Ok(replay(&stored)),
        Ok(IdempotencyBegin::InFlight) => return Err(ApiError::IdempotencyInFlight),
        Ok(IdempotencyBegin::Mismatch) => return Err(ApiError::IdempotencyKeyReused),
        // The rate limit fails open; the key follows `when_down`.
        Err(error) => {
            return match when_down {
                WhenStoreDown::FailClosed => Err(ApiError::GuardUnavailable(error)),
                WhenStoreDown::FailOpen => {
                    tracing::warn!(%error, "guard store unavailable; running the command without rate limit or idempotency");
                    command(None).await
                }
            };
        }
    };
    let claim = IdempotencyKey {
        key: key.to_owned(),
        fingerprint: fingerprint.clone(),
        ttl,
        earlier_attempt,
    };
    let response = match command(Some(claim)).await {
        Ok(response) => response,
        Err(error) => error.error_response(),
    };
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body()).await.unwrap_or_default();
    let outcome = if status.is_server_error() {
        state.idempotency.abandon(&store_key).await
    } else {
        let stored = StoredResponse {
            status: status.as_u16(),
            body: bytes.to_vec(),
            headers: replayable_headers(&headers),
        };
        state
            .idempotency
            .complete(&store_key, &fingerprint, &stored, ttl)
            .await
    };
    if let Err(error) = outcome {
        tracing::warn!(%error, "could not record the idempotent response");
    }
    let mut rebuilt = HttpResponse::build(status);
    for (name, value) in &headers {
        rebuilt.append_header((name.clone(), value.clone()));
    }
    Ok(rebuilt.body(bytes))
}

/// SHA-256 of method, path and body: what "the same request" means for a key.
fn fingerprint(request: &HttpRequest, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(request.method().as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(request.path().as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The headers a replay repeats: all the answer had, except those that describe this one
/// transfer or this moment (length, date, connection) and the caller's current rate-limit
/// window, which a replay must not report from the past.
fn replayable_headers(headers: &actix_web::http::header::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| {
            let name = name.as_str();
            !matches!(
                name,
                "content-length" | "date" | "connection" | "transfer-encoding"
            ) && !name.starts_with("ratelimit")
        })
        .filter_map(|(name, value)| {
            value
                .to_str()
                .ok()
                .map(|value| (name.as_str().to_owned(), value.to_owned()))
        })
        .collect()
}

/// The stored answer again: its status, body and headers, marked as a replay.
fn replay(stored: &StoredResponse) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    for (name, value) in &stored.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.append_header((name, value));
        }
    }
    if !stored
        .headers
        .iter()
        .any(|(name, _)| name == "content-type")
    {
        let content_type = if status.is_success() {
            "application/json"
        } else {
            "application/problem+json"
        };
        response.insert_header(("content-type", content_type));
    }
    response
        .insert_header((
            HeaderName::from_static("idempotent-replayed"),
            HeaderValue::from_static("true"),
        ))
        .body(stored.body.clone())
}

/// Counts one attempt against `check`.
///
/// # Errors
/// 429 `rate_limited` with `Retry-After` and `RateLimit-*` headers when the window is full.
/// When Redis is down the request passes (fail open) and a warning is logged.
async fn rate_limit(state: &AppState, check: &RateCheck) -> Result<(), ApiError> {
    match state
        .rate_limiter
        .hit(&check.key, check.limit, check.window)
        .await
    {
        Ok(decision) if decision.allowed => Ok(()),
        Ok(decision) => Err(rate_limited(decision)),
        Err(GuardError::Unavailable(error)) => {
            tracing::warn!(%error, key = %check.key, "rate limiter unavailable; admitting the request");
            Ok(())
        }
    }
}

fn rate_limited(decision: RateDecision) -> ApiError {
    ApiError::RateLimited {
        limit: decision.limit,
        retry_after_seconds: u64::try_from(decision.reset_after.whole_seconds().max(1))
            .unwrap_or(1),
    }
}
