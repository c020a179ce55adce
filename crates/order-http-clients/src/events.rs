//! The event service: `GET /events/{tenantId}/{eventId}`.

use async_trait::async_trait;
use order_domain::ids::{EventId, TenantId};
use order_domain::ports::{EventCatalog, EventInfo, EventStatus, UpstreamError};
use serde::Deserialize;

use crate::{Repeat, Upstream, UpstreamConfig};

/// [`EventCatalog`] over HTTP.
#[derive(Debug, Clone)]
pub struct HttpEventCatalog {
    upstream: Upstream,
}

impl HttpEventCatalog {
    /// A client for the event service.
    ///
    /// # Errors
    /// When the HTTP client cannot be built (TLS setup).
    pub fn new(config: UpstreamConfig) -> Result<Self, reqwest::Error> {
        Ok(Self {
            upstream: Upstream::new("events", config)?,
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
