//! Background jobs: reservation expiry, analytics, retries of FAILED refunds, and housekeeping. They run inside
//! `order-api` by default (`RUN_JOBS=true`) or alone (`order-api worker`), and stop between
//! batches when asked to shut down.

use order_domain::cause::Chain;
use std::time::Duration;
use tracing::Instrument;

use futures_util::{StreamExt, stream};
use order_domain::ids::OrderId;
use order_domain::ports::ExpiringOrder;
use order_domain::use_cases::{OrderService, UseCaseError};
use tokio::sync::watch;

/// What one expiry pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExpiryReport {
    /// Orders this worker expired.
    pub expired: usize,
    /// Orders another worker (or a payment) changed first: skipped, not an error.
    pub lost_races: usize,
    /// Orders that failed for another reason; retried on the next pass.
    pub failed: usize,
}

/// Orders read and stored by one statement each (and released by one upstream call).
const EXPIRY_CHUNK: usize = 100;

/// Chunks of a batch in flight at once.
const EXPIRY_CONCURRENCY: usize = 4;

/// Expires every order past its reservation + grace, `batch_size` at a time, so that a backlog
/// of 100 000 orders never becomes one giant transaction: each chunk of 100 orders is one read
/// and one commit, four chunks in flight. Safe with several workers at once: the version check
/// lets exactly one of them expire an order.
#[tracing::instrument(name = "job", skip_all, fields(otel.name = "expire_due_orders"))]
pub async fn expire_due_orders(
    service: &OrderService,
    batch_size: u32,
    stop: &watch::Receiver<bool>,
) -> ExpiryReport {
    let mut report = ExpiryReport::default();
    loop {
        if *stop.borrow() {
            break;
        }
        let due = match service.due_for_expiry(batch_size).await {
            Ok(due) => due,
            Err(error) => {
                tracing::warn!(error = %Chain(&error), "expiry job could not list due orders");
                report.failed += 1;
                break;
            }
        };
        let seen = due.len();
        // Chunks of a batch are stored by their own statements, a few at a time.
        let outcomes: Vec<_> = stream::iter(due.chunks(EXPIRY_CHUNK).map(<[_]>::to_vec))
            .map(|chunk| expire_chunk(service.clone(), chunk))
            .buffer_unordered(EXPIRY_CONCURRENCY)
            .flat_map(stream::iter)
            .collect()
            .await;
        let mut progressed = 0;
        for (order, outcome) in outcomes {
            match outcome {
                Ok(()) => {
                    report.expired += 1;
                    progressed += 1;
                }
                Err(UseCaseError::Conflict | UseCaseError::InvalidTransition(_)) => {
                    report.lost_races += 1;
                    progressed += 1;
                }
                Err(error) => {
                    tracing::warn!(%order, error = %Chain(&error), "expiry failed; retried on the next pass");
                    report.failed += 1;
                }
            }
        }
        // A short batch means the backlog is done; a batch without progress would repeat itself.
        if seen < usize::try_from(batch_size).unwrap_or(usize::MAX) || progressed == 0 {
            break;
        }
    }
    report
}

async fn expire_chunk(
    service: OrderService,
    chunk: Vec<ExpiringOrder>,
) -> Vec<(OrderId, Result<(), UseCaseError>)> {
    service.expire_batch("expiry-job", &chunk).await
}

/// Runs [`expire_due_orders`] every `interval` until `stop` turns true.
pub async fn run_expiry(
    service: OrderService,
    interval: Duration,
    batch_size: u32,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(
        interval_secs = interval.as_secs(),
        batch_size,
        "expiry job started"
    );
    loop {
        let report = expire_due_orders(&service, batch_size, &stop).await;
        if report != ExpiryReport::default() {
            tracing::info!(
                expired = report.expired,
                lost_races = report.lost_races,
                failed = report.failed,
                "expiry pass"
            );
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            tracing::info!("expiry job stopped");
            return;
        }
    }
}

/// Runs [`OrderService::aggregate_metrics`] every `interval` until `stop` turns true: each
/// tenant's analytics snapshot over the orders created within `window`.
pub async fn run_metrics(
    service: OrderService,
    interval: Duration,
    window: time::Duration,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(interval_secs = interval.as_secs(), "metrics job started");
    loop {
        match service
            .aggregate_metrics(window)
            .instrument(tracing::info_span!("job", otel.name = "aggregate_metrics"))
            .await
        {
            Ok((refreshed, failed)) => {
                for (tenant, error) in &failed {
                    tracing::warn!(%tenant, error = %Chain(&error), "analytics not refreshed; retried next pass");
                }
                tracing::debug!(refreshed, failed = failed.len(), "metrics pass");
            }
            Err(error) => {
                tracing::warn!(error = %Chain(&error), "metrics pass failed; retried next pass")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            tracing::info!("metrics job stopped");
            return;
        }
    }
}

/// Refunds retried per pass of the refund retry job.
const REFUND_RETRY_BATCH: u32 = 100;

/// Runs [`OrderService::retry_due_refunds`] every `interval` until `stop` turns true: every FAILED
/// refund whose retry is due is paid out again (never twice: the refund id is the payment's
/// idempotency key), and one that fails again gets its next retry from the schedule.
pub async fn run_refund_retries(
    service: OrderService,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(
        interval_secs = interval.as_secs(),
        "refund retry job started"
    );
    loop {
        let now = time::OffsetDateTime::now_utc();
        match service
            .retry_due_refunds(now, REFUND_RETRY_BATCH)
            .instrument(tracing::info_span!("job", otel.name = "retry_due_refunds"))
            .await
        {
            Ok(report) if report.attempted > 0 => tracing::info!(
                attempted = report.attempted,
                completed = report.completed,
                failed_again = report.failed_again,
                skipped = report.skipped,
                "refund retry pass"
            ),
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(error = %Chain(&error), "refund retry pass failed; retried next pass")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            tracing::info!("refund retry job stopped");
            return;
        }
    }
}

/// Runs [`OrderService::lapse_due_edits`] every `interval` (the expiry job's) until `stop` turns
/// true: an edit that raised a paid order's total and was not paid by its deadline gives its
/// units back and is dropped.
pub async fn run_edit_lapses(
    service: OrderService,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(interval_secs = interval.as_secs(), "edit lapse job started");
    loop {
        match service
            .lapse_due_edits()
            .instrument(tracing::info_span!("job", otel.name = "lapse_due_edits"))
            .await
        {
            Ok(0) => {}
            Ok(lapsed) => tracing::info!(lapsed, "edit lapse pass"),
            Err(error) => {
                tracing::warn!(error = %Chain(&error), "edit lapse pass failed; retried next pass")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            tracing::info!("edit lapse job stopped");
            return;
        }
    }
}

/// Runs [`OrderService::reconcile_all`] every `interval` until `stop` turns true, over the window
/// since the previous pass (the first pass looks one interval back, and each window overlaps the
/// previous by a minute, so a change committed at a boundary is not missed). Every difference is
/// counted in `order_service_reconciliation_differences_total{kind, repaired}`.
pub async fn run_reconciliation(
    service: OrderService,
    interval: Duration,
    metrics: std::sync::Arc<crate::metrics::AppMetrics>,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(
        interval_secs = interval.as_secs(),
        "reconciliation job started"
    );
    let step = time::Duration::try_from(interval).unwrap_or(time::Duration::HOUR);
    let mut from = time::OffsetDateTime::now_utc() - step;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            tracing::info!("reconciliation job stopped");
            return;
        }
        let to = time::OffsetDateTime::now_utc();
        match service
            .reconcile_all(from, to)
            .instrument(tracing::info_span!("job", otel.name = "reconcile"))
            .await
        {
            Ok(runs) => {
                for run in &runs {
                    metrics.reconciled(run);
                    if !run.differences.is_empty() {
                        tracing::warn!(
                            run = %run.id,
                            tenant = %run.tenant_id,
                            differences = run.differences.len(),
                            repaired = run.differences.iter().filter(|d| d.repaired).count(),
                            "reconciliation found differences"
                        );
                    }
                }
                from = to - time::Duration::MINUTE;
            }
            Err(error) => {
                tracing::warn!(error = %Chain(&error), "reconciliation pass failed; its window is retried next pass")
            }
        }
    }
}

/// Rows deleted per kind and statement by housekeeping; a pass repeats while a batch comes back
/// full, up to [`HOUSEKEEPING_BATCHES`] statements.
const HOUSEKEEPING_BATCH: u32 = 10_000;

/// Statements one housekeeping pass may run, so that a large backlog is worked off over several
/// passes instead of one long one.
const HOUSEKEEPING_BATCHES: usize = 50;

/// How long rows matter, for [`run_housekeeping`].
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Idempotency keys are read for this long (`IDEMPOTENCY_TTL_MINUTES`).
    pub idempotency_ttl: time::Duration,
    /// Consumed message ids are kept this long (`INBOX_RETENTION_DAYS`).
    pub inbox: time::Duration,
}

/// One housekeeping pass at `now`: deletes per-day quota counters of days before yesterday (UTC),
/// idempotency keys an hour past their replay window, consumed message ids past the inbox
/// retention, and carts past their 30 days, in bounded batches.
///
/// # Errors
/// Storage errors; what was deleted before stays deleted.
#[tracing::instrument(name = "job", skip_all, fields(otel.name = "housekeeping"))]
pub async fn housekeeping_pass(
    store: &order_postgres::PgStore,
    retention: Retention,
    now: time::OffsetDateTime,
) -> Result<order_postgres::Pruned, order_domain::ports::RepositoryError> {
    let mut total = order_postgres::Pruned::default();
    for _ in 0..HOUSEKEEPING_BATCHES {
        let pruned = store
            .prune_expired(
                now.date() - time::Duration::days(1),
                now - retention.idempotency_ttl - time::Duration::hours(1),
                now - retention.inbox,
                HOUSEKEEPING_BATCH,
            )
            .await?;
        let carts = store.prune_expired_carts(now, HOUSEKEEPING_BATCH).await?;
        total.daily_quotas += pruned.daily_quotas;
        total.idempotency_keys += pruned.idempotency_keys;
        total.inbox_messages += pruned.inbox_messages;
        total.carts += carts;
        let full = u64::from(HOUSEKEEPING_BATCH);
        if pruned.daily_quotas < full
            && pruned.idempotency_keys < full
            && pruned.inbox_messages < full
            && carts < full
        {
            break;
        }
    }
    Ok(total)
}

/// Runs [`housekeeping_pass`] every `interval` until `stop` turns true.
pub async fn run_housekeeping(
    store: order_postgres::PgStore,
    interval: Duration,
    retention: Retention,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(
        interval_secs = interval.as_secs(),
        "housekeeping job started"
    );
    loop {
        match housekeeping_pass(&store, retention, time::OffsetDateTime::now_utc()).await {
            Ok(pruned) if pruned.any() => tracing::info!(
                daily_quotas = pruned.daily_quotas,
                idempotency_keys = pruned.idempotency_keys,
                inbox_messages = pruned.inbox_messages,
                "housekeeping pass"
            ),
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(error = %Chain(&error), "housekeeping pass failed; retried next pass")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            tracing::info!("housekeeping job stopped");
            return;
        }
    }
}

/// How often the bulk-job runner looks for a job to work (a new one, or one whose runner died).
pub const BULK_JOB_POLL: Duration = Duration::from_secs(2);

/// A failure of one order as the API would answer it, for the job's report.
pub fn describe_failure(error: &order_domain::use_cases::UseCaseError) -> (u16, &'static str) {
    let (status, code) = crate::error::ApiError::UseCase(error.clone()).status_and_code();
    (status.as_u16(), code)
}

/// Works the bulk cancellations (`POST /internal/v1/orders/bulk/cancel`) until `stop` turns
/// true: every [`BULK_JOB_POLL`] it takes any job whose lease ran out and works it, in bounded
/// steps; several replicas share the jobs through their leases.
pub async fn run_bulk_jobs(service: OrderService, mut stop: watch::Receiver<bool>) {
    tracing::info!(
        poll_secs = BULK_JOB_POLL.as_secs(),
        "bulk job runner started"
    );
    loop {
        match service
            .run_bulk_jobs(
                order_domain::use_cases::BulkRunner::default(),
                &describe_failure,
            )
            .instrument(tracing::info_span!("job", otel.name = "run_bulk_jobs"))
            .await
        {
            Ok(0) => {}
            Ok(tried) => tracing::info!(tried, "bulk cancellation step"),
            Err(error) => {
                tracing::warn!(error = %Chain(&error), "bulk jobs failed; resumed next pass")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(BULK_JOB_POLL) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            tracing::info!("bulk job runner stopped");
            return;
        }
    }
}

mod history;
mod replay;
pub use history::{archive_due_orders, run_audit_anchoring, run_retention};
pub use replay::{REPLAY_POLL, replay_once, run_event_replays};
