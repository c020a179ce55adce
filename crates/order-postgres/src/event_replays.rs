//! Durable event replays (docs/events.md): the jobs, their leases, and the outbox walked in time
//! and position order within the replay's tenant.

use async_trait::async_trait;
use order_domain::events::EventEnvelope;
use order_domain::ids::{OrderId, ReplayId, TenantId};
use order_domain::ports::{EventReplays, OutboxRecord, RepositoryError, StoredEvents};
use order_domain::replay::{EventReplay, ReplayCursor, ReplayScope, ReplayStatus};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{PgStore, corrupt, corrupt_data, storage};

/// An `event_replays` row.
struct ReplayRow {
    id: Uuid,
    tenant_id: Uuid,
    order_id: Option<Uuid>,
    from_at: Option<OffsetDateTime>,
    to_at: Option<OffsetDateTime>,
    types: Vec<String>,
    target: String,
    status: String,
    replayed: i64,
    cursor_at: Option<OffsetDateTime>,
    cursor_position: i64,
    requested_by: String,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    finished_at: Option<OffsetDateTime>,
}

impl ReplayRow {
    fn into_replay(self) -> Result<EventReplay, RepositoryError> {
        let scope = match (self.order_id, self.from_at, self.to_at) {
            (Some(order), None, None) => ReplayScope::Order(OrderId::from_uuid(order)),
            (None, Some(from), Some(to)) => ReplayScope::Range { from, to },
            _ => return Err(corrupt_data("a replay names an order or a range")),
        };
        Ok(EventReplay {
            id: ReplayId::from_uuid(self.id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
            scope,
            types: self.types,
            target: self.target.parse().map_err(corrupt_data)?,
            status: self.status.parse().map_err(corrupt_data)?,
            replayed: u64::try_from(self.replayed).map_err(corrupt)?,
            cursor: ReplayCursor {
                at: self.cursor_at,
                position: self.cursor_position,
            },
            requested_by: self.requested_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
            finished_at: self.finished_at,
        })
    }
}

fn scope_columns(
    scope: ReplayScope,
) -> (Option<Uuid>, Option<OffsetDateTime>, Option<OffsetDateTime>) {
    match scope {
        ReplayScope::Order(order) => (Some(*order.as_uuid()), None, None),
        ReplayScope::Range { from, to } => (None, Some(from), Some(to)),
    }
}

#[async_trait]
impl EventReplays for PgStore {
    async fn begin_replay(&self, replay: &EventReplay) -> Result<bool, RepositoryError> {
        let (order, from, to) = scope_columns(replay.scope);
        let mut tx = self.tenant_tx(replay.tenant_id).await?;
        let stored = sqlx::query!(
            "INSERT INTO event_replays (id, tenant_id, order_id, from_at, to_at, types, target,
                 status, requested_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
             ON CONFLICT DO NOTHING",
            replay.id.as_uuid(),
            replay.tenant_id.as_uuid(),
            order,
            from,
            to,
            &replay.types,
            replay.target.as_str(),
            replay.status.as_str(),
            replay.requested_by,
            replay.created_at,
        )
        .execute(&mut *tx)
        .await
        .map_err(storage)?
        .rows_affected();
        tx.commit().await.map_err(storage)?;
        Ok(stored == 1)
    }

    async fn replay(
        &self,
        tenant: TenantId,
        id: ReplayId,
    ) -> Result<Option<EventReplay>, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let row = sqlx::query_as!(
            ReplayRow,
            "SELECT id, tenant_id, order_id, from_at, to_at, types, target, status, replayed,
                    cursor_at, cursor_position, requested_by, created_at, updated_at, finished_at
             FROM event_replays WHERE tenant_id = $1 AND id = $2",
            tenant.as_uuid(),
            id.as_uuid(),
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        row.map(ReplayRow::into_replay).transpose()
    }

    async fn lease_replay(
        &self,
        now: OffsetDateTime,
        until: OffsetDateTime,
        token: Uuid,
    ) -> Result<Option<EventReplay>, RepositoryError> {
        let row = sqlx::query_as!(
            ReplayRow,
            r#"SELECT id AS "id!", tenant_id AS "tenant_id!", order_id, from_at, to_at,
                    types AS "types!", target AS "target!", status AS "status!",
                    replayed AS "replayed!", cursor_at, cursor_position AS "cursor_position!",
                    requested_by AS "requested_by!", created_at AS "created_at!",
                    updated_at AS "updated_at!", finished_at
               FROM event_replay_lease($1, $2, $3)"#,
            now,
            until,
            token,
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(storage)?;
        row.map(ReplayRow::into_replay).transpose()
    }

    async fn replay_events(
        &self,
        replay: &EventReplay,
        limit: u32,
    ) -> Result<Vec<(OffsetDateTime, OutboxRecord)>, RepositoryError> {
        let limit = i64::from(limit);
        let mut tx = self.tenant_tx(replay.tenant_id).await?;
        let rows = match (replay.scope, replay.window()) {
            (ReplayScope::Order(order), _) => sqlx::query!(
                r#"SELECT position, occurred_at, payload, traceparent FROM outbox
                   WHERE tenant_id = $1 AND order_id = $2 AND position > $3
                     AND (cardinality($4::text[]) = 0 OR event_type = ANY ($4))
                   ORDER BY position LIMIT $5"#,
                replay.tenant_id.as_uuid(),
                order.as_uuid(),
                replay.cursor.position,
                &replay.types,
                limit,
            )
            .fetch_all(&mut *tx)
            .await
            .map_err(storage)?
            .into_iter()
            .map(|r| (r.position, r.occurred_at, r.payload, r.traceparent))
            .collect::<Vec<_>>(),
            (ReplayScope::Range { .. }, Some((start, end))) => sqlx::query!(
                r#"SELECT position, occurred_at, payload, traceparent FROM outbox
                   WHERE tenant_id = $1 AND occurred_at >= $2 AND occurred_at < $3
                     AND (occurred_at, position) > ($2, $4)
                     AND (cardinality($5::text[]) = 0 OR event_type = ANY ($5))
                   ORDER BY occurred_at, position LIMIT $6"#,
                replay.tenant_id.as_uuid(),
                start,
                end,
                replay.cursor.position,
                &replay.types,
                limit,
            )
            .fetch_all(&mut *tx)
            .await
            .map_err(storage)?
            .into_iter()
            .map(|r| (r.position, r.occurred_at, r.payload, r.traceparent))
            .collect::<Vec<_>>(),
            (ReplayScope::Range { .. }, None) => Vec::new(),
        };
        tx.commit().await.map_err(storage)?;
        rows.into_iter()
            .map(|(position, occurred_at, payload, traceparent)| {
                Ok((
                    occurred_at,
                    OutboxRecord {
                        position,
                        envelope: serde_json::from_value::<EventEnvelope>(payload)
                            .map_err(corrupt)?,
                        traceparent,
                    },
                ))
            })
            .collect()
    }

    async fn save_replay(
        &self,
        replay: &EventReplay,
        token: Uuid,
        until: OffsetDateTime,
    ) -> Result<bool, RepositoryError> {
        let done = replay.status == ReplayStatus::Done;
        let mut tx = self.tenant_tx(replay.tenant_id).await?;
        let saved = sqlx::query!(
            "UPDATE event_replays SET status = $4, replayed = $5, cursor_at = $6,
                 cursor_position = $7, updated_at = $8, finished_at = $9,
                 lease_until = CASE WHEN $10::boolean THEN NULL ELSE $11::timestamptz END,
                 lease_token = CASE WHEN $10::boolean THEN NULL ELSE lease_token END
             WHERE tenant_id = $1 AND id = $2 AND lease_token = $3",
            replay.tenant_id.as_uuid(),
            replay.id.as_uuid(),
            token,
            replay.status.as_str(),
            i64::try_from(replay.replayed).map_err(corrupt)?,
            replay.cursor.at,
            replay.cursor.position,
            replay.updated_at,
            replay.finished_at,
            done,
            until,
        )
        .execute(&mut *tx)
        .await
        .map_err(storage)?
        .rows_affected();
        tx.commit().await.map_err(storage)?;
        Ok(saved == 1)
    }
}

#[async_trait]
impl StoredEvents for PgStore {
    async fn tenant_of(&self, order: OrderId) -> Result<Option<TenantId>, RepositoryError> {
        let tenant = sqlx::query_scalar!("SELECT order_tenant($1) AS tenant", order.as_uuid())
            .fetch_one(&self.pool)
            .await
            .map_err(storage)?;
        Ok(tenant.map(TenantId::from_uuid))
    }

    async fn events_of(
        &self,
        tenant: TenantId,
        order: OrderId,
    ) -> Result<Vec<EventEnvelope>, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let payloads = sqlx::query_scalar!(
            "SELECT payload FROM outbox WHERE tenant_id = $1 AND order_id = $2 ORDER BY position",
            tenant.as_uuid(),
            order.as_uuid(),
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        payloads
            .into_iter()
            .map(|payload| serde_json::from_value(payload).map_err(corrupt))
            .collect()
    }

    async fn every_order(
        &self,
        after: Option<OrderId>,
        limit: u32,
    ) -> Result<Vec<OrderId>, RepositoryError> {
        let ids = sqlx::query_scalar!(
            r#"SELECT id AS "id!" FROM orders_after($1, $2) AS id"#,
            after.map(|a| *a.as_uuid()),
            i32::try_from(limit).unwrap_or(i32::MAX),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(storage)?;
        Ok(ids.into_iter().map(OrderId::from_uuid).collect())
    }
}
