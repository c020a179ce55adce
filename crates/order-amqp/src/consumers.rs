//! Consumers of `payment.succeeded`, `payment.failed` and `ticket.allocated`
//! (docs/product/events.md).
//!
//! Each message type has its own durable quorum queue bound to the exchange its producer
//! publishes to. Messages are acknowledged by hand after their effect committed; the
//! [`MessageHandler`] records the message id in the inbox in the same transaction, so a
//! redelivery changes nothing. Failures that may pass (storage or upstream outages, lost races,
//! "not yet") go back to the queue after a growing pause, which waits beside the consuming loop
//! (the other messages and queues are handled meanwhile); the broker counts deliveries and moves
//! a message to the dead-letter queue once it has been tried `max_attempts` times. Messages that
//! can never succeed (unreadable, unknown order) go to the dead-letter queue at once.
//!
//! One more queue, `{prefix}.notifications`, takes this service's own `order.*` events from
//! [`crate::EXCHANGE`] and hands them to an [`EventHandler`] (the domain's `Announcer`), so that
//! buyers hear of each committed status change from the event stream, never from the request.
//! It runs as consumers of its own ([`Consumers::notifications`], another connection), so a slow
//! or failing notification service never delays a payment message. `{prefix}.webhooks` does the
//! same for webhook deliveries ([`Consumers::webhooks`], the domain's `WebhookService`): each
//! committed event becomes its deliveries there, never in the request.

use order_domain::cause::Chain;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions, BasicRejectOptions,
    ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Connection, ConnectionProperties, ExchangeKind};
use order_domain::backoff::Backoff;
use order_domain::events::EventEnvelope;
use order_domain::messages::{InboundMessage, MessageOutcome};
use order_domain::use_cases::{Announcer, OrderService, UseCaseError, WebhookService};
use tokio::sync::watch;
use tracing::Instrument;

use crate::RelayError;

/// Unacknowledged messages per queue: the one being handled and those waiting for their retry.
const RETRY_SLOTS: u16 = 16;

/// The exchange the payment service publishes `payment.*` to.
pub const PAYMENT_EXCHANGE: &str = "payment.events";
/// The exchange the ticket service publishes `ticket.*` to.
pub const TICKET_EXCHANGE: &str = "ticket.events";

/// Applies one consumed message.
#[async_trait]
pub trait MessageHandler: Send + Sync {
    /// Applies `message` for the consumer `queue`, exactly once.
    ///
    /// # Errors
    /// [`UseCaseError`]; [`UseCaseError::is_retryable`] decides between retry and dead letter.
    async fn handle(
        &self,
        queue: &str,
        message: &InboundMessage,
    ) -> Result<MessageOutcome, UseCaseError>;
}

#[async_trait]
impl MessageHandler for OrderService {
    async fn handle(
        &self,
        queue: &str,
        message: &InboundMessage,
    ) -> Result<MessageOutcome, UseCaseError> {
        self.apply_message(queue, message).await
    }
}

/// Applies one of this service's own committed events (it is not a command: nothing about the
/// order changes).
#[async_trait]
pub trait EventHandler: Send + Sync {
    /// Handles `event` for the consumer `queue`, exactly once.
    ///
    /// # Errors
    /// [`UseCaseError`]; [`UseCaseError::is_retryable`] decides between retry and dead letter.
    async fn handle_event(
        &self,
        queue: &str,
        event: &EventEnvelope,
    ) -> Result<MessageOutcome, UseCaseError>;
}

#[async_trait]
impl EventHandler for WebhookService {
    async fn handle_event(
        &self,
        _queue: &str,
        event: &EventEnvelope,
    ) -> Result<MessageOutcome, UseCaseError> {
        self.enqueue(event).await.map_err(UseCaseError::from)
    }
}

#[async_trait]
impl EventHandler for Announcer {
    async fn handle_event(
        &self,
        queue: &str,
        event: &EventEnvelope,
    ) -> Result<MessageOutcome, UseCaseError> {
        self.announce(queue, event).await
    }
}

/// One consumed queue: its name and where it is bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueBinding {
    /// Queue name (`{prefix}.{routing key}`); also the inbox's consumer name.
    pub queue: String,
    /// The exchange it is bound to.
    pub exchange: &'static str,
    /// The routing key (= message type).
    pub routing_key: &'static str,
}

/// Queue names and retry limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerTopology {
    /// Prefix of every queue name (`AMQP_QUEUE_PREFIX`, `order-service`).
    pub prefix: String,
    /// Deliveries before a message is dead-lettered (`CONSUMER_MAX_ATTEMPTS`, 5).
    pub max_attempts: u32,
    /// When set, the broker deletes the queues once they have had no consumer for this long
    /// (`x-expires`): for short-lived deployments such as tests, never for production queues.
    pub idle_expiry: Option<Duration>,
}

impl ConsumerTopology {
    /// The three consumed queues.
    pub fn bindings(&self) -> Vec<QueueBinding> {
        [
            (PAYMENT_EXCHANGE, "payment.succeeded"),
            (PAYMENT_EXCHANGE, "payment.failed"),
            (TICKET_EXCHANGE, "ticket.allocated"),
        ]
        .into_iter()
        .map(|(exchange, routing_key)| QueueBinding {
            queue: format!("{}.{routing_key}", self.prefix),
            exchange,
            routing_key,
        })
        .collect()
    }

    /// The queue of our own order events that notifications are sent from.
    pub fn notifications(&self) -> QueueBinding {
        QueueBinding {
            queue: format!("{}.notifications", self.prefix),
            exchange: crate::EXCHANGE,
            routing_key: "order.*",
        }
    }

    /// The queue of our own order events that webhook deliveries are made from.
    pub fn webhooks(&self) -> QueueBinding {
        QueueBinding {
            queue: format!("{}.webhooks", self.prefix),
            exchange: crate::EXCHANGE,
            // Every event, refund ones included: subscriptions pick their types themselves.
            routing_key: "#",
        }
    }

    /// The dead-letter exchange and queue (same name).
    pub fn dead_letter(&self) -> String {
        format!("{}.dead-letter", self.prefix)
    }

    /// Declares the exchanges, the dead-letter queue and the consumed queues (the notifications
    /// queue included, so that no event published before its consumer starts is lost);
    /// idempotent.
    ///
    /// # Errors
    /// [`RelayError::Broker`] when the broker refuses (e.g. a queue exists with other
    /// arguments).
    pub async fn declare(&self, channel: &Channel) -> Result<(), RelayError> {
        let durable = ExchangeDeclareOptions {
            durable: true,
            ..ExchangeDeclareOptions::default()
        };
        for exchange in [PAYMENT_EXCHANGE, TICKET_EXCHANGE, crate::EXCHANGE] {
            channel
                .exchange_declare(
                    exchange.into(),
                    ExchangeKind::Topic,
                    durable,
                    FieldTable::default(),
                )
                .await?;
        }
        let dead_letter = self.dead_letter();
        channel
            .exchange_declare(
                dead_letter.as_str().into(),
                ExchangeKind::Fanout,
                durable,
                FieldTable::default(),
            )
            .await?;
        let durable_queue = QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        };
        channel
            .queue_declare(
                dead_letter.as_str().into(),
                durable_queue,
                self.expiry_arguments(),
            )
            .await?;
        channel
            .queue_bind(
                dead_letter.as_str().into(),
                dead_letter.as_str().into(),
                "".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        let own_events = [self.notifications(), self.webhooks()];
        for binding in self.bindings().into_iter().chain(own_events) {
            let mut arguments = self.expiry_arguments();
            // Quorum queues count deliveries and dead-letter past the limit by themselves.
            arguments.insert(
                "x-queue-type".into(),
                AMQPValue::LongString("quorum".into()),
            );
            let redeliveries = i64::from(self.max_attempts.saturating_sub(1));
            arguments.insert(
                "x-delivery-limit".into(),
                AMQPValue::LongLongInt(redeliveries),
            );
            arguments.insert(
                "x-dead-letter-exchange".into(),
                AMQPValue::LongString(dead_letter.as_str().into()),
            );
            channel
                .queue_declare(binding.queue.as_str().into(), durable_queue, arguments)
                .await?;
            channel
                .queue_bind(
                    binding.queue.as_str().into(),
                    binding.exchange.into(),
                    binding.routing_key.into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        Ok(())
    }

    fn expiry_arguments(&self) -> FieldTable {
        let mut arguments = FieldTable::default();
        if let Some(expiry) = self.idle_expiry {
            let millis = i64::try_from(expiry.as_millis()).unwrap_or(i64::MAX).max(1);
            arguments.insert("x-expires".into(), AMQPValue::LongLongInt(millis));
        }
        arguments
    }
}

/// What to do with a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Done (applied, duplicate or nothing to do).
    Ack,
    /// Try again later.
    Retry,
    /// Never going to work: to the dead-letter queue.
    DeadLetter,
}

/// Decides a delivery's fate from the handler's answer.
pub fn disposition(result: &Result<MessageOutcome, UseCaseError>) -> Disposition {
    match result {
        Ok(MessageOutcome::NotYet(_)) => Disposition::Retry,
        Ok(_) => Disposition::Ack,
        Err(error) if error.is_retryable() => Disposition::Retry,
        Err(_) => Disposition::DeadLetter,
    }
}

/// Reads a delivery: the envelope from the body, the id from the AMQP `message_id` when set.
///
/// # Errors
/// A description of what is wrong with the body.
pub fn parse_delivery(
    message_id: Option<&str>,
    body: &[u8],
) -> Result<InboundMessage, serde_json::Error> {
    let mut message: InboundMessage = serde_json::from_slice(body)?;
    if let Some(id) = message_id.filter(|id| !id.is_empty()) {
        message.id = id.to_owned();
    }
    Ok(message)
}

/// Told how each consumed message ended (metrics): `ack`, `retry` or `dead_letter` (a message
/// the broker dead-letters after its delivery limit was last seen as a `retry`).
pub trait ConsumerObserver: Send + Sync {
    /// One message of `queue`.
    fn consumed(&self, queue: &str, disposition: &'static str);
}

/// Runs the consumers until `stop` turns true.
pub struct Consumers {
    topology: ConsumerTopology,
    source: Source,
    retry_delay: Duration,
    observer: Option<Arc<dyn ConsumerObserver>>,
}

/// What one [`Consumers`] reads and who applies it.
enum Source {
    /// The upstream services' messages.
    Upstream(Arc<dyn MessageHandler>),
    /// Our own committed events from one queue (notifications, webhooks).
    OwnEvents(Arc<dyn EventHandler>, QueueBinding),
}

impl std::fmt::Debug for Consumers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumers")
            .field("topology", &self.topology)
            .finish_non_exhaustive()
    }
}

impl Consumers {
    /// Consumers of `topology`'s queues applying messages with `handler`; a retried message waits
    /// `retry_delay` × 2^(deliveries so far), at most 30 s, before it goes back to its queue.
    pub fn new(
        topology: ConsumerTopology,
        handler: Arc<dyn MessageHandler>,
        retry_delay: Duration,
    ) -> Self {
        Self {
            topology,
            source: Source::Upstream(handler),
            retry_delay,
            observer: None,
        }
    }

    /// Consumers of the notifications queue alone, handing our own events to `announcer`; run
    /// them beside the upstream consumers.
    pub fn notifications(
        topology: ConsumerTopology,
        announcer: Arc<dyn EventHandler>,
        retry_delay: Duration,
    ) -> Self {
        Self {
            source: Source::OwnEvents(announcer, topology.notifications()),
            topology,
            retry_delay,
            observer: None,
        }
    }

    /// Consumers of the webhooks queue alone, handing our own events to `webhooks` (which makes
    /// their deliveries); run them beside the others.
    pub fn webhooks(
        topology: ConsumerTopology,
        webhooks: Arc<dyn EventHandler>,
        retry_delay: Duration,
    ) -> Self {
        Self {
            source: Source::OwnEvents(webhooks, topology.webhooks()),
            topology,
            retry_delay,
            observer: None,
        }
    }

    /// These consumers, telling `observer` how each message ended.
    pub fn observed(mut self, observer: Arc<dyn ConsumerObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    fn observe(&self, queue: &str, disposition: &'static str) {
        if let Some(observer) = &self.observer {
            observer.consumed(queue, disposition);
        }
    }

    /// The queues this instance consumes.
    fn consumed(&self) -> Vec<QueueBinding> {
        match &self.source {
            Source::Upstream(_) => self.topology.bindings(),
            Source::OwnEvents(_, binding) => vec![binding.clone()],
        }
    }

    /// Consumes until `stop` turns true, reconnecting with growing pauses while the broker is
    /// away. The message in hand is finished before stopping; unacknowledged ones return to
    /// their queue when the connection closes.
    pub async fn run(self, url: String, mut stop: watch::Receiver<bool>) {
        let mut failures = 0u32;
        while !*stop.borrow() {
            match self.consume(&url, &mut stop).await {
                Ok(()) => break,
                Err(error) => {
                    tracing::warn!(error = %Chain(&error), "consumers lost the broker; reconnecting");
                    tokio::select! {
                        _ = tokio::time::sleep(crate::RECONNECT.nominal(failures)) => {}
                        _ = stop.changed() => {}
                    }
                    failures = failures.saturating_add(1);
                }
            }
        }
    }

    /// One connection's worth of consuming; `Ok` only when asked to stop.
    async fn consume(&self, url: &str, stop: &mut watch::Receiver<bool>) -> Result<(), RelayError> {
        let connection = Connection::connect(url, ConnectionProperties::default()).await?;
        let setup = connection.create_channel().await?;
        self.topology.declare(&setup).await?;
        let mut streams = Vec::new();
        for binding in self.consumed() {
            let channel = connection.create_channel().await?;
            // Messages are handled one at a time, in order; a message waiting for its retry
            // holds one of these slots, so the others keep flowing.
            channel
                .basic_qos(RETRY_SLOTS, BasicQosOptions::default())
                .await?;
            let consumer = channel
                .basic_consume(
                    binding.queue.as_str().into(),
                    "".into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            let queue = binding.queue.clone();
            streams.push(
                consumer
                    .map(move |delivery| (queue.clone(), delivery))
                    .boxed(),
            );
        }
        tracing::info!(queues = ?self.consumed().iter().map(|b| b.queue.clone()).collect::<Vec<_>>(), "consumers started");
        let mut all = futures_util::stream::select_all(streams);
        loop {
            tokio::select! {
                _ = stop.changed() => {
                    if *stop.borrow() {
                        let _ = connection.close(200, "shutting down".into()).await;
                        return Ok(());
                    }
                }
                next = all.next() => match next {
                    Some((queue, Ok(delivery))) => self.process(&queue, delivery).await?,
                    Some((_, Err(error))) => return Err(error.into()),
                    None => return Err(RelayError::ConsumersCancelled),
                },
            }
        }
    }

    /// Handles one delivery in a consumer span that continues the sender's trace (its
    /// `traceparent` header).
    async fn process(&self, queue: &str, delivery: Delivery) -> Result<(), RelayError> {
        let span = tracing::info_span!(
            "consume",
            otel.name = %format!("{queue} process"),
            otel.kind = "consumer",
            messaging.system = "rabbitmq",
            messaging.destination.name = %queue,
        );
        order_trace_context::adopt(
            &span,
            header_text(&delivery, order_trace_context::TRACEPARENT).as_deref(),
        );
        self.apply(queue, delivery).instrument(span).await
    }

    async fn apply(&self, queue: &str, delivery: Delivery) -> Result<(), RelayError> {
        let message_id = delivery
            .properties
            .message_id()
            .as_ref()
            .map(ToString::to_string);
        let applied = match &self.source {
            Source::OwnEvents(announcer, _) => {
                match serde_json::from_slice::<EventEnvelope>(&delivery.data) {
                    Ok(event) => Ok((
                        event.id.to_string(),
                        announcer.handle_event(queue, &event).await,
                    )),
                    Err(error) => Err(error),
                }
            }
            Source::Upstream(handler) => {
                match parse_delivery(message_id.as_deref(), &delivery.data) {
                    Ok(message) => Ok((message.id.clone(), handler.handle(queue, &message).await)),
                    Err(error) => Err(error),
                }
            }
        };
        let (id, result) = match applied {
            Ok(applied) => applied,
            Err(error) => {
                tracing::error!(queue, ?message_id, error = %Chain(&error), "unreadable message; dead-lettered");
                self.observe(queue, "dead_letter");
                delivery
                    .reject(BasicRejectOptions { requeue: false })
                    .await?;
                return Ok(());
            }
        };
        let decided = disposition(&result);
        self.observe(
            queue,
            match decided {
                Disposition::Ack => "ack",
                Disposition::Retry => "retry",
                Disposition::DeadLetter => "dead_letter",
            },
        );
        match decided {
            Disposition::Ack if matches!(result, Ok(MessageOutcome::Ignored(_))) => {
                tracing::info!(queue, id = %id, outcome = ?result, "message changes nothing");
                delivery.ack(BasicAckOptions::default()).await?;
            }
            Disposition::Ack => {
                tracing::debug!(queue, id = %id, outcome = ?result, "message applied");
                delivery.ack(BasicAckOptions::default()).await?;
            }
            Disposition::Retry => {
                let deliveries = delivery_count(&delivery);
                tracing::warn!(queue, id = %id, deliveries, outcome = ?result, "message will be retried");
                let pause =
                    Backoff::new(self.retry_delay, Duration::from_secs(30)).nominal(deliveries);
                // The pause runs beside the loop: the next messages of every queue are handled
                // meanwhile. Should the connection close first, the broker requeues it anyway.
                let queue = queue.to_owned();
                tokio::spawn(async move {
                    tokio::time::sleep(pause).await;
                    let requeue = BasicNackOptions {
                        requeue: true,
                        ..BasicNackOptions::default()
                    };
                    if let Err(error) = delivery.nack(requeue).await {
                        tracing::warn!(queue, error = %error, "a retried message could not be requeued; the broker requeues it when the connection closes");
                    }
                });
            }
            Disposition::DeadLetter => {
                tracing::error!(queue, id = %id, outcome = ?result, "message cannot be applied; dead-lettered");
                delivery
                    .reject(BasicRejectOptions { requeue: false })
                    .await?;
            }
        }
        Ok(())
    }
}

/// A text header of the delivery.
fn header_text(delivery: &Delivery, name: &str) -> Option<String> {
    let headers = delivery.properties.headers().as_ref()?;
    match headers.inner().get(name)? {
        AMQPValue::LongString(text) => String::from_utf8(text.as_bytes().to_vec()).ok(),
        AMQPValue::ShortString(text) => Some(text.as_str().to_owned()),
        _ => None,
    }
}

/// How many times the broker delivered this message before (`x-delivery-count`).
fn delivery_count(delivery: &Delivery) -> u32 {
    delivery
        .properties
        .headers()
        .as_ref()
        .and_then(|headers| headers.inner().get("x-delivery-count"))
        .and_then(|value| match value {
            AMQPValue::LongLongInt(n) => u32::try_from(*n).ok(),
            AMQPValue::LongInt(n) => u32::try_from(*n).ok(),
            AMQPValue::LongUInt(n) => Some(*n),
            AMQPValue::ShortInt(n) => u32::try_from(*n).ok(),
            AMQPValue::ShortShortInt(n) => u32::try_from(*n).ok(),
            _ => None,
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use order_domain::ports::{RepositoryError, UpstreamError};

    use super::*;

    #[test]
    fn outcomes_and_errors_decide_ack_retry_or_dead_letter() {
        assert_eq!(disposition(&Ok(MessageOutcome::Applied)), Disposition::Ack);
        assert_eq!(
            disposition(&Ok(MessageOutcome::Duplicate)),
            Disposition::Ack
        );
        assert_eq!(
            disposition(&Ok(MessageOutcome::Ignored("closed"))),
            Disposition::Ack
        );
        assert_eq!(
            disposition(&Ok(MessageOutcome::NotYet("unpaid"))),
            Disposition::Retry
        );
        assert_eq!(
            disposition(&Err(UseCaseError::Storage(RepositoryError::Unavailable(
                "down".into()
            )))),
            Disposition::Retry
        );
        assert_eq!(
            disposition(&Err(UseCaseError::Upstream(UpstreamError::Unavailable {
                service: "tickets",
                cause: "timeout".into()
            }))),
            Disposition::Retry
        );
        assert_eq!(
            disposition(&Err(UseCaseError::NotFound { what: "order" })),
            Disposition::DeadLetter
        );
    }

    #[test]
    fn the_amqp_message_id_is_the_inbox_key() {
        let body =
            br#"{"id":"body-id","type":"ticket.allocated","occurredAt":"2026-11-22T10:00:00Z",
            "tenantId":"00000000-0000-0000-0000-000000000001",
            "orderId":"00000000-0000-0000-0000-000000000002","data":{"ticketIds":["t-1"]}}"#;
        assert_eq!(
            parse_delivery(Some("amqp-id"), body).expect("parses").id,
            "amqp-id"
        );
        assert_eq!(parse_delivery(None, body).expect("parses").id, "body-id");
        assert!(parse_delivery(None, b"not json").is_err());
    }

    #[test]
    fn queues_are_named_after_the_prefix_and_message_type() {
        let topology = ConsumerTopology {
            prefix: "orders".into(),
            max_attempts: 5,
            idle_expiry: None,
        };
        let names: Vec<String> = topology.bindings().into_iter().map(|b| b.queue).collect();
        assert_eq!(
            names,
            [
                "orders.payment.succeeded",
                "orders.payment.failed",
                "orders.ticket.allocated"
            ]
        );
        assert_eq!(topology.dead_letter(), "orders.dead-letter");
        let notifications = topology.notifications();
        assert_eq!(notifications.queue, "orders.notifications");
        assert_eq!(notifications.exchange, crate::EXCHANGE);
        assert_eq!(notifications.routing_key, "order.*");
        let webhooks = topology.webhooks();
        assert_eq!(webhooks.queue, "orders.webhooks");
        assert_eq!(webhooks.routing_key, "#");
    }
}
