//! The audit's hash chains and daily anchors (docs/audit.md). The database computes every hash
//! (migration 0029: the chain trigger, `audit_chain_breaks`, `audit_day_digest`), so a check
//! recomputes exactly what the write computed, in the same SQL.

use async_trait::async_trait;
use order_domain::audit_chain::{AnchorProblem, AuditAnchor, AuditBreak, EntryProblem};
use order_domain::ids::{AuditEntryId, OrderId, TenantId};
use order_domain::ports::{AuditChain, RepositoryError};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::{PgStore, corrupt, storage, to_i64};

#[async_trait]
impl AuditChain for PgStore {
    async fn chain_break(
        &self,
        tenant: TenantId,
        orders: &[OrderId],
    ) -> Result<Option<AuditBreak>, RepositoryError> {
        let ids: Vec<Uuid> = orders.iter().map(|o| *o.as_uuid()).collect();
        let mut tx = self.tenant_tx(tenant).await?;
        let row = sqlx::query!(
            r#"SELECT order_id AS "order_id!", seq AS "seq!", entry_id AS "entry_id!",
                      problem AS "problem!"
               FROM audit_chain_breaks($1, $2) LIMIT 1"#,
            tenant.as_uuid(),
            &ids,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        row.map(|row| {
            Ok(AuditBreak::Entry {
                order_id: OrderId::from_uuid(row.order_id),
                seq: u32::try_from(row.seq).map_err(corrupt)?,
                entry_id: AuditEntryId::from_uuid(row.entry_id),
                problem: row.problem.parse::<EntryProblem>().map_err(corrupt_text)?,
            })
        })
        .transpose()
    }

    async fn orders_with_entries(
        &self,
        tenant: TenantId,
        from: OffsetDateTime,
        to: OffsetDateTime,
        after: Option<OrderId>,
        limit: u32,
    ) -> Result<Vec<OrderId>, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let ids = sqlx::query_scalar!(
            "SELECT DISTINCT order_id FROM order_events
             WHERE tenant_id = $1 AND occurred_at >= $2 AND occurred_at < $3
               AND ($4::uuid IS NULL OR order_id > $4)
             ORDER BY order_id LIMIT $5",
            tenant.as_uuid(),
            from,
            to,
            after.map(|a| *a.as_uuid()),
            to_i64(limit),
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        Ok(ids.into_iter().map(OrderId::from_uuid).collect())
    }

    async fn anchor_break(
        &self,
        tenant: TenantId,
        from: Date,
        to: Date,
    ) -> Result<(u32, Option<AuditBreak>), RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let checked = sqlx::query_scalar!(
            r#"SELECT count(*) AS "count!" FROM audit_anchors
               WHERE tenant_id = $1 AND day >= $2 AND day <= $3"#,
            tenant.as_uuid(),
            from,
            to,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(storage)?;
        let row = sqlx::query!(
            r#"SELECT day AS "day!", problem AS "problem!", orders AS "orders!",
                      entries AS "entries!", found_orders AS "found_orders!",
                      found_entries AS "found_entries!"
               FROM audit_anchor_breaks($1, $2, $3) LIMIT 1"#,
            tenant.as_uuid(),
            from,
            to,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        let found = row
            .map(|row| {
                Ok::<_, RepositoryError>(AuditBreak::Anchor {
                    day: row.day,
                    problem: row.problem.parse::<AnchorProblem>().map_err(corrupt_text)?,
                    anchored_orders: u32::try_from(row.orders).map_err(corrupt)?,
                    anchored_entries: u64::try_from(row.entries).map_err(corrupt)?,
                    found_orders: u32::try_from(row.found_orders).map_err(corrupt)?,
                    found_entries: u64::try_from(row.found_entries).map_err(corrupt)?,
                })
            })
            .transpose()?;
        Ok((u32::try_from(checked).map_err(corrupt)?, found))
    }

    async fn anchors(
        &self,
        tenant: TenantId,
        from: Date,
        to: Date,
    ) -> Result<Vec<AuditAnchor>, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let rows = sqlx::query!(
            "SELECT tenant_id, day, orders, entries, digest, previous, anchor, created_at
             FROM audit_anchors WHERE tenant_id = $1 AND day >= $2 AND day <= $3 ORDER BY day",
            tenant.as_uuid(),
            from,
            to,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        rows.into_iter()
            .map(|row| {
                Ok(AuditAnchor {
                    tenant_id: TenantId::from_uuid(row.tenant_id),
                    day: row.day,
                    orders: u32::try_from(row.orders).map_err(corrupt)?,
                    entries: u64::try_from(row.entries).map_err(corrupt)?,
                    digest: hex(&row.digest),
                    previous: hex(&row.previous),
                    anchor: hex(&row.anchor),
                    created_at: row.created_at,
                })
            })
            .collect()
    }

    async fn anchor_days(&self, before: Date, max_days: u32) -> Result<u32, RepositoryError> {
        let made = sqlx::query_scalar!(
            r#"SELECT audit_anchor_days($1, $2) AS "made!""#,
            before,
            i32::try_from(max_days).unwrap_or(i32::MAX),
        )
        .fetch_one(&self.pool)
        .await
        .map_err(storage)?;
        u32::try_from(made).map_err(corrupt)
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

#[allow(clippy::needless_pass_by_value)] // the shape `map_err` hands over
fn corrupt_text(message: String) -> RepositoryError {
    crate::corrupt_data(message)
}
