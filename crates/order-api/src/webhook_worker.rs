//! The webhook workers: lease due deliveries and send each in a task of its own, at most
//! `WEBHOOK_CONCURRENCY` at once, so a receiver that hangs holds one slot for one attempt's
//! timeout and delays no other receiver. Safe on several replicas: the lease keeps each
//! delivery with one worker; one that dies lets its lease run out and another sends.

use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

use order_domain::cause::Chain;
use order_domain::use_cases::WebhookService;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::config::WebhookSettings;

/// Sends due deliveries until `stop` turns true; attempts in flight finish first.
pub async fn run_webhook_deliveries(
    webhooks: WebhookService,
    settings: WebhookSettings,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(
        concurrency = settings.concurrency,
        "webhook delivery worker started"
    );
    let slots = Arc::new(Semaphore::new(settings.concurrency as usize));
    let mut attempts = JoinSet::new();
    while !*stop.borrow() {
        while attempts.try_join_next().is_some() {}
        let free = u32::try_from(slots.available_permits()).unwrap_or(0);
        let claimed = if free == 0 {
            Vec::new()
        } else {
            match webhooks.claim_due(free).await {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(error = %Chain(&error), "claiming webhook deliveries failed");
                    Vec::new()
                }
            }
        };
        if claimed.is_empty() {
            tokio::select! {
                _ = tokio::time::sleep(settings.poll_interval) => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        for delivery in claimed {
            let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
                break;
            };
            let webhooks = webhooks.clone();
            attempts.spawn(async move {
                let _slot = slot;
                let id = delivery.delivery.id;
                match webhooks
                    .deliver(delivery)
                    .instrument(tracing::info_span!(
                        "use_case",
                        otel.name = "webhooks.deliver"
                    ))
                    .await
                {
                    Ok(result) if result.disabled.is_some() => tracing::warn!(
                        delivery = %id,
                        webhook = %result.delivery.subscription_id,
                        "the receiver answered 410 Gone: its subscription is disabled"
                    ),
                    Ok(result) => tracing::debug!(
                        delivery = %id,
                        outcome = result.attempt.outcome.as_str(),
                        status = ?result.attempt.status_code,
                        "webhook attempt"
                    ),
                    // The lease runs out and another attempt is made.
                    Err(error) => tracing::warn!(
                        delivery = %id, error = %Chain(&error), "storing a webhook attempt failed"
                    ),
                }
            });
        }
    }
    while attempts.join_next().await.is_some() {}
    tracing::info!("webhook delivery worker stopped");
}

/// Deletes the delivery log past its 30 days every `interval`.
pub async fn run_webhook_log_pruning(
    webhooks: WebhookService,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match webhooks.prune_log().await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "webhook delivery log pruned"),
            Err(error) => tracing::warn!(error = %Chain(&error), "pruning the webhook log failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return;
        }
    }
}
