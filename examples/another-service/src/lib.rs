//! A box office that quotes and sells tickets with the order service's domain: it prices with
//! the fee schedule, drives the order aggregate, and implements the event catalog port over its
//! own programme. Only `order-domain`'s public API is used.

use std::collections::HashMap;
use std::sync::Arc;

use order_domain::adapters::{SystemClock, UuidV7Ids};
use order_domain::async_trait;
use order_domain::ids::{EventId, TenantId};
use order_domain::money::{Currency, Money};
use order_domain::ports::{
    Clock, EventCatalog, EventInfo, EventStatus, IdGenerator, UpstreamError,
};
use order_domain::pricing::{FeeSchedule, PricingError, PricingLine, PricingRequest, price_order};
use order_domain::time::OffsetDateTime;

/// What a buyer pays for `quantity` tickets at `unit_price` minor units.
///
/// # Errors
/// When the price is negative or the amounts overflow.
pub fn quote(unit_price: i64, quantity: u32) -> Result<Money, PricingError> {
    let priced = price_order(
        &FeeSchedule::tickets(),
        &PricingRequest {
            currency: Currency::Usd,
            lines: vec![PricingLine {
                unit_price,
                quantity,
            }],
            discount: 0,
            shipping: 0,
            tax_rate: None,
        },
    )?;
    Ok(priced.order.total())
}

/// The box office's own programme, as the order service's event catalog.
#[derive(Debug, Default)]
pub struct Programme {
    shows: HashMap<(TenantId, EventId), EventInfo>,
}

impl Programme {
    /// Adds a scheduled show.
    pub fn schedule(&mut self, tenant: TenantId, id: EventId, starts_at: OffsetDateTime) {
        self.shows.insert(
            (tenant, id),
            EventInfo {
                id,
                starts_at,
                status: EventStatus::Scheduled,
                currency: Currency::Usd,
            },
        );
    }
}

#[async_trait]
impl EventCatalog for Programme {
    async fn event(
        &self,
        tenant: TenantId,
        event: EventId,
    ) -> Result<Option<EventInfo>, UpstreamError> {
        Ok(self.shows.get(&(tenant, event)).cloned())
    }

    async fn recent_event(
        &self,
        tenant: TenantId,
        event: EventId,
    ) -> Result<Option<EventInfo>, UpstreamError> {
        self.event(tenant, event).await
    }
}

/// The production clock and ids the `system` feature ships, as the ports take them.
pub fn system_ports() -> (Arc<dyn Clock>, Arc<dyn IdGenerator>) {
    (Arc::new(SystemClock), Arc::new(UuidV7Ids))
}
