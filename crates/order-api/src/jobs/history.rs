//! The jobs that keep the order's history: the audit's daily anchors, and the retention job that
//! archives finished orders (docs/personal-data.md).

use std::time::Duration;

use order_domain::cause::Chain;
use order_domain::use_cases::{ARCHIVE_BATCH, OrderService, UseCaseError};
use tokio::sync::watch;
use tracing::Instrument;

use crate::metrics::AppMetrics;

/// Runs [`OrderService::anchor_audit_days`] every `interval` until `stop` turns true: each pass
/// anchors the UTC days that ended since the last one (docs/audit.md).
pub async fn run_audit_anchoring(
    service: OrderService,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(
        interval_secs = interval.as_secs(),
        "audit anchor job started"
    );
    loop {
        match service
            .anchor_audit_days()
            .instrument(tracing::info_span!("job", otel.name = "anchor_audit_days"))
            .await
        {
            Ok(0) => {}
            Ok(anchors) => tracing::info!(anchors, "audit anchor pass"),
            Err(error) => {
                tracing::warn!(error = %Chain(&error), "audit anchor pass failed; retried next pass")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            tracing::info!("audit anchor job stopped");
            return;
        }
    }
}

/// Batches one retention pass archives at the most; the next pass takes the rest.
const ARCHIVE_BATCHES_PER_PASS: u32 = 200;

/// One retention pass: archives the orders finished more than `retention` ago, batch after batch
/// (each its own transaction), until none is due or the pass has done its share; answers how
/// many.
///
/// # Errors
/// Storage errors; what was archived before stays archived.
pub async fn archive_due_orders(
    service: &OrderService,
    retention: time::Duration,
    metrics: &AppMetrics,
) -> Result<u64, UseCaseError> {
    let mut total = 0u64;
    for _ in 0..ARCHIVE_BATCHES_PER_PASS {
        let archived = service.archive_finished_orders(retention).await?;
        metrics.archived(archived);
        total += u64::from(archived);
        if archived < ARCHIVE_BATCH {
            break;
        }
    }
    Ok(total)
}

/// Runs [`archive_due_orders`] every `interval` until `stop` turns true
/// (`ORDER_RETENTION_DAYS`).
pub async fn run_retention(
    service: OrderService,
    interval: Duration,
    retention: time::Duration,
    metrics: std::sync::Arc<AppMetrics>,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(
        interval_secs = interval.as_secs(),
        retention_days = retention.whole_days(),
        "retention job started"
    );
    loop {
        match archive_due_orders(&service, retention, &metrics)
            .instrument(tracing::info_span!(
                "job",
                otel.name = "archive_finished_orders"
            ))
            .await
        {
            Ok(0) => {}
            Ok(archived) => tracing::info!(archived, "retention pass"),
            Err(error) => {
                tracing::warn!(error = %Chain(&error), "retention pass failed; retried next pass")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            tracing::info!("retention job stopped");
            return;
        }
    }
}
