//! Webhook subscriptions, deliveries and the attempt log (`migrations/0018_webhooks.sql`). The
//! signing secrets are sealed like the addresses; the workers' claim goes through
//! `webhook_claim`, which leases rows with `FOR UPDATE SKIP LOCKED` across tenants.

use async_trait::async_trait;
use order_domain::ids::{DomainEventId, OrderId, TenantId, WebhookDeliveryId, WebhookId};
use order_domain::ports::{
    AttemptResult, ClaimedDelivery, DeliveryLog, DeliveryStats, RepositoryError, WebhookRepository,
};
use order_domain::webhooks::{
    AttemptOutcome, AttemptRecord, DeliveryStatus, SigningSecret, WebhookDelivery,
    WebhookSubscription,
};
use sqlx::types::Json;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::sealing::{SealedColumn, SealedValue};
use crate::{PgStore, corrupt, corrupt_data, storage, to_i32};

/// A `webhook_subscriptions` row.
struct SubscriptionRow {
    id: Uuid,
    tenant_id: Uuid,
    url: String,
    event_types: Vec<String>,
    enabled: bool,
    description: Option<String>,
    secrets: Json<SealedValue>,
    disabled_reason: Option<String>,
    failure_streak: i32,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

/// A `webhook_deliveries` row.
struct DeliveryRow {
    id: Uuid,
    tenant_id: Uuid,
    subscription_id: Uuid,
    event_id: Uuid,
    event_type: String,
    order_id: Uuid,
    body: String,
    status: String,
    attempts: i32,
    next_attempt_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    delivered_at: Option<OffsetDateTime>,
    last_status: Option<i32>,
    traceparent: Option<String>,
}

impl DeliveryRow {
    fn into_domain(self) -> Result<WebhookDelivery, RepositoryError> {
        Ok(WebhookDelivery {
            id: WebhookDeliveryId::from_uuid(self.id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
            subscription_id: WebhookId::from_uuid(self.subscription_id),
            event_id: DomainEventId::from_uuid(self.event_id),
            event_type: self.event_type,
            order_id: OrderId::from_uuid(self.order_id),
            body: self.body,
            status: self.status.parse().map_err(corrupt_data)?,
            attempts: u32::try_from(self.attempts).map_err(corrupt)?,
            next_attempt_at: self.next_attempt_at,
            created_at: self.created_at,
            delivered_at: self.delivered_at,
            last_status: self.last_status.map(status_code).transpose()?,
            traceparent: self.traceparent,
        })
    }
}

fn status_code(value: i32) -> Result<u16, RepositoryError> {
    u16::try_from(value).map_err(corrupt)
}

fn outcome(text: &str) -> Result<AttemptOutcome, RepositoryError> {
    match text {
        "delivered" => Ok(AttemptOutcome::Delivered),
        "gone" => Ok(AttemptOutcome::Gone),
        "failed" => Ok(AttemptOutcome::Failed),
        other => Err(corrupt_data(format!("unknown attempt outcome {other:?}"))),
    }
}

impl PgStore {
    /// The secrets sealed under the current key, bound to the subscription.
    fn seal_secrets(
        &self,
        subscription: &WebhookSubscription,
    ) -> Result<Json<SealedValue>, RepositoryError> {
        let plain = serde_json::to_vec(&subscription.secrets).map_err(corrupt)?;
        self.address_keys
            .seal(
                OrderId::from_uuid(*subscription.id.as_uuid()),
                SealedColumn::WebhookSecrets,
                &plain,
            )
            .map(Json)
    }

    /// One subscription's row, read in its tenant.
    async fn subscription_row(
        &self,
        tenant: TenantId,
        id: WebhookId,
    ) -> Result<Option<SubscriptionRow>, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let row = sqlx::query_as!(
            SubscriptionRow,
            r#"SELECT id, tenant_id, url, event_types, enabled, description,
                secrets AS "secrets: Json<SealedValue>", disabled_reason, failure_streak,
                created_at, updated_at
             FROM webhook_subscriptions WHERE tenant_id = $1 AND id = $2"#,
            tenant.as_uuid(),
            id.as_uuid(),
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        Ok(row)
    }

    fn subscription_of(
        &self,
        row: SubscriptionRow,
    ) -> Result<WebhookSubscription, RepositoryError> {
        let plain = self.address_keys.open(
            &row.secrets.0,
            OrderId::from_uuid(row.id),
            SealedColumn::WebhookSecrets,
        )?;
        let secrets: Vec<SigningSecret> = serde_json::from_slice(&plain).map_err(corrupt)?;
        Ok(WebhookSubscription {
            id: WebhookId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            url: row.url,
            event_types: row.event_types,
            enabled: row.enabled,
            description: row.description,
            secrets,
            disabled_reason: row.disabled_reason,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[async_trait]
impl WebhookRepository for PgStore {
    async fn create_subscription(
        &self,
        subscription: &WebhookSubscription,
    ) -> Result<(), RepositoryError> {
        let secrets = self.seal_secrets(subscription)?;
        let mut tx = self.tenant_tx(subscription.tenant_id).await?;
        sqlx::query!(
            "INSERT INTO webhook_subscriptions (id, tenant_id, url, event_types, enabled,
                description, secrets, disabled_reason, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            subscription.id.as_uuid(),
            subscription.tenant_id.as_uuid(),
            subscription.url,
            &subscription.event_types,
            subscription.enabled,
            subscription.description,
            secrets as _,
            subscription.disabled_reason,
            subscription.created_at,
            subscription.updated_at,
        )
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)
    }

    async fn subscriptions(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<WebhookSubscription>, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let rows = sqlx::query_as!(
            SubscriptionRow,
            r#"SELECT id, tenant_id, url, event_types, enabled, description,
                secrets AS "secrets: Json<SealedValue>", disabled_reason, failure_streak,
                created_at, updated_at
             FROM webhook_subscriptions WHERE tenant_id = $1 ORDER BY created_at, id"#,
            tenant.as_uuid(),
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        rows.into_iter()
            .map(|row| self.subscription_of(row))
            .collect()
    }

    async fn subscription(
        &self,
        tenant: TenantId,
        id: WebhookId,
    ) -> Result<Option<WebhookSubscription>, RepositoryError> {
        self.subscription_row(tenant, id)
            .await?
            .map(|row| self.subscription_of(row))
            .transpose()
    }

    async fn update_subscription(
        &self,
        subscription: &WebhookSubscription,
    ) -> Result<(), RepositoryError> {
        let secrets = self.seal_secrets(subscription)?;
        let mut tx = self.tenant_tx(subscription.tenant_id).await?;
        // Enabling again (by an admin) starts the breaker afresh.
        sqlx::query!(
            "UPDATE webhook_subscriptions SET url = $3, event_types = $4, enabled = $5,
                description = $6, secrets = $7, disabled_reason = $8, updated_at = $9,
                failure_streak = CASE WHEN $5 AND NOT enabled THEN 0 ELSE failure_streak END,
                circuit_open_until = CASE WHEN $5 AND NOT enabled THEN NULL ELSE circuit_open_until END
             WHERE tenant_id = $1 AND id = $2",
            subscription.tenant_id.as_uuid(),
            subscription.id.as_uuid(),
            subscription.url,
            &subscription.event_types,
            subscription.enabled,
            subscription.description,
            secrets as _,
            subscription.disabled_reason,
            subscription.updated_at,
        )
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)
    }

    async fn delete_subscription(
        &self,
        tenant: TenantId,
        id: WebhookId,
    ) -> Result<bool, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let deleted = sqlx::query!(
            "DELETE FROM webhook_subscriptions WHERE tenant_id = $1 AND id = $2",
            tenant.as_uuid(),
            id.as_uuid(),
        )
        .execute(&mut *tx)
        .await
        .map_err(storage)?
        .rows_affected();
        tx.commit().await.map_err(storage)?;
        Ok(deleted > 0)
    }

    async fn enqueue(&self, deliveries: &[WebhookDelivery]) -> Result<u64, RepositoryError> {
        self.store_deliveries(deliveries, false).await
    }

    async fn requeue(&self, deliveries: &[WebhookDelivery]) -> Result<u64, RepositoryError> {
        self.store_deliveries(deliveries, true).await
    }

    async fn claim_due(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, RepositoryError> {
        let lease = sqlx::postgres::types::PgInterval::try_from(lease)
            .map_err(|error| RepositoryError::Corrupt(error.into()))?;
        let rows = sqlx::query_as!(
            DeliveryRow,
            r#"SELECT id AS "id!", tenant_id AS "tenant_id!", subscription_id AS "subscription_id!",
                event_id AS "event_id!", event_type AS "event_type!", order_id AS "order_id!",
                body AS "body!", status AS "status!", attempts AS "attempts!", next_attempt_at,
                created_at AS "created_at!", delivered_at, last_status, traceparent
             FROM webhook_claim($1, $2, $3)"#,
            now,
            lease,
            to_i32(limit),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(storage)?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let delivery = row.into_domain()?;
            let subscription = self
                .subscription_row(delivery.tenant_id, delivery.subscription_id)
                .await?;
            // Deleted meanwhile: its deliveries went with it.
            let Some(row) = subscription else { continue };
            let failure_streak = u32::try_from(row.failure_streak).unwrap_or(0);
            claimed.push(ClaimedDelivery {
                delivery,
                subscription: self.subscription_of(row)?,
                failure_streak,
            });
        }
        Ok(claimed)
    }

    async fn record_attempt(&self, result: &AttemptResult) -> Result<(), RepositoryError> {
        let delivery = &result.delivery;
        let attempt = &result.attempt;
        let mut tx = self.tenant_tx(delivery.tenant_id).await?;
        sqlx::query!(
            "UPDATE webhook_deliveries SET status = $3, attempts = $4, next_attempt_at = $5,
                delivered_at = $6, last_status = $7, claimed_until = NULL
             WHERE tenant_id = $1 AND id = $2",
            delivery.tenant_id.as_uuid(),
            delivery.id.as_uuid(),
            delivery.status.as_str(),
            to_i32(delivery.attempts),
            delivery.next_attempt_at,
            delivery.delivered_at,
            delivery.last_status.map(i32::from),
        )
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
        sqlx::query!(
            "INSERT INTO webhook_attempts (delivery_id, tenant_id, attempted_at, status_code,
                latency_ms, response_body, error, outcome)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            delivery.id.as_uuid(),
            delivery.tenant_id.as_uuid(),
            attempt.attempted_at,
            attempt.status_code.map(i32::from),
            to_i32(attempt.latency_ms),
            attempt.response_body,
            attempt.error,
            attempt.outcome.as_str(),
        )
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
        let (enabled, reason) = match &result.disabled {
            Some(gone) => (Some(gone.enabled), gone.disabled_reason.clone()),
            None => (None, None),
        };
        sqlx::query!(
            "UPDATE webhook_subscriptions SET failure_streak = $3, circuit_open_until = $4,
                enabled = coalesce($5, enabled), disabled_reason = coalesce($6, disabled_reason),
                updated_at = CASE WHEN $5::boolean IS NULL THEN updated_at ELSE $7 END
             WHERE tenant_id = $1 AND id = $2",
            delivery.tenant_id.as_uuid(),
            delivery.subscription_id.as_uuid(),
            to_i32(result.failure_streak),
            result.circuit_open_until,
            enabled,
            reason,
            attempt.attempted_at,
        )
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)
    }

    async fn deliveries(
        &self,
        tenant: TenantId,
        subscription: WebhookId,
        status: Option<DeliveryStatus>,
        limit: u32,
    ) -> Result<Vec<DeliveryLog>, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let rows = sqlx::query_as!(
            DeliveryRow,
            "SELECT id, tenant_id, subscription_id, event_id, event_type, order_id, body, status,
                attempts, next_attempt_at, created_at, delivered_at, last_status, traceparent
             FROM webhook_deliveries
             WHERE tenant_id = $1 AND subscription_id = $2 AND ($3::text IS NULL OR status = $3)
             ORDER BY sequence DESC LIMIT $4",
            tenant.as_uuid(),
            subscription.as_uuid(),
            status.map(DeliveryStatus::as_str),
            i64::from(limit),
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let attempts = sqlx::query!(
            "SELECT delivery_id, attempted_at, status_code, latency_ms, response_body, error, outcome
             FROM webhook_attempts WHERE tenant_id = $1 AND delivery_id = ANY($2) ORDER BY id",
            tenant.as_uuid(),
            &ids,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        let mut logs: Vec<DeliveryLog> = rows
            .into_iter()
            .map(|row| {
                Ok(DeliveryLog {
                    delivery: row.into_domain()?,
                    attempts: Vec::new(),
                })
            })
            .collect::<Result<_, RepositoryError>>()?;
        for row in attempts {
            let record = AttemptRecord {
                attempted_at: row.attempted_at,
                status_code: row.status_code.map(status_code).transpose()?,
                latency_ms: u32::try_from(row.latency_ms).map_err(corrupt)?,
                response_body: row.response_body,
                error: row.error,
                outcome: outcome(&row.outcome)?,
            };
            if let Some(log) = logs
                .iter_mut()
                .find(|l| *l.delivery.id.as_uuid() == row.delivery_id)
            {
                log.attempts.push(record);
            }
        }
        Ok(logs)
    }

    async fn delivery(
        &self,
        tenant: TenantId,
        subscription: WebhookId,
        id: WebhookDeliveryId,
    ) -> Result<Option<WebhookDelivery>, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let row = sqlx::query_as!(
            DeliveryRow,
            "SELECT id, tenant_id, subscription_id, event_id, event_type, order_id, body, status,
                attempts, next_attempt_at, created_at, delivered_at, last_status, traceparent
             FROM webhook_deliveries WHERE tenant_id = $1 AND subscription_id = $2 AND id = $3",
            tenant.as_uuid(),
            subscription.as_uuid(),
            id.as_uuid(),
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        row.map(DeliveryRow::into_domain).transpose()
    }

    async fn save_delivery(&self, delivery: &WebhookDelivery) -> Result<(), RepositoryError> {
        let mut tx = self.tenant_tx(delivery.tenant_id).await?;
        sqlx::query!(
            "UPDATE webhook_deliveries SET status = $3, next_attempt_at = $4, claimed_until = NULL
             WHERE tenant_id = $1 AND id = $2",
            delivery.tenant_id.as_uuid(),
            delivery.id.as_uuid(),
            delivery.status.as_str(),
            delivery.next_attempt_at,
        )
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)
    }

    async fn delivery_stats(
        &self,
        tenant: TenantId,
        subscription: WebhookId,
        now: OffsetDateTime,
    ) -> Result<DeliveryStats, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let row = sqlx::query!(
            r#"SELECT
                (SELECT count(*) FROM webhook_deliveries d
                  WHERE d.subscription_id = s.id AND d.status = 'PENDING') AS "pending!",
                (SELECT count(*) FROM webhook_deliveries d
                  WHERE d.subscription_id = s.id AND d.status = 'DELIVERED') AS "delivered!",
                (SELECT count(*) FROM webhook_deliveries d
                  WHERE d.subscription_id = s.id AND d.status = 'FAILED') AS "failed!",
                (SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
                  WHERE d.subscription_id = s.id AND a.outcome = 'delivered') AS "attempts_delivered!",
                (SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
                  WHERE d.subscription_id = s.id AND a.outcome <> 'delivered') AS "attempts_failed!",
                (SELECT min(d.created_at) FROM webhook_deliveries d
                  WHERE d.subscription_id = s.id AND d.status = 'PENDING') AS oldest_pending,
                coalesce(s.circuit_open_until > $3, false) AS "circuit_open!"
             FROM webhook_subscriptions s WHERE s.tenant_id = $1 AND s.id = $2"#,
            tenant.as_uuid(),
            subscription.as_uuid(),
            now,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        let Some(row) = row else {
            return Ok(DeliveryStats::default());
        };
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(DeliveryStats {
            pending: count(row.pending),
            delivered: count(row.delivered),
            failed: count(row.failed),
            attempts_delivered: count(row.attempts_delivered),
            attempts_failed: count(row.attempts_failed),
            oldest_pending_seconds: row
                .oldest_pending
                .map(|at| (now - at).whole_seconds().max(0)),
            circuit_open: row.circuit_open,
        })
    }

    async fn prune_deliveries(&self, before: OffsetDateTime) -> Result<u64, RepositoryError> {
        let pruned = sqlx::query_scalar!(r#"SELECT webhook_prune($1) AS "pruned!""#, before)
            .fetch_one(&self.pool)
            .await
            .map_err(storage)?;
        Ok(u64::try_from(pruned).unwrap_or(0))
    }
}

impl PgStore {
    /// New PENDING deliveries; with `again`, one that exists for its subscription and event is
    /// made PENDING and due at the new one's time instead of being left out.
    async fn store_deliveries(
        &self,
        deliveries: &[WebhookDelivery],
        again: bool,
    ) -> Result<u64, RepositoryError> {
        let Some(first) = deliveries.first() else {
            return Ok(0);
        };
        let column = |f: fn(&WebhookDelivery) -> Uuid| deliveries.iter().map(f).collect::<Vec<_>>();
        let ids = column(|d| *d.id.as_uuid());
        let subscriptions = column(|d| *d.subscription_id.as_uuid());
        let events = column(|d| *d.event_id.as_uuid());
        let orders = column(|d| *d.order_id.as_uuid());
        let types: Vec<String> = deliveries.iter().map(|d| d.event_type.clone()).collect();
        let bodies: Vec<String> = deliveries.iter().map(|d| d.body.clone()).collect();
        let due: Vec<OffsetDateTime> = deliveries
            .iter()
            .map(|d| d.next_attempt_at.unwrap_or(d.created_at))
            .collect();
        // Each delivery's trace, or the trace of the event being handled now, for the attempts
        // to continue.
        let current = order_trace_context::current_traceparent();
        let traces: Vec<Option<String>> = deliveries
            .iter()
            .map(|d| d.traceparent.clone().or_else(|| current.clone()))
            .collect();
        let mut tx = self.tenant_tx(first.tenant_id).await?;
        let added = sqlx::query!(
            "INSERT INTO webhook_deliveries (id, tenant_id, subscription_id, event_id, event_type,
                order_id, body, status, next_attempt_at, created_at, traceparent)
             SELECT d.id, $1, d.subscription_id, d.event_id, d.event_type, d.order_id, d.body,
                'PENDING', d.due, $9, d.traceparent
             FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::uuid[], $7::text[],
                         $8::timestamptz[], $10::text[])
                  AS d(id, subscription_id, event_id, event_type, order_id, body, due, traceparent)
             ON CONFLICT (subscription_id, event_id) DO UPDATE
                 SET status = 'PENDING', next_attempt_at = EXCLUDED.next_attempt_at
                 WHERE $11",
            first.tenant_id.as_uuid(),
            &ids,
            &subscriptions,
            &events,
            &types,
            &orders,
            &bodies,
            &due,
            first.created_at,
            &traces as _,
            again,
        )
        .execute(&mut *tx)
        .await
        .map_err(storage)?
        .rows_affected();
        tx.commit().await.map_err(storage)?;
        Ok(added)
    }
}
