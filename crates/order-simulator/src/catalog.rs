//! The catalog a simulator serves (`SIMULATOR_SEED_FILE`, `PUT /_admin/seed`): events with
//! their ticket types and prices, and products with their prices and stock.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// Everything the simulated services sell.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Catalog {
    /// Events with their ticket types.
    #[serde(default)]
    pub events: Vec<SeedEvent>,
    /// Products with their stock.
    #[serde(default)]
    pub products: Vec<SeedProduct>,
}

/// One event.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedEvent {
    /// Tenant that sells it.
    pub tenant_id: Uuid,
    /// Event id.
    pub id: Uuid,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Start time.
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    /// `SCHEDULED`, `CANCELLED` or `COMPLETED`.
    #[serde(default = "scheduled")]
    pub status: String,
    /// ISO currency of its prices.
    #[serde(default = "usd")]
    pub currency: String,
    /// What can be bought.
    pub ticket_types: Vec<SeedTicketType>,
}

fn scheduled() -> String {
    "SCHEDULED".into()
}

fn usd() -> String {
    "USD".into()
}

fn yes() -> bool {
    true
}

/// A ticket type with its quota and price points.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedTicketType {
    /// Ticket type id.
    pub id: Uuid,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Tickets for sale in all.
    pub quota: u32,
    /// Price points.
    pub prices: Vec<SeedPrice>,
}

/// A price point, in minor units.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedPrice {
    /// Price point id.
    pub id: Uuid,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Price of one ticket, minor units.
    pub amount: i64,
}

/// A product of a shop, with its stock at the simulated inventory service.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedProduct {
    /// Tenant that sells it.
    pub tenant_id: Uuid,
    /// Product id.
    pub id: Uuid,
    /// Stock keeping unit.
    pub sku: String,
    /// Display name.
    pub name: String,
    /// Picture.
    #[serde(default)]
    pub image_url: Option<String>,
    /// Price of one unit, minor units.
    pub price: i64,
    /// ISO currency of its prices.
    #[serde(default = "usd")]
    pub currency: String,
    /// Whether it can be ordered.
    #[serde(default = "yes")]
    pub active: bool,
    /// Prices of attribute sets that differ from `price`.
    #[serde(default)]
    pub variants: Vec<SeedVariant>,
    /// Units on hand.
    #[serde(default)]
    pub stock: u32,
}

/// The price of one attribute set of a product (`{"size": "XL"}` costs more).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedVariant {
    /// The selected attributes this price is for.
    pub attributes: BTreeMap<String, String>,
    /// Price of one unit, minor units.
    pub price: i64,
}

#[cfg(test)]
mod tests {
    use super::Catalog;

    #[test]
    fn the_demo_catalog_of_just_run_parses_with_events_and_stocked_products() {
        let demo: Catalog =
            serde_json::from_str(include_str!("../../../deploy/local/simulator-seed.json"))
                .expect("deploy/local/simulator-seed.json is a catalog");
        assert!(!demo.events.is_empty());
        assert!(demo.products.iter().all(|p| p.stock > 0 && p.price > 0));
        assert!(demo.products.iter().any(|p| !p.variants.is_empty()));
    }
}
