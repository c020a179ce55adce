//! Refund queries: the review queue by status, the order a refund belongs to, and a refund found
//! by the request key that asked for it.

use async_trait::async_trait;
use order_domain::ids::{OrderId, RefundId, TenantId, UserId};
use order_domain::order::RefundStatus;
use order_domain::ports::{
    KeyedRefund, PageRequest, RefundRepository, RefundView, RepositoryError,
};
use time::OffsetDateTime;

use crate::rows::RefundRow;
use crate::{PgStore, currency, storage, to_i64};

#[async_trait]
impl RefundRepository for PgStore {
    async fn list_by_status(
        &self,
        tenant: TenantId,
        status: RefundStatus,
        page: PageRequest,
    ) -> Result<Vec<RefundView>, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let rows = sqlx::query!(
            "SELECT r.order_id, o.user_id, o.currency, r.id, r.amount, r.status, r.item_ids, r.reason,
                    r.requested_by, r.requested_at, r.decided_by, r.decided_at, r.decision_note,
                    r.payment_reference, r.failure_reason, r.attempts, r.completed_at, r.retry_at,
                    r.edit_id
             FROM order_refunds r JOIN orders o ON o.id = r.order_id
             WHERE r.tenant_id = $1 AND r.status = $2
             ORDER BY r.requested_at, r.id LIMIT $3 OFFSET $4",
            tenant.as_uuid(),
            status.as_str(),
            to_i64(page.limit),
            to_i64(page.offset),
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        rows.into_iter()
            .map(|row| {
                let refund = RefundRow {
                    id: row.id,
                    amount: row.amount,
                    status: row.status,
                    item_ids: row.item_ids,
                    reason: row.reason,
                    requested_by: row.requested_by,
                    requested_at: row.requested_at,
                    decided_by: row.decided_by,
                    decided_at: row.decided_at,
                    decision_note: row.decision_note,
                    payment_reference: row.payment_reference,
                    failure_reason: row.failure_reason,
                    attempts: row.attempts,
                    completed_at: row.completed_at,
                    retry_at: row.retry_at,
                    edit_id: row.edit_id,
                };
                Ok(RefundView {
                    order_id: OrderId::from_uuid(row.order_id),
                    user_id: UserId::from_uuid(row.user_id),
                    currency: currency(&row.currency)?,
                    refund: refund.into_refund()?,
                })
            })
            .collect()
    }

    async fn order_of(
        &self,
        tenant: TenantId,
        refund: RefundId,
    ) -> Result<Option<OrderId>, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let id = sqlx::query_scalar!(
            "SELECT order_id FROM order_refunds WHERE id = $1 AND tenant_id = $2",
            refund.as_uuid(),
            tenant.as_uuid(),
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        Ok(id.map(OrderId::from_uuid))
    }

    async fn find_by_request_key(
        &self,
        tenant: TenantId,
        caller: &str,
        key: &str,
        since: OffsetDateTime,
    ) -> Result<Option<KeyedRefund>, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let found = sqlx::query!(
            "SELECT fingerprint, order_id, refund_id FROM refund_request_keys
             WHERE tenant_id = $1 AND caller = $2 AND key = $3 AND created_at >= $4",
            tenant.as_uuid(),
            caller,
            key,
            since,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        Ok(found.map(|row| KeyedRefund {
            fingerprint: row.fingerprint,
            order_id: OrderId::from_uuid(row.order_id),
            refund_id: RefundId::from_uuid(row.refund_id),
        }))
    }
}
