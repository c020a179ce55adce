//! [`AnalyticsStore`]: the metrics job's aggregate queries and the per-tenant snapshot.
//!
//! Every figure is read inside the tenant's transaction, so row-level security scopes it; only
//! the list of tenants to visit comes through a cross-tenant function. The snapshot is stored as
//! the document it is served as: a cache of a computed report, replaced whole and never queried
//! by its fields.

use std::collections::BTreeMap;

use async_trait::async_trait;
use order_domain::analytics::{
    Analytics, CurrencyTotals, DailyRevenue, EventTotals, OrderStats, TOP_EVENTS,
};
use order_domain::ids::{EventId, TenantId};
use order_domain::order::OrderStatus;
use order_domain::ports::{AnalyticsStore, RepositoryError};
use time::OffsetDateTime;

use crate::{PgStore, corrupt, currency, storage};

#[async_trait]
impl AnalyticsStore for PgStore {
    async fn tenants_with_orders(
        &self,
        since: OffsetDateTime,
    ) -> Result<Vec<TenantId>, RepositoryError> {
        let ids = sqlx::query_scalar!(
            r#"SELECT tenant_id AS "tenant_id!" FROM tenants_with_orders_since($1)"#,
            since
        )
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
        for row in sqlx::query!(
            r#"SELECT status, count(*) AS "n!" FROM orders WHERE created_at >= $1 GROUP BY status"#,
            since
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?
        {
            by_status.insert(
                row.status.parse::<OrderStatus>().map_err(corrupt)?,
                count_of(row.n),
            );
        }
        let conversion = sqlx::query!(
            r#"SELECT count(*) FILTER (WHERE reserved_at IS NOT NULL) AS "reserved!",
                    count(*) FILTER (WHERE reserved_at IS NOT NULL AND confirmed_at IS NOT NULL)
                        AS "confirmed!"
             FROM orders WHERE created_at >= $1"#,
            since
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(storage)?;
        let revenue = sqlx::query!(
            r#"SELECT currency AS "currency!", count(*) AS "paid_orders!",
                    sum(total)::bigint AS "gross!", coalesce(sum(refunded), 0)::bigint AS "refunded!",
                    count(refunded) AS "refunded_orders!"
             FROM paid_orders WHERE created_at >= $1
             GROUP BY currency"#,
            since
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?
        .into_iter()
        .map(|row| {
            Ok(CurrencyTotals {
                currency: currency(&row.currency)?,
                paid_orders: count_of(row.paid_orders),
                gross: row.gross,
                refunded: row.refunded,
                refunded_orders: count_of(row.refunded_orders),
            })
        })
        .collect::<Result<Vec<_>, RepositoryError>>()?;
        let events = sqlx::query!(
            r#"SELECT event_id AS "event_id!", currency AS "currency!", count(*) AS "paid_orders!",
                    (sum(total) - coalesce(sum(refunded), 0))::bigint AS "revenue!"
             FROM paid_orders WHERE created_at >= $1 AND event_id IS NOT NULL
             GROUP BY event_id, currency
             ORDER BY 4 DESC, event_id
             LIMIT $2"#,
            since,
            i64::try_from(TOP_EVENTS).unwrap_or(i64::MAX),
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?
        .into_iter()
        .map(|row| {
            Ok(EventTotals {
                event_id: EventId::from_uuid(row.event_id),
                currency: currency(&row.currency)?,
                paid_orders: count_of(row.paid_orders),
                revenue: row.revenue,
            })
        })
        .collect::<Result<Vec<_>, RepositoryError>>()?;
        // The day of payment, in UTC whatever the session's time zone.
        let daily_revenue = sqlx::query!(
            r#"SELECT (confirmed_at AT TIME ZONE 'UTC')::date AS "day!", currency AS "currency!",
                    count(*) AS "paid_orders!", sum(total)::bigint AS "gross!"
             FROM orders WHERE created_at >= $1 AND confirmed_at IS NOT NULL
             GROUP BY 1, 2
             ORDER BY 1, 2"#,
            since
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?
        .into_iter()
        .map(|row| {
            Ok(DailyRevenue {
                day: row.day,
                currency: currency(&row.currency)?,
                paid_orders: count_of(row.paid_orders),
                gross: row.gross,
            })
        })
        .collect::<Result<Vec<_>, RepositoryError>>()?;
        tx.commit().await.map_err(storage)?;
        Ok(OrderStats {
            by_status,
            reserved: count_of(conversion.reserved),
            reserved_then_confirmed: count_of(conversion.confirmed),
            revenue,
            events,
            daily_revenue,
        })
    }

    async fn save_snapshot(
        &self,
        tenant: TenantId,
        analytics: &Analytics,
    ) -> Result<(), RepositoryError> {
        let snapshot = serde_json::to_value(analytics).map_err(corrupt)?;
        let mut tx = self.tenant_tx(tenant).await?;
        sqlx::query!(
            "INSERT INTO order_metrics (tenant_id, window_start, computed_at, snapshot)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant_id) DO UPDATE
             SET window_start = EXCLUDED.window_start, computed_at = EXCLUDED.computed_at,
                 snapshot = EXCLUDED.snapshot",
            tenant.as_uuid(),
            analytics.window_start,
            analytics.computed_at,
            snapshot,
        )
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
        let snapshot = sqlx::query_scalar!(
            "SELECT snapshot FROM order_metrics WHERE tenant_id = $1",
            tenant.as_uuid()
        )
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
