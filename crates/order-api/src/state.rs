//! What the request handlers and middlewares share: the application state, the dependencies
//! readiness checks, the backlog `/metrics` reads, the upstreams' breakers and the API document.
//! Handlers, extractors and middlewares depend on this module, never on the router.

use order_domain::use_cases::OrderService;
use order_http_clients::{
    HttpEventCatalog, HttpInventoryService, HttpPaymentGateway, HttpProductCatalog,
    HttpShippingService, HttpTicketService,
};
use order_postgres::{Backlog, PgStore};
use serde_json::Value;

use crate::auth::Authenticator;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The use cases.
    pub service: OrderService,
    /// Webhook subscriptions and their deliveries.
    pub webhooks: order_domain::use_cases::WebhookService,
    /// What `/metrics` shows.
    pub metrics: std::sync::Arc<crate::metrics::AppMetrics>,
    /// The upstreams' circuit breakers.
    pub breakers: UpstreamBreakers,
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
    /// Seal the answers kept for replay (the address keys).
    pub answer_keys: std::sync::Arc<order_postgres::AddressKeys>,
    /// The commands running at once, and the queue of those waiting.
    pub command_gate: crate::admission::CommandGate,
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
    pub broker: Option<std::sync::Arc<order_amqp::BrokerProbe>>,
    /// The last backlog `/metrics` read.
    pub backlog: std::sync::Arc<BacklogCache>,
}

// The broker URL holds credentials: not printed.
impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readiness")
            .field("broker", &self.broker.is_some())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

/// How long a scrape's backlog figures are reused.
const BACKLOG_FRESHNESS: std::time::Duration = std::time::Duration::from_secs(5);

/// The backlog of the last scrape: its query reads every tenant's outbox and webhook queue, and
/// `/metrics` answers anyone who reaches it, so scrapes in a burst share one query (they wait
/// for the one running rather than start their own).
#[derive(Debug, Default)]
pub struct BacklogCache(tokio::sync::Mutex<Option<(tokio::time::Instant, Backlog)>>);

impl BacklogCache {
    /// The backlog, read at most once per [`BACKLOG_FRESHNESS`].
    pub(crate) async fn read(&self, store: &PgStore) -> Option<Backlog> {
        let mut last = self.0.lock().await;
        if let Some((at, backlog)) = *last
            && at.elapsed() < BACKLOG_FRESHNESS
        {
            return Some(backlog);
        }
        let backlog = store.backlog(time::OffsetDateTime::now_utc()).await.ok()?;
        *last = Some((tokio::time::Instant::now(), backlog));
        Some(backlog)
    }
}

/// The upstream clients' circuit breakers, for `/metrics` and health reports.
#[derive(Debug, Clone)]
pub struct UpstreamBreakers {
    pub(crate) tickets: HttpTicketService,
    pub(crate) payments: HttpPaymentGateway,
    pub(crate) events: HttpEventCatalog,
    pub(crate) products: HttpProductCatalog,
    pub(crate) inventory: HttpInventoryService,
    pub(crate) shipping: HttpShippingService,
}

impl UpstreamBreakers {
    /// Each upstream's breaker state now.
    pub fn states(&self) -> Vec<(&'static str, order_http_clients::BreakerState)> {
        vec![
            ("tickets", self.tickets.breaker_state()),
            ("payments", self.payments.breaker_state()),
            ("events", self.events.breaker_state()),
            ("products", self.products.breaker_state()),
            ("inventory", self.inventory.breaker_state()),
            ("shipping", self.shipping.breaker_state()),
        ]
    }
}

/// The OpenAPI document of this instance (`/openapi.json`).
#[derive(Debug, Clone)]
pub struct ApiDocument {
    /// `/openapi.json`.
    pub json: Value,
}
