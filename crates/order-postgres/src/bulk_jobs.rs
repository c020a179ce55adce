//! [`BulkJobs`]: durable bulk cancellations, one row per tenant and event, leased to one runner
//! at a time (`bulk_job_lease`, across tenants) and saved under the tenant with the lease's token.

use async_trait::async_trait;
use order_domain::bulk_cancel::{BulkCancelJob, BulkJobStatus, FailedOrder};
use order_domain::ids::{BulkJobId, EventId, OrderId, TenantId};
use order_domain::ports::{BulkJobs, LeasedJob, RepositoryError};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{PgStore, corrupt, corrupt_data, storage};

/// One listed failure as the `errors` column keeps it.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredFailure {
    order_id: Uuid,
    status: u16,
    code: String,
}

/// A `bulk_jobs` row.
struct JobRow {
    id: Uuid,
    tenant_id: Uuid,
    event_id: Uuid,
    reason: String,
    requested_by: String,
    status: String,
    after_order: Option<Uuid>,
    current_order: Option<Uuid>,
    total: i32,
    succeeded: i32,
    failed: i32,
    errors: sqlx::types::Json<Vec<StoredFailure>>,
    lease_token: Option<Uuid>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    finished_at: Option<OffsetDateTime>,
}

impl JobRow {
    fn into_job(self) -> Result<BulkCancelJob, RepositoryError> {
        let count = |n: i32| u32::try_from(n).map_err(corrupt);
        Ok(BulkCancelJob {
            id: BulkJobId::from_uuid(self.id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
            event_id: EventId::from_uuid(self.event_id),
            reason: self.reason,
            requested_by: self.requested_by,
            status: self.status.parse::<BulkJobStatus>().map_err(corrupt_data)?,
            after: self.after_order.map(OrderId::from_uuid),
            current: self.current_order.map(OrderId::from_uuid),
            total: count(self.total)?,
            succeeded: count(self.succeeded)?,
            failed: count(self.failed)?,
            errors: self
                .errors
                .0
                .into_iter()
                .map(|f| FailedOrder {
                    order_id: OrderId::from_uuid(f.order_id),
                    status: f.status,
                    code: f.code,
                })
                .collect(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            finished_at: self.finished_at,
        })
    }
}

fn failures(job: &BulkCancelJob) -> sqlx::types::Json<Vec<StoredFailure>> {
    sqlx::types::Json(
        job.errors
            .iter()
            .map(|f| StoredFailure {
                order_id: *f.order_id.as_uuid(),
                status: f.status,
                code: f.code.clone(),
            })
            .collect(),
    )
}

fn stored(n: u32) -> Result<i32, RepositoryError> {
    i32::try_from(n).map_err(corrupt)
}

#[async_trait]
impl BulkJobs for PgStore {
    async fn start(&self, job: &BulkCancelJob) -> Result<BulkCancelJob, RepositoryError> {
        let mut tx = self.tenant_tx(job.tenant_id).await?;
        // The insert and the read of the row that won run in one statement: a concurrent
        // request for the same event answers the same job.
        let row = sqlx::query_as!(
            JobRow,
            r#"WITH inserted AS (
                INSERT INTO bulk_jobs (id, tenant_id, event_id, reason, requested_by, status,
                    created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, 'RUNNING', $6, $6)
                ON CONFLICT (tenant_id, event_id) DO NOTHING
                RETURNING *
            ),
            answer AS (
                SELECT * FROM inserted
                UNION ALL
                SELECT * FROM bulk_jobs
                WHERE tenant_id = $2 AND event_id = $3 AND NOT EXISTS (SELECT 1 FROM inserted)
            )
            SELECT id AS "id!", tenant_id AS "tenant_id!", event_id AS "event_id!", reason AS "reason!",
                requested_by AS "requested_by!", status AS "status!", after_order, current_order,
                total AS "total!", succeeded AS "succeeded!", failed AS "failed!",
                errors AS "errors!: sqlx::types::Json<Vec<StoredFailure>>", lease_token,
                created_at AS "created_at!", updated_at AS "updated_at!", finished_at
            FROM answer"#,
            job.id.as_uuid(),
            job.tenant_id.as_uuid(),
            job.event_id.as_uuid(),
            job.reason,
            job.requested_by,
            job.created_at,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        row.into_job()
    }

    async fn job(
        &self,
        tenant: TenantId,
        id: BulkJobId,
    ) -> Result<Option<BulkCancelJob>, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let row = sqlx::query_as!(
            JobRow,
            r#"SELECT id AS "id!", tenant_id AS "tenant_id!", event_id AS "event_id!", reason AS "reason!",
                requested_by AS "requested_by!", status AS "status!", after_order, current_order,
                total AS "total!", succeeded AS "succeeded!", failed AS "failed!",
                errors AS "errors!: sqlx::types::Json<Vec<StoredFailure>>", lease_token,
                created_at AS "created_at!", updated_at AS "updated_at!", finished_at
            FROM bulk_jobs WHERE tenant_id = $1 AND id = $2"#,
            tenant.as_uuid(),
            id.as_uuid(),
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        row.map(JobRow::into_job).transpose()
    }

    async fn lease(
        &self,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Option<LeasedJob>, RepositoryError> {
        let token = Uuid::new_v4();
        let row = sqlx::query_as!(
            JobRow,
            r#"SELECT id AS "id!", tenant_id AS "tenant_id!", event_id AS "event_id!", reason AS "reason!",
                requested_by AS "requested_by!", status AS "status!", after_order, current_order,
                total AS "total!", succeeded AS "succeeded!", failed AS "failed!",
                errors AS "errors!: sqlx::types::Json<Vec<StoredFailure>>", lease_token,
                created_at AS "created_at!", updated_at AS "updated_at!", finished_at
            FROM bulk_job_lease($1, $2, $3)"#,
            now,
            until,
            token,
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(storage)?;
        match row {
            Some(row) if row.lease_token == Some(token) => Ok(Some(LeasedJob {
                job: row.into_job()?,
                token,
            })),
            Some(_) => Err(corrupt_data("a leased job came back with another token")),
            None => Ok(None),
        }
    }

    async fn save(
        &self,
        job: &BulkCancelJob,
        token: Uuid,
        until: OffsetDateTime,
    ) -> Result<bool, RepositoryError> {
        let done = job.status == BulkJobStatus::Done;
        let mut tx = self.tenant_tx(job.tenant_id).await?;
        let saved = sqlx::query!(
            "UPDATE bulk_jobs SET status = $3, after_order = $4, current_order = $5, total = $6,
                succeeded = $7, failed = $8, errors = $9, updated_at = $10, finished_at = $11,
                lease_until = CASE WHEN $12::boolean THEN NULL ELSE $13::timestamptz END,
                lease_token = CASE WHEN $12::boolean THEN NULL ELSE lease_token END
             WHERE tenant_id = $1 AND id = $2 AND lease_token = $14",
            job.tenant_id.as_uuid(),
            job.id.as_uuid(),
            job.status.as_str(),
            job.after.map(|o| *o.as_uuid()),
            job.current.map(|o| *o.as_uuid()),
            stored(job.total)?,
            stored(job.succeeded)?,
            stored(job.failed)?,
            failures(job) as _,
            job.updated_at,
            job.finished_at,
            done,
            until,
            token,
        )
        .execute(&mut *tx)
        .await
        .map_err(storage)?
        .rows_affected();
        tx.commit().await.map_err(storage)?;
        Ok(saved == 1)
    }
}
