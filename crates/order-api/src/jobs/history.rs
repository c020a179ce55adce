//! The jobs that keep the order's history: the audit's daily anchors.

use std::time::Duration;

use order_domain::cause::Chain;
use order_domain::use_cases::OrderService;
use tokio::sync::watch;
use tracing::Instrument;

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
