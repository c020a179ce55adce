//! One order line as storage holds it (`order_item_row`): the order view's line, the insert's
//! columns and a stored pending edit's line are all this shape.

use std::collections::BTreeMap;

use order_domain::ids::{OrderItemId, ProductId, TicketPricingId, TicketTypeId};
use order_domain::order::{ItemProduct, OrderItem};
use order_domain::ports::RepositoryError;
use order_domain::pricing::{Components, PriceBreakdown};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use crate::{corrupt, corrupt_data};

/// One order line (`order_item_row`): either the ticket columns or the product columns are set.
/// The same shape is the line of a stored pending edit's JSON document.
#[derive(Debug, sqlx::Type, Serialize, Deserialize)]
#[sqlx(type_name = "order_item_row")]
#[serde(rename_all = "camelCase")]
pub(crate) struct ItemRow {
    pub id: Uuid,
    pub ticket_type_id: Option<Uuid>,
    pub ticket_pricing_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
    pub product_name: Option<String>,
    pub attributes: Option<Json<BTreeMap<String, String>>>,
    pub quantity: i32,
    pub unit_price: i64,
    pub subtotal: i64,
    pub discount: i64,
    pub platform_fee: i64,
    pub processing_fee: i64,
    pub shipping: i64,
    pub tax: i64,
    pub total: i64,
}

impl ItemRow {
    pub(crate) fn into_item(
        self,
        breakdown: &impl Fn(Components, i64) -> Result<PriceBreakdown, RepositoryError>,
    ) -> Result<OrderItem, RepositoryError> {
        let product = match (
            self.ticket_type_id,
            self.ticket_pricing_id,
            self.product_id,
            self.product_name,
            self.attributes,
        ) {
            (Some(ticket_type), Some(ticket_pricing), None, None, None) => ItemProduct::Ticket {
                ticket_type_id: TicketTypeId::from_uuid(ticket_type),
                ticket_pricing_id: TicketPricingId::from_uuid(ticket_pricing),
            },
            (None, None, Some(product), Some(name), Some(attributes)) => ItemProduct::Goods {
                product_id: ProductId::from_uuid(product),
                name,
                attributes: attributes.0,
            },
            _ => {
                return Err(corrupt_data(
                    "a line that is neither tickets nor one product",
                ));
            }
        };
        Ok(OrderItem {
            id: OrderItemId::from_uuid(self.id),
            product,
            quantity: u32::try_from(self.quantity).map_err(corrupt)?,
            unit_price: self.unit_price,
            pricing: breakdown(
                Components {
                    subtotal: self.subtotal,
                    discount: self.discount,
                    platform_fee: self.platform_fee,
                    processing_fee: self.processing_fee,
                    shipping: self.shipping,
                    tax: self.tax,
                },
                self.total,
            )?,
        })
    }
}

impl ItemRow {
    /// `item` as the row the order view gives for it: what the insert's columns and a pending
    /// edit's document are made of.
    pub(crate) fn of(item: &OrderItem) -> Result<Self, RepositoryError> {
        let (ticket_type_id, ticket_pricing_id, product_id, product_name, attributes) =
            match &item.product {
                ItemProduct::Ticket {
                    ticket_type_id,
                    ticket_pricing_id,
                } => (
                    Some(*ticket_type_id.as_uuid()),
                    Some(*ticket_pricing_id.as_uuid()),
                    None,
                    None,
                    None,
                ),
                ItemProduct::Goods {
                    product_id,
                    name,
                    attributes,
                } => (
                    None,
                    None,
                    Some(*product_id.as_uuid()),
                    Some(name.clone()),
                    Some(Json(attributes.clone())),
                ),
            };
        let c = item.pricing.components();
        Ok(Self {
            id: *item.id.as_uuid(),
            ticket_type_id,
            ticket_pricing_id,
            product_id,
            product_name,
            attributes,
            quantity: i32::try_from(item.quantity).map_err(corrupt)?,
            unit_price: item.unit_price,
            subtotal: c.subtotal,
            discount: c.discount,
            platform_fee: c.platform_fee,
            processing_fee: c.processing_fee,
            shipping: c.shipping,
            tax: c.tax,
            total: item.pricing.total().minor(),
        })
    }
}
