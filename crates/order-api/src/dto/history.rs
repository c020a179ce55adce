//! An order's audit history on the wire: each entry names its change in capitals
//! (`ORDER_CREATED`), with who made it and the statuses before and after.

use order_domain::audit::AuditEntry;
use order_domain::order::OrderStatus;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::schemas::OrderStatusSchema;

/// One line of an order's history.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    #[schema(value_type = uuid::Uuid)]
    id: order_domain::ids::AuditEntryId,
    #[schema(value_type = uuid::Uuid)]
    order_id: order_domain::ids::OrderId,
    #[schema(example = "ORDER_CREATED")]
    event_type: String,
    #[schema(value_type = Option<OrderStatusSchema>)]
    from_status: Option<OrderStatus>,
    #[schema(value_type = Option<OrderStatusSchema>)]
    to_status: Option<OrderStatus>,
    /// Who made the change: `{type: user, id, roles, vip}`, `{type: service, name}` or
    /// `{type: system, name}`; a buyer sees `{type: staff}` for anyone else who changed their
    /// order.
    #[schema(value_type = Object)]
    actor: HistoryActor,
    /// The client's address: for admins, and for a buyer's own requests.
    ip_address: Option<String>,
    #[schema(value_type = Object)]
    metadata: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    created_at: OffsetDateTime,
}

/// The actor of a history line, as its reader may see it.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum HistoryActor {
    /// Someone on the staff (or another person) changed a buyer's order: buyers see what
    /// happened, not who did it.
    Staff,
    /// Admins see every actor as recorded; a buyer sees themselves.
    #[serde(untagged)]
    Recorded(order_domain::actor::Actor),
}

impl HistoryEntry {
    /// `entry` as `viewer` may read it: admins (and services) see who did what from where;
    /// anyone else sees the staff as `staff` and only their own addresses.
    pub fn seen_by(entry: AuditEntry, viewer: &order_domain::actor::Actor) -> Self {
        use order_domain::actor::Actor;
        let own = viewer.user_id().is_some() && entry.actor.user_id() == viewer.user_id();
        let (actor, ip) = match entry.actor {
            _ if viewer.is_privileged() || own => (HistoryActor::Recorded(entry.actor), entry.ip),
            actor @ (Actor::Service { .. } | Actor::System { .. }) => {
                (HistoryActor::Recorded(actor), None)
            }
            Actor::User { .. } => (HistoryActor::Staff, None),
        };
        Self {
            id: entry.id,
            order_id: entry.order_id,
            event_type: history_event_type(&entry.event_type),
            from_status: entry.from_status,
            to_status: entry.to_status,
            actor,
            ip_address: ip.map(|ip| ip.to_string()),
            metadata: entry.metadata,
            created_at: entry.occurred_at,
        }
    }
}

/// The audit history's name for a domain event (docs/product/routes.md, the ticketing API's style):
/// `order.created` is
/// `ORDER_CREATED`, an expiry is `RESERVATION_EXPIRED`, `refund.approved` is `REFUND_APPROVED`.
/// Messages on the broker keep the dotted names.
pub fn history_event_type(event: &str) -> String {
    match event {
        "order.expired" => "RESERVATION_EXPIRED".to_owned(),
        "order.tickets_allocated" => "TICKETS_ALLOCATED".to_owned(),
        other => other.replace('.', "_").to_ascii_uppercase(),
    }
}

/// `GET /orders/{id}/events`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = History)]
pub struct HistoryResponse {
    /// Oldest first.
    pub events: Vec<HistoryEntry>,
}

#[cfg(test)]
mod tests {
    use super::history_event_type;

    #[test]
    fn history_names_are_the_ticketing_apis() {
        let names = [
            ("order.created", "ORDER_CREATED"),
            ("order.reserved", "ORDER_RESERVED"),
            ("order.confirmed", "ORDER_CONFIRMED"),
            ("order.cancelled", "ORDER_CANCELLED"),
            ("order.refunded", "ORDER_REFUNDED"),
            ("order.expired", "RESERVATION_EXPIRED"),
            ("order.processing", "ORDER_PROCESSING"),
            ("order.shipped", "ORDER_SHIPPED"),
            ("order.delivered", "ORDER_DELIVERED"),
            ("order.returned", "ORDER_RETURNED"),
            ("order.tickets_allocated", "TICKETS_ALLOCATED"),
            ("refund.requested", "REFUND_REQUESTED"),
            ("refund.approved", "REFUND_APPROVED"),
            ("refund.rejected", "REFUND_REJECTED"),
            ("refund.completed", "REFUND_COMPLETED"),
            ("refund.failed", "REFUND_FAILED"),
        ];
        for (event, name) in names {
            assert_eq!(history_event_type(event), name, "{event}");
        }
    }
}
