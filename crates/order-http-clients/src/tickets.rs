//! The ticket service: prices and availability, holds (create, extend, commit, release, release
//! one line).

use async_trait::async_trait;
use order_domain::ids::{EventId, HoldId, OrderId, OrderItemId, TenantId, TicketId, TicketTypeId};
use order_domain::money::Money;
use order_domain::ports::{Hold, HoldError, TicketLine, TicketPrice, TicketService, UpstreamError};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use crate::{Repeat, Upstream, UpstreamConfig, rfc3339};

/// [`TicketService`] over HTTP.
#[derive(Debug, Clone)]
pub struct HttpTicketService {
    upstream: Upstream,
}

impl HttpTicketService {
    /// A client for the ticket service.
    ///
    /// # Errors
    /// When the HTTP client cannot be built (TLS setup).
    pub fn new(config: UpstreamConfig) -> Result<Self, reqwest::Error> {
        Ok(Self {
            upstream: Upstream::new("tickets", config)?,
        })
    }

    /// The state of this upstream's circuit breaker.
    pub fn breaker_state(&self) -> crate::BreakerState {
        self.upstream.breaker_state()
    }

    /// What a refused hold or adjustment means: not on sale, sold out (naming the type, else the
    /// first line's), or another failure.
    fn hold_refusal(&self, failure: crate::Failure, lines: &[TicketLine]) -> HoldError {
        match failure.body.get("code").and_then(|c| c.as_str()) {
            Some("not_on_sale") => HoldError::NotOnSale,
            Some("sold_out") => {
                let ticket_type_id = failure
                    .body
                    .get("ticketTypeId")
                    .and_then(|v| serde_json::from_value(v.clone()).ok())
                    .or_else(|| lines.first().map(|l| l.ticket_type_id));
                match ticket_type_id {
                    Some(ticket_type_id) => HoldError::SoldOut {
                        ticket_type_id,
                        available: failure
                            .body
                            .get("available")
                            .and_then(serde_json::Value::as_u64)
                            .and_then(|n| u32::try_from(n).ok())
                            .unwrap_or(0),
                    },
                    None => HoldError::Upstream(self.upstream.error(failure)),
                }
            }
            _ => HoldError::Upstream(self.upstream.error(failure)),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PriceBody {
    ticket_type_id: TicketTypeId,
    ticket_pricing_id: order_domain::ids::TicketPricingId,
    amount: i64,
    currency: String,
    available: u32,
}

#[derive(Deserialize)]
struct PricesBody {
    prices: Vec<PriceBody>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HoldBody {
    hold_id: String,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    #[serde(default)]
    ticket_ids: Vec<String>,
}

/// One line of a price or hold request, as the ticket service reads it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LineBody {
    ticket_type_id: TicketTypeId,
    ticket_pricing_id: order_domain::ids::TicketPricingId,
    quantity: u32,
}

fn line_body(line: &TicketLine) -> LineBody {
    LineBody {
        ticket_type_id: line.ticket_type_id,
        ticket_pricing_id: line.ticket_pricing_id,
        quantity: line.quantity,
    }
}

fn line_bodies(lines: &[TicketLine]) -> Vec<LineBody> {
    lines.iter().map(line_body).collect()
}

#[async_trait]
impl TicketService for HttpTicketService {
    async fn prices(
        &self,
        tenant: TenantId,
        event: EventId,
        lines: &[TicketLine],
    ) -> Result<Vec<TicketPrice>, UpstreamError> {
        let request = self
            .upstream
            .request(Method::POST, "/tickets/prices")
            .json(&json!({
                "tenantId": tenant,
                "eventId": event,
                "lines": line_bodies(lines),
            }));
        let body: PricesBody = self
            .upstream
            .send(request, Repeat::Safe)
            .await
            .map_err(|f| self.upstream.error(f))?;
        body.prices
            .into_iter()
            .map(|p| {
                let currency = p.currency.parse().map_err(|_| UpstreamError::Rejected {
                    service: "tickets",
                    detail: format!("unsupported currency {}", p.currency),
                })?;
                Ok(TicketPrice {
                    ticket_type_id: p.ticket_type_id,
                    ticket_pricing_id: p.ticket_pricing_id,
                    price: Money::new(p.amount, currency),
                    available: p.available,
                })
            })
            .collect()
    }

    async fn hold(
        &self,
        tenant: TenantId,
        order: OrderId,
        event: EventId,
        lines: &[TicketLine],
        expires_at: OffsetDateTime,
    ) -> Result<Hold, HoldError> {
        let request = self
            .upstream
            .request(Method::POST, "/tickets/holds")
            .json(&json!({
                "tenantId": tenant,
                "orderId": order,
                "eventId": event,
                "lines": line_bodies(lines),
                "expiresAt": rfc3339(expires_at),
            }));
        match self.upstream.send::<HoldBody>(request, Repeat::Safe).await {
            Ok(body) => Ok(Hold {
                hold_id: HoldId::new(body.hold_id),
                expires_at: body.expires_at,
            }),
            Err(failure) => Err(self.hold_refusal(failure, lines)),
        }
    }

    async fn extend(
        &self,
        hold: &HoldId,
        expires_at: OffsetDateTime,
    ) -> Result<Hold, UpstreamError> {
        let request = self
            .upstream
            .request(Method::POST, &format!("/tickets/holds/{hold}/extend"))
            .json(&json!({ "expiresAt": rfc3339(expires_at) }));
        let body: HoldBody = self
            .upstream
            .send(request, Repeat::Safe)
            .await
            .map_err(|f| self.upstream.error(f))?;
        Ok(Hold {
            hold_id: HoldId::new(body.hold_id),
            expires_at: body.expires_at,
        })
    }

    async fn release(&self, hold: &HoldId) -> Result<(), UpstreamError> {
        let request = self
            .upstream
            .request(Method::DELETE, &format!("/tickets/holds/{hold}"));
        self.upstream
            .send::<serde_json::Value>(request, Repeat::Safe)
            .await
            .map(|_| ())
            .map_err(|f| self.upstream.error(f))
    }

    async fn release_line(
        &self,
        hold: &HoldId,
        line: OrderItemId,
        tickets: &TicketLine,
    ) -> Result<(), UpstreamError> {
        let request = self
            .upstream
            .request(
                Method::POST,
                &format!("/tickets/holds/{hold}/lines/{line}/release"),
            )
            .json(&line_body(tickets));
        self.upstream
            .send::<serde_json::Value>(request, Repeat::Safe)
            .await
            .map(|_| ())
            .map_err(|f| self.upstream.error(f))
    }

    async fn hold_for_edit(
        &self,
        tenant: TenantId,
        edit: order_domain::ids::OrderEditId,
        event: EventId,
        lines: &[TicketLine],
        expires_at: OffsetDateTime,
    ) -> Result<Hold, HoldError> {
        // A hold's `orderId` is its key at the ticket service: an edit's own hold is keyed by the
        // edit, so it never meets the order's (sold) hold.
        self.hold(
            tenant,
            OrderId::from_uuid(*edit.as_uuid()),
            event,
            lines,
            expires_at,
        )
        .await
    }

    async fn adjust_hold(
        &self,
        hold: &HoldId,
        key: uuid::Uuid,
        added: &[TicketLine],
        released: &[TicketLine],
    ) -> Result<(), HoldError> {
        let request = self
            .upstream
            .request(Method::POST, &format!("/tickets/holds/{hold}/adjust"))
            .json(&json!({
                "key": key,
                "add": line_bodies(added),
                "release": line_bodies(released),
            }));
        self.upstream
            .send::<serde_json::Value>(request, Repeat::Safe)
            .await
            .map(|_| ())
            .map_err(|failure| self.hold_refusal(failure, added))
    }

    async fn release_all(&self, holds: &[HoldId]) -> Result<(), UpstreamError> {
        let request = self
            .upstream
            .request(Method::POST, "/tickets/holds/release")
            .json(&json!({ "holdIds": holds }));
        self.upstream
            .send::<serde_json::Value>(request, Repeat::Safe)
            .await
            .map(|_| ())
            .map_err(|f| self.upstream.error(f))
    }

    async fn commit(&self, hold: &HoldId) -> Result<Vec<TicketId>, UpstreamError> {
        let request = self
            .upstream
            .request(Method::POST, &format!("/tickets/holds/{hold}/commit"));
        let body: HoldBody = self
            .upstream
            .send(request, Repeat::Safe)
            .await
            .map_err(|f| self.upstream.error(f))?;
        Ok(body.ticket_ids.into_iter().map(TicketId::new).collect())
    }
}
