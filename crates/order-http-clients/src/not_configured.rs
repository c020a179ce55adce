//! The adapter for an upstream this deployment has not configured: every call answers
//! `upstream_unavailable`, so the features that need it fail clearly instead of pretending.

use async_trait::async_trait;
use order_domain::ids::{OrderId, ProductId, TenantId};
use order_domain::order::Address;
use order_domain::ports::{
    Hold, InventoryService, Notification, Notifier, Product, ProductCatalog, ShippingLabel,
    ShippingRate, ShippingService, StockError, StockLine, UpstreamError,
};
use time::OffsetDateTime;

/// Stands in for an upstream with no configured URL.
#[derive(Debug, Clone, Copy)]
pub struct NotConfigured {
    service: &'static str,
}

impl NotConfigured {
    /// For the upstream called `service`.
    pub fn new(service: &'static str) -> Self {
        Self { service }
    }

    fn error(&self) -> UpstreamError {
        UpstreamError::Unavailable {
            service: self.service,
            detail: "no URL configured for this upstream".into(),
        }
    }
}

#[async_trait]
impl InventoryService for NotConfigured {
    async fn reserve(
        &self,
        _: TenantId,
        _: OrderId,
        _: &[StockLine],
        _: OffsetDateTime,
    ) -> Result<Hold, StockError> {
        Err(self.error().into())
    }
    async fn release(&self, _: TenantId, _: OrderId) -> Result<(), UpstreamError> {
        Err(self.error())
    }
    async fn commit(&self, _: TenantId, _: OrderId) -> Result<(), UpstreamError> {
        Err(self.error())
    }
}

#[async_trait]
impl ProductCatalog for NotConfigured {
    async fn products(&self, _: TenantId, _: &[ProductId]) -> Result<Vec<Product>, UpstreamError> {
        Err(self.error())
    }
}

#[async_trait]
impl ShippingService for NotConfigured {
    async fn rates(&self, _: TenantId, _: &Address) -> Result<Vec<ShippingRate>, UpstreamError> {
        Err(self.error())
    }
    async fn create_label(
        &self,
        _: TenantId,
        _: OrderId,
        _: &Address,
        _: &str,
    ) -> Result<ShippingLabel, UpstreamError> {
        Err(self.error())
    }
}

#[async_trait]
impl Notifier for NotConfigured {
    async fn notify(&self, _: &Notification) -> Result<(), UpstreamError> {
        Err(self.error())
    }
}
