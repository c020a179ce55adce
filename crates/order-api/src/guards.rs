//! The command pipeline in front of every state-changing route ([`Command`]): its turn
//! ([`crate::admission`]), caller, per-user rate limits and `Idempotency-Key` replay, declared per
//! route.
//!
//! What happens when Redis is down is decided per feature (docs/idempotency-and-rate-limits.md):
//! idempotency fails closed for commands that create money movements (order creation, refund
//! requests) and open for commands the state machine already makes idempotent; rate limits fail
//! open.

use order_domain::cause::Chain;
use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use futures_util::future::LocalBoxFuture;
use order_domain::ports::{GuardError, IdempotencyBegin, RateCheck, RateDecision, StoredResponse};
use order_domain::use_cases::IdempotencyKey;
use sha2::{Digest, Sha256};

use crate::caller::{Caller, CallerKind};
use crate::error::ApiError;
use crate::extract::read_body;
use crate::state::AppState;

/// How a command behaves when the idempotency store is unreachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenStoreDown {
    /// Refuse with 503: a retried request could otherwise create a second order or refund.
    FailClosed,
    /// Run the command: the state machine rejects a repeated transition anyway.
    FailOpen,
}

/// What a command route declares about its pipeline: who may call it, which rate limit it
/// counts against and how it behaves when the idempotency store is down. Used as the route's
/// middleware: `#[post("/orders", wrap = "Command::user(FailClosed).limited(RateAction::Orders)")]`.
///
/// For every request the pipeline authenticates the caller (401 before the body is read),
/// reads the body (413 above `MAX_BODY_BYTES`), counts the request against the limit and begins
/// the `Idempotency-Key` — both decided in one Redis round trip — then runs the handler at most
/// once per key. The same key and body replay the stored answer (status, body and headers) with
/// `Idempotent-Replayed: true`; the same key with another body is 422; a key still running is
/// 409. A 5xx answer does not pin its key: the retry runs with
/// [`IdempotencyKey::earlier_attempt`] set, since the failed attempt may have committed.
#[derive(Debug, Clone, Copy)]
pub struct Command {
    caller: CallerKind,
    limit: Option<RateAction>,
    when_down: WhenStoreDown,
}

impl Command {
    /// A command of a person with a JWT.
    pub const fn user(when_down: WhenStoreDown) -> Self {
        Self {
            caller: CallerKind::User,
            limit: None,
            when_down,
        }
    }

    /// A command of a shopper: a buyer with a JWT or an anonymous session.
    pub const fn shopper(when_down: WhenStoreDown) -> Self {
        Self {
            caller: CallerKind::Shopper,
            limit: None,
            when_down,
        }
    }

    /// A command of another service (service key and `X-Tenant-Id`).
    pub const fn service(when_down: WhenStoreDown) -> Self {
        Self {
            caller: CallerKind::Service,
            limit: None,
            when_down,
        }
    }

    /// Counted against the caller's per-minute limit of `action`.
    #[must_use]
    pub const fn limited(mut self, action: RateAction) -> Self {
        self.limit = Some(action);
        self
    }
}

/// The rate-limited actions of the ticketing API's table; the limits come from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateAction {
    /// `POST /orders` (`RATE_LIMIT_ORDERS_PER_MINUTE`).
    Orders,
    /// `POST /orders/{id}/reserve` (`RATE_LIMIT_RESERVE_PER_MINUTE`).
    Reserve,
    /// `POST /orders/{id}/cancel` (`RATE_LIMIT_CANCEL_PER_MINUTE`).
    Cancel,
    /// `POST /orders/{id}/refund` (`RATE_LIMIT_REFUND_PER_MINUTE`).
    Refund,
}

impl RateAction {
    fn check(self, state: &AppState, caller: &Caller) -> RateCheck {
        let limits = &state.rate_limits;
        let (action, per_minute) = match self {
            Self::Orders => ("orders", limits.orders),
            Self::Reserve => ("reserve", limits.reserve),
            Self::Cancel => ("cancel", limits.cancel),
            Self::Refund => ("refund", limits.refund),
        };
        RateCheck {
            key: format!("{}:rl:{}:{action}", state.redis_key_prefix, caller.scope()),
            limit: per_minute,
            window: time::Duration::minutes(1),
        }
    }
}

/// The key a command runs under, for the handler to store with what it creates: absent without
/// an `Idempotency-Key` header or when the store was down and the command fails open.
#[derive(Debug, Clone)]
pub struct Claim(pub Option<IdempotencyKey>);

impl FromRequest for Claim {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Claim(
            request.extensions().get::<IdempotencyKey>().cloned(),
        )))
    }
}

impl<S, B> Transform<S, ServiceRequest> for Command
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Transform = CommandService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(CommandService {
            service: Rc::new(service),
            command: *self,
        }))
    }
}

/// The pipeline of one [`Command`] route.
pub struct CommandService<S> {
    service: Rc<S>,
    command: Command,
}

impl<S> std::fmt::Debug for CommandService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandService")
            .field("command", &self.command)
            .finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for CommandService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<ServiceResponse<BoxBody>, actix_web::Error>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let command = self.command;
        Box::pin(async move {
            // Its turn first: a command waiting here holds nothing but its connection.
            let gate = request
                .app_data::<web::Data<AppState>>()
                .map(|state| state.command_gate.clone());
            let _place = match gate {
                Some(gate) => match gate.admit().await {
                    Ok(place) => Some(place),
                    Err(overloaded) => {
                        return Ok(request.error_response(ApiError::Overloaded(overloaded)));
                    }
                },
                None => None,
            };
            match guard(command, request).await {
                Guarded::Answer(response) => Ok(response),
                Guarded::Run(request, None) => service
                    .call(request)
                    .await
                    .map(ServiceResponse::map_into_boxed_body),
                Guarded::Run(request, Some(pinned)) => run_pinned(&*service, request, pinned).await,
            }
        })
    }
}

/// What the pipeline decided before the handler.
enum Guarded {
    /// Answered already (401, 413, 429, a replay, …).
    Answer(ServiceResponse<BoxBody>),
    /// Run the handler, recording its answer under the key when there is one.
    Run(ServiceRequest, Option<Pinned>),
}

/// An idempotency key the handler's answer is stored under.
struct Pinned {
    state: web::Data<AppState>,
    store_key: String,
    fingerprint: String,
}

async fn guard(command: Command, mut request: ServiceRequest) -> Guarded {
    macro_rules! answer {
        ($error:expr) => {
            return Guarded::Answer(request.error_response($error))
        };
    }
    let Some(state) = request.app_data::<web::Data<AppState>>().cloned() else {
        answer!(ApiError::Internal(
            "the application state is not configured".into()
        ))
    };
    let caller = match command.caller.identify(request.request()) {
        Ok(caller) => caller,
        Err(error) => answer!(error),
    };
    caller.clone().remember(&mut request.extensions_mut());
    let body = match read_body(request.take_payload(), state.max_body_bytes).await {
        Ok(body) => body,
        Err(error) => answer!(error),
    };
    request.set_payload(Payload::from(body.clone()));
    let rate = command.limit.map(|action| action.check(&state, &caller));
    let Some(raw) = request.headers().get("idempotency-key") else {
        if let Some(check) = &rate
            && let Err(error) = rate_limit(&state, check).await
        {
            answer!(error)
        }
        return Guarded::Run(request, None);
    };
    let Some(key) = raw
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_owned)
    else {
        answer!(ApiError::field(
            "header.Idempotency-Key",
            "invalid",
            "1 to 255 visible ASCII characters",
        ))
    };
    let store_key = format!("{}:idem:{}:{key}", state.redis_key_prefix, caller.scope());
    let fingerprint = fingerprint(request.request(), &body);
    let ttl = state.idempotency_ttl;
    let earlier_attempt = match state
        .idempotency
        .begin(rate, &store_key, &fingerprint, ttl)
        .await
    {
        Ok(IdempotencyBegin::Started) => false,
        Ok(IdempotencyBegin::StartedAgain) => true,
        Ok(IdempotencyBegin::RateLimited(decision)) => answer!(rate_limited(decision)),
        Ok(IdempotencyBegin::Replay(stored)) => {
            let answer = match state.answer_keys.open_opaque(&store_key, &stored.body) {
                Ok(body) => replay(&stored, body),
                Err(error) => {
                    tracing::error!(
                        error = &error as &dyn std::error::Error,
                        "a stored idempotent answer does not open (ADDRESS_ENCRYPTION_KEYS rotated?)"
                    );
                    actix_web::ResponseError::error_response(&ApiError::Internal(
                        order_domain::cause::Cause::new(error),
                    ))
                }
            };
            return Guarded::Answer(request.into_response(answer));
        }
        Ok(IdempotencyBegin::InFlight) => answer!(ApiError::IdempotencyInFlight),
        Ok(IdempotencyBegin::Mismatch) => answer!(ApiError::IdempotencyKeyReused),
        // The rate limit fails open; the key follows `when_down`.
        Err(error) => match command.when_down {
            WhenStoreDown::FailClosed => answer!(ApiError::GuardUnavailable(error)),
            WhenStoreDown::FailOpen => {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "guard store unavailable; running the command without rate limit or idempotency"
                );
                return Guarded::Run(request, None);
            }
        },
    };
    request.extensions_mut().insert(IdempotencyKey {
        key,
        fingerprint: fingerprint.clone(),
        ttl,
        earlier_attempt,
    });
    Guarded::Run(
        request,
        Some(Pinned {
            state,
            store_key,
            fingerprint,
        }),
    )
}

/// Runs the handler and records its answer under the key (5xx answers release the key).
async fn run_pinned<S, B>(
    service: &S,
    request: ServiceRequest,
    pinned: Pinned,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    let Pinned {
        state,
        store_key,
        fingerprint,
    } = pinned;
    let response = match service.call(request).await {
        Ok(response) => response,
        Err(error) => {
            if let Err(release) = state.idempotency.abandon(&store_key).await {
                tracing::warn!(
                    error = &release as &dyn std::error::Error,
                    "could not release the idempotency key"
                );
            }
            return Err(error);
        }
    };
    let (request, response) = response.into_parts();
    let status = response.status();
    let headers = response.headers().clone();
    let (response, body) = response.into_parts();
    let bytes = to_bytes(body).await.unwrap_or_default();
    let outcome = if status.is_server_error() {
        state.idempotency.abandon(&store_key).await
    } else {
        // Answers carry secrets (a payment's client secret, a webhook's signing secret): what
        // Redis keeps is sealed, bound to the key it is stored under.
        match state.answer_keys.seal_opaque(&store_key, &bytes) {
            Ok(sealed) => {
                let stored = StoredResponse {
                    status: status.as_u16(),
                    body: sealed,
                    headers: replayable_headers(&headers),
                };
                state
                    .idempotency
                    .complete(&store_key, &fingerprint, &stored, state.idempotency_ttl)
                    .await
            }
            Err(error) => {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "could not seal the idempotent response; the key is released"
                );
                state.idempotency.abandon(&store_key).await
            }
        }
    };
    if let Err(error) = outcome {
        tracing::warn!(
            error = &error as &dyn std::error::Error,
            "could not record the idempotent response"
        );
    }
    Ok(ServiceResponse::new(request, response.set_body(bytes)).map_into_boxed_body())
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

/// The stored answer again: its status, (opened) `body` and headers, marked as a replay.
fn replay(stored: &StoredResponse, body: Vec<u8>) -> HttpResponse {
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
        .body(body)
}

/// Counts one attempt against `check`.
///
/// # Errors
/// 429 `rate_limited` with `Retry-After` and `RateLimit-*` headers when the window is full.
/// When Redis is down the request passes (fail open) and a warning is logged.
pub(crate) async fn rate_limit(state: &AppState, check: &RateCheck) -> Result<(), ApiError> {
    match state
        .rate_limiter
        .hit(&check.key, check.limit, check.window)
        .await
    {
        Ok(decision) if decision.allowed => Ok(()),
        Ok(decision) => Err(rate_limited(decision)),
        Err(GuardError::Unavailable(error)) => {
            tracing::warn!(error = %Chain(&error), key = %check.key, "rate limiter unavailable; admitting the request");
            Ok(())
        }
    }
}

pub(crate) fn rate_limited(decision: RateDecision) -> ApiError {
    ApiError::RateLimited {
        limit: decision.limit,
        retry_after_seconds: u64::try_from(decision.reset_after.whole_seconds().max(1))
            .unwrap_or(1),
    }
}
