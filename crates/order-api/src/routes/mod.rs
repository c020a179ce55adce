//! The HTTP routes. Handlers only translate: authenticate, parse, call one use case, shape the
//! answer. Business rules live in `order-domain`.

mod admin;
mod health;
mod internal;
mod orders;

use actix_web::{HttpRequest, HttpResponse, web};
use order_domain::use_cases::OrderService;
use order_postgres::PgStore;

use crate::auth::Authenticator;
use crate::error::ApiError;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The use cases.
    pub service: OrderService,
    /// Token and service-key verification.
    pub auth: Authenticator,
    /// The dependencies `/health/readiness` checks.
    pub readiness: Readiness,
    /// Largest accepted body.
    pub max_body_bytes: usize,
    /// Orders created this far back count in the analytics.
    pub analytics_window: time::Duration,
    /// `Idempotency-Key` storage.
    pub idempotency: std::sync::Arc<dyn order_domain::ports::IdempotencyStore>,
    /// How long answers are kept for replay.
    pub idempotency_ttl: time::Duration,
    /// Per-user request limits.
    pub rate_limiter: std::sync::Arc<dyn order_domain::ports::RateLimiter>,
    /// The limits.
    pub rate_limits: crate::config::RateLimits,
    /// Namespace of our Redis keys.
    pub redis_key_prefix: String,
}

/// What this instance needs to serve, for `/health/readiness`.
#[derive(Clone)]
pub struct Readiness {
    /// The database.
    pub store: PgStore,
    /// Idempotency keys and rate limits.
    pub redis: std::sync::Arc<order_redis::RedisGuards>,
    /// The broker, when this instance relays the outbox and consumes messages.
    pub broker_url: Option<String>,
}

// The broker URL holds credentials: not printed.
impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readiness")
            .field("broker", &self.broker_url.is_some())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

/// Every route of the API; `openapi::ROUTES` lists the same ones (a test keeps them in step).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .route("/orders", web::post().to(orders::create))
            .route("/orders", web::get().to(orders::list))
            .route("/orders/{id}", web::get().to(orders::get))
            .route("/orders/{id}/reserve", web::post().to(orders::reserve))
            .route("/orders/{id}/cancel", web::post().to(orders::cancel))
            .route("/orders/{id}/refund", web::post().to(orders::refund))
            .route("/orders/{id}/events", web::get().to(orders::history))
            .route("/admin/orders", web::get().to(orders::search))
            .route("/admin/analytics", web::get().to(admin::analytics))
            .route("/admin/refunds", web::get().to(admin::list_refunds))
            .route(
                "/admin/refunds/{id}/approve",
                web::post().to(admin::approve),
            )
            .route("/admin/refunds/{id}/reject", web::post().to(admin::reject))
            .route("/admin/refunds/{id}/retry", web::post().to(admin::retry)),
    )
    .service(
        web::scope("/internal/v1/orders")
            .route("/expiring", web::get().to(internal::expiring))
            .route("/bulk/cancel", web::post().to(internal::bulk_cancel))
            .route("/{id}/confirm", web::post().to(internal::confirm))
            .route("/{id}/expire", web::post().to(internal::expire)),
    )
    .route("/health/liveness", web::get().to(health::liveness))
    .route("/health/readiness", web::get().to(health::readiness))
    .route("/openapi.json", web::get().to(health::openapi))
    .route("/docs", web::get().to(health::docs));
}

/// Unknown routes answer like everything else: problem+json.
pub async fn not_found(_: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("route"))
}
