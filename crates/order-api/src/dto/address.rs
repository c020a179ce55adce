//! A postal address on the wire (the shop's shape), for goods orders and the answers that show
//! them.

use garde::Validate;
use order_domain::order::Address;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An address as the shop sends it.
#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = Address)]
pub struct AddressBody {
    /// Given name.
    #[garde(rename("firstName"), length(chars, min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub first_name: String,
    /// Family name.
    #[garde(rename("lastName"), length(chars, min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub last_name: String,
    /// Street and number.
    #[garde(length(chars, min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub street: String,
    /// Apartment, floor, …
    #[garde(inner(length(chars, max = 200)))]
    #[serde(default)]
    #[schema(max_length = 200)]
    pub street2: Option<String>,
    /// City.
    #[garde(length(chars, min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub city: String,
    /// State, province or region code (`CA`).
    #[garde(inner(length(chars, max = 10)))]
    #[serde(default)]
    #[schema(max_length = 10)]
    pub state: Option<String>,
    /// Postal code.
    #[garde(rename("zipCode"), length(chars, min = 1, max = 20))]
    #[schema(min_length = 1, max_length = 20)]
    pub zip_code: String,
    /// ISO 3166-1 alpha-2 country (`US`).
    #[garde(custom(country_rule))]
    #[schema(min_length = 2, max_length = 2, pattern = "^[A-Za-z]{2}$")]
    pub country: String,
    /// For the carrier.
    #[garde(inner(length(chars, max = 40)))]
    #[serde(default)]
    #[schema(max_length = 40)]
    pub phone: Option<String>,
}

fn country_rule(country: &str, (): &()) -> garde::Result {
    if country.len() == 2 && country.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(())
    } else {
        Err(crate::validation::rule(
            "invalid",
            "an ISO 3166-1 alpha-2 code like US",
        ))
    }
}

impl AddressBody {
    /// The domain's address.
    pub fn to_domain(&self) -> Address {
        Address {
            name: format!("{} {}", self.first_name.trim(), self.last_name.trim()),
            line1: self.street.trim().to_owned(),
            line2: self.street2.clone(),
            city: self.city.trim().to_owned(),
            region: self.state.as_deref().map(|s| s.trim().to_ascii_uppercase()),
            postal_code: self.zip_code.trim().to_owned(),
            country: self.country.to_ascii_uppercase(),
            phone: self.phone.clone(),
        }
    }

    /// The API view of a stored address (the name comes back whole, as `firstName`).
    pub fn from_domain(address: &Address) -> Self {
        let (first, last) = address
            .name
            .split_once(' ')
            .unwrap_or((address.name.as_str(), ""));
        Self {
            first_name: first.to_owned(),
            last_name: last.to_owned(),
            street: address.line1.clone(),
            street2: address.line2.clone(),
            city: address.city.clone(),
            state: address.region.clone(),
            zip_code: address.postal_code.clone(),
            country: address.country.clone(),
            phone: address.phone.clone(),
        }
    }
}
