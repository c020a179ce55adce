//! An order on the wire: its lines, prices, addresses, shipment, refunds and milestones, in the
//! ticketing API's shapes (camelCase, amounts in minor units, times in RFC 3339); the full view
//! for owners and admins, and the warehouse view.

use order_domain::ids::{EventId, OrderItemId};
use order_domain::order::{ItemProduct, Order, OrderStatus};
use order_domain::pricing::PriceBreakdown;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::RefundResponse;
use super::address::AddressBody;
use super::schemas::{CurrencySchema, OrderKindSchema, OrderStatusSchema};

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

/// An edit waiting for its difference to be paid.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PendingEdit)]
pub struct PendingEditBody {
    #[schema(value_type = uuid::Uuid)]
    edit_id: order_domain::ids::OrderEditId,
    /// The difference, minor units.
    amount: i64,
    payment_intent_id: String,
    /// When it lapses unpaid.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    expires_at: time::OffsetDateTime,
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
    /// The edits applied to the order, oldest first (absent when none was); each is in
    /// `GET /orders/{id}/edits`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<uuid::Uuid>)]
    edit_ids: Vec<order_domain::ids::OrderEditId>,
    /// An edit raising the paid order's total, waiting for its difference to be paid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pending_edit: Option<PendingEditBody>,
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
    /// The stored version: each change adds one. An edit may name the version it was made from
    /// (`If-Match` or `version`) and is refused when the order changed meanwhile.
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
            edit_ids: order.edits().to_vec(),
            pending_edit: order.pending_edit().map(|pending| PendingEditBody {
                edit_id: pending.id,
                amount: pending.amount,
                payment_intent_id: pending.payment_intent_id.as_str().to_owned(),
                expires_at: pending.expires_at,
            }),
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
