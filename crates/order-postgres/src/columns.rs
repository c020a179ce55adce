//! The adapter's column arrays for writing: the rows one unit of work adds or changes, one array
//! per column, bound as typed parameters and spread into rows by `unnest` (one statement, one
//! round trip, however many rows).
//!
//! A child list of an element (a refund's lines, an audit actor's roles)
//! cannot be an element of a PostgreSQL array parameter (arrays of arrays must be rectangular),
//! so it travels as `(parent id, value)` pairs that the statement aggregates back.

use order_domain::actor::Actor;
use order_domain::audit::AuditEntry;
use order_domain::events::EventEnvelope;
use order_domain::ids::OrderId;
use order_domain::order::{Order, OrderItem, Refund};
use order_domain::ports::RepositoryError;
use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::item_row::ItemRow;
use crate::rows::{StoredAddress, role_name};
use crate::sealing::{AddressKeys, SealedColumn, SealedValue};
use crate::{corrupt, to_i32};

/// The lines of a new order as column arrays, one per column of `order_items`: what the insert
/// statement unnests, so an order of any size is one statement.
#[derive(Default)]
pub(crate) struct ItemColumns {
    pub id: Vec<Uuid>,
    pub ticket_type_id: Vec<Option<Uuid>>,
    pub ticket_pricing_id: Vec<Option<Uuid>>,
    pub product_id: Vec<Option<Uuid>>,
    pub product_name: Vec<Option<String>>,
    pub attributes: Vec<Option<serde_json::Value>>,
    pub quantity: Vec<i32>,
    pub unit_price: Vec<i64>,
    pub subtotal: Vec<i64>,
    pub discount: Vec<i64>,
    pub platform_fee: Vec<i64>,
    pub processing_fee: Vec<i64>,
    pub shipping: Vec<i64>,
    pub tax: Vec<i64>,
    pub total: Vec<i64>,
}

impl ItemColumns {
    pub(crate) fn of(items: &[OrderItem]) -> Result<Self, RepositoryError> {
        let mut columns = Self::default();
        for item in items {
            let row = ItemRow::of(item)?;
            columns.id.push(row.id);
            columns.ticket_type_id.push(row.ticket_type_id);
            columns.ticket_pricing_id.push(row.ticket_pricing_id);
            columns.product_id.push(row.product_id);
            columns.product_name.push(row.product_name);
            columns.attributes.push(
                row.attributes
                    .map(|a| serde_json::to_value(a.0))
                    .transpose()
                    .map_err(corrupt)?,
            );
            columns.quantity.push(row.quantity);
            columns.unit_price.push(row.unit_price);
            columns.subtotal.push(row.subtotal);
            columns.discount.push(row.discount);
            columns.platform_fee.push(row.platform_fee);
            columns.processing_fee.push(row.processing_fee);
            columns.shipping.push(row.shipping);
            columns.tax.push(row.tax);
            columns.total.push(row.total);
        }
        Ok(columns)
    }
}

/// Status changes of stored, unpaid orders (a batch): status, window, payment intent, reasons and
/// milestones. Refunds, tickets and shipments never change in a batch.
#[derive(Default)]
pub(crate) struct OrderUpdates {
    pub id: Vec<Uuid>,
    pub version: Vec<i64>,
    pub status: Vec<&'static str>,
    pub hold_id: Vec<Option<String>>,
    pub expires_at: Vec<OffsetDateTime>,
    pub payment_intent_id: Vec<Option<String>>,
    pub refundable_max: Vec<Option<i64>>,
    pub cancellation_reason: Vec<Option<String>>,
    pub return_reason: Vec<Option<String>>,
    pub updated_at: Vec<OffsetDateTime>,
    pub reserved_at: Vec<Option<OffsetDateTime>>,
    pub confirmed_at: Vec<Option<OffsetDateTime>>,
    pub processing_at: Vec<Option<OffsetDateTime>>,
    pub shipped_at: Vec<Option<OffsetDateTime>>,
    pub delivered_at: Vec<Option<OffsetDateTime>>,
    pub cancelled_at: Vec<Option<OffsetDateTime>>,
    pub expired_at: Vec<Option<OffsetDateTime>>,
    pub returned_at: Vec<Option<OffsetDateTime>>,
    pub refunded_at: Vec<Option<OffsetDateTime>>,
    /// How the order moves its buyer's per-event quota: +1 entering the active statuses, -1
    /// leaving them.
    pub place_delta: Vec<i32>,
}

impl OrderUpdates {
    pub(crate) fn push(&mut self, order: &Order, place_delta: i32) -> Result<(), RepositoryError> {
        let record = order.record();
        let milestones = &record.milestones;
        self.id.push(*record.id.as_uuid());
        self.version
            .push(i64::try_from(record.version).map_err(corrupt)?);
        self.status.push(record.status.as_str());
        self.hold_id
            .push(record.hold_id.as_ref().map(|h| h.as_str().to_owned()));
        self.expires_at.push(record.expires_at);
        self.payment_intent_id.push(
            record
                .payment_intent_id
                .as_ref()
                .map(|p| p.as_str().to_owned()),
        );
        self.refundable_max.push(record.refundable_max);
        self.cancellation_reason
            .push(record.cancellation_reason.clone());
        self.return_reason.push(record.return_reason.clone());
        self.updated_at.push(milestones.updated_at);
        self.reserved_at.push(milestones.reserved_at);
        self.confirmed_at.push(milestones.confirmed_at);
        self.processing_at.push(milestones.processing_at);
        self.shipped_at.push(milestones.shipped_at);
        self.delivered_at.push(milestones.delivered_at);
        self.cancelled_at.push(milestones.cancelled_at);
        self.expired_at.push(milestones.expired_at);
        self.returned_at.push(milestones.returned_at);
        self.refunded_at.push(milestones.refunded_at);
        self.place_delta.push(place_delta);
        Ok(())
    }
}

/// The refunds of one stored order (inserted, or updated when they exist).
#[derive(Default)]
pub(crate) struct RefundColumns {
    pub id: Vec<Uuid>,
    pub amount: Vec<i64>,
    pub status: Vec<&'static str>,
    pub reason: Vec<String>,
    pub requested_by: Vec<String>,
    pub requested_at: Vec<OffsetDateTime>,
    pub decided_by: Vec<Option<String>>,
    pub decided_at: Vec<Option<OffsetDateTime>>,
    pub decision_note: Vec<Option<String>>,
    pub payment_reference: Vec<Option<String>>,
    pub failure_reason: Vec<Option<String>>,
    pub attempts: Vec<i32>,
    pub completed_at: Vec<Option<OffsetDateTime>>,
    pub retry_at: Vec<Option<OffsetDateTime>>,
    /// The refunds' lines as `(refund id, item id)` pairs.
    pub line_refund: Vec<Uuid>,
    pub line_item: Vec<Uuid>,
}

impl RefundColumns {
    pub(crate) fn push(&mut self, order: &Order) {
        for refund in &order.record().refunds {
            self.push_one(refund);
        }
    }

    fn push_one(&mut self, refund: &Refund) {
        self.id.push(*refund.id.as_uuid());
        self.amount.push(refund.amount);
        self.status.push(refund.status.as_str());
        self.reason.push(refund.reason.clone());
        self.requested_by.push(refund.requested_by.clone());
        self.requested_at.push(refund.requested_at);
        self.decided_by.push(refund.decided_by.clone());
        self.decided_at.push(refund.decided_at);
        self.decision_note.push(refund.decision_note.clone());
        self.payment_reference
            .push(refund.payment_reference.clone());
        self.failure_reason.push(refund.failure_reason.clone());
        self.attempts.push(to_i32(refund.attempts));
        self.completed_at.push(refund.completed_at);
        self.retry_at.push(refund.retry_at);
        for item in &refund.items {
            self.line_refund.push(*refund.id.as_uuid());
            self.line_item.push(*item.as_uuid());
        }
    }
}

/// Ledger entries.
#[derive(Default)]
pub(crate) struct LedgerColumns {
    pub id: Vec<Uuid>,
    pub kind: Vec<&'static str>,
    pub amount: Vec<i64>,
    pub currency: Vec<&'static str>,
    pub refund_id: Vec<Option<Uuid>>,
    pub reference: Vec<Option<String>>,
    pub occurred_at: Vec<OffsetDateTime>,
}

impl LedgerColumns {
    pub(crate) fn push(&mut self, entries: &[order_domain::ledger::LedgerEntry]) {
        for entry in entries {
            self.id.push(*entry.id.as_uuid());
            self.kind.push(entry.kind.as_str());
            self.amount.push(entry.amount);
            self.currency.push(entry.currency.code());
            self.refund_id.push(entry.refund_id.map(|r| *r.as_uuid()));
            self.reference.push(entry.reference.clone());
            self.occurred_at.push(entry.occurred_at);
        }
    }
}

/// Invoices and credit notes to number and store; the content is kept as the document it is
/// served as (it never changes and is never queried by its fields), except the buyer, personal
/// data sealed like the order's addresses.
#[derive(Default)]
pub(crate) struct DocumentColumns {
    pub buyer: Vec<Json<SealedValue>>,
    pub kind: Vec<&'static str>,
    pub year: Vec<i32>,
    pub refund_id: Vec<Option<Uuid>>,
    pub issued_at: Vec<OffsetDateTime>,
    pub total: Vec<i64>,
    pub currency: Vec<&'static str>,
    pub content: Vec<serde_json::Value>,
}

impl DocumentColumns {
    pub(crate) fn new(
        documents: &[order_domain::documents::DocumentContent],
        keys: &AddressKeys,
    ) -> Result<Self, RepositoryError> {
        let mut columns = Self::default();
        for document in documents {
            let buyer = serde_json::to_vec(&document.buyer).map_err(corrupt)?;
            columns.buyer.push(Json(keys.seal(
                document.order_id,
                SealedColumn::DocumentBuyer,
                &buyer,
            )?));
            columns.kind.push(document.kind.as_str());
            columns.year.push(document.year());
            columns
                .refund_id
                .push(document.refund_id.map(|r| *r.as_uuid()));
            columns.issued_at.push(document.issued_at);
            columns.total.push(document.total);
            columns.currency.push(document.currency.code());
            let mut content = serde_json::to_value(document).map_err(corrupt)?;
            if let Some(fields) = content.as_object_mut() {
                fields.remove("buyer");
            }
            columns.content.push(content);
        }
        Ok(columns)
    }
}

/// Audit entries.
#[derive(Default)]
pub(crate) struct AuditColumns {
    pub order_id: Vec<Uuid>,
    pub id: Vec<Uuid>,
    pub event_type: Vec<String>,
    pub from_status: Vec<Option<&'static str>>,
    pub to_status: Vec<Option<&'static str>>,
    pub actor_kind: Vec<&'static str>,
    pub actor_name: Vec<String>,
    pub actor_vip: Vec<bool>,
    pub ip: Vec<Option<String>>,
    pub metadata: Vec<serde_json::Value>,
    pub occurred_at: Vec<OffsetDateTime>,
    /// The actors' roles as `(audit entry id, role)` pairs.
    pub role_entry: Vec<Uuid>,
    pub role: Vec<&'static str>,
}

impl AuditColumns {
    pub(crate) fn push(&mut self, entries: &[AuditEntry]) {
        for entry in entries {
            let (kind, name, vip) = match &entry.actor {
                Actor::User { id, roles, vip } => {
                    for role in roles {
                        self.role_entry.push(*entry.id.as_uuid());
                        self.role.push(role_name(*role));
                    }
                    ("user", id.to_string(), *vip)
                }
                Actor::Service { name } => ("service", name.clone(), false),
                Actor::System { name } => ("system", name.clone(), false),
            };
            self.order_id.push(*entry.order_id.as_uuid());
            self.id.push(*entry.id.as_uuid());
            self.event_type.push(entry.event_type.clone());
            self.from_status.push(entry.from_status.map(|s| s.as_str()));
            self.to_status.push(entry.to_status.map(|s| s.as_str()));
            self.actor_kind.push(kind);
            self.actor_name.push(name);
            self.actor_vip.push(vip);
            self.ip.push(entry.ip.map(|ip| ip.to_string()));
            self.metadata.push(entry.metadata.clone());
            self.occurred_at.push(entry.occurred_at);
        }
    }
}

/// Outbox messages, in the order they are to be published. The payload is the message itself
/// (docs/product/events.md's envelope), which the relay publishes as stored.
#[derive(Default)]
pub(crate) struct OutboxColumns {
    pub order_id: Vec<Uuid>,
    pub id: Vec<Uuid>,
    pub event_type: Vec<&'static str>,
    pub payload: Vec<serde_json::Value>,
    pub occurred_at: Vec<OffsetDateTime>,
    /// The trace the change was made in (W3C `traceparent`), for the relay to pass on.
    pub traceparent: Option<String>,
}

impl OutboxColumns {
    pub(crate) fn push(&mut self, envelopes: &[EventEnvelope]) -> Result<(), RepositoryError> {
        for envelope in envelopes {
            self.order_id.push(*envelope.order_id.as_uuid());
            self.id.push(*envelope.id.as_uuid());
            self.event_type.push(envelope.event_type());
            self.payload
                .push(serde_json::to_value(envelope).map_err(corrupt)?);
            self.occurred_at.push(envelope.occurred_at);
        }
        if self.traceparent.is_none() && !envelopes.is_empty() {
            self.traceparent = order_trace_context::current_traceparent();
        }
        Ok(())
    }
}

/// A postal address column: sealed for `order`'s `column`.
pub(crate) fn address_column(
    keys: &AddressKeys,
    order: OrderId,
    column: SealedColumn,
    address: Option<&order_domain::order::Address>,
) -> Result<Option<Json<StoredAddress>>, RepositoryError> {
    address
        .map(|a| StoredAddress::seal(keys, order, column, a).map(Json))
        .transpose()
}

/// The contact e-mail column: sealed for `order`.
pub(crate) fn contact_email_column(
    keys: &AddressKeys,
    order: OrderId,
    email: Option<&order_domain::order::ContactEmail>,
) -> Result<Option<Json<SealedValue>>, RepositoryError> {
    email
        .map(|e| {
            keys.seal(order, SealedColumn::ContactEmail, e.as_str().as_bytes())
                .map(Json)
        })
        .transpose()
}
