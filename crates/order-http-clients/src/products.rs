//! The product service: names, SKUs, pictures and prices per attribute set. Read-only, so
//! outages are retried.

use std::collections::BTreeMap;

use async_trait::async_trait;
use order_domain::ids::{ProductId, TenantId};
use order_domain::money::{Currency, Money};
use order_domain::ports::{Product, ProductCatalog, ProductVariant, UpstreamError};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::{Repeat, Upstream, UpstreamConfig};

/// [`ProductCatalog`] over HTTP.
#[derive(Debug, Clone)]
pub struct HttpProductCatalog {
    upstream: Upstream,
}

impl HttpProductCatalog {
    /// A client for the product service.
    ///
    /// # Errors
    /// When the HTTP client cannot be built (TLS setup).
    pub fn new(config: UpstreamConfig) -> Result<Self, reqwest::Error> {
        Ok(Self {
            upstream: Upstream::new("products", config)?,
        })
    }

    /// The state of this upstream's circuit breaker.
    pub fn breaker_state(&self) -> crate::BreakerState {
        self.upstream.breaker_state()
    }
}

#[derive(Deserialize)]
struct LookupBody {
    products: Vec<ProductBody>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProductBody {
    id: ProductId,
    sku: String,
    name: String,
    image_url: Option<String>,
    price: i64,
    currency: String,
    active: bool,
    #[serde(default)]
    variants: Vec<VariantBody>,
}

#[derive(Deserialize)]
struct VariantBody {
    attributes: BTreeMap<String, String>,
    price: i64,
}

#[async_trait]
impl ProductCatalog for HttpProductCatalog {
    async fn products(
        &self,
        tenant: TenantId,
        ids: &[ProductId],
    ) -> Result<Vec<Product>, UpstreamError> {
        let request = self
            .upstream
            .request(Method::POST, "/products/lookup")
            .json(&json!({ "tenantId": tenant, "productIds": ids }));
        let body: LookupBody = self
            .upstream
            .send(request, Repeat::Safe)
            .await
            .map_err(|f| self.upstream.error(f))?;
        body.products
            .into_iter()
            .map(|p| {
                let currency: Currency =
                    p.currency.parse().map_err(|_| UpstreamError::Rejected {
                        service: "products",
                        detail: format!("unsupported currency {}", p.currency),
                    })?;
                Ok(Product {
                    id: p.id,
                    sku: p.sku,
                    name: p.name,
                    image_url: p.image_url,
                    price: Money::new(p.price, currency),
                    active: p.active,
                    variants: p
                        .variants
                        .into_iter()
                        .map(|v| ProductVariant {
                            attributes: v.attributes,
                            price: Money::new(v.price, currency),
                        })
                        .collect(),
                })
            })
            .collect()
    }
}
