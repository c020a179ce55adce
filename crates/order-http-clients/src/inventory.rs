//! The inventory service (the shop's `/check-availability`, `/reserve`, `/release/{orderId}`,
//! plus the release of one line, commit and allocation). Every call is idempotent per order, so outages are retried.

use async_trait::async_trait;
use order_domain::ids::{HoldId, OrderId, OrderItemId, ProductId, TenantId};
use order_domain::ports::{
    Allocation, Availability, Hold, InventoryService, Pick, StockError, StockLine, UpstreamError,
};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use crate::{Repeat, Upstream, UpstreamConfig, rfc3339};

/// [`InventoryService`] over HTTP.
#[derive(Debug, Clone)]
pub struct HttpInventoryService {
    upstream: Upstream,
}

impl HttpInventoryService {
    /// A client for the inventory service.
    ///
    /// # Errors
    /// When the HTTP client cannot be built (TLS setup).
    pub fn new(config: UpstreamConfig) -> Result<Self, reqwest::Error> {
        Ok(Self {
            upstream: Upstream::new("inventory", config)?,
        })
    }

    /// The state of this upstream's circuit breaker.
    pub fn breaker_state(&self) -> crate::BreakerState {
        self.upstream.breaker_state()
    }

    /// A call about one order's stock whose answer we do not need.
    async fn order_call(
        &self,
        action: &str,
        tenant: TenantId,
        order: OrderId,
    ) -> Result<serde_json::Value, UpstreamError> {
        let request = self
            .upstream
            .request(Method::POST, &format!("/inventory/{action}/{order}"))
            .json(&json!({ "tenantId": tenant }));
        self.upstream
            .send(request, Repeat::Safe)
            .await
            .map_err(|f| self.upstream.error(f))
    }

    /// What a refused reservation or adjustment means: a product short of units (named, else the
    /// first line's), or another failure.
    fn stock_refusal(&self, failure: crate::Failure, lines: &[StockLine]) -> StockError {
        if failure.body.get("code").and_then(|c| c.as_str()) != Some("insufficient_stock") {
            return StockError::Upstream(self.upstream.error(failure));
        }
        let product_id = failure
            .body
            .get("productId")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .or_else(|| lines.first().map(|l| l.product_id));
        let available = failure
            .body
            .get("available")
            .and_then(serde_json::Value::as_u64)
            .and_then(|a| u32::try_from(a).ok())
            .unwrap_or(0);
        match product_id {
            Some(product_id) => StockError::Insufficient {
                product_id,
                available,
            },
            None => StockError::Upstream(self.upstream.error(failure)),
        }
    }
}

/// One product line of an availability check or a reservation, as the inventory service reads it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ItemBody {
    product_id: ProductId,
    quantity: u32,
}

fn item_bodies(lines: &[StockLine]) -> Vec<ItemBody> {
    lines
        .iter()
        .map(|line| ItemBody {
            product_id: line.product_id,
            quantity: line.quantity,
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReservationBody {
    reservation_id: String,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AvailabilityBody {
    items: Vec<AvailabilityItem>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AvailabilityItem {
    product_id: ProductId,
    available: u32,
    in_stock: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AllocationBody {
    warehouse: String,
    picks: Vec<PickBody>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PickBody {
    product_id: ProductId,
    quantity: u32,
    location: String,
}

#[async_trait]
impl InventoryService for HttpInventoryService {
    async fn availability(
        &self,
        tenant: TenantId,
        lines: &[StockLine],
    ) -> Result<Vec<Availability>, UpstreamError> {
        let request = self
            .upstream
            .request(Method::POST, "/inventory/check-availability")
            .json(&json!({ "tenantId": tenant, "items": item_bodies(lines) }));
        let body: AvailabilityBody = self
            .upstream
            .send(request, Repeat::Safe)
            .await
            .map_err(|f| self.upstream.error(f))?;
        Ok(body
            .items
            .into_iter()
            .map(|i| Availability {
                product_id: i.product_id,
                available: i.available,
                in_stock: i.in_stock,
            })
            .collect())
    }

    async fn reserve(
        &self,
        tenant: TenantId,
        order: OrderId,
        lines: &[StockLine],
        expires_at: OffsetDateTime,
    ) -> Result<Hold, StockError> {
        let request = self
            .upstream
            .request(Method::POST, "/inventory/reserve")
            .json(&json!({
                "tenantId": tenant,
                "orderId": order,
                "items": item_bodies(lines),
                "expiresAt": rfc3339(expires_at),
            }));
        match self
            .upstream
            .send::<ReservationBody>(request, Repeat::Safe)
            .await
        {
            Ok(body) => Ok(Hold {
                hold_id: HoldId::new(body.reservation_id),
                expires_at: body.expires_at,
            }),
            Err(failure) => Err(self.stock_refusal(failure, lines)),
        }
    }

    async fn adjust(
        &self,
        tenant: TenantId,
        order: OrderId,
        key: uuid::Uuid,
        added: &[StockLine],
        released: &[StockLine],
    ) -> Result<(), StockError> {
        let request = self
            .upstream
            .request(Method::POST, &format!("/inventory/adjust/{order}"))
            .json(&json!({
                "tenantId": tenant,
                "key": key,
                "add": item_bodies(added),
                "release": item_bodies(released),
            }));
        self.upstream
            .send::<serde_json::Value>(request, Repeat::Safe)
            .await
            .map(|_| ())
            .map_err(|failure| self.stock_refusal(failure, added))
    }

    async fn release(&self, tenant: TenantId, order: OrderId) -> Result<(), UpstreamError> {
        self.order_call("release", tenant, order).await.map(|_| ())
    }

    async fn release_line(
        &self,
        tenant: TenantId,
        order: OrderId,
        line: OrderItemId,
        stock: StockLine,
    ) -> Result<(), UpstreamError> {
        let request = self
            .upstream
            .request(
                Method::POST,
                &format!("/inventory/release/{order}/lines/{line}"),
            )
            .json(&json!({
                "tenantId": tenant,
                "productId": stock.product_id,
                "quantity": stock.quantity,
            }));
        self.upstream
            .send::<serde_json::Value>(request, Repeat::Safe)
            .await
            .map(|_| ())
            .map_err(|f| self.upstream.error(f))
    }

    async fn commit(&self, tenant: TenantId, order: OrderId) -> Result<(), UpstreamError> {
        self.order_call("commit", tenant, order).await.map(|_| ())
    }

    async fn allocate(
        &self,
        tenant: TenantId,
        order: OrderId,
    ) -> Result<Allocation, UpstreamError> {
        let value = self.order_call("allocate", tenant, order).await?;
        let body: AllocationBody =
            serde_json::from_value(value).map_err(|e| UpstreamError::Rejected {
                service: "inventory",
                detail: format!("unexpected allocation: {e}"),
            })?;
        Ok(Allocation {
            warehouse: body.warehouse,
            picks: body
                .picks
                .into_iter()
                .map(|p| Pick {
                    product_id: p.product_id,
                    quantity: p.quantity,
                    location: p.location,
                })
                .collect(),
        })
    }
}
