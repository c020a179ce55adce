//! Messages other services send us over RabbitMQ (docs/product/events.md): `payment.succeeded`,
//! `payment.failed` and `ticket.allocated`.
//!
//! They travel in the same envelope as our own events — `{id, type, version, occurredAt,
//! tenantId, orderId, data}` — so one parser serves every queue. `id` is the message id the inbox
//! deduplicates by.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{OrderId, PaymentIntentId, TenantId, TicketId};

/// One consumed message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundMessage {
    /// Unique message id (= AMQP `message_id`).
    pub id: String,
    /// Payload version.
    #[serde(default = "first_version")]
    pub version: u16,
    /// When it happened upstream.
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// The order's tenant.
    pub tenant_id: TenantId,
    /// The order it is about.
    pub order_id: OrderId,
    /// `type` and `data`.
    #[serde(flatten)]
    pub event: InboundEvent,
}

fn first_version() -> u16 {
    1
}

/// What happened upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum InboundEvent {
    /// The payment service captured the order's payment.
    #[serde(rename = "payment.succeeded")]
    PaymentSucceeded(PaymentSucceeded),
    /// The payment failed for good (declined, abandoned).
    #[serde(rename = "payment.failed")]
    PaymentFailed(PaymentFailed),
    /// The ticket service issued the tickets of a confirmed order.
    #[serde(rename = "ticket.allocated")]
    TicketAllocated(TicketAllocated),
}

impl InboundEvent {
    /// The message type (and routing key).
    pub fn name(&self) -> &'static str {
        match self {
            Self::PaymentSucceeded(_) => "payment.succeeded",
            Self::PaymentFailed(_) => "payment.failed",
            Self::TicketAllocated(_) => "ticket.allocated",
        }
    }
}

/// `payment.succeeded`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentSucceeded {
    /// The intent that was paid.
    pub payment_intent_id: PaymentIntentId,
}

/// `payment.failed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentFailed {
    /// The intent that failed.
    pub payment_intent_id: PaymentIntentId,
    /// Why, as the payment service says it.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `ticket.allocated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketAllocated {
    /// The issued tickets.
    pub ticket_ids: Vec<TicketId>,
}

/// What applying a message did. Every outcome is acknowledged; only errors are retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageOutcome {
    /// The order changed (to this status, or tickets were attached).
    Applied,
    /// This message id was applied before.
    Duplicate,
    /// A late payment: the order was held again and CONFIRMED.
    LatePaymentRecovered,
    /// A late payment that could not be honoured was refunded in full.
    LatePaymentRefunded,
    /// Nothing to do (e.g. `payment.failed` for an order that is already closed); why.
    Ignored(&'static str),
    /// Not applicable yet (e.g. tickets for an order whose payment has not arrived): retry later.
    NotYet(&'static str),
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn messages_read_from_the_shared_envelope() {
        let json = serde_json::json!({
            "id": "msg-1",
            "type": "payment.succeeded",
            "version": 1,
            "occurredAt": "2026-11-22T10:00:00Z",
            "tenantId": Uuid::from_u128(1),
            "orderId": Uuid::from_u128(2),
            "data": {"paymentIntentId": "pi_1"}
        });
        let message: InboundMessage = serde_json::from_value(json).expect("parses");
        assert_eq!(message.id, "msg-1");
        assert_eq!(message.order_id, OrderId::from_uuid(Uuid::from_u128(2)));
        assert_eq!(
            message.event,
            InboundEvent::PaymentSucceeded(PaymentSucceeded {
                payment_intent_id: PaymentIntentId::new("pi_1")
            })
        );
        assert_eq!(message.event.name(), "payment.succeeded");
    }

    #[test]
    fn unknown_types_and_missing_fields_do_not_parse() {
        let base = serde_json::json!({
            "id": "msg-1",
            "occurredAt": "2026-11-22T10:00:00Z",
            "tenantId": Uuid::from_u128(1),
            "orderId": Uuid::from_u128(2),
        });
        let mut unknown = base.clone();
        unknown["type"] = "payment.refunded".into();
        unknown["data"] = serde_json::json!({});
        assert!(serde_json::from_value::<InboundMessage>(unknown).is_err());
        let mut missing = base;
        missing["type"] = "ticket.allocated".into();
        missing["data"] = serde_json::json!({});
        assert!(serde_json::from_value::<InboundMessage>(missing).is_err());
    }
}
