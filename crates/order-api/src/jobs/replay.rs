//! The event replay job (docs/events.md): leases a replay, sends its events batch by batch to
//! the broker (a connection of its own, apart from the relay's) or to the webhook subscriptions,
//! and saves its cursor after each batch. A short pause between batches leaves the broker and
//! the database to live traffic first.

use std::time::Duration;

use order_amqp::EventPublisher;
use order_domain::cause::Chain;
use order_domain::replay::{EventReplay, ReplayStatus, ReplayTarget};
use order_domain::use_cases::{OrderService, WebhookService};
use tokio::sync::watch;
use tracing::Instrument;
use uuid::Uuid;

/// How often the job looks for a replay to work.
pub const REPLAY_POLL: Duration = Duration::from_secs(2);
/// The pause after each batch: at most about 500 events per 100 ms from a replay.
const PACE: Duration = Duration::from_millis(100);
/// How long the broker has to confirm a batch.
const CONFIRM_WITHIN: Duration = Duration::from_secs(10);

/// Works replays until `stop` turns true.
pub async fn run_event_replays(
    service: OrderService,
    webhooks: WebhookService,
    amqp_url: String,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!("event replay job started");
    loop {
        match replay_once(&service, &webhooks, &amqp_url, &stop).await {
            // Another may be waiting right away.
            Ok(Some(_)) => continue,
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%error, "event replay paused; resumed when its lease runs out");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(REPLAY_POLL) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            tracing::info!("event replay job stopped");
            return;
        }
    }
}

/// Leases one waiting replay and works it until it is done, its lease is lost or `stop` turns
/// true; answers it as it was left, or `None` when none was waiting.
///
/// # Errors
/// A broker, webhook or storage failure (the replay stays leased until its lease runs out, then
/// a worker resumes it from its cursor).
pub async fn replay_once(
    service: &OrderService,
    webhooks: &WebhookService,
    amqp_url: &str,
    stop: &watch::Receiver<bool>,
) -> Result<Option<EventReplay>, String> {
    let token = Uuid::new_v4();
    let Some(replay) = service
        .lease_replay(token)
        .await
        .map_err(|e| Chain(&e).to_string())?
    else {
        return Ok(None);
    };
    let span = tracing::info_span!("job", otel.name = "event_replay", replay_id = %replay.id);
    work(service, webhooks, amqp_url, replay, token, stop)
        .instrument(span)
        .await
        .map(Some)
}

/// Sends `replay`'s events until it is done, its lease is lost or the job stops.
async fn work(
    service: &OrderService,
    webhooks: &WebhookService,
    amqp_url: &str,
    mut replay: EventReplay,
    token: Uuid,
    stop: &watch::Receiver<bool>,
) -> Result<EventReplay, String> {
    let mut publisher: Option<EventPublisher> = None;
    while !*stop.borrow() {
        let batch = service
            .replay_batch(&replay)
            .await
            .map_err(|e| Chain(&e).to_string())?;
        match replay.target {
            ReplayTarget::Broker if !batch.is_empty() => {
                if publisher.is_none() {
                    publisher = Some(
                        EventPublisher::connect(amqp_url)
                            .await
                            .map_err(|e| e.to_string())?,
                    );
                }
                let records: Vec<_> = batch.iter().map(|(_, record)| record.clone()).collect();
                if let Some(publisher) = &publisher {
                    let (_, failure) = publisher.publish_all(&records, CONFIRM_WITHIN).await;
                    if let Some(failure) = failure {
                        return Err(failure.to_string());
                    }
                }
            }
            ReplayTarget::Broker => {}
            ReplayTarget::Webhooks => {
                for (_, record) in &batch {
                    webhooks
                        .redeliver(&record.envelope)
                        .await
                        .map_err(|e| Chain(&e).to_string())?;
                }
            }
        }
        let kept = service
            .replay_sent(&mut replay, &batch, token)
            .await
            .map_err(|e| Chain(&e).to_string())?;
        if !kept {
            return Err("another worker took the replay over".into());
        }
        if replay.status == ReplayStatus::Done {
            tracing::info!(replayed = replay.replayed, "event replay done");
            return Ok(replay);
        }
        if !batch.is_empty() {
            tokio::time::sleep(PACE).await;
        }
    }
    Ok(replay)
}
