//! Webhook ports: the subscriptions and deliveries store, and the transport that checks receiver
//! addresses, signs and sends.

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use super::RepositoryError;
use crate::ids::{TenantId, WebhookDeliveryId, WebhookId};
use crate::webhooks::{
    AttemptRecord, DeliveryStatus, WebhookDelivery, WebhookSecret, WebhookSubscription,
};

/// A delivery claimed for sending, with what its attempt needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedDelivery {
    /// The delivery.
    pub delivery: WebhookDelivery,
    /// Its subscription as it is now.
    pub subscription: WebhookSubscription,
    /// Failed attempts in a row of the subscription (the circuit breaker's count).
    pub failure_streak: u32,
}

/// The result of one attempt to store: the delivery after it, the log line, and what happens to
/// the subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptResult {
    /// The delivery, its status and next time updated.
    pub delivery: WebhookDelivery,
    /// The log line.
    pub attempt: AttemptRecord,
    /// The subscription's failures in a row after it (0 after a success).
    pub failure_streak: u32,
    /// When the breaker lets the subscription be tried again; none when closed.
    pub circuit_open_until: Option<OffsetDateTime>,
    /// Set when the attempt disabled the subscription (410 Gone).
    pub disabled: Option<WebhookSubscription>,
}

/// What operators see of a subscription's deliveries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryStats {
    /// Deliveries waiting.
    pub pending: u64,
    /// Deliveries delivered.
    pub delivered: u64,
    /// Deliveries given up.
    pub failed: u64,
    /// Attempts that got a 2xx.
    pub attempts_delivered: u64,
    /// Attempts that failed (any other answer, timeouts, refused).
    pub attempts_failed: u64,
    /// Age of the oldest pending delivery, whole seconds.
    pub oldest_pending_seconds: Option<i64>,
    /// Whether the breaker is open now.
    pub circuit_open: bool,
}

/// One delivery with its attempts, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryLog {
    /// The delivery.
    pub delivery: WebhookDelivery,
    /// Its attempts, oldest first.
    pub attempts: Vec<AttemptRecord>,
}

/// Subscriptions and deliveries.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait WebhookRepository: Send + Sync {
    /// Stores a new subscription.
    ///
    /// # Errors
    /// [`RepositoryError`].
    async fn create_subscription(
        &self,
        subscription: &WebhookSubscription,
    ) -> Result<(), RepositoryError>;

    /// The tenant's subscriptions, oldest first.
    ///
    /// # Errors
    /// [`RepositoryError`].
    async fn subscriptions(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<WebhookSubscription>, RepositoryError>;

    /// One subscription of the tenant; MUST be `None` for another tenant's.
    ///
    /// # Errors
    /// [`RepositoryError`].
    async fn subscription(
        &self,
        tenant: TenantId,
        id: WebhookId,
    ) -> Result<Option<WebhookSubscription>, RepositoryError>;

    /// Stores a changed subscription (URL, types, enabled, secrets).
    ///
    /// # Errors
    /// [`RepositoryError`].
    async fn update_subscription(
        &self,
        subscription: &WebhookSubscription,
    ) -> Result<(), RepositoryError>;

    /// Deletes a subscription and its deliveries; `false` when there was none.
    ///
    /// # Errors
    /// [`RepositoryError`].
    async fn delete_subscription(
        &self,
        tenant: TenantId,
        id: WebhookId,
    ) -> Result<bool, RepositoryError>;

    /// Stores new PENDING deliveries. MUST be idempotent per (subscription, event): a delivery
    /// of an event its subscription already has is left out. Returns how many were added.
    ///
    /// # Errors
    /// [`RepositoryError`].
    async fn enqueue(&self, deliveries: &[WebhookDelivery]) -> Result<u64, RepositoryError>;

    /// Stores deliveries of a replayed event: new ones PENDING, and one the subscription already
    /// has for the event PENDING and due again (same id: the receiver sees the same
    /// `webhook-id`). Returns how many were stored or made due.
    ///
    /// # Errors
    /// [`RepositoryError`].
    async fn requeue(&self, deliveries: &[WebhookDelivery]) -> Result<u64, RepositoryError>;

    /// Leases up to `limit` due deliveries for `lease`, across tenants: PENDING, due at `now`,
    /// not leased by another worker, of an enabled subscription whose breaker is closed, and the
    /// oldest pending one of their (subscription, order) — so one order's events reach a
    /// receiver in order. Other workers MUST NOT get the same deliveries while the lease runs.
    ///
    /// # Errors
    /// [`RepositoryError`].
    async fn claim_due(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, RepositoryError>;

    /// Stores an attempt: the delivery (lease released), its log line and the subscription's
    /// breaker (and disabling).
    ///
    /// # Errors
    /// [`RepositoryError`].
    async fn record_attempt(&self, result: &AttemptResult) -> Result<(), RepositoryError>;

    /// A subscription's deliveries, newest first, optionally of one status.
    ///
    /// # Errors
    /// [`RepositoryError`].
    async fn deliveries(
        &self,
        tenant: TenantId,
        subscription: WebhookId,
        status: Option<DeliveryStatus>,
        limit: u32,
    ) -> Result<Vec<DeliveryLog>, RepositoryError>;

    /// One delivery of a subscription of the tenant.
    ///
    /// # Errors
    /// [`RepositoryError`].
    async fn delivery(
        &self,
        tenant: TenantId,
        subscription: WebhookId,
        id: WebhookDeliveryId,
    ) -> Result<Option<WebhookDelivery>, RepositoryError>;

    /// Stores a replayed delivery (PENDING, due now, lease released).
    ///
    /// # Errors
    /// [`RepositoryError`].
    async fn save_delivery(&self, delivery: &WebhookDelivery) -> Result<(), RepositoryError>;

    /// What operators see of a subscription's deliveries at `now`.
    ///
    /// # Errors
    /// [`RepositoryError`].
    async fn delivery_stats(
        &self,
        tenant: TenantId,
        subscription: WebhookId,
        now: OffsetDateTime,
    ) -> Result<DeliveryStats, RepositoryError>;

    /// Deletes finished deliveries (and their attempts) created before `before`, across
    /// tenants; returns how many.
    ///
    /// # Errors
    /// [`RepositoryError`].
    async fn prune_deliveries(&self, before: OffsetDateTime) -> Result<u64, RepositoryError>;
}

/// Why a receiver URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UrlRefused(pub String);

/// One signed request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRequest {
    /// Receiver.
    pub url: String,
    /// `webhook-id`.
    pub webhook_id: WebhookDeliveryId,
    /// `webhook-timestamp` (fresh at every attempt).
    pub timestamp: OffsetDateTime,
    /// The body.
    pub body: String,
    /// The secrets that sign, one signature each.
    pub secrets: Vec<WebhookSecret>,
    /// The delivery's trace (W3C `traceparent`), continued by the attempt.
    pub traceparent: Option<String>,
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookResponse {
    /// HTTP status.
    pub status: u16,
    /// The start of the body.
    pub body: String,
}

/// Receiver addresses, signing and sending (Standard Webhooks).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait WebhookTransport: Send + Sync {
    /// Whether `url` may receive deliveries: https (http only to loopback in development), and
    /// in production never a private, loopback or link-local address (it is resolved now; the
    /// transport checks the answer again at every delivery).
    ///
    /// # Errors
    /// [`UrlRefused`] saying why.
    async fn check_url(&self, url: &str) -> Result<(), UrlRefused>;

    /// A new random signing secret (`whsec_` + base64 of 32 bytes).
    fn new_secret(&self) -> WebhookSecret;

    /// Signs and POSTs `request` within the attempt timeout.
    ///
    /// # Errors
    /// A text saying why no answer came (timeout, connection refused, address refused).
    async fn send(&self, request: &WebhookRequest) -> Result<WebhookResponse, String>;
}
