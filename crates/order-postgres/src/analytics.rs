//! [`AnalyticsStore`]: the metrics job's aggregate queries and the per-tenant snapshot.
//!
//! Every figure is read inside the tenant's transaction, so row-level security scopes it; only
//! the list of tenants to visit comes through a cross-tenant function.

use std::collections::BTreeMap;

use async_trait::async_trait;
use order_domain::analytics::{Analytics, CurrencyTotals, EventTotals, OrderStats, TOP_EVENTS};
use order_domain::ids::{EventId, TenantId};
use order_domain::order::OrderStatus;
use order_domain::ports::{AnalyticsStore, RepositoryError};
use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{PgStore, corrupt, currency_of, storage};

/// Completed refunds per order, joined to paid orders.
const PAID: &str = "FROM orders o
     LEFT JOIN (SELECT order_id, sum(amount) AS refunded
                FROM order_refunds WHERE status = 'COMPLETED' GROUP BY order_id) r
       ON r.order_id = o.id
     WHERE o.created_at >= $1 AND o.milestones->>'confirmedAt' IS NOT NULL";

#[async_trait]
impl AnalyticsStore for PgStore {
    async fn tenants_with_orders(
        &self,
        since: OffsetDateTime,
    ) -> Result<Vec<TenantId>, RepositoryError> {
        let ids: Vec<Uuid> =
            sqlx::query_scalar("SELECT tenant_id FROM tenants_with_orders_since($1)")
                .bind(since)
                .fetch_all(&self.pool)
                .await
                .map_err(storage)?;
        Ok(ids.into_iter().map(TenantId::from_uuid).collect())
    }

    async fn order_stats(
        &self,
        tenant: TenantId,
        since: OffsetDateTime,
    ) -> Result<OrderStats, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let mut by_status = BTreeMap::new();
        for row in sqlx::query(
            "SELECT status, count(*) AS n FROM orders WHERE created_at >= $1 GROUP BY status",
        )
        .bind(since)
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?
        {
            let status: String = row.try_get("status").map_err(storage)?;
            let count: i64 = row.try_get("n").map_err(storage)?;
            by_status.insert(
                status.parse::<OrderStatus>().map_err(corrupt)?,
                count_of(count),
            );
        }
        let conversion = sqlx::query(
            "SELECT count(*) FILTER (WHERE milestones->>'reservedAt' IS NOT NULL) AS reserved,
                    count(*) FILTER (WHERE milestones->>'reservedAt' IS NOT NULL
                                       AND milestones->>'confirmedAt' IS NOT NULL) AS confirmed
             FROM orders WHERE created_at >= $1",
        )
        .bind(since)
        .fetch_one(&mut *tx)
        .await
        .map_err(storage)?;
        let revenue = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT o.currency, count(*) AS paid_orders, sum(o.total)::bigint AS gross,
                    coalesce(sum(r.refunded), 0)::bigint AS refunded,
                    count(r.order_id) AS refunded_orders
             {PAID}
             GROUP BY o.currency"
        )))
        .bind(since)
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?
        .into_iter()
        .map(|row| {
            Ok(CurrencyTotals {
                currency: currency_of(&row)?,
                paid_orders: count_of(row.try_get("paid_orders").map_err(storage)?),
                gross: row.try_get("gross").map_err(storage)?,
                refunded: row.try_get("refunded").map_err(storage)?,
                refunded_orders: count_of(row.try_get("refunded_orders").map_err(storage)?),
            })
        })
        .collect::<Result<Vec<_>, RepositoryError>>()?;
        let events = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT o.event_id, o.currency, count(*) AS paid_orders,
                    (sum(o.total) - coalesce(sum(r.refunded), 0))::bigint AS revenue
             {PAID} AND o.event_id IS NOT NULL
             GROUP BY o.event_id, o.currency
             ORDER BY revenue DESC, o.event_id
             LIMIT {TOP_EVENTS}"
        )))
        .bind(since)
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?
        .into_iter()
        .map(|row| {
            Ok(EventTotals {
                event_id: EventId::from_uuid(row.try_get("event_id").map_err(storage)?),
                currency: currency_of(&row)?,
                paid_orders: count_of(row.try_get("paid_orders").map_err(storage)?),
                revenue: row.try_get("revenue").map_err(storage)?,
            })
        })
        .collect::<Result<Vec<_>, RepositoryError>>()?;
        tx.commit().await.map_err(storage)?;
        Ok(OrderStats {
            by_status,
            reserved: count_of(conversion.try_get("reserved").map_err(storage)?),
            reserved_then_confirmed: count_of(conversion.try_get("confirmed").map_err(storage)?),
            revenue,
            events,
        })
    }

    async fn save_snapshot(
        &self,
        tenant: TenantId,
        analytics: &Analytics,
    ) -> Result<(), RepositoryError> {
        let snapshot = serde_json::to_value(analytics).map_err(corrupt)?;
        let mut tx = self.tenant_tx(tenant).await?;
        sqlx::query(
            "INSERT INTO order_metrics (tenant_id, window_start, computed_at, snapshot)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant_id) DO UPDATE
             SET window_start = EXCLUDED.window_start, computed_at = EXCLUDED.computed_at,
                 snapshot = EXCLUDED.snapshot",
        )
        .bind(tenant.as_uuid())
        .bind(analytics.window_start)
        .bind(analytics.computed_at)
        .bind(snapshot)
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)
    }

    async fn latest_snapshot(
        &self,
        tenant: TenantId,
    ) -> Result<Option<Analytics>, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let snapshot: Option<serde_json::Value> =
            sqlx::query_scalar("SELECT snapshot FROM order_metrics WHERE tenant_id = $1")
                .bind(tenant.as_uuid())
                .fetch_optional(&mut *tx)
                .await
                .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        snapshot
            .map(|json| serde_json::from_value(json).map_err(corrupt))
            .transpose()
    }
}

/// SQL counts are never negative.
fn count_of(count: i64) -> u64 {
    u64::try_from(count).unwrap_or(0)
}
