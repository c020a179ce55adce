//! Response bodies: the ticketing API's shapes (camelCase, amounts in minor units, times in RFC
//! 3339), built from the domain's values. Each is a type, so the OpenAPI document describes exactly
//! what the handlers send.

use order_domain::audit::AuditEntry;
use order_domain::ids::{EventId, OrderItemId};
use order_domain::order::{ItemProduct, Order, OrderStatus, Refund, RefundStatus};
use order_domain::ports::{OrderCursor, OrderPage, OrderPageRequest, OrderSummary, RefundView};
use order_domain::pricing::PriceBreakdown;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::address::AddressBody;
use super::schemas::{CurrencySchema, OrderKindSchema, OrderStatusSchema, RefundStatusSchema};
use crate::cursor;

/// Money components of an order or line.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Pricing)]
pub struct PricingBody {
    subtotal: i64,
    discount: i64,
    platform_fee: i64,
    processing_fee: i64,
    shipping: i64,
    tax: i64,
    total: i64,
}

impl From<&PriceBreakdown> for PricingBody {
    fn from(p: &PriceBreakdown) -> Self {
        let c = p.components();
        Self {
            subtotal: c.subtotal,
            discount: c.discount,
            platform_fee: c.platform_fee,
            processing_fee: c.processing_fee,
            shipping: c.shipping,
            tax: c.tax,
            total: p.total().minor(),
        }
    }
}

/// What an order line is for.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = OrderItemType)]
pub enum ItemType {
    /// Tickets of one type at one price (`ticketTypeId`, `ticketPricingId`).
    Ticket,
    /// A product with the selected attributes (`productId`, `name`, `attributes`).
    Goods,
}

/// One order line: one flat object whose `type` says which fields it has (a shape every client
/// generator takes, unlike a union of the domain's variants).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OrderItem)]
pub struct ItemBody {
    #[schema(value_type = uuid::Uuid)]
    id: OrderItemId,
    #[serde(rename = "type")]
    kind: ItemType,
    /// Ticket lines: the ticket type (section, tier).
    #[serde(skip_serializing_if = "Option::is_none")]
    ticket_type_id: Option<uuid::Uuid>,
    /// Ticket lines: the price point within the type.
    #[serde(skip_serializing_if = "Option::is_none")]
    ticket_pricing_id: Option<uuid::Uuid>,
    /// Goods lines: the catalog product.
    #[serde(skip_serializing_if = "Option::is_none")]
    product_id: Option<uuid::Uuid>,
    /// Goods lines: the product's name when ordered.
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    /// Goods lines: the selected attributes (size, colour, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    attributes: Option<std::collections::BTreeMap<String, String>>,
    quantity: u32,
    unit_price: i64,
    pricing: PricingBody,
}

impl ItemBody {
    fn new(item: &order_domain::order::OrderItem) -> Self {
        let mut body = Self {
            id: item.id,
            kind: ItemType::Ticket,
            ticket_type_id: None,
            ticket_pricing_id: None,
            product_id: None,
            name: None,
            attributes: None,
            quantity: item.quantity,
            unit_price: item.unit_price,
            pricing: (&item.pricing).into(),
        };
        match &item.product {
            ItemProduct::Ticket {
                ticket_type_id,
                ticket_pricing_id,
            } => {
                body.ticket_type_id = Some(*ticket_type_id.as_uuid());
                body.ticket_pricing_id = Some(*ticket_pricing_id.as_uuid());
            }
            ItemProduct::Goods {
                product_id,
                name,
                attributes,
            } => {
                body.kind = ItemType::Goods;
                body.product_id = Some(*product_id.as_uuid());
                body.name = Some(name.clone());
                body.attributes = Some(attributes.clone());
            }
        }
        body
    }
}

/// One refund.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Refund)]
pub struct RefundResponse {
    #[schema(value_type = uuid::Uuid)]
    refund_id: order_domain::ids::RefundId,
    #[schema(value_type = uuid::Uuid)]
    order_id: order_domain::ids::OrderId,
    amount: i64,
    #[schema(value_type = CurrencySchema)]
    currency: &'static str,
    #[schema(value_type = RefundStatusSchema)]
    status: RefundStatus,
    reason: String,
    #[schema(value_type = Vec<uuid::Uuid>)]
    item_ids: Vec<OrderItemId>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    requested_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    completed_at: Option<OffsetDateTime>,
    failure_reason: Option<String>,
}

impl RefundResponse {
    /// A refund of `order`.
    pub fn new(order: &Order, refund: &Refund) -> Self {
        Self::from_parts(order.id(), order.currency().code(), refund)
    }

    fn from_parts(
        order_id: order_domain::ids::OrderId,
        currency: &'static str,
        refund: &Refund,
    ) -> Self {
        Self {
            refund_id: refund.id,
            order_id,
            amount: refund.amount,
            currency,
            status: refund.status,
            reason: refund.reason.clone(),
            item_ids: refund.items.clone(),
            requested_at: refund.requested_at,
            completed_at: refund.completed_at,
            failure_reason: refund.failure_reason.clone(),
        }
    }
}

impl From<&RefundView> for RefundResponse {
    fn from(view: &RefundView) -> Self {
        Self::from_parts(view.order_id, view.currency.code(), &view.refund)
    }
}

/// An order as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Order)]
pub struct OrderResponse {
    #[schema(value_type = uuid::Uuid)]
    id: order_domain::ids::OrderId,
    #[schema(example = "ORD-20261122-7K3QXA")]
    order_number: String,
    #[schema(value_type = uuid::Uuid)]
    user_id: order_domain::ids::UserId,
    #[schema(value_type = Option<uuid::Uuid>)]
    event_id: Option<EventId>,
    #[schema(value_type = OrderKindSchema)]
    kind: order_domain::order::OrderKind,
    #[schema(value_type = OrderStatusSchema)]
    status: OrderStatus,
    items: Vec<ItemBody>,
    pricing: PricingBody,
    #[schema(value_type = CurrencySchema)]
    currency: &'static str,
    payment_intent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    reservation_expires_at: Option<OffsetDateTime>,
    ticket_ids: Vec<String>,
    refunds: Vec<RefundResponse>,
    refunded_amount: i64,
    cancellation_reason: Option<String>,
    /// Goods orders: the lines of a partial return (absent when the whole order was returned).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<uuid::Uuid>)]
    returned_item_ids: Vec<OrderItemId>,
    /// The lines cancelled one by one, in the order they were cancelled (absent when none was).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<uuid::Uuid>)]
    cancelled_item_ids: Vec<OrderItemId>,
    /// Goods orders: where it ships.
    #[serde(skip_serializing_if = "Option::is_none")]
    shipping_address: Option<AddressBody>,
    /// Goods orders: where the invoice goes.
    #[serde(skip_serializing_if = "Option::is_none")]
    billing_address: Option<AddressBody>,
    /// Goods orders: the shipping method.
    #[serde(skip_serializing_if = "Option::is_none")]
    shipping_method: Option<String>,
    /// Goods orders: the applied promo code.
    #[serde(skip_serializing_if = "Option::is_none")]
    promo_code: Option<String>,
    /// Goods orders: the shopper's notes.
    #[serde(skip_serializing_if = "Option::is_none")]
    notes: Option<String>,
    /// Goods orders: how it travels, once shipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    shipment: Option<ShipmentBody>,
    /// Goods orders: the day it should arrive (`YYYY-MM-DD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    estimated_delivery: Option<String>,
    /// The client's own data, as given at creation.
    #[schema(value_type = Object)]
    metadata: serde_json::Value,
    version: u64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    reserved_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    confirmed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    cancelled_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    expired_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    refunded_at: Option<OffsetDateTime>,
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    processing_at: Option<OffsetDateTime>,
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    shipped_at: Option<OffsetDateTime>,
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    delivered_at: Option<OffsetDateTime>,
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    returned_at: Option<OffsetDateTime>,
}

/// A goods order's shipment.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Shipment)]
pub struct ShipmentBody {
    carrier: String,
    tracking_number: String,
    /// The label the shipping service made (none when the warehouse gave its own tracking).
    label_url: Option<String>,
    /// `YYYY-MM-DD`.
    #[schema(value_type = Option<String>, format = Date)]
    estimated_delivery: Option<String>,
}

impl OrderResponse {
    /// The API view of `order`; `client_secret` only right after creation.
    pub fn new(order: &Order, client_secret: Option<String>) -> Self {
        let m = order.milestones();
        let goods = order.goods();
        Self {
            id: order.id(),
            order_number: order.number().to_string(),
            user_id: order.user_id(),
            event_id: order.event_id(),
            kind: order.kind(),
            status: order.status(),
            items: order.items().iter().map(ItemBody::new).collect(),
            pricing: order.pricing().into(),
            currency: order.currency().code(),
            payment_intent_id: order.payment_intent_id().map(|p| p.as_str().to_owned()),
            client_secret,
            reservation_expires_at: order.status().is_unpaid().then(|| order.expires_at()),
            ticket_ids: order
                .ticket_ids()
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            refunds: order
                .refunds()
                .iter()
                .map(|r| RefundResponse::new(order, r))
                .collect(),
            refunded_amount: order.completed_refunds(),
            cancellation_reason: order.cancellation_reason().map(str::to_owned),
            returned_item_ids: order.return_items().to_vec(),
            cancelled_item_ids: order.cancelled_items().to_vec(),
            shipping_address: goods
                .shipping_address
                .as_ref()
                .map(AddressBody::from_domain),
            billing_address: goods.billing_address.as_ref().map(AddressBody::from_domain),
            shipping_method: goods.shipping_method.clone(),
            promo_code: goods.promo_code.clone(),
            notes: goods.notes.clone(),
            shipment: order.shipment().map(|s| ShipmentBody {
                carrier: s.carrier.clone(),
                tracking_number: s.tracking_number.clone(),
                label_url: s.label_url.clone(),
                estimated_delivery: s.estimated_delivery.map(|d| d.to_string()),
            }),
            estimated_delivery: None,
            metadata: order.metadata().to_value(),
            version: order.version(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            reserved_at: m.reserved_at,
            confirmed_at: m.confirmed_at,
            cancelled_at: m.cancelled_at,
            expired_at: m.expired_at,
            refunded_at: m.refunded_at,
            processing_at: m.processing_at,
            shipped_at: m.shipped_at,
            delivered_at: m.delivered_at,
            returned_at: m.returned_at,
        }
    }
}

impl OrderResponse {
    /// What warehouse staff see of an order they fulfill: the lines, where it ships and how —
    /// not the billing address, the client's metadata or the payment.
    #[must_use]
    pub fn for_warehouse(mut self) -> Self {
        self.billing_address = None;
        self.metadata = serde_json::Value::Object(serde_json::Map::new());
        self.payment_intent_id = None;
        self.client_secret = None;
        self.promo_code = None;
        self
    }

    /// With the day a goods order should arrive (the shipment's estimate once shipped).
    #[must_use]
    pub fn with_estimated_delivery(mut self, day: Option<time::Date>) -> Self {
        self.estimated_delivery = self
            .shipment
            .as_ref()
            .and_then(|s| s.estimated_delivery.clone())
            .or_else(|| day.map(|d| d.to_string()));
        self
    }
}

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

/// the ticketing API's `{orders, pagination}` plus the keyset cursor and the estimate flag
/// (docs/product/routes.md).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OrderPage)]
pub struct OrderPageResponse {
    orders: Vec<OrderResponse>,
    pagination: Pagination,
    summary: ListSummary,
}

/// the shop's `summary` of the matching orders (the same orders `pagination.total` counts), in
/// minor units.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListSummary {
    /// Matching orders (as `pagination.total`).
    total_orders: u64,
    /// What the paid, not fully refunded orders of `currency` came to.
    total_spent: i64,
    /// `totalSpent` per matching order of `currency`, rounded half up.
    average_order_value: i64,
    /// The currency of the newest matching order; orders in others are not in the amounts.
    /// Absent when nothing matches.
    #[schema(value_type = Option<String>, example = "USD")]
    currency: Option<&'static str>,
}

impl ListSummary {
    fn new(summary: &OrderSummary) -> Self {
        Self {
            total_orders: summary.orders,
            total_spent: summary.spent.map_or(0, |m| m.minor()),
            average_order_value: summary.average.map_or(0, |m| m.minor()),
            currency: summary.spent.map(|m| m.currency().code()),
        }
    }
}

/// Where a page is in the list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    /// Exact up to 1000 matching orders; above, 1000 with `totalIsEstimate`.
    total: u64,
    total_is_estimate: bool,
    limit: u32,
    offset: u32,
    has_more: bool,
    /// Pass as `cursor` for the next page.
    next_cursor: Option<String>,
}

impl OrderPageResponse {
    /// The API view of `result`, asked for as `page`.
    pub fn new(result: &OrderPage, page: OrderPageRequest) -> Self {
        Self::with_view(result, page, |o| OrderResponse::new(o, None))
    }

    /// The warehouse's view of `result` (see [`OrderResponse::for_warehouse`]).
    pub fn for_warehouse(result: &OrderPage, page: OrderPageRequest) -> Self {
        Self::with_view(result, page, |o| {
            OrderResponse::new(o, None).for_warehouse()
        })
    }

    fn with_view(
        result: &OrderPage,
        page: OrderPageRequest,
        view: impl Fn(&Order) -> OrderResponse,
    ) -> Self {
        Self {
            orders: result.orders.iter().map(view).collect(),
            pagination: Pagination {
                total: result.total,
                total_is_estimate: result.total_is_estimate,
                limit: page.limit,
                offset: page.offset,
                has_more: result.has_more,
                next_cursor: result
                    .has_more
                    .then(|| {
                        result
                            .orders
                            .last()
                            .map(|o| cursor::encode(&OrderCursor::after(o)))
                    })
                    .flatten(),
            },
            summary: ListSummary::new(&result.summary),
        }
    }
}

/// `POST …/reserve`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Reservation)]
pub struct ReservationResponse {
    #[schema(value_type = uuid::Uuid)]
    order_id: order_domain::ids::OrderId,
    #[schema(value_type = OrderStatusSchema)]
    status: OrderStatus,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    reservation_expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    reserved_at: Option<OffsetDateTime>,
    order: OrderResponse,
}

impl ReservationResponse {
    /// The hold of `order`.
    pub fn new(order: &Order) -> Self {
        Self {
            order_id: order.id(),
            status: order.status(),
            reservation_expires_at: order.expires_at(),
            reserved_at: order.milestones().reserved_at,
            order: OrderResponse::new(order, None),
        }
    }
}

/// Whether a cancellation paid money back.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RefundOutcome {
    /// Nothing was paid, nothing to refund.
    None,
    /// A refund is on its way (pending review or approved).
    Initiated,
    /// Paid back.
    Completed,
    /// The payment service refused; retried by a job.
    Failed,
}

impl RefundOutcome {
    /// What `refund` (started by a cancellation) has come to.
    pub fn of(refund: Option<&order_domain::order::Refund>) -> Self {
        refund.map_or(Self::None, |r| match r.status {
            RefundStatus::Completed => Self::Completed,
            RefundStatus::Failed => Self::Failed,
            _ => Self::Initiated,
        })
    }
}

/// `POST …/cancel`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Cancellation)]
pub struct CancellationResponse {
    #[schema(value_type = uuid::Uuid)]
    order_id: order_domain::ids::OrderId,
    #[schema(value_type = OrderStatusSchema)]
    status: OrderStatus,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    cancelled_at: Option<OffsetDateTime>,
    refund_status: RefundOutcome,
    refund: Option<RefundResponse>,
}

impl CancellationResponse {
    /// The cancelled `order` and the refund it started, if any.
    pub fn new(order: &Order, refund_id: Option<order_domain::ids::RefundId>) -> Self {
        let refund = refund_id.and_then(|r| order.refund(r));
        Self {
            order_id: order.id(),
            status: order.status(),
            cancelled_at: order.milestones().cancelled_at,
            refund_status: RefundOutcome::of(refund),
            refund: refund.map(|r| RefundResponse::new(order, r)),
        }
    }
}

/// `GET /admin/refunds`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RefundList)]
pub struct RefundListResponse {
    /// Oldest first.
    pub refunds: Vec<RefundResponse>,
}

/// An admin's decision on a refund: the refund and its order after it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RefundDecision)]
pub struct RefundDecisionResponse {
    refund: RefundResponse,
    order: OrderResponse,
}

impl RefundDecisionResponse {
    /// Refund `refund` of `order`.
    pub fn new(order: &Order, refund: &Refund) -> Self {
        Self {
            refund: RefundResponse::new(order, refund),
            order: OrderResponse::new(order, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::history_event_type;

    #[test]
    fn history_names_follow_seed_002() {
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
