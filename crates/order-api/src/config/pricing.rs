//! `PRICING_FILE`: the goods-pricing tables — tax rates by destination and shipping methods — of
//! every tenant, from a JSON file (docs/configuration.md, "Pricing tables"). Without the variable,
//! every tenant prices by the built-in tables (decision 0041).
//!
//! The file's shape is this module's own; it converts to the domain's tables once, at start-up,
//! and every mistake names the file and the entry.

use std::collections::BTreeMap;

use order_domain::ids::TenantId;
use order_domain::money::Rate;
use order_domain::pricing::goods::{ShippingMethod, TaxTable};
use order_domain::use_cases::{GoodsCatalogConfig, GoodsCatalogs};
use serde::Deserialize;

use super::values::ConfigError;

const VARIABLE: &str = "PRICING_FILE";

/// The variable naming the file.
#[derive(Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(super) struct PricingVars {
    pricing_file: Option<String>,
}

impl PricingVars {
    /// The tables the file names, or the built-in ones.
    ///
    /// # Errors
    /// See [`load`].
    pub(super) fn resolve(self) -> Result<GoodsCatalogs, ConfigError> {
        load(self.pricing_file.as_deref())
    }
}

/// The file: default tables and tenants' own; each part left out keeps the built-in one.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PricingFile {
    #[serde(default)]
    default: TablesEntry,
    #[serde(default)]
    tenants: BTreeMap<TenantId, TablesEntry>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TablesEntry {
    tax_rates: Option<Vec<TaxRateEntry>>,
    shipping_methods: Option<Vec<ShippingMethodEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TaxRateEntry {
    /// ISO 3166-1 alpha-2.
    country: String,
    /// State or region code; absent for the whole country.
    region: Option<String>,
    /// Parts per million: 87150 is 8.715 %.
    rate_ppm: u32,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ShippingMethodEntry {
    code: String,
    /// Minor units.
    price: i64,
    transit_days: u16,
    /// Orders whose net amount reaches this (minor units) ship free.
    free_over: Option<i64>,
}

/// The tables `PRICING_FILE` names, or the built-in ones when it is not set.
///
/// # Errors
/// [`ConfigError`] on `PRICING_FILE` when the file cannot be read or an entry is invalid.
pub(super) fn load(path: Option<&str>) -> Result<GoodsCatalogs, ConfigError> {
    let Some(path) = path.filter(|p| !p.is_empty()) else {
        return Ok(GoodsCatalogs::default());
    };
    let text = std::fs::read_to_string(path).map_err(|error| {
        ConfigError::new(
            VARIABLE,
            format!("cannot read {path}: {error}; point it at a readable JSON file or unset it"),
        )
    })?;
    parse(&text).map_err(|problem| ConfigError::new(VARIABLE, format!("{path}: {problem}")))
}

/// The tables of a pricing file's text.
fn parse(text: &str) -> Result<GoodsCatalogs, String> {
    let file: PricingFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let built_in = GoodsCatalogConfig::default();
    let default = tables(file.default, &built_in).map_err(|p| format!("default: {p}"))?;
    let mut tenants = BTreeMap::new();
    for (tenant, entry) in file.tenants {
        let own = tables(entry, &default).map_err(|p| format!("tenants.{tenant}: {p}"))?;
        tenants.insert(tenant, own);
    }
    Ok(GoodsCatalogs { default, tenants })
}

/// `entry`'s tables, each part it leaves out taken from `fallback`.
fn tables(entry: TablesEntry, fallback: &GoodsCatalogConfig) -> Result<GoodsCatalogConfig, String> {
    let taxes = match entry.tax_rates {
        None => fallback.taxes.clone(),
        Some(rates) => {
            let mut table = TaxTable::new();
            for (n, rate) in rates.iter().enumerate() {
                let valid_country = rate.country.len() == 2
                    && rate.country.chars().all(|c| c.is_ascii_alphabetic());
                if !valid_country {
                    return Err(format!(
                        "taxRates[{n}].country must be two letters (ISO 3166-1)"
                    ));
                }
                if rate.rate_ppm > 1_000_000 {
                    return Err(format!(
                        "taxRates[{n}].ratePpm must be at most 1000000 (100 %)"
                    ));
                }
                table = table.with_rate(
                    &rate.country,
                    rate.region.as_deref(),
                    Rate::from_ppm(rate.rate_ppm),
                );
            }
            table
        }
    };
    let shipping_methods = match entry.shipping_methods {
        None => fallback.shipping_methods.clone(),
        Some(methods) => {
            let mut out: Vec<ShippingMethod> = Vec::with_capacity(methods.len());
            for (n, m) in methods.into_iter().enumerate() {
                let code = m.code.trim().to_owned();
                if code.is_empty() || out.iter().any(|known| known.code == code) {
                    return Err(format!(
                        "shippingMethods[{n}].code must be present and unique"
                    ));
                }
                if m.price < 0 || m.free_over.is_some_and(|f| f < 0) {
                    return Err(format!(
                        "shippingMethods[{n}]: price and freeOver are minor units, never negative"
                    ));
                }
                out.push(ShippingMethod {
                    code,
                    price: m.price,
                    transit_days: m.transit_days,
                    free_over: m.free_over,
                });
            }
            if out.is_empty() {
                return Err("shippingMethods must offer at least one method".into());
            }
            out
        }
    };
    Ok(GoodsCatalogConfig {
        taxes,
        shipping_methods,
    })
}

#[cfg(test)]
mod tests {
    use order_domain::pricing::goods::TaxDestination;
    use uuid::Uuid;

    use super::*;

    fn tenant(n: u128) -> TenantId {
        TenantId::from_uuid(Uuid::from_u128(n))
    }

    #[test]
    fn a_tenant_gets_its_own_tables_and_the_others_the_default_ones() {
        let file = format!(
            r#"{{"tenants": {{"{}": {{
                "taxRates": [{{"country": "US", "region": "CA", "rate_ppm": 1}}]
            }}}}}}"#,
            tenant(1).as_uuid()
        );
        assert!(parse(&file).is_err(), "unknown fields are refused");
        let file = format!(
            r#"{{"tenants": {{"{}": {{
                "taxRates": [{{"country": "US", "region": "CA", "ratePpm": 100000}}],
                "shippingMethods": [{{"code": "pickup", "price": 0, "transitDays": 0}}]
            }}}}}}"#,
            tenant(1).as_uuid()
        );
        let catalogs = parse(&file).expect("parses");
        let california = TaxDestination {
            country: "US",
            region: Some("CA"),
        };
        let own = catalogs.for_tenant(tenant(1));
        assert_eq!(
            own.taxes.rate_for(california.country, california.region),
            Some(Rate::from_ppm(100_000))
        );
        assert_eq!(own.shipping_methods.len(), 1);
        assert_eq!(own.shipping_methods[0].code, "pickup");
        let other = catalogs.for_tenant(tenant(2));
        assert_eq!(other, &GoodsCatalogConfig::default());
    }

    #[test]
    fn bad_entries_name_where_they_are() {
        let bad_rate = r#"{"default": {"taxRates": [{"country": "US", "ratePpm": 2000000}]}}"#;
        assert_eq!(
            parse(bad_rate).err().as_deref(),
            Some("default: taxRates[0].ratePpm must be at most 1000000 (100 %)")
        );
        let twice = r#"{"default": {"shippingMethods": [
            {"code": "std", "price": 1, "transitDays": 1},
            {"code": "std", "price": 2, "transitDays": 1}]}}"#;
        assert_eq!(
            parse(twice).err().as_deref(),
            Some("default: shippingMethods[1].code must be present and unique")
        );
        let missing = load(Some("/nonexistent/pricing.json")).expect_err("refused");
        assert_eq!(missing.variable, "PRICING_FILE");
        assert!(load(None).is_ok_and(|c| c == GoodsCatalogs::default()));
    }
}
