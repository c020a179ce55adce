//! Order lines: what a line is for (tickets of one type and price, or a product with its selected
//! attributes) and its share of every price component.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{OrderItemId, ProductId, TicketPricingId, TicketTypeId};
use crate::money::Currency;
use crate::pricing::{
    FeeSchedule, PriceBreakdown, PricedOrder, PricingError, PricingLine, PricingRequest,
    price_order,
};

/// What an order line is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ItemProduct {
    /// Tickets of one type at one price.
    #[serde(rename_all = "camelCase")]
    Ticket {
        /// The ticket type (section, tier).
        ticket_type_id: TicketTypeId,
        /// The price point within the type.
        ticket_pricing_id: TicketPricingId,
    },
    /// A product with the shopper's selected attributes.
    #[serde(rename_all = "camelCase")]
    Goods {
        /// The catalog product.
        product_id: ProductId,
        /// Name at the time of ordering.
        name: String,
        /// Selected attributes (size, colour, …).
        attributes: BTreeMap<String, String>,
    },
}

impl ItemProduct {
    /// A short text reference for events and logs.
    pub fn reference(&self) -> String {
        match self {
            Self::Ticket { ticket_type_id, .. } => format!("ticket-type:{ticket_type_id}"),
            Self::Goods { product_id, .. } => format!("product:{product_id}"),
        }
    }

    /// What the per-group limit counts this line under: its ticket type, or its product.
    pub fn limit_group(&self) -> uuid::Uuid {
        match self {
            Self::Ticket { ticket_type_id, .. } => *ticket_type_id.as_uuid(),
            Self::Goods { product_id, .. } => *product_id.as_uuid(),
        }
    }
}

/// One line of an order with its share of every price component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    /// Line id.
    pub id: OrderItemId,
    /// What it is.
    pub product: ItemProduct,
    /// Units, ≥ 1.
    pub quantity: u32,
    /// Price of one unit, minor units.
    pub unit_price: i64,
    /// The line's share of the order's breakdown; the lines add up to the order exactly.
    pub pricing: PriceBreakdown,
}

/// Prices new items at their own unit prices by `schedule`, with no discount, shipping or tax
/// override: what `NewOrder::priced` needs for an order whose prices come with its
/// items (tickets), so that each price is written once.
///
/// # Errors
/// [`PricingError`] for no items, a negative unit price or an overflow.
pub fn price_items(
    schedule: &FeeSchedule,
    currency: Currency,
    items: &[super::NewOrderItem],
) -> Result<PricedOrder, PricingError> {
    price_order(
        schedule,
        &PricingRequest {
            currency,
            lines: items
                .iter()
                .map(|item| PricingLine {
                    unit_price: item.unit_price,
                    quantity: item.quantity,
                })
                .collect(),
            discount: 0,
            shipping: 0,
            tax_rate: None,
        },
    )
}
