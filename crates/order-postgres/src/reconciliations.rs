//! [`Reconciliations`]: runs against the payment service and their differences, each run with
//! its differences in one statement.

use async_trait::async_trait;
use order_domain::ids::{OrderId, ReconciliationRunId, RefundId, TenantId};
use order_domain::ports::{Reconciliations, RepositoryError};
use order_domain::reconciliation::{Difference, ReconciliationRun, RunSummary};
use uuid::Uuid;

use crate::{PgStore, corrupt, corrupt_data, storage};

#[async_trait]
impl Reconciliations for PgStore {
    async fn save_run(&self, run: &ReconciliationRun) -> Result<(), RepositoryError> {
        let differences = &run.differences;
        let order_id: Vec<Uuid> = differences.iter().map(|d| *d.order_id.as_uuid()).collect();
        let kind: Vec<&str> = differences.iter().map(|d| d.kind.as_str()).collect();
        let refund_id: Vec<Option<Uuid>> = differences
            .iter()
            .map(|d| d.refund_id.map(|r| *r.as_uuid()))
            .collect();
        let ours: Vec<i64> = differences.iter().map(|d| d.ours).collect();
        let theirs: Vec<i64> = differences.iter().map(|d| d.theirs).collect();
        let repaired: Vec<bool> = differences.iter().map(|d| d.repaired).collect();
        let mut tx = self.tenant_tx(run.tenant_id).await?;
        sqlx::query!(
            r#"WITH run AS (
                INSERT INTO reconciliation_runs (id, tenant_id, window_from, window_to,
                    orders_checked, orders_unchecked, started_at, finished_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                RETURNING id, tenant_id
            )
            INSERT INTO reconciliation_differences (run_id, position, tenant_id, order_id, kind,
                refund_id, ours, theirs, repaired)
            SELECT run.id, d.n, run.tenant_id, d.order_id, d.kind, d.refund_id, d.ours, d.theirs,
                d.repaired
            FROM run, unnest($9::uuid[], $10::text[], $11::uuid[], $12::bigint[], $13::bigint[],
                    $14::boolean[])
                WITH ORDINALITY AS d(order_id, kind, refund_id, ours, theirs, repaired, n)"#,
            run.id.as_uuid(),
            run.tenant_id.as_uuid(),
            run.window_from,
            run.window_to,
            i32::try_from(run.orders_checked).map_err(corrupt)?,
            i32::try_from(run.orders_unchecked).map_err(corrupt)?,
            run.started_at,
            run.finished_at,
            &order_id,
            &kind as _,
            &refund_id as _,
            &ours,
            &theirs,
            &repaired,
        )
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)
    }

    async fn run(
        &self,
        tenant: TenantId,
        id: ReconciliationRunId,
    ) -> Result<Option<ReconciliationRun>, RepositoryError> {
        // Two statements on an operator's read: the run, then its differences in order.
        let mut tx = self.tenant_tx(tenant).await?;
        let Some(row) = sqlx::query!(
            "SELECT window_from, window_to, orders_checked, orders_unchecked, started_at,
                finished_at
             FROM reconciliation_runs WHERE tenant_id = $1 AND id = $2",
            tenant.as_uuid(),
            id.as_uuid(),
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(storage)?
        else {
            return Ok(None);
        };
        let differences = sqlx::query!(
            "SELECT order_id, kind, refund_id, ours, theirs, repaired
             FROM reconciliation_differences WHERE tenant_id = $1 AND run_id = $2
             ORDER BY position",
            tenant.as_uuid(),
            id.as_uuid(),
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        let differences = differences
            .into_iter()
            .map(|d| {
                Ok(Difference {
                    order_id: OrderId::from_uuid(d.order_id),
                    kind: d.kind.parse().map_err(corrupt_data)?,
                    refund_id: d.refund_id.map(RefundId::from_uuid),
                    ours: d.ours,
                    theirs: d.theirs,
                    repaired: d.repaired,
                })
            })
            .collect::<Result<_, RepositoryError>>()?;
        Ok(Some(ReconciliationRun {
            id,
            tenant_id: tenant,
            window_from: row.window_from,
            window_to: row.window_to,
            orders_checked: u32::try_from(row.orders_checked).map_err(corrupt)?,
            orders_unchecked: u32::try_from(row.orders_unchecked).map_err(corrupt)?,
            differences,
            started_at: row.started_at,
            finished_at: row.finished_at,
        }))
    }

    async fn recent_runs(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> Result<Vec<RunSummary>, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let rows = sqlx::query!(
            r#"SELECT r.id, r.window_from, r.window_to, r.orders_checked, r.orders_unchecked,
                    r.started_at,
                    (SELECT count(*) FROM reconciliation_differences d
                     WHERE d.run_id = r.id) AS "differences!",
                    (SELECT count(*) FROM reconciliation_differences d
                     WHERE d.run_id = r.id AND d.repaired) AS "repaired!"
             FROM reconciliation_runs r
             WHERE r.tenant_id = $1
             ORDER BY r.started_at DESC, r.id DESC
             LIMIT $2"#,
            tenant.as_uuid(),
            i64::from(limit),
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        rows.into_iter()
            .map(|row| {
                Ok(RunSummary {
                    id: ReconciliationRunId::from_uuid(row.id),
                    window_from: row.window_from,
                    window_to: row.window_to,
                    orders_checked: u32::try_from(row.orders_checked).map_err(corrupt)?,
                    orders_unchecked: u32::try_from(row.orders_unchecked).map_err(corrupt)?,
                    differences: u32::try_from(row.differences).map_err(corrupt)?,
                    repaired: u32::try_from(row.repaired).map_err(corrupt)?,
                    started_at: row.started_at,
                })
            })
            .collect()
    }
}
