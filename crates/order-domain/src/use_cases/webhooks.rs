//! Webhook subscriptions for admins, deliveries made from committed events, and the worker's
//! attempts (docs/product/events.md, docs/webhooks.md).
//!
//! [`WebhookService`] needs only the webhook store, the transport, the clock and ids. Deliveries
//! are created by a consumer of the order's own events ([`WebhookService::enqueue`]), so a crash
//! after a commit loses none and no request waits for a receiver; workers lease due deliveries
//! ([`WebhookService::claim_due`]) and send each on its own ([`WebhookService::deliver`]), so one
//! slow receiver delays no other.

use std::sync::Arc;

use time::Duration;

use super::WebhookError;
use crate::actor::{RequestContext, Role};
use crate::events::{EVENT_TYPES, EventEnvelope};
use crate::ids::{WebhookDeliveryId, WebhookId};
use crate::messages::MessageOutcome;
use crate::policy::{FieldError, Violations};
use crate::ports::{
    AttemptResult, ClaimedDelivery, Clock, DeliveryLog, DeliveryStats, IdGenerator,
    WebhookRepository, WebhookRequest, WebhookTransport,
};
use crate::webhooks::{
    AttemptOutcome, AttemptRecord, BreakerPolicy, DeliveryStatus, NewSubscription,
    SubscriptionChanges, WebhookDelivery, WebhookSecret, WebhookSubscription,
};

/// How long a worker holds a claimed delivery before another may take it (longer than an
/// attempt's timeout).
pub const DELIVERY_LEASE: Duration = Duration::seconds(60);

/// How long the delivery log is kept.
pub const DELIVERY_LOG_RETENTION: Duration = Duration::days(30);

/// The ports webhooks need.
#[derive(Clone)]
#[allow(missing_docs)]
pub struct WebhookPorts {
    pub repository: Arc<dyn WebhookRepository>,
    pub transport: Arc<dyn WebhookTransport>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
}

impl std::fmt::Debug for WebhookPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookPorts").finish_non_exhaustive()
    }
}

/// A subscription with its delivery figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionView {
    /// The subscription.
    pub subscription: WebhookSubscription,
    /// Its deliveries.
    pub stats: DeliveryStats,
}

/// Webhook subscriptions, deliveries and attempts.
#[derive(Clone)]
pub struct WebhookService {
    ports: WebhookPorts,
    breaker: BreakerPolicy,
}

impl std::fmt::Debug for WebhookService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookService").finish_non_exhaustive()
    }
}

impl WebhookService {
    /// The service over `ports`, with the default circuit breaker.
    pub fn new(ports: WebhookPorts) -> Self {
        Self {
            ports,
            breaker: BreakerPolicy::default(),
        }
    }

    /// Subscribes the admin's tenant; the answer carries the signing secret, shown this once.
    ///
    /// # Ports
    /// `repository`, `transport`.
    ///
    /// # Errors
    /// [`WebhookError::Forbidden`] unless admin; [`WebhookError::Validation`] at `url` (refused
    /// address) or `eventTypes` (unknown type); storage errors.
    pub async fn subscribe(
        &self,
        ctx: &RequestContext,
        new: NewSubscription,
    ) -> Result<(WebhookSubscription, WebhookSecret), WebhookError> {
        require_admin(ctx)?;
        check_event_types(&new.event_types)?;
        self.check_url(&new.url).await?;
        let secret = self.ports.transport.new_secret();
        let subscription = WebhookSubscription::new(
            WebhookId::from_uuid(self.ports.ids.uuid()),
            ctx.tenant_id,
            new,
            secret.clone(),
            self.ports.clock.now(),
        );
        self.ports
            .repository
            .create_subscription(&subscription)
            .await?;
        Ok((subscription, secret))
    }

    /// The tenant's subscriptions with their figures.
    ///
    /// # Ports
    /// `repository`.
    ///
    /// # Errors
    /// [`WebhookError::Forbidden`] unless admin; storage errors.
    pub async fn subscriptions(
        &self,
        ctx: &RequestContext,
    ) -> Result<Vec<SubscriptionView>, WebhookError> {
        require_admin(ctx)?;
        let now = self.ports.clock.now();
        let mut views = Vec::new();
        for subscription in self.ports.repository.subscriptions(ctx.tenant_id).await? {
            let stats = self
                .ports
                .repository
                .delivery_stats(ctx.tenant_id, subscription.id, now)
                .await?;
            views.push(SubscriptionView {
                subscription,
                stats,
            });
        }
        Ok(views)
    }

    /// One subscription with its figures.
    ///
    /// # Ports
    /// `repository`.
    ///
    /// # Errors
    /// [`WebhookError::NotFound`] (another tenant's too); [`WebhookError::Forbidden`].
    pub async fn subscription(
        &self,
        ctx: &RequestContext,
        id: WebhookId,
    ) -> Result<SubscriptionView, WebhookError> {
        let subscription = self.load(ctx, id).await?;
        let stats = self
            .ports
            .repository
            .delivery_stats(ctx.tenant_id, id, self.ports.clock.now())
            .await?;
        Ok(SubscriptionView {
            subscription,
            stats,
        })
    }

    /// A PATCH of a subscription; a new URL is checked like at creation.
    ///
    /// # Ports
    /// `repository`, `transport`.
    ///
    /// # Errors
    /// As [`Self::subscribe`], and [`WebhookError::NotFound`].
    pub async fn change(
        &self,
        ctx: &RequestContext,
        id: WebhookId,
        changes: SubscriptionChanges,
    ) -> Result<WebhookSubscription, WebhookError> {
        let mut subscription = self.load(ctx, id).await?;
        if let Some(types) = &changes.event_types {
            check_event_types(types)?;
        }
        if let Some(url) = &changes.url {
            self.check_url(url).await?;
        }
        subscription.change(changes, self.ports.clock.now());
        self.ports
            .repository
            .update_subscription(&subscription)
            .await?;
        Ok(subscription)
    }

    /// Deletes a subscription with its delivery log.
    ///
    /// # Ports
    /// `repository`.
    ///
    /// # Errors
    /// [`WebhookError::NotFound`]; [`WebhookError::Forbidden`].
    pub async fn unsubscribe(
        &self,
        ctx: &RequestContext,
        id: WebhookId,
    ) -> Result<(), WebhookError> {
        require_admin(ctx)?;
        if self
            .ports
            .repository
            .delete_subscription(ctx.tenant_id, id)
            .await?
        {
            Ok(())
        } else {
            Err(WebhookError::NotFound { what: "webhook" })
        }
    }

    /// A new signing secret, shown this once; the previous one signs too for 24 h.
    ///
    /// # Ports
    /// `repository`, `transport`.
    ///
    /// # Errors
    /// [`WebhookError::NotFound`]; [`WebhookError::Forbidden`].
    pub async fn rotate_secret(
        &self,
        ctx: &RequestContext,
        id: WebhookId,
    ) -> Result<(WebhookSubscription, WebhookSecret), WebhookError> {
        let mut subscription = self.load(ctx, id).await?;
        let secret = self.ports.transport.new_secret();
        subscription.rotate(secret.clone(), self.ports.clock.now());
        self.ports
            .repository
            .update_subscription(&subscription)
            .await?;
        Ok((subscription, secret))
    }

    /// A subscription's delivery log, newest first.
    ///
    /// # Ports
    /// `repository`.
    ///
    /// # Errors
    /// [`WebhookError::NotFound`]; [`WebhookError::Forbidden`].
    pub async fn deliveries(
        &self,
        ctx: &RequestContext,
        id: WebhookId,
        status: Option<DeliveryStatus>,
        limit: u32,
    ) -> Result<Vec<DeliveryLog>, WebhookError> {
        self.load(ctx, id).await?;
        Ok(self
            .ports
            .repository
            .deliveries(ctx.tenant_id, id, status, limit)
            .await?)
    }

    /// Sends a delivery again: due now, same `webhook-id`, a fresh timestamp when it goes.
    ///
    /// # Ports
    /// `repository`.
    ///
    /// # Errors
    /// [`WebhookError::NotFound`] (subscription or delivery); [`WebhookError::Forbidden`].
    pub async fn replay(
        &self,
        ctx: &RequestContext,
        id: WebhookId,
        delivery: WebhookDeliveryId,
    ) -> Result<WebhookDelivery, WebhookError> {
        self.load(ctx, id).await?;
        let mut delivery = self
            .ports
            .repository
            .delivery(ctx.tenant_id, id, delivery)
            .await?
            .ok_or(WebhookError::NotFound { what: "delivery" })?;
        delivery.replay(self.ports.clock.now());
        self.ports.repository.save_delivery(&delivery).await?;
        Ok(delivery)
    }

    /// A committed order event: one delivery per enabled subscription of its tenant that wants
    /// it. Idempotent per event (a redelivered message adds nothing).
    ///
    /// # Ports
    /// `repository`.
    ///
    /// # Errors
    /// Storage errors (retryable: the consumer tries again).
    pub async fn enqueue(&self, event: &EventEnvelope) -> Result<MessageOutcome, WebhookError> {
        let deliveries = self.deliveries_of(event).await?;
        if deliveries.is_empty() {
            return Ok(MessageOutcome::Ignored("no subscription wants this event"));
        }
        Ok(match self.ports.repository.enqueue(&deliveries).await? {
            0 => MessageOutcome::Duplicate,
            _ => MessageOutcome::Applied,
        })
    }

    /// A replayed event (docs/events.md): due now for every enabled subscription that wants
    /// it; a delivery the subscription already has goes again with the same `webhook-id`.
    /// Answers how many deliveries were made due.
    ///
    /// # Ports
    /// `repository`.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn redeliver(&self, event: &EventEnvelope) -> Result<u64, WebhookError> {
        let deliveries = self.deliveries_of(event).await?;
        if deliveries.is_empty() {
            return Ok(0);
        }
        Ok(self.ports.repository.requeue(&deliveries).await?)
    }

    /// One new PENDING delivery of `event` per enabled subscription of its tenant that wants it.
    async fn deliveries_of(
        &self,
        event: &EventEnvelope,
    ) -> Result<Vec<WebhookDelivery>, WebhookError> {
        let name = event.event.name();
        let body = serde_json::to_string(event).map_err(|e| {
            WebhookError::Storage(crate::ports::RepositoryError::Corrupt(
                crate::cause::Cause::new(e),
            ))
        })?;
        let now = self.ports.clock.now();
        Ok(self
            .ports
            .repository
            .subscriptions(event.tenant_id)
            .await?
            .into_iter()
            .filter(|s| s.enabled && s.wants(name))
            .map(|s| WebhookDelivery {
                id: WebhookDeliveryId::from_uuid(self.ports.ids.uuid()),
                tenant_id: event.tenant_id,
                subscription_id: s.id,
                event_id: event.id,
                event_type: name.to_owned(),
                order_id: event.order_id,
                body: body.clone(),
                status: DeliveryStatus::Pending,
                attempts: 0,
                next_attempt_at: Some(now),
                created_at: now,
                delivered_at: None,
                last_status: None,
                traceparent: None,
            })
            .collect())
    }

    /// Leases up to `limit` due deliveries for this worker.
    ///
    /// # Ports
    /// `repository`.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn claim_due(&self, limit: u32) -> Result<Vec<ClaimedDelivery>, WebhookError> {
        Ok(self
            .ports
            .repository
            .claim_due(self.ports.clock.now(), DELIVERY_LEASE, limit)
            .await?)
    }

    /// One attempt of a claimed delivery: signed with the secrets that sign now, sent, and its
    /// outcome stored (the next attempt's time, the breaker, a 410 disabling the subscription).
    ///
    /// # Ports
    /// `repository`, `transport`.
    ///
    /// # Errors
    /// Storage errors (the lease then runs out and another attempt is made).
    pub async fn deliver(&self, claimed: ClaimedDelivery) -> Result<AttemptResult, WebhookError> {
        let ClaimedDelivery {
            mut delivery,
            subscription,
            failure_streak,
        } = claimed;
        let started = self.ports.clock.now();
        let request = WebhookRequest {
            url: subscription.url.clone(),
            webhook_id: delivery.id,
            timestamp: started,
            body: delivery.body.clone(),
            secrets: subscription.signing_secrets(started),
            traceparent: delivery.traceparent.clone(),
        };
        let answer = self.ports.transport.send(&request).await;
        let latency = self.ports.clock.now() - started;
        let attempt = AttemptRecord {
            attempted_at: started,
            status_code: answer.as_ref().ok().map(|r| r.status),
            latency_ms: u32::try_from(latency.whole_milliseconds().max(0)).unwrap_or(u32::MAX),
            response_body: answer
                .as_ref()
                .ok()
                .map(|r| AttemptRecord::truncate(&r.body)),
            error: answer.as_ref().err().cloned(),
            outcome: answer.as_ref().map_or(AttemptOutcome::Failed, |r| {
                AttemptOutcome::of_status(r.status)
            }),
        };
        delivery.record(&attempt, self.jitter_permille());
        let failure_streak = match attempt.outcome {
            AttemptOutcome::Delivered => 0,
            AttemptOutcome::Gone | AttemptOutcome::Failed => failure_streak.saturating_add(1),
        };
        let disabled = (attempt.outcome == AttemptOutcome::Gone).then(|| {
            let mut gone = subscription.clone();
            gone.disable_gone(started);
            gone
        });
        let result = AttemptResult {
            circuit_open_until: self.breaker.open_until(failure_streak, started),
            delivery,
            attempt,
            failure_streak,
            disabled,
        };
        self.ports.repository.record_attempt(&result).await?;
        Ok(result)
    }

    /// Deletes the delivery log older than 30 days; returns how many deliveries went.
    ///
    /// # Ports
    /// `repository`.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn prune_log(&self) -> Result<u64, WebhookError> {
        let before = self.ports.clock.now() - DELIVERY_LOG_RETENTION;
        Ok(self.ports.repository.prune_deliveries(before).await?)
    }

    async fn load(
        &self,
        ctx: &RequestContext,
        id: WebhookId,
    ) -> Result<WebhookSubscription, WebhookError> {
        require_admin(ctx)?;
        self.ports
            .repository
            .subscription(ctx.tenant_id, id)
            .await?
            .ok_or(WebhookError::NotFound { what: "webhook" })
    }

    async fn check_url(&self, url: &str) -> Result<(), WebhookError> {
        self.ports
            .transport
            .check_url(url)
            .await
            .map_err(|refused| {
                WebhookError::Validation(Violations(vec![FieldError::new(
                    "url",
                    "url_refused",
                    &refused.0,
                )]))
            })
    }

    /// ±10 %, from the id generator's randomness (the domain has no random source of its own).
    fn jitter_permille(&self) -> i64 {
        let bits = self.ports.ids.uuid().as_u128();
        i64::try_from(bits % 201).unwrap_or(0) - 100
    }
}

fn require_admin(ctx: &RequestContext) -> Result<(), WebhookError> {
    if ctx.actor.has_role(Role::Admin) {
        Ok(())
    } else {
        Err(WebhookError::Forbidden)
    }
}

fn check_event_types(types: &[String]) -> Result<(), WebhookError> {
    let unknown: Vec<FieldError> = types
        .iter()
        .enumerate()
        .filter(|(_, t)| !EVENT_TYPES.contains(&t.as_str()))
        .map(|(n, _)| FieldError::new(format!("eventTypes[{n}]"), "unknown", "no such event type"))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(WebhookError::Validation(Violations(unknown)))
    }
}
