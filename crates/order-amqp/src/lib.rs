//! RabbitMQ adapters: the [`OutboxRelay`] and its [`EventPublisher`], and the
//! [`consumers`] of the messages other services send.
//!
//! The relay leases a batch of outbox rows (`Outbox::claim_unpublished`), publishes them in
//! order, each persistent, with `message_id` = event id and routing key = event type, waits for
//! the broker's confirms (collected after the whole batch is sent), and only then marks the
//! confirmed ones published. If RabbitMQ is down the rows wait;
//! nothing is lost. Delivery is at least once: consumers deduplicate by message id.

pub mod consumers;

use std::sync::Arc;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use order_domain::cause::Chain;
use order_domain::ids::DomainEventId;
use order_domain::ports::{Outbox, OutboxRecord, RepositoryError};
use tokio::sync::watch;
use tracing::Instrument;

/// The exchange every order event is published to.
pub const EXCHANGE: &str = "order.events";

/// Why publishing failed.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The broker is unreachable or the connection failed.
    #[error("broker unavailable")]
    Broker(#[from] lapin::Error),
    /// The broker nacked a message.
    #[error("the broker refused event {0}")]
    Refused(order_domain::ids::DomainEventId),
    /// The broker did not confirm a batch in time: the connection is presumed stuck.
    #[error("the broker did not confirm within {0:?}")]
    ConfirmTimeout(std::time::Duration),
    /// The broker cancelled our consumers (a queue was deleted, the node is shutting down).
    #[error("the broker cancelled the consumers")]
    ConsumersCancelled,
    /// An event could not be encoded.
    #[error("the event could not be encoded")]
    Encode(#[from] serde_json::Error),
    /// The outbox could not be read or updated.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

impl RelayError {
    /// Whether the broker connection is unusable (reconnect), as opposed to storage trouble.
    pub fn is_broker(&self) -> bool {
        !matches!(self, Self::Storage(_))
    }
}

/// A confirm-mode channel to the broker with the exchange declared.
pub struct EventPublisher {
    _connection: Connection,
    channel: Channel,
}

impl std::fmt::Debug for EventPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventPublisher")
    }
}

/// Whether the broker answers (readiness of an instance that relays or consumes), on one kept
/// connection: a probe opens a connection only when it has none that is up, so frequent checks
/// cost the broker nothing.
pub struct BrokerProbe {
    url: String,
    connection: tokio::sync::Mutex<Option<Connection>>,
    opened: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for BrokerProbe {
    // The URL holds credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerProbe").finish_non_exhaustive()
    }
}

impl BrokerProbe {
    /// A probe of the broker at `url`; it connects at its first check.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            connection: tokio::sync::Mutex::new(None),
            opened: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Whether the kept connection is up, or a new one opens within `timeout`.
    pub async fn reachable(&self, timeout: std::time::Duration) -> bool {
        let mut kept = self.connection.lock().await;
        if kept
            .as_ref()
            .is_some_and(|connection| connection.status().connected())
        {
            return true;
        }
        let connect = Connection::connect(&self.url, ConnectionProperties::default());
        match tokio::time::timeout(timeout, connect).await {
            Ok(Ok(connection)) => {
                self.opened
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                *kept = Some(connection);
                true
            }
            _ => {
                *kept = None;
                false
            }
        }
    }

    /// How many connections the probe has opened.
    pub fn connections_opened(&self) -> u64 {
        self.opened.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl EventPublisher {
    /// Connects, enables publisher confirms and declares the durable topic exchange.
    ///
    /// # Errors
    /// [`RelayError::Broker`] when RabbitMQ cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, RelayError> {
        let connection = Connection::connect(url, ConnectionProperties::default()).await?;
        let channel = connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        channel
            .exchange_declare(
                EXCHANGE.into(),
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
        Ok(Self {
            _connection: connection,
            channel,
        })
    }

    /// Publishes `envelopes` in order without waiting between them, then collects the broker's
    /// confirms in the same order: a batch costs one round of confirms (a queue that syncs to
    /// disk, like a quorum queue, confirms in groups) instead of one per event. Answers how many
    /// from the start were confirmed, and the failure that ended the run if one did; events after
    /// a failure may have reached the broker and are published again (consumers deduplicate).
    /// The confirms are awaited for `confirm_within` at most: a broker that stops answering must
    /// not keep rows leased past their lease, when another relay would publish them too.
    pub async fn publish_all(
        &self,
        records: &[OutboxRecord],
        confirm_within: std::time::Duration,
    ) -> (usize, Option<RelayError>) {
        let mut pending = Vec::with_capacity(records.len());
        let mut failure = None;
        for record in records {
            match self.send(record).await {
                Ok(confirm) => pending.push((record.envelope.id, confirm)),
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        let deadline = tokio::time::Instant::now() + confirm_within;
        let mut confirmed = 0;
        for (id, confirm) in pending {
            match tokio::time::timeout_at(deadline, confirm).await {
                Ok(Ok(confirmation)) if confirmation.is_ack() => confirmed += 1,
                Ok(Ok(_)) => return (confirmed, Some(RelayError::Refused(id))),
                Ok(Err(error)) => return (confirmed, Some(error.into())),
                Err(_) => {
                    return (confirmed, Some(RelayError::ConfirmTimeout(confirm_within)));
                }
            }
        }
        (confirmed, failure)
    }

    /// Hands one event to the broker; the answer resolves with its confirm. The publish is a
    /// span of the trace the change was committed in, and its context travels in the message's
    /// `traceparent` header.
    async fn send(&self, record: &OutboxRecord) -> Result<lapin::PublisherConfirm, RelayError> {
        let envelope = &record.envelope;
        let span = tracing::info_span!(
            "publish",
            otel.name = %format!("{} publish", envelope.event_type()),
            otel.kind = "producer",
            messaging.system = "rabbitmq",
            messaging.destination.name = EXCHANGE,
            messaging.message.id = %envelope.id,
            order_id = %envelope.order_id,
        );
        order_trace_context::adopt(&span, record.traceparent.as_deref());
        async {
            let payload = serde_json::to_vec(envelope)?;
            let mut properties = BasicProperties::default()
                .with_message_id(envelope.id.to_string().into())
                .with_content_type("application/json".into())
                .with_type(envelope.event_type().into())
                // 2 = persistent: the message survives a broker restart once confirmed.
                .with_delivery_mode(2);
            let trace = order_trace_context::current();
            if !trace.is_empty() {
                let mut headers = FieldTable::default();
                for (name, value) in trace {
                    headers.insert(name.into(), AMQPValue::LongString(LongString::from(value)));
                }
                properties = properties.with_headers(headers);
            }
            Ok(self
                .channel
                .basic_publish(
                    EXCHANGE.into(),
                    envelope.event_type().into(),
                    BasicPublishOptions::default(),
                    &payload,
                    properties,
                )
                .await?)
        }
        .instrument(span)
        .await
    }
}

/// Moves outbox rows to the broker.
#[derive(Clone)]
pub struct OutboxRelay {
    outbox: Arc<dyn Outbox>,
    batch_size: u32,
    lease: time::Duration,
    confirm_within: std::time::Duration,
}

impl std::fmt::Debug for OutboxRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxRelay")
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

impl OutboxRelay {
    /// A relay over `outbox`, leasing `batch_size` rows at a time for `lease`; it waits for the
    /// broker's confirms half the lease at most, so rows are marked before the lease runs out.
    pub fn new(outbox: Arc<dyn Outbox>, batch_size: u32, lease: time::Duration) -> Self {
        let half_lease = std::time::Duration::try_from(lease / 2).unwrap_or_default();
        Self {
            outbox,
            batch_size,
            lease,
            confirm_within: half_lease,
        }
    }

    /// With the broker's confirms awaited `confirm_within` at most (it stays below half the
    /// lease).
    #[must_use]
    pub fn confirm_within(mut self, confirm_within: std::time::Duration) -> Self {
        self.confirm_within = confirm_within.min(self.confirm_within);
        self
    }

    /// Publishes one leased batch in order; stops at the first failure and marks what was
    /// confirmed, so the rest is published again once its lease runs out.
    ///
    /// # Errors
    /// [`RelayError`] when the outbox or the broker fails; confirmed rows are marked first.
    pub async fn relay_once(&self, publisher: &EventPublisher) -> Result<usize, RelayError> {
        let batch = self
            .outbox
            .claim_unpublished(self.batch_size, self.lease)
            .await?;
        let (count, failure) = publisher.publish_all(&batch, self.confirm_within).await;
        let confirmed: Vec<DomainEventId> = batch[..count].iter().map(|r| r.envelope.id).collect();
        if !confirmed.is_empty() {
            self.outbox.mark_published(&confirmed).await?;
        }
        match failure {
            Some(error) => Err(error),
            None => Ok(confirmed.len()),
        }
    }

    /// Relays until `stop` turns true, reconnecting to `url` with growing pauses while the
    /// broker is away.
    pub async fn run(
        self,
        url: String,
        idle: std::time::Duration,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut publisher: Option<EventPublisher> = None;
        let mut failures = 0u32;
        while !*stop.borrow() {
            if publisher.is_none() {
                match EventPublisher::connect(&url).await {
                    Ok(connected) => {
                        tracing::info!("outbox relay connected to the broker");
                        publisher = Some(connected);
                        failures = 0;
                    }
                    Err(error) => {
                        tracing::warn!(error = %Chain(&error), "broker unreachable; outbox rows wait");
                        wait(&mut stop, RECONNECT.nominal(failures)).await;
                        failures = failures.saturating_add(1);
                        continue;
                    }
                }
            }
            let Some(current) = &publisher else { continue };
            match self.relay_once(current).await {
                Ok(0) => wait(&mut stop, idle).await,
                Ok(_) => {}
                Err(error) if error.is_broker() => {
                    tracing::warn!(error = %Chain(&error), "publishing failed; reconnecting");
                    publisher = None;
                }
                Err(error) => {
                    tracing::warn!(error = %Chain(&error), "outbox unavailable");
                    wait(&mut stop, RECONNECT.nominal(failures)).await;
                }
            }
        }
    }
}

/// Pauses while the broker is away: 0.5 s, doubling up to 30 s (relay and consumers).
pub(crate) const RECONNECT: order_domain::backoff::Backoff = order_domain::backoff::Backoff::new(
    std::time::Duration::from_millis(500),
    std::time::Duration::from_secs(30),
);

async fn wait(stop: &mut watch::Receiver<bool>, pause: std::time::Duration) {
    tokio::select! {
        _ = tokio::time::sleep(pause) => {}
        _ = stop.changed() => {}
    }
}
