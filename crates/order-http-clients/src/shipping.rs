//! The shipping service: rates per method and labels (carrier, tracking number, label URL).
//! Labels are idempotent per order, so both calls are retried after outages.

use async_trait::async_trait;
use order_domain::ids::{OrderId, TenantId};
use order_domain::money::{Currency, Money};
use order_domain::order::Address;
use order_domain::ports::{ShippingLabel, ShippingRate, ShippingService, UpstreamError};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::{Repeat, Upstream, UpstreamConfig};

/// [`ShippingService`] over HTTP.
#[derive(Debug, Clone)]
pub struct HttpShippingService {
    upstream: Upstream,
}

impl HttpShippingService {
    /// A client for the shipping service.
    ///
    /// # Errors
    /// When the HTTP client cannot be built (TLS setup).
    pub fn new(config: UpstreamConfig) -> Result<Self, reqwest::Error> {
        Ok(Self {
            upstream: Upstream::new("shipping", config)?,
        })
    }

    /// The state of this upstream's circuit breaker.
    pub fn breaker_state(&self) -> crate::BreakerState {
        self.upstream.breaker_state()
    }
}

/// What a rate depends on: the street and the name are not sent for a quote.
fn rate_destination(destination: &Address) -> serde_json::Value {
    json!({
        "country": destination.country,
        "region": destination.region,
        "postalCode": destination.postal_code,
    })
}

/// The whole address: it is printed on the label.
fn label_destination(destination: &Address) -> serde_json::Value {
    json!({
        "name": destination.name,
        "line1": destination.line1,
        "line2": destination.line2,
        "city": destination.city,
        "region": destination.region,
        "postalCode": destination.postal_code,
        "country": destination.country,
    })
}

#[derive(Deserialize)]
struct RatesBody {
    rates: Vec<RateBody>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RateBody {
    method: String,
    price: i64,
    currency: String,
    transit_days: u16,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LabelBody {
    carrier: String,
    tracking_number: String,
    label_url: String,
}

#[async_trait]
impl ShippingService for HttpShippingService {
    async fn rates(
        &self,
        tenant: TenantId,
        destination: &Address,
    ) -> Result<Vec<ShippingRate>, UpstreamError> {
        let request = self
            .upstream
            .request(Method::POST, "/shipping/rates")
            .json(&json!({ "tenantId": tenant, "destination": rate_destination(destination) }));
        let body: RatesBody = self
            .upstream
            .send(request, Repeat::Safe)
            .await
            .map_err(|f| self.upstream.error(f))?;
        body.rates
            .into_iter()
            .map(|r| {
                let currency: Currency =
                    r.currency.parse().map_err(|_| UpstreamError::Rejected {
                        service: "shipping",
                        detail: format!("unsupported currency {}", r.currency),
                    })?;
                Ok(ShippingRate {
                    method: r.method,
                    price: Money::new(r.price, currency),
                    transit_days: r.transit_days,
                })
            })
            .collect()
    }

    async fn create_label(
        &self,
        tenant: TenantId,
        order: OrderId,
        destination: &Address,
        method: &str,
    ) -> Result<ShippingLabel, UpstreamError> {
        let request = self
            .upstream
            .request(Method::POST, "/shipping/labels")
            .json(&json!({
                "tenantId": tenant,
                "orderId": order,
                "method": method,
                "destination": label_destination(destination),
            }));
        let body: LabelBody = self
            .upstream
            .send(request, Repeat::Safe)
            .await
            .map_err(|f| self.upstream.error(f))?;
        Ok(ShippingLabel {
            carrier: body.carrier,
            tracking_number: body.tracking_number,
            label_url: body.label_url,
        })
    }
}
