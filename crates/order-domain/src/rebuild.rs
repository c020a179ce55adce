//! An order rebuilt from its stored events (`order-api events rebuild`, docs/events.md): what
//! the events say about the order, folded oldest first, and where the stored order disagrees.
//!
//! The events are the published contract, not the aggregate's storage, so the fold covers what
//! they carry: the order's identity, its status, its total (unless a line was cancelled, whose
//! event carries the refund, not the new price), the refunds paid, the tickets issued and the
//! shipment.

use std::collections::{BTreeMap, BTreeSet};

use crate::events::{EventEnvelope, OrderEvent};
use crate::ids::{EventId, OrderNumber, RefundId, TicketId, UserId};
use crate::money::Currency;
use crate::order::{Order, OrderKind, OrderStatus, RefundStatus};

/// What an order's events say about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Folded {
    /// Events folded.
    pub events: usize,
    /// From `order.created`.
    pub number: Option<OrderNumber>,
    /// From `order.created`.
    pub kind: Option<OrderKind>,
    /// From `order.created`.
    pub user_id: Option<UserId>,
    /// From `order.created`.
    pub event_id: Option<EventId>,
    /// From `order.created`.
    pub currency: Option<Currency>,
    /// PENDING at creation, then each status change's target.
    pub status: Option<OrderStatus>,
    /// At creation, then each edit's; `None` once a line was cancelled.
    pub total: Option<i64>,
    /// Whether a line was cancelled (the total is not followed then).
    pub lines_cancelled: bool,
    /// Refunds paid, with their amounts.
    pub refunds_paid: BTreeMap<RefundId, i64>,
    /// Every ticket ever issued.
    pub tickets: BTreeSet<TicketId>,
    /// The last shipment: carrier and tracking number.
    pub shipment: Option<(String, String)>,
}

/// Folds `events` (one order's, oldest first).
pub fn fold(events: &[EventEnvelope]) -> Folded {
    let mut folded = Folded {
        events: events.len(),
        ..Folded::default()
    };
    for envelope in events {
        if let Some((_, to)) = envelope.event.status_change() {
            folded.status = Some(to);
        }
        match &envelope.event {
            OrderEvent::Created(created) => {
                folded.number = Some(created.order_number.clone());
                folded.kind = Some(created.kind);
                folded.user_id = Some(created.user_id);
                folded.event_id = created.event_id;
                folded.currency = Some(created.currency);
                folded.status = Some(OrderStatus::Pending);
                folded.total = Some(created.total);
            }
            OrderEvent::Edited(edited) if !folded.lines_cancelled => {
                folded.total = Some(edited.after.total().minor());
            }
            OrderEvent::ItemCancelled(_) => {
                folded.lines_cancelled = true;
                folded.total = None;
            }
            OrderEvent::RefundCompleted(paid) => {
                folded.refunds_paid.insert(paid.refund_id, paid.amount);
            }
            OrderEvent::TicketsAllocated(issued) => {
                folded.tickets.extend(issued.ticket_ids.iter().cloned());
            }
            OrderEvent::Shipped(shipped) => {
                folded.shipment = Some((shipped.carrier.clone(), shipped.tracking_number.clone()));
            }
            _ => {}
        }
    }
    folded
}

/// Where `order` as stored disagrees with what its events say, one line per field.
pub fn differences(folded: &Folded, order: &Order) -> Vec<String> {
    let mut found = Vec::new();
    let mut check = |field: &str, said: String, stored: String| {
        if said != stored {
            found.push(format!(
                "{field}: the events say {said}, the order has {stored}"
            ));
        }
    };
    check(
        "number",
        show(folded.number.as_ref()),
        order.number().to_string(),
    );
    check(
        "kind",
        folded.kind.map_or("nothing", OrderKind::as_str).to_owned(),
        order.kind().as_str().to_owned(),
    );
    check(
        "userId",
        show(folded.user_id.as_ref()),
        order.user_id().to_string(),
    );
    check(
        "eventId",
        show(folded.event_id.as_ref()),
        show(order.event_id().as_ref()),
    );
    check(
        "currency",
        show(folded.currency.as_ref()),
        order.currency().to_string(),
    );
    check(
        "status",
        show(folded.status.as_ref()),
        order.status().to_string(),
    );
    if let Some(total) = folded.total {
        check(
            "total",
            total.to_string(),
            order.total().minor().to_string(),
        );
    }
    let stored_paid: BTreeMap<RefundId, i64> = order
        .refunds()
        .iter()
        .filter(|r| r.status == RefundStatus::Completed)
        .map(|r| (r.id, r.amount))
        .collect();
    check(
        "refundsPaid",
        format!("{:?}", folded.refunds_paid),
        format!("{stored_paid:?}"),
    );
    check(
        "shipment",
        format!("{:?}", folded.shipment),
        format!(
            "{:?}",
            order
                .shipment()
                .map(|s| (s.carrier.clone(), s.tracking_number.clone()))
        ),
    );
    let unissued: Vec<&TicketId> = order
        .ticket_ids()
        .iter()
        .filter(|t| !folded.tickets.contains(*t))
        .collect();
    if !unissued.is_empty() {
        found.push(format!(
            "tickets: the order has tickets no event issued: {unissued:?}"
        ));
    }
    found
}

fn show<T: std::fmt::Display>(value: Option<&T>) -> String {
    value.map_or_else(|| "nothing".to_owned(), ToString::to_string)
}
