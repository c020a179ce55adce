//! An order's audit trail, oldest first.

use async_trait::async_trait;
use order_domain::audit::AuditEntry;
use order_domain::ids::{OrderId, TenantId};
use order_domain::ports::{AuditLog, RepositoryError};

use crate::rows::AuditRow;
use crate::{PgStore, storage};

#[async_trait]
impl AuditLog for PgStore {
    async fn audit_trail(
        &self,
        tenant: TenantId,
        order: OrderId,
    ) -> Result<Vec<AuditEntry>, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let rows = sqlx::query_as!(
            AuditRow,
            "SELECT id, tenant_id, order_id, event_type, from_status, to_status, actor_kind, actor_name,
                    actor_roles, actor_vip, host(ip) AS ip, metadata, occurred_at
             FROM order_events WHERE tenant_id = $1 AND order_id = $2 ORDER BY seq",
            tenant.as_uuid(),
            order.as_uuid(),
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        rows.into_iter().map(AuditRow::into_entry).collect()
    }
}
