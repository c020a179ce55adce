//! Domain events: what each command did, under a stable name with a versioned payload.
//!
//! Names and payloads are a public contract (RabbitMQ consumers, webhooks, the audit trail): add
//! optional fields freely, but a breaking change gets a new [`EVENT_VERSION`].

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::ids::{
    DomainEventId, EventId, HoldId, OrderId, OrderItemId, OrderNumber, PaymentIntentId, RefundId,
    TenantId, TicketId, UserId,
};
use crate::money::Currency;
use crate::order::status::{OrderKind, OrderStatus, RefundStatus};

/// Version of every payload below.
pub const EVENT_VERSION: u16 = 1;

/// Every event name [`OrderEvent::name`] gives, for subscriptions that pick some.
pub const EVENT_TYPES: [&str; 20] = [
    "order.created",
    "order.reserved",
    "order.confirmed",
    "order.cancelled",
    "order.expired",
    "order.refunded",
    "order.processing",
    "order.shipped",
    "order.delivered",
    "order.returned",
    "order.item_cancelled",
    "order.edited",
    "order.edit_awaiting_payment",
    "order.edit_lapsed",
    "order.tickets_allocated",
    "refund.requested",
    "refund.approved",
    "refund.rejected",
    "refund.completed",
    "refund.failed",
];

/// Something that happened to an order. Serialized as `{"type": "order.created", "data": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum OrderEvent {
    /// A new order, PENDING.
    #[serde(rename = "order.created")]
    Created(OrderCreated),
    /// Tickets or stock held (also when the reservation is extended).
    #[serde(rename = "order.reserved")]
    Reserved(OrderReserved),
    /// Payment succeeded.
    #[serde(rename = "order.confirmed")]
    Confirmed(OrderConfirmed),
    /// Cancelled; a paid order carries the refund it started.
    #[serde(rename = "order.cancelled")]
    Cancelled(OrderCancelled),
    /// The hold or payment window ran out.
    #[serde(rename = "order.expired")]
    Expired(OrderExpired),
    /// Refunds reached the refundable maximum.
    #[serde(rename = "order.refunded")]
    Refunded(OrderRefunded),
    /// Fulfillment started (CONFIRMED → PROCESSING).
    #[serde(rename = "order.processing")]
    FulfillmentStarted(StatusChanged),
    /// Handed to the carrier.
    #[serde(rename = "order.shipped")]
    Shipped(OrderShipped),
    /// Delivered.
    #[serde(rename = "order.delivered")]
    Delivered(StatusChanged),
    /// The customer sent it back.
    #[serde(rename = "order.returned")]
    Returned(OrderReturned),
    /// One line cancelled before shipping; a paid order carries the refund it started.
    #[serde(rename = "order.item_cancelled")]
    ItemCancelled(ItemCancelled),
    /// Lines added, changed or removed after the order was placed; the order was repriced.
    #[serde(rename = "order.edited")]
    Edited(OrderEdited),
    /// An edit raising a paid order's total waits for the difference to be paid.
    #[serde(rename = "order.edit_awaiting_payment")]
    EditAwaitingPayment(EditAwaitingPayment),
    /// An edit waiting for its payment was not paid in time and was dropped.
    #[serde(rename = "order.edit_lapsed")]
    EditLapsed(EditLapsed),
    /// The ticket service issued the tickets.
    #[serde(rename = "order.tickets_allocated")]
    TicketsAllocated(TicketsAllocated),
    /// A refund was requested (auto-approved ones are followed by `refund.approved`).
    #[serde(rename = "refund.requested")]
    RefundRequested(RefundRequested),
    /// An admin (or the auto-approval threshold) approved a refund.
    #[serde(rename = "refund.approved")]
    RefundApproved(RefundDecided),
    /// An admin rejected a refund.
    #[serde(rename = "refund.rejected")]
    RefundRejected(RefundDecided),
    /// The payment service paid the refund out.
    #[serde(rename = "refund.completed")]
    RefundCompleted(RefundCompleted),
    /// The payment service refused the refund; it stays retryable.
    #[serde(rename = "refund.failed")]
    RefundFailed(RefundFailed),
}

impl OrderEvent {
    /// The stable name (`order.created`, …), used as routing key and audit type.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Created(_) => "order.created",
            Self::Reserved(_) => "order.reserved",
            Self::Confirmed(_) => "order.confirmed",
            Self::Cancelled(_) => "order.cancelled",
            Self::Expired(_) => "order.expired",
            Self::Refunded(_) => "order.refunded",
            Self::FulfillmentStarted(_) => "order.processing",
            Self::Shipped(_) => "order.shipped",
            Self::Delivered(_) => "order.delivered",
            Self::Returned(_) => "order.returned",
            Self::ItemCancelled(_) => "order.item_cancelled",
            Self::Edited(_) => "order.edited",
            Self::EditAwaitingPayment(_) => "order.edit_awaiting_payment",
            Self::EditLapsed(_) => "order.edit_lapsed",
            Self::TicketsAllocated(_) => "order.tickets_allocated",
            Self::RefundRequested(_) => "refund.requested",
            Self::RefundApproved(_) => "refund.approved",
            Self::RefundRejected(_) => "refund.rejected",
            Self::RefundCompleted(_) => "refund.completed",
            Self::RefundFailed(_) => "refund.failed",
        }
    }

    /// `(from, to)` when the event moved the order from one status to another (creation has no
    /// `from`: it is not a transition).
    pub fn status_change(&self) -> Option<(OrderStatus, OrderStatus)> {
        let change = match self {
            Self::Reserved(e) => e.change,
            Self::Confirmed(e) => e.change,
            Self::Cancelled(e) => e.change,
            Self::Expired(e) => e.change,
            Self::Refunded(e) => e.change,
            Self::FulfillmentStarted(e) | Self::Delivered(e) => *e,
            Self::Shipped(e) => e.change,
            Self::Returned(e) => e.change,
            Self::Created(_)
            | Self::ItemCancelled(_)
            | Self::Edited(_)
            | Self::EditAwaitingPayment(_)
            | Self::EditLapsed(_)
            | Self::TicketsAllocated(_)
            | Self::RefundRequested(_)
            | Self::RefundApproved(_)
            | Self::RefundRejected(_)
            | Self::RefundCompleted(_)
            | Self::RefundFailed(_) => return None,
        };
        Some((change.from, change.to))
    }

    /// The payload alone, for audit metadata.
    pub fn payload(&self) -> serde_json::Value {
        // Serializing these plain structs cannot fail; `Null` keeps the signature infallible.
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut map)) => map.remove("data").unwrap_or_default(),
            _ => serde_json::Value::Null,
        }
    }
}

/// A status change carried by an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChanged {
    /// Before.
    pub from: OrderStatus,
    /// After.
    pub to: OrderStatus,
}

/// One line of a new order as `order.created` carries it: the published contract's shape, which
/// changes by versioning the event, not with the aggregate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedItem {
    /// The line's id.
    pub item_id: OrderItemId,
    /// Ticket type or product, as text.
    pub reference: String,
    /// Units.
    pub quantity: u32,
    /// Price of one unit, minor units.
    pub unit_price: i64,
    /// The line's total, minor units.
    pub total: i64,
}

/// `order.created`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCreated {
    /// Human-facing number.
    pub order_number: OrderNumber,
    /// Ticket or goods.
    pub kind: OrderKind,
    /// The buyer.
    pub user_id: UserId,
    /// The event, for ticket orders.
    pub event_id: Option<EventId>,
    /// Currency of the amounts.
    pub currency: Currency,
    /// Subtotal, minor units.
    pub subtotal: i64,
    /// Total, minor units.
    pub total: i64,
    /// The lines.
    pub items: Vec<CreatedItem>,
}

/// `order.reserved`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderReserved {
    /// PENDING → RESERVED, or RESERVED → RESERVED when extended.
    #[serde(flatten)]
    pub change: StatusChanged,
    /// The upstream hold.
    pub hold_id: HoldId,
    /// When the hold runs out.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Whether an existing reservation was extended.
    pub extended: bool,
}

/// `order.confirmed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderConfirmed {
    /// The status change.
    #[serde(flatten)]
    pub change: StatusChanged,
    /// The intent that was paid.
    pub payment_intent_id: PaymentIntentId,
    /// Amount paid, minor units.
    pub total: i64,
}

/// `order.cancelled`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCancelled {
    /// The status change.
    #[serde(flatten)]
    pub change: StatusChanged,
    /// Why.
    pub reason: String,
    /// The refund started for a paid order.
    pub refund_id: Option<RefundId>,
    /// Its amount, minor units.
    pub refund_amount: Option<i64>,
    /// The hold to release, when there was one.
    pub hold_id: Option<HoldId>,
}

/// `order.expired`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderExpired {
    /// The status change.
    #[serde(flatten)]
    pub change: StatusChanged,
    /// The hold to release, when there was one.
    pub hold_id: Option<HoldId>,
    /// Set when an operator expired the order before its window ended: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forced_reason: Option<String>,
}

/// `order.refunded`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRefunded {
    /// The status change.
    #[serde(flatten)]
    pub change: StatusChanged,
    /// Everything refunded on the order, minor units.
    pub refunded_total: i64,
}

/// `order.shipped`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderShipped {
    /// The status change.
    #[serde(flatten)]
    pub change: StatusChanged,
    /// Carrier name.
    pub carrier: String,
    /// Carrier's tracking number.
    pub tracking_number: String,
    /// Delivery estimate.
    pub estimated_delivery: Option<Date>,
}

/// `order.returned`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderReturned {
    /// The status change.
    #[serde(flatten)]
    pub change: StatusChanged,
    /// The customer's reason.
    pub reason: String,
    /// The lines sent back; empty (and absent) when the whole order is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub item_ids: Vec<OrderItemId>,
}

/// `order.item_cancelled`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemCancelled {
    /// The line.
    pub item_id: OrderItemId,
    /// What it was for (`product:…`, `ticket-type:…`).
    pub reference: String,
    /// Its units, released upstream.
    pub quantity: u32,
    /// Why.
    pub reason: String,
    /// The refund started for a paid order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<RefundId>,
    /// Its amount, minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_amount: Option<i64>,
}

/// `order.edited`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderEdited {
    /// The edit.
    pub edit_id: crate::ids::OrderEditId,
    /// Why.
    pub reason: String,
    /// Lines added, with their prices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<CreatedItem>,
    /// Lines whose quantity changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<EditedLine>,
    /// Lines removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<OrderItemId>,
    /// The order's price before the edit.
    pub before: crate::pricing::PriceBreakdown,
    /// And after it.
    pub after: crate::pricing::PriceBreakdown,
    /// For an edit that raised a paid order's total: the difference its own intent captured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid: Option<EditPaid>,
}

/// The difference an edit's own intent captured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditPaid {
    /// The intent.
    pub payment_intent_id: PaymentIntentId,
    /// Captured, minor units.
    pub amount: i64,
}

/// `order.edit_awaiting_payment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditAwaitingPayment {
    /// The edit.
    pub edit_id: crate::ids::OrderEditId,
    /// The difference to pay, minor units.
    pub amount: i64,
    /// The intent that pays it.
    pub payment_intent_id: PaymentIntentId,
    /// When the edit lapses unpaid.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// `order.edit_lapsed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditLapsed {
    /// The edit.
    pub edit_id: crate::ids::OrderEditId,
    /// Its intent, cancelled.
    pub payment_intent_id: PaymentIntentId,
}

/// A line whose quantity an edit changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditedLine {
    /// The line.
    pub item_id: OrderItemId,
    /// Units before.
    pub quantity_before: u32,
    /// Units now.
    pub quantity: u32,
}

/// `order.tickets_allocated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketsAllocated {
    /// The issued tickets.
    pub ticket_ids: Vec<TicketId>,
}

/// `refund.requested`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundRequested {
    /// The refund.
    pub refund_id: RefundId,
    /// Amount, minor units.
    pub amount: i64,
    /// PENDING, or APPROVED when below the auto-approval threshold.
    pub status: RefundStatus,
    /// Lines it covers (empty for an amount refund).
    pub items: Vec<OrderItemId>,
    /// Why.
    pub reason: String,
}

/// `refund.approved` / `refund.rejected`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundDecided {
    /// The refund.
    pub refund_id: RefundId,
    /// Amount, minor units.
    pub amount: i64,
    /// The admin's note (the reason, for rejections).
    pub note: Option<String>,
}

/// `refund.completed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundCompleted {
    /// The refund.
    pub refund_id: RefundId,
    /// Amount paid back, minor units.
    pub amount: i64,
    /// The payment service's reference.
    pub payment_reference: String,
}

/// `refund.failed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundFailed {
    /// The refund.
    pub refund_id: RefundId,
    /// What the payment service said.
    pub reason: String,
    /// Attempts so far.
    pub attempts: u32,
}

/// The outbox and RabbitMQ envelope (docs/product/events.md): `{id, type, version, occurredAt,
/// tenantId, orderId, data}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventEnvelope {
    /// Unique event id (= AMQP `message_id`).
    pub id: DomainEventId,
    /// Payload version.
    pub version: u16,
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// Tenant of the order.
    pub tenant_id: TenantId,
    /// The order.
    pub order_id: OrderId,
    /// `type` and `data`.
    #[serde(flatten)]
    pub event: OrderEvent,
}

impl EventEnvelope {
    /// Wraps `event` for the outbox.
    pub fn new(
        id: DomainEventId,
        tenant_id: TenantId,
        order_id: OrderId,
        occurred_at: OffsetDateTime,
        event: OrderEvent,
    ) -> Self {
        Self {
            id,
            version: EVENT_VERSION,
            occurred_at,
            tenant_id,
            order_id,
            event,
        }
    }

    /// The routing key: the event's name.
    pub fn event_type(&self) -> &'static str {
        self.event.name()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;

    #[test]
    fn envelopes_serialize_with_type_and_data_and_read_back() {
        let envelope = EventEnvelope::new(
            DomainEventId::from_uuid(Uuid::from_u128(1)),
            TenantId::from_uuid(Uuid::from_u128(2)),
            OrderId::from_uuid(Uuid::from_u128(3)),
            datetime!(2026-11-22 10:00 UTC),
            OrderEvent::Expired(OrderExpired {
                change: StatusChanged {
                    from: OrderStatus::Reserved,
                    to: OrderStatus::Expired,
                },
                hold_id: Some(HoldId::new("hold-1")),
                forced_reason: None,
            }),
        );
        let json = serde_json::to_value(&envelope).expect("serializes");
        assert_eq!(json["type"], "order.expired");
        assert_eq!(json["version"], 1);
        assert_eq!(json["occurredAt"], "2026-11-22T10:00:00Z");
        assert_eq!(json["data"]["from"], "RESERVED");
        assert_eq!(json["data"]["holdId"], "hold-1");
        let back: EventEnvelope = serde_json::from_value(json).expect("reads back");
        assert_eq!(back, envelope);
        assert_eq!(back.event_type(), "order.expired");
    }

    #[test]
    fn the_payload_is_the_data_object() {
        let event = OrderEvent::TicketsAllocated(TicketsAllocated {
            ticket_ids: vec![TicketId::new("t-1")],
        });
        assert_eq!(event.payload(), serde_json::json!({"ticketIds": ["t-1"]}));
        assert_eq!(event.status_change(), None);
    }
}
