//! The one error type of the API and its RFC 9457 problem+json bodies.
//!
//! Every variant documents its status. 5xx bodies carry a fixed message; causes go to the log.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use order_domain::cause::Chain;
use order_domain::policy::{FieldError, Violations};
use order_domain::ports::{RepositoryError, UpstreamError};
use order_domain::use_cases::{ProblemKind, ReadError, UseCaseError, WebhookError};
use serde::Serialize;

/// An API failure.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401 `unauthorized`.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 404 `not_found`.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 403 `service_forbidden`: the service key does not open this route or tenant.
    #[error("{0}")]
    ServiceForbidden(String),
    /// 400 `malformed_json`: the body is not JSON.
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    /// 415 `unsupported_media_type`.
    #[error("send the body as application/json")]
    UnsupportedMediaType,
    /// 413 `payload_too_large`.
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// 422 `validation_failed` with field paths.
    #[error("the request is invalid")]
    Validation(Violations),
    /// Whatever the use case said; see [`ApiError::status_and_code`] for the mapping.
    #[error(transparent)]
    UseCase(#[from] UseCaseError),
    /// 409 `idempotency_in_flight`: the same key is still being processed.
    #[error("a request with this Idempotency-Key is still in progress; retry shortly")]
    IdempotencyInFlight,
    /// 422 `idempotency_key_reused`: the key was used with another request.
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyKeyReused,
    /// 429 `rate_limited`.
    #[error("at most {limit} requests per minute; retry in {retry_after_seconds} s")]
    RateLimited {
        /// The limit.
        limit: u32,
        /// Seconds until the window resets.
        retry_after_seconds: u64,
    },
    /// 503 `overloaded`: every place for a command was taken for the whole queue wait.
    #[error(transparent)]
    Overloaded(#[from] crate::admission::Overloaded),
    /// 503 `guard_unavailable`: the idempotency store is down and this command fails closed.
    #[error("the idempotency store is unavailable: {0}")]
    GuardUnavailable(order_domain::ports::GuardError),
    /// 500 `internal_error`: a broken invariant of this service; what broke is kept as the
    /// source, for the log only.
    #[error("internal error")]
    Internal(#[source] order_domain::cause::Cause),
}

impl ApiError {
    /// A single field violation (422).
    pub fn field(path: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self::Validation(Violations(vec![FieldError::new(path, code, message)]))
    }

    /// Status and stable problem code.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        use StatusCode as S;
        match self {
            Self::Unauthorized(_) => (S::UNAUTHORIZED, "unauthorized"),
            Self::NotFound(_) => (S::NOT_FOUND, "not_found"),
            Self::ServiceForbidden(_) => (S::FORBIDDEN, "service_forbidden"),
            Self::MalformedJson(_) => (S::BAD_REQUEST, "malformed_json"),
            Self::UnsupportedMediaType => (S::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            Self::PayloadTooLarge(_) => (S::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::Validation(_) => (S::UNPROCESSABLE_ENTITY, "validation_failed"),
            Self::Internal(_) => (S::INTERNAL_SERVER_ERROR, "internal_error"),
            Self::IdempotencyInFlight => (S::CONFLICT, "idempotency_in_flight"),
            Self::IdempotencyKeyReused => (S::UNPROCESSABLE_ENTITY, "idempotency_key_reused"),
            Self::RateLimited { .. } => (S::TOO_MANY_REQUESTS, "rate_limited"),
            Self::GuardUnavailable(_) => (S::SERVICE_UNAVAILABLE, "guard_unavailable"),
            Self::Overloaded(_) => (S::SERVICE_UNAVAILABLE, "overloaded"),
            Self::UseCase(error) => {
                let (kind, code) = error.problem();
                (status_of(kind), code)
            }
        }
    }

    fn detail(&self) -> String {
        let (status, _) = self.status_and_code();
        if status.is_server_error() {
            // Never leak causes (SQL, upstream bodies) to clients.
            return match status {
                StatusCode::SERVICE_UNAVAILABLE => {
                    "a service this request needs is unavailable; retry shortly".into()
                }
                StatusCode::BAD_GATEWAY => "an upstream service refused the request".into(),
                _ => "an internal error occurred; it has been logged".into(),
            };
        }
        match self {
            Self::UseCase(UseCaseError::InvalidTransition(t)) => {
                format!("the order cannot go from {} to {}", t.from, t.to)
            }
            // The constraint's name describes our schema, not the request.
            Self::UseCase(UseCaseError::Storage(RepositoryError::Rejected { .. })) => {
                "the request breaks a rule of the stored data".into()
            }
            Self::UseCase(UseCaseError::Storage(RepositoryError::Duplicate { .. })) => {
                "a concurrent request stored the same thing first; read it again before retrying"
                    .into()
            }
            other => other.to_string(),
        }
    }

    /// `Retry-After` of a 503: when an open circuit breaker lets calls through again (whole
    /// seconds, rounded up), otherwise 5 s.
    fn retry_after_seconds(&self) -> String {
        match self {
            Self::UseCase(UseCaseError::Upstream(UpstreamError::CircuitOpen {
                retry_after,
                ..
            })) => {
                let whole = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                whole.max(1).to_string()
            }
            // A place comes free as soon as any running command answers.
            Self::Overloaded(_) => "1".to_owned(),
            _ => "5".to_owned(),
        }
    }

    fn errors(&self) -> Option<Vec<FieldError>> {
        match self {
            Self::Validation(v) | Self::UseCase(UseCaseError::Validation(v)) => Some(v.0.clone()),
            Self::UseCase(UseCaseError::Quota(quota)) => Some(vec![quota.field_error()]),
            _ => None,
        }
    }
}

// The narrower families answer the same problems as the use-case error they widen into.
impl From<ReadError> for ApiError {
    fn from(error: ReadError) -> Self {
        Self::UseCase(error.into())
    }
}

impl From<WebhookError> for ApiError {
    fn from(error: WebhookError) -> Self {
        Self::UseCase(error.into())
    }
}

/// The status the API answers for each kind of failure (the kinds document theirs).
fn status_of(kind: ProblemKind) -> StatusCode {
    match kind {
        ProblemKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ProblemKind::NotFound => StatusCode::NOT_FOUND,
        ProblemKind::Forbidden => StatusCode::FORBIDDEN,
        ProblemKind::Conflict => StatusCode::CONFLICT,
        ProblemKind::PaymentDeclined => StatusCode::PAYMENT_REQUIRED,
        ProblemKind::UpstreamRefused => StatusCode::BAD_GATEWAY,
        ProblemKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ProblemKind::Unexpected => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Problem<'a> {
    r#type: String,
    title: &'a str,
    status: u16,
    code: &'a str,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<FieldError>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from_status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to_status: Option<&'static str>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status_and_code().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code) = self.status_and_code();
        if status.is_server_error() {
            tracing::error!(error = %Chain(self), code, "request failed");
        } else if let Self::UseCase(UseCaseError::Storage(RepositoryError::Rejected { .. })) = self
        {
            tracing::warn!(error = %Chain(self), code, "the database refused a change the domain allowed");
        }
        let transition = match self {
            Self::UseCase(UseCaseError::InvalidTransition(t)) => {
                Some((t.from.as_str(), t.to.as_str()))
            }
            _ => None,
        };
        let problem = Problem {
            r#type: format!("https://order-service.dev/problems/{code}"),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            code,
            detail: self.detail(),
            errors: self.errors(),
            from_status: transition.map(|(f, _)| f),
            to_status: transition.map(|(_, t)| t),
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = HttpResponse::build(status);
        response.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        match status {
            StatusCode::UNAUTHORIZED => {
                response
                    .insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                response.insert_header((header::RETRY_AFTER, self.retry_after_seconds()));
            }
            _ => {}
        }
        if let Self::RateLimited {
            limit,
            retry_after_seconds,
        } = self
        {
            response.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
            response.insert_header(("RateLimit-Limit", limit.to_string()));
            response.insert_header(("RateLimit-Remaining", "0"));
            response.insert_header(("RateLimit-Reset", retry_after_seconds.to_string()));
        }
        response.body(body)
    }
}

/// Every problem code the API can answer with.
pub const PROBLEM_CODES: &[&str] = &[
    "unauthorized",
    "forbidden",
    "service_forbidden",
    "not_found",
    "malformed_json",
    "unsupported_media_type",
    "payload_too_large",
    "validation_failed",
    "invalid_transition",
    "conflict",
    "order_locked",
    "hold_limit_reached",
    "item_already_cancelled",
    "line_not_cancellable",
    "order_not_editable",
    "limit_exceeded",
    "sold_out",
    "out_of_stock",
    "refund_not_allowed",
    "refund_exceeds_maximum",
    "nothing_to_refund",
    "item_already_refunded",
    "promo_code_invalid",
    "cart_invalid",
    "payment_declined",
    "payment_intent_mismatch",
    "not_yet_expired",
    "return_window_closed",
    "wrong_order_kind",
    "upstream_unavailable",
    "upstream_error",
    "guard_unavailable",
    "overloaded",
    "customer_has_open_orders",
    "idempotency_in_flight",
    "idempotency_key_reused",
    "rate_limited",
    "replay_running",
    "storage_unavailable",
    "internal_error",
];

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;
    use order_domain::ports::RepositoryError;
    use order_domain::use_cases::UseCaseError;

    use super::ApiError;

    /// The OpenAPI document's `code` enum is this list: a code missing from it would make a
    /// client generated from the document reject a real answer.
    #[test]
    fn every_code_the_mapping_answers_is_listed() {
        let source = include_str!("error.rs");
        let mapping = &source[source.find("pub fn status_and_code").unwrap_or(0)
            ..source.find("fn detail(").unwrap_or(0)];
        let answered: std::collections::BTreeSet<&str> = mapping
            .split("S::")
            .skip(1)
            .filter_map(|rest| rest.split_once(", \"").map(|(_, code)| code))
            .filter_map(|code| code.split_once('"').map(|(code, _)| code))
            .collect();
        let listed: std::collections::BTreeSet<&str> =
            super::PROBLEM_CODES.iter().copied().collect();
        let missing: Vec<_> = answered.difference(&listed).collect();
        assert!(!answered.is_empty() && missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn a_conflicts_detail_names_no_constraint() {
        for error in [
            RepositoryError::Duplicate {
                what: "inbox_pkey".into(),
            },
            RepositoryError::Rejected {
                constraint: "orders_total_check".into(),
            },
        ] {
            let detail = ApiError::UseCase(UseCaseError::Storage(error)).detail();
            assert!(
                !detail.contains("inbox_pkey") && !detail.contains("orders_total_check"),
                "{detail}"
            );
        }
    }

    #[test]
    fn storage_errors_map_to_conflict_unavailable_or_internal() {
        let code = |error: RepositoryError| {
            ApiError::UseCase(UseCaseError::Storage(error)).status_and_code()
        };
        assert_eq!(
            code(RepositoryError::Duplicate {
                what: "shopping_carts_user_key".into()
            }),
            (StatusCode::CONFLICT, "conflict")
        );
        assert_eq!(
            code(RepositoryError::Unavailable("down".into())),
            (StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable")
        );
        assert_eq!(
            code(RepositoryError::Corrupt("bad row".into())),
            (StatusCode::INTERNAL_SERVER_ERROR, "internal_error")
        );
        assert_eq!(
            code(RepositoryError::Rejected {
                constraint: "orders_total_check".into()
            }),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
        );
    }

    #[test]
    fn a_5xx_logs_the_whole_cause_chain_and_answers_without_it() {
        use actix_web::ResponseError;
        let captured = crate::telemetry::MemorySink::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(captured.clone())
            .with_ansi(false)
            .finish();
        let root = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let error = ApiError::UseCase(UseCaseError::Storage(RepositoryError::Unavailable(
            order_domain::cause::Cause::new(root),
        )));
        let response = tracing::subscriber::with_default(subscriber, || error.error_response());
        let log = captured.text();
        assert!(
            log.contains("storage unavailable: connection refused"),
            "the chain is logged: {log}"
        );
        let body =
            futures_util::FutureExt::now_or_never(actix_web::body::to_bytes(response.into_body()))
                .expect("a ready body")
                .expect("bytes");
        let body = String::from_utf8_lossy(&body);
        assert!(
            !body.contains("connection refused"),
            "no cause in the answer: {body}"
        );
        assert!(body.contains("storage_unavailable"), "{body}");
    }
}
