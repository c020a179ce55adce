//! The outbox as the relay sees it: leased batches and confirmations.

use async_trait::async_trait;
use order_domain::events::EventEnvelope;
use order_domain::ids::DomainEventId;
use order_domain::ports::{Outbox, OutboxRecord, RepositoryError};
use sqlx::postgres::types::PgInterval;
use time::Duration;
use uuid::Uuid;

use crate::{PgStore, corrupt, storage};

#[async_trait]
impl Outbox for PgStore {
    async fn claim_unpublished(
        &self,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<OutboxRecord>, RepositoryError> {
        let lease = PgInterval {
            months: 0,
            days: 0,
            microseconds: i64::try_from(lease.whole_microseconds()).unwrap_or(i64::MAX),
        };
        // The function spans tenants on purpose (one relay for all) and returns only payloads.
        let rows = sqlx::query!(
            r#"SELECT position AS "position!", payload AS "payload!", traceparent
            FROM outbox_claim($1, $2) ORDER BY position"#,
            i32::try_from(limit).unwrap_or(i32::MAX),
            lease,
        )
        .fetch_all(&self.pool)
        .await
        .map_err(storage)?;
        rows.into_iter()
            .map(|row| {
                Ok(OutboxRecord {
                    position: row.position,
                    envelope: serde_json::from_value::<EventEnvelope>(row.payload)
                        .map_err(corrupt)?,
                    traceparent: row.traceparent,
                })
            })
            .collect()
    }

    async fn mark_published(&self, ids: &[DomainEventId]) -> Result<(), RepositoryError> {
        let ids: Vec<Uuid> = ids.iter().map(|id| *id.as_uuid()).collect();
        sqlx::query!("SELECT outbox_mark_published($1)", &ids)
            .execute(&self.pool)
            .await
            .map_err(storage)?;
        Ok(())
    }
}
