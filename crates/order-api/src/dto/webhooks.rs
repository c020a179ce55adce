//! Webhook subscriptions, their delivery log and figures, as admins see them (docs/webhooks.md).

use garde::Validate;
use order_domain::ports::{DeliveryLog, DeliveryStats};
use order_domain::use_cases::SubscriptionView;
use order_domain::webhooks::{
    AttemptRecord, NewSubscription, SubscriptionChanges, WebhookDelivery, WebhookSecret,
    WebhookSubscription,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::schemas::{DeliveryStatusSchema, EventTypeSchema};
use crate::error::ApiError;

const MAX_URL: usize = 2_048;
const MAX_DESCRIPTION: usize = 500;

/// `POST /api/v1/admin/webhooks`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = NewWebhook)]
pub struct CreateWebhookBody {
    /// Receiver: https (http only to loopback in development mode), resolving to public
    /// addresses.
    #[garde(length(chars, min = 1, max = MAX_URL))]
    #[schema(min_length = 1, max_length = 2048)]
    pub url: String,
    /// The event types it wants; absent or empty for all.
    #[garde(inner(length(max = 32)))]
    #[schema(value_type = Option<Vec<EventTypeSchema>>, max_items = 32)]
    pub event_types: Option<Vec<String>>,
    /// Whether deliveries start at once (true).
    #[garde(skip)]
    pub enabled: Option<bool>,
    /// A note for admins.
    #[garde(inner(length(chars, max = MAX_DESCRIPTION)))]
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

impl CreateWebhookBody {
    /// The domain's request.
    pub fn into_domain(self) -> NewSubscription {
        NewSubscription {
            url: self.url,
            event_types: self.event_types.unwrap_or_default(),
            enabled: self.enabled.unwrap_or(true),
            description: self.description,
        }
    }
}

/// `PATCH /api/v1/admin/webhooks/{id}`: the fields given change.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = WebhookChanges)]
pub struct UpdateWebhookBody {
    /// New receiver.
    #[garde(inner(length(chars, min = 1, max = MAX_URL)))]
    #[schema(min_length = 1, max_length = 2048)]
    pub url: Option<String>,
    /// New event types (empty: all).
    #[garde(inner(length(max = 32)))]
    #[schema(value_type = Option<Vec<EventTypeSchema>>, max_items = 32)]
    pub event_types: Option<Vec<String>>,
    /// Enable (also after a 410 disabled it) or disable.
    #[garde(skip)]
    pub enabled: Option<bool>,
    /// New note.
    #[garde(inner(length(chars, max = MAX_DESCRIPTION)))]
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

impl UpdateWebhookBody {
    /// The domain's changes.
    pub fn into_domain(self) -> SubscriptionChanges {
        SubscriptionChanges {
            url: self.url,
            event_types: self.event_types,
            enabled: self.enabled,
            description: self.description,
        }
    }
}

/// `GET …/deliveries`.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// Only deliveries in this status.
    #[garde(skip)]
    #[param(value_type = Option<DeliveryStatusSchema>)]
    pub status: Option<String>,
    /// At most this many, newest first (1 to 100, default 50).
    #[garde(inner(range(min = 1, max = 100)))]
    #[param(minimum = 1, maximum = 100, default = 50)]
    pub limit: Option<u32>,
}

impl DeliveriesQuery {
    /// The status filter.
    ///
    /// # Errors
    /// 422 at `query.status` for an unknown status.
    pub fn status(&self) -> Result<Option<order_domain::webhooks::DeliveryStatus>, ApiError> {
        self.status
            .as_deref()
            .map(|s| {
                s.parse().map_err(|_| {
                    ApiError::field("query.status", "invalid", "not a delivery status")
                })
            })
            .transpose()
    }
}

/// Deliveries of a subscription, as operators watch them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = WebhookStats)]
pub struct StatsResponse {
    pending: u64,
    delivered: u64,
    failed: u64,
    attempts_delivered: u64,
    attempts_failed: u64,
    /// Age of the oldest pending delivery, seconds.
    oldest_pending_seconds: Option<i64>,
    /// Whether the circuit breaker rests the receiver now.
    circuit_open: bool,
}

impl From<DeliveryStats> for StatsResponse {
    fn from(s: DeliveryStats) -> Self {
        Self {
            pending: s.pending,
            delivered: s.delivered,
            failed: s.failed,
            attempts_delivered: s.attempts_delivered,
            attempts_failed: s.attempts_failed,
            oldest_pending_seconds: s.oldest_pending_seconds,
            circuit_open: s.circuit_open,
        }
    }
}

/// A subscription (never its secrets).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Webhook)]
pub struct WebhookResponse {
    #[schema(value_type = uuid::Uuid)]
    id: order_domain::ids::WebhookId,
    url: String,
    /// Empty: every event type.
    #[schema(value_type = Vec<EventTypeSchema>)]
    event_types: Vec<String>,
    enabled: bool,
    description: Option<String>,
    /// Why the service disabled it (a 410 Gone).
    disabled_reason: Option<String>,
    /// Secrets that sign now (two during a rotation's overlap).
    signing_secrets: usize,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    updated_at: OffsetDateTime,
    /// Its deliveries (absent right after creation and changes).
    #[serde(skip_serializing_if = "Option::is_none")]
    stats: Option<StatsResponse>,
}

impl WebhookResponse {
    /// `subscription`, with its figures when given.
    pub fn new(subscription: &WebhookSubscription, stats: Option<DeliveryStats>) -> Self {
        Self {
            id: subscription.id,
            url: subscription.url.clone(),
            event_types: subscription.event_types.clone(),
            enabled: subscription.enabled,
            description: subscription.description.clone(),
            disabled_reason: subscription.disabled_reason.clone(),
            signing_secrets: subscription
                .signing_secrets(OffsetDateTime::now_utc())
                .len(),
            created_at: subscription.created_at,
            updated_at: subscription.updated_at,
            stats: stats.map(StatsResponse::from),
        }
    }
}

impl From<&SubscriptionView> for WebhookResponse {
    fn from(view: &SubscriptionView) -> Self {
        Self::new(&view.subscription, Some(view.stats))
    }
}

/// `GET /api/v1/admin/webhooks`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookList)]
pub struct WebhookListResponse {
    /// Oldest first.
    pub webhooks: Vec<WebhookResponse>,
}

/// A subscription with its signing secret: shown at creation and rotation only.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = WebhookWithSecret)]
pub struct WebhookSecretResponse {
    webhook: WebhookResponse,
    /// `whsec_` + base64: verify `webhook-signature` with it (docs/webhooks.md). Not shown again.
    secret: String,
}

impl WebhookSecretResponse {
    /// `subscription` and its new `secret`.
    pub fn new(subscription: &WebhookSubscription, secret: &WebhookSecret) -> Self {
        Self {
            webhook: WebhookResponse::new(subscription, None),
            secret: secret.expose().to_owned(),
        }
    }
}

/// One attempt of a delivery.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = WebhookAttempt)]
pub struct AttemptResponse {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    attempted_at: OffsetDateTime,
    status_code: Option<u16>,
    latency_ms: u32,
    /// The start of the receiver's answer (1 024 characters at most).
    response_body: Option<String>,
    /// Why no answer came.
    error: Option<String>,
    /// `delivered`, `gone` or `failed`.
    outcome: &'static str,
}

impl From<&AttemptRecord> for AttemptResponse {
    fn from(a: &AttemptRecord) -> Self {
        Self {
            attempted_at: a.attempted_at,
            status_code: a.status_code,
            latency_ms: a.latency_ms,
            response_body: a.response_body.clone(),
            error: a.error.clone(),
            outcome: a.outcome.as_str(),
        }
    }
}

/// One delivery, with its attempts when listed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = WebhookDelivery)]
pub struct DeliveryResponse {
    /// The `webhook-id` header.
    #[schema(value_type = uuid::Uuid)]
    id: order_domain::ids::WebhookDeliveryId,
    #[schema(value_type = uuid::Uuid)]
    event_id: order_domain::ids::DomainEventId,
    #[schema(value_type = EventTypeSchema)]
    event_type: String,
    #[schema(value_type = uuid::Uuid)]
    order_id: order_domain::ids::OrderId,
    #[schema(value_type = DeliveryStatusSchema)]
    status: &'static str,
    attempts: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    next_attempt_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    delivered_at: Option<OffsetDateTime>,
    last_status: Option<u16>,
    /// Oldest first (in the log only).
    #[serde(skip_serializing_if = "Option::is_none")]
    attempt_log: Option<Vec<AttemptResponse>>,
}

impl DeliveryResponse {
    /// `delivery`, with `attempts` when given.
    pub fn new(delivery: &WebhookDelivery, attempts: Option<&[AttemptRecord]>) -> Self {
        Self {
            id: delivery.id,
            event_id: delivery.event_id,
            event_type: delivery.event_type.clone(),
            order_id: delivery.order_id,
            status: delivery.status.as_str(),
            attempts: delivery.attempts,
            next_attempt_at: delivery.next_attempt_at,
            created_at: delivery.created_at,
            delivered_at: delivery.delivered_at,
            last_status: delivery.last_status,
            attempt_log: attempts.map(|a| a.iter().map(AttemptResponse::from).collect()),
        }
    }
}

impl From<&DeliveryLog> for DeliveryResponse {
    fn from(log: &DeliveryLog) -> Self {
        Self::new(&log.delivery, Some(&log.attempts))
    }
}

/// `GET …/deliveries`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookDeliveryList)]
pub struct DeliveryListResponse {
    /// Newest first.
    pub deliveries: Vec<DeliveryResponse>,
}
