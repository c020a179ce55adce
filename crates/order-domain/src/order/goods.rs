//! What only goods orders carry: addresses, shipping method, promo code, notes, payment method,
//! and the shipment once the order ships.

use serde::{Deserialize, Serialize};
use time::Date;

/// A postal address (goods orders).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// Recipient.
    pub name: String,
    /// Street and number.
    pub line1: String,
    /// Apartment, floor, …
    pub line2: Option<String>,
    /// City.
    pub city: String,
    /// State, province or region code.
    pub region: Option<String>,
    /// Postal code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Phone number for the carrier.
    #[serde(default)]
    pub phone: Option<String>,
}

/// Shipping data recorded when the order ships.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shipment {
    /// Carrier name.
    pub carrier: String,
    /// Carrier tracking number.
    pub tracking_number: String,
    /// Label document.
    pub label_url: Option<String>,
    /// Delivery estimate.
    pub estimated_delivery: Option<Date>,
}

/// Goods-only order details.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GoodsDetails {
    /// Where it ships.
    pub shipping_address: Option<Address>,
    /// Where the invoice goes (the shipping address when absent).
    pub billing_address: Option<Address>,
    /// Chosen shipping method code.
    pub shipping_method: Option<String>,
    /// Applied promo code.
    pub promo_code: Option<String>,
    /// The shopper's notes.
    pub notes: Option<String>,
    /// Payment method label.
    pub payment_method: Option<String>,
}
