//! Audit entries: one per state change, written in the same transaction as the change.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::actor::Actor;
use crate::ids::{AuditEntryId, OrderId, TenantId};
use crate::order::OrderStatus;

/// One line of an order's history (`GET /orders/{id}/events`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Unique id.
    pub id: AuditEntryId,
    /// Tenant of the order.
    pub tenant_id: TenantId,
    /// The order it is about.
    pub order_id: OrderId,
    /// The domain event's stable name (`order.confirmed`, `refund.approved`, …).
    pub event_type: String,
    /// Status before, when the status changed.
    pub from_status: Option<OrderStatus>,
    /// Status after, when the status changed.
    pub to_status: Option<OrderStatus>,
    /// Who caused it.
    pub actor: Actor,
    /// The caller's address, when the change came over HTTP.
    pub ip: Option<IpAddr>,
    /// The event's payload.
    pub metadata: serde_json::Value,
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
}
