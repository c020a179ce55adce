//! `order-api events rebuild` (docs/events.md): an order folded from its stored events and
//! compared with the order as stored.

use super::{OrderService, UseCaseError};
use crate::ids::{OrderId, TenantId};
use crate::rebuild::{differences, fold};

/// What rebuilding one order found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuildReport {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The order.
    pub order_id: OrderId,
    /// Events folded.
    pub events: usize,
    /// Where the stored order disagrees with its events (empty when it agrees).
    pub differences: Vec<String>,
}

impl OrderService {
    /// Folds the order's stored events and compares the result with the stored order.
    ///
    /// # Ports
    /// `orders`, `stored_events`.
    ///
    /// # Errors
    /// [`UseCaseError::NotFound`] for an order no tenant has; storage errors.
    pub async fn rebuild_order(&self, order: OrderId) -> Result<RebuildReport, UseCaseError> {
        let events = &self.ports.stored_events;
        let tenant = events
            .tenant_of(order)
            .await?
            .ok_or(UseCaseError::NotFound { what: "order" })?;
        let stored = self
            .ports
            .orders
            .find(tenant, order)
            .await?
            .ok_or(UseCaseError::NotFound { what: "order" })?;
        let history = events.events_of(tenant, order).await?;
        let folded = fold(&history);
        Ok(RebuildReport {
            tenant_id: tenant,
            order_id: order,
            events: folded.events,
            differences: differences(&folded, &stored),
        })
    }

    /// Up to `limit` orders of every tenant after `after`, for rebuilding them all.
    ///
    /// # Ports
    /// `stored_events`.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn orders_to_rebuild(
        &self,
        after: Option<OrderId>,
        limit: u32,
    ) -> Result<Vec<OrderId>, UseCaseError> {
        Ok(self.ports.stored_events.every_order(after, limit).await?)
    }
}
