//! The event service: `GET /events/{tenantId}/{eventId}`.

use async_trait::async_trait;
use order_domain::ids::{EventId, TenantId};
use order_domain::ports::{EventCatalog, EventInfo, EventStatus, UpstreamError};
use serde::Deserialize;

use std::sync::Arc;
use std::time::Duration;

use crate::event_cache::EventCache;
use crate::{Repeat, Upstream, UpstreamConfig};

/// [`EventCatalog`] over HTTP, with a short-lived cache for [`EventCatalog::recent_event`].
#[derive(Debug, Clone)]
pub struct HttpEventCatalog {
    upstream: Upstream,
    cache: Arc<EventCache>,
}

impl HttpEventCatalog {
    /// A client for the event service that caches nothing.
    ///
    /// # Errors
    /// When the HTTP client cannot be built (TLS setup).
    pub fn new(config: UpstreamConfig) -> Result<Self, reqwest::Error> {
        Self::with_cache(config, Duration::ZERO)
    }

    /// A client whose [`EventCatalog::recent_event`] answers from a cache for up to `ttl`
    /// (`EVENT_CACHE_TTL_SECONDS`); zero turns the cache off.
    ///
    /// # Errors
    /// When the HTTP client cannot be built (TLS setup).
    pub fn with_cache(config: UpstreamConfig, ttl: Duration) -> Result<Self, reqwest::Error> {
        Ok(Self {
            upstream: Upstream::new("events", config)?,
            cache: Arc::new(EventCache::new(ttl)),
        })
    }

    /// The state of this upstream's circuit breaker.
    pub fn breaker_state(&self) -> crate::BreakerState {
        self.upstream.breaker_state()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventBody {
    id: EventId,
    #[serde(with = "time::serde::rfc3339")]
    starts_at: time::OffsetDateTime,
    status: String,
    currency: String,
}

#[async_trait]
impl EventCatalog for HttpEventCatalog {
    async fn recent_event(
        &self,
        tenant: TenantId,
        event: EventId,
    ) -> Result<Option<EventInfo>, UpstreamError> {
        if let Some(cached) = self.cache.get(tenant, event) {
            return Ok(cached);
        }
        let fresh = self.event(tenant, event).await?;
        self.cache.put(tenant, event, fresh.clone());
        Ok(fresh)
    }

    async fn event(
        &self,
        tenant: TenantId,
        event: EventId,
    ) -> Result<Option<EventInfo>, UpstreamError> {
        let request = self
            .upstream
            .request(reqwest::Method::GET, &format!("/events/{tenant}/{event}"));
        match self.upstream.send::<EventBody>(request, Repeat::Safe).await {
            Ok(body) => Ok(Some(EventInfo {
                id: body.id,
                starts_at: body.starts_at,
                status: match body.status.as_str() {
                    "CANCELLED" => EventStatus::Cancelled,
                    "COMPLETED" => EventStatus::Completed,
                    _ => EventStatus::Scheduled,
                },
                currency: body.currency.parse().map_err(|_| UpstreamError::Rejected {
                    service: "events",
                    detail: format!("unsupported currency {}", body.currency),
                })?,
            })),
            Err(failure) => match self.upstream.error(failure) {
                UpstreamError::NotFound { .. } => Ok(None),
                other => Err(other),
            },
        }
    }
}
