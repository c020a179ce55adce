//! Publishes what the simulated payment and ticket services announce (`payment.succeeded`,
//! `payment.failed`, `ticket.allocated`) to RabbitMQ, as the real services would.
//!
//! Handlers hand messages to a channel and return at once; one background task publishes them
//! in order, reconnecting while the broker is away, so nothing is lost while the simulator runs.

use std::time::Duration;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use uuid::Uuid;

/// The exchange the payment service publishes to.
pub const PAYMENT_EXCHANGE: &str = "payment.events";
/// The exchange the ticket service publishes to.
pub const TICKET_EXCHANGE: &str = "ticket.events";

/// One message to publish.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    exchange: &'static str,
    routing_key: &'static str,
    id: String,
    body: Value,
}

impl Outgoing {
    /// A message in the shared envelope `{id, type, version, occurredAt, tenantId, orderId, data}`.
    pub(crate) fn new(
        exchange: &'static str,
        routing_key: &'static str,
        tenant: Uuid,
        order: Uuid,
        data: Value,
    ) -> Self {
        let id = Uuid::now_v7().to_string();
        let occurred_at = OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let body = json!({
            "id": id,
            "type": routing_key,
            "version": 1,
            "occurredAt": occurred_at,
            "tenantId": tenant,
            "orderId": order,
            "data": data,
        });
        Self {
            exchange,
            routing_key,
            id,
            body,
        }
    }
}

/// The sending half handlers use.
#[derive(Debug, Clone)]
pub(crate) struct Announcer(mpsc::UnboundedSender<Outgoing>);

impl Announcer {
    /// Starts the publishing task for `url`; must run inside a tokio runtime.
    pub(crate) fn start(url: String) -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(publish_all(url, receiver));
        Self(sender)
    }

    pub(crate) fn announce(&self, message: Outgoing) {
        // The task only ends with the runtime; a message sent after that is moot.
        let _ = self.0.send(message);
    }
}

async fn connect(url: &str) -> Result<(Connection, Channel), lapin::Error> {
    let connection = Connection::connect(url, ConnectionProperties::default()).await?;
    let channel = connection.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    for exchange in [PAYMENT_EXCHANGE, TICKET_EXCHANGE] {
        channel
            .exchange_declare(
                exchange.into(),
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
    }
    Ok((connection, channel))
}

async fn publish(channel: &Channel, message: &Outgoing) -> Result<(), lapin::Error> {
    let payload = serde_json::to_vec(&message.body).unwrap_or_default();
    channel
        .basic_publish(
            message.exchange.into(),
            message.routing_key.into(),
            BasicPublishOptions::default(),
            &payload,
            BasicProperties::default()
                .with_message_id(message.id.as_str().into())
                .with_type(message.routing_key.into())
                .with_content_type("application/json".into())
                .with_delivery_mode(2),
        )
        .await?
        .await?;
    Ok(())
}

async fn publish_all(url: String, mut receiver: mpsc::UnboundedReceiver<Outgoing>) {
    let mut connected: Option<(Connection, Channel)> = None;
    while let Some(message) = receiver.recv().await {
        loop {
            if connected.is_none() {
                match connect(&url).await {
                    Ok(pair) => connected = Some(pair),
                    Err(error) => {
                        tracing::warn!(%error, "simulator: broker unreachable; retrying");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        continue;
                    }
                }
            }
            let Some((_, channel)) = &connected else {
                continue;
            };
            match publish(channel, &message).await {
                Ok(()) => break,
                Err(error) => {
                    tracing::warn!(%error, "simulator: publishing failed; reconnecting");
                    connected = None;
                }
            }
        }
    }
}
