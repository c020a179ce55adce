//! Scans across orders for the jobs: reservations about to expire, the active orders of an event,
//! payments changed in a window, refunds due for another try.

use async_trait::async_trait;
use order_domain::ids::{EventId, OrderId, RefundId, TenantId};
use order_domain::ports::{ChangedPayment, DueRefund, ExpiringOrder, OrderScans, RepositoryError};
use time::OffsetDateTime;

use crate::{PgStore, corrupt, storage, to_i64};

#[async_trait]
impl OrderScans for PgStore {
    async fn expiring(
        &self,
        before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<ExpiringOrder>, RepositoryError> {
        let rows = sqlx::query!(
            r#"SELECT tenant_id AS "tenant_id!", order_id AS "order_id!", status AS "status!",
                expires_at AS "expires_at!"
            FROM orders_expiring($1, $2)"#,
            before,
            i32::try_from(limit).unwrap_or(i32::MAX),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(storage)?;
        rows.into_iter()
            .map(|row| {
                Ok(ExpiringOrder {
                    tenant_id: TenantId::from_uuid(row.tenant_id),
                    order_id: OrderId::from_uuid(row.order_id),
                    status: row.status.parse().map_err(corrupt)?,
                    expires_at: row.expires_at,
                })
            })
            .collect()
    }

    async fn active_for_event(
        &self,
        tenant: TenantId,
        event: EventId,
        after: Option<OrderId>,
        limit: u32,
    ) -> Result<Vec<OrderId>, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let ids = sqlx::query_scalar!(
            "SELECT id FROM orders WHERE tenant_id = $1 AND event_id = $2
               AND status IN ('PENDING', 'RESERVED', 'CONFIRMED')
               AND ($3::uuid IS NULL OR id > $3)
             ORDER BY id LIMIT $4",
            tenant.as_uuid(),
            event.as_uuid(),
            after.map(|a| *a.as_uuid()),
            to_i64(limit),
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        Ok(ids.into_iter().map(OrderId::from_uuid).collect())
    }

    async fn edits_due(
        &self,
        before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<order_domain::ports::DueEdit>, RepositoryError> {
        // Across tenants on purpose (one job for all); only ids leave the function.
        let rows = sqlx::query!(
            r#"SELECT tenant_id AS "tenant_id!", order_id AS "order_id!" FROM edits_due($1, $2)"#,
            before,
            i32::try_from(limit).unwrap_or(i32::MAX),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(storage)?;
        Ok(rows
            .into_iter()
            .map(|row| order_domain::ports::DueEdit {
                tenant_id: TenantId::from_uuid(row.tenant_id),
                order_id: OrderId::from_uuid(row.order_id),
            })
            .collect())
    }

    async fn payments_changed(
        &self,
        tenant: Option<TenantId>,
        from: OffsetDateTime,
        to: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<ChangedPayment>, RepositoryError> {
        // The function spans tenants for the job (one pass for all) and returns only ids.
        let rows = sqlx::query!(
            r#"SELECT tenant_id AS "tenant_id!", order_id AS "order_id!"
            FROM payments_changed($1, $2, $3, $4)"#,
            tenant.map(|t| *t.as_uuid()),
            from,
            to,
            i32::try_from(limit).unwrap_or(i32::MAX),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(storage)?;
        Ok(rows
            .into_iter()
            .map(|row| ChangedPayment {
                tenant_id: TenantId::from_uuid(row.tenant_id),
                order_id: OrderId::from_uuid(row.order_id),
            })
            .collect())
    }

    async fn due_for_retry(
        &self,
        before: OffsetDateTime,
        approved_before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<DueRefund>, RepositoryError> {
        // The function spans tenants on purpose (one job for all) and returns only ids.
        let rows = sqlx::query!(
            r#"SELECT tenant_id AS "tenant_id!", refund_id AS "refund_id!"
            FROM refunds_due($1, $2, $3)"#,
            before,
            approved_before,
            i32::try_from(limit).unwrap_or(i32::MAX),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(storage)?;
        Ok(rows
            .into_iter()
            .map(|row| DueRefund {
                tenant_id: TenantId::from_uuid(row.tenant_id),
                refund_id: RefundId::from_uuid(row.refund_id),
            })
            .collect())
    }
}
