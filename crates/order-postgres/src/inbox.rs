//! The inbox: which consumed messages a tenant has already applied.

use async_trait::async_trait;
use order_domain::ids::TenantId;
use order_domain::ports::{Inbox, RepositoryError};

use crate::{PgStore, storage};

#[async_trait]
impl Inbox for PgStore {
    async fn contains(
        &self,
        tenant: TenantId,
        consumer: &str,
        message_id: &str,
    ) -> Result<bool, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let seen = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM inbox
                WHERE tenant_id = $1 AND consumer = $2 AND message_id = $3) AS "seen!""#,
            tenant.as_uuid(),
            consumer,
            message_id,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        Ok(seen)
    }

    async fn record(
        &self,
        tenant: TenantId,
        consumer: &str,
        message_id: &str,
    ) -> Result<(), RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        sqlx::query!(
            "INSERT INTO inbox (tenant_id, consumer, message_id) VALUES ($1, $2, $3)
             ON CONFLICT (tenant_id, consumer, message_id) DO NOTHING",
            tenant.as_uuid(),
            consumer,
            message_id,
        )
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)
    }
}
