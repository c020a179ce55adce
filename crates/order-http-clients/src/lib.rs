//! HTTP adapters for the upstream services: [`HttpTicketService`], [`HttpPaymentGateway`],
//! [`HttpEventCatalog`], [`HttpProductCatalog`], [`HttpInventoryService`],
//! [`HttpShippingService`] and [`HttpNotifier`] implement the domain's ports over the contracts of
//! `docs/upstreams.md`; [`HttpWebhookTransport`] signs and sends webhooks (docs/webhooks.md).
//!
//! Every client has a timeout, a circuit breaker of its own and, for calls that are safe to
//! repeat, retries with exponential backoff and jitter ([`Resilience`]); it sends
//! `Authorization: Service-Key <key>` when a key is configured. Upstream bodies never reach our
//! clients: failures become [`UpstreamError`]s whose detail is for logs.

mod event_cache;
mod events;
mod inventory;
mod notifications;
mod payments;
mod products;
mod resilience;
mod shipping;
mod tickets;
mod webhooks;

use std::time::Duration;

use order_domain::cause::Cause;
use order_domain::ports::UpstreamError;
use serde::de::DeserializeOwned;
use tracing::Instrument;

pub use self::events::HttpEventCatalog;
pub use self::inventory::HttpInventoryService;
pub use self::notifications::HttpNotifier;
pub use self::payments::HttpPaymentGateway;
pub use self::products::HttpProductCatalog;
use self::resilience::Breaker;
pub use self::resilience::{BreakerState, Repeat, Resilience};

pub use self::shipping::HttpShippingService;
pub use self::tickets::HttpTicketService;
pub use self::webhooks::{HttpWebhookTransport, WebhookTransportConfig, sign};

/// Told of every upstream call attempt (metrics): the service, how it ended (`ok`, `refused`
/// for a 4xx answer, `outage`, `circuit_open`) and how long it took.
pub trait CallObserver: Send + Sync + std::fmt::Debug {
    /// One attempt.
    fn observe(&self, service: &'static str, outcome: &'static str, elapsed: Duration);
}

/// Where an upstream lives and how to talk to it.
#[derive(Debug, Clone)]
pub struct UpstreamConfig {
    /// Base URL, e.g. `http://127.0.0.1:3010`.
    pub base_url: String,
    /// Sent as `Authorization: Service-Key <key>`.
    pub service_key: Option<String>,
    /// Per-request timeout (5 s by default).
    pub timeout: Duration,
    /// Circuit breaker and retries.
    pub resilience: Resilience,
    /// Told of every attempt, when set.
    pub observer: Option<std::sync::Arc<dyn CallObserver>>,
}

impl UpstreamConfig {
    /// An upstream at `base_url` with the default 5 s timeout and no key.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            service_key: None,
            timeout: Duration::from_secs(5),
            resilience: Resilience::default(),
            observer: None,
        }
    }
}

/// One HTTP client per upstream, with its base URL, key and circuit breaker.
#[derive(Debug, Clone)]
struct Upstream {
    service: &'static str,
    client: reqwest::Client,
    config: UpstreamConfig,
    breaker: Breaker,
}

/// A non-success answer, kept for mapping to the port's error.
#[derive(Debug)]
struct Failure {
    status: Option<reqwest::StatusCode>,
    body: serde_json::Value,
    cause: Cause,
    /// Set when the open breaker refused the call: how long until it lets calls through.
    circuit_open: Option<Duration>,
}

impl Failure {
    fn transport(status: Option<reqwest::StatusCode>, cause: impl Into<Cause>) -> Self {
        Self {
            status,
            body: serde_json::Value::Null,
            cause: cause.into(),
            circuit_open: None,
        }
    }

    /// An outage rather than an answer: trips the breaker and may be retried. 408 is the
    /// server giving up on a request it did not get in time — typically a pooled connection it
    /// was closing as we sent on it (seen under load in the bench) — so it is not a refusal.
    fn is_outage(&self) -> bool {
        match self.status {
            None => true,
            Some(status) => {
                status.is_server_error()
                    || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                    || status == reqwest::StatusCode::REQUEST_TIMEOUT
            }
        }
    }
}

impl Upstream {
    fn new(service: &'static str, config: UpstreamConfig) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()?;
        Ok(Self {
            service,
            client,
            breaker: Breaker::new(&config.resilience),
            config,
        })
    }

    /// The breaker's state, for health reports.
    fn breaker_state(&self) -> BreakerState {
        self.breaker.state()
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.config.base_url));
        if let Some(key) = &self.config.service_key {
            request = request.header("authorization", format!("Service-Key {key}"));
        }
        request
    }

    /// Sends through the breaker and decodes a JSON answer; non-2xx answers become a
    /// [`Failure`]. A [`Repeat::Safe`] call is retried after outages with backoff, while the
    /// breaker allows.
    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        repeat: Repeat,
    ) -> Result<T, Failure> {
        let retries = match repeat {
            Repeat::Safe => self.config.resilience.max_retries,
            Repeat::Once => 0,
        };
        let mut retry = 0;
        loop {
            // Keep the original for the last attempt; a body that cannot be cloned (a stream)
            // gets one attempt only.
            let spare = if retry < retries {
                request.try_clone()
            } else {
                None
            };
            let Some(this_try) = spare else {
                return self.send_once(request).await;
            };
            match self.send_once(this_try).await {
                Err(failure) if failure.is_outage() && failure.circuit_open.is_none() => {
                    tokio::time::sleep(self.config.resilience.backoff(retry)).await;
                    retry += 1;
                }
                other => return other,
            }
        }
    }

    /// One attempt through the breaker.
    async fn send_once<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, Failure> {
        if let Err(retry_after) = self.breaker.permit() {
            if let Some(observer) = &self.config.observer {
                observer.observe(self.service, "circuit_open", Duration::ZERO);
            }
            return Err(Failure {
                circuit_open: Some(retry_after),
                ..Failure::transport(None, "circuit breaker open")
            });
        }
        let started = std::time::Instant::now();
        let span = tracing::info_span!(
            "upstream call",
            otel.name = %format!("{} call", self.service),
            otel.kind = "client",
            peer.service = self.service,
            http.response.status_code = tracing::field::Empty,
        );
        let result = Self::exchange(with_trace_context(request))
            .instrument(span.clone())
            .await;
        if let Err(Failure {
            status: Some(status),
            ..
        }) = &result
        {
            span.record("http.response.status_code", status.as_u16());
        }
        let outage = result.as_ref().err().is_some_and(Failure::is_outage);
        self.breaker.record(outage);
        if let Some(observer) = &self.config.observer {
            let outcome = match (&result, outage) {
                (Ok(_), _) => "ok",
                (Err(_), true) => "outage",
                (Err(_), false) => "refused",
            };
            observer.observe(self.service, outcome, started.elapsed());
        }
        result
    }

    async fn exchange<T: DeserializeOwned>(request: reqwest::RequestBuilder) -> Result<T, Failure> {
        let response = request
            .send()
            .await
            .map_err(|e| Failure::transport(None, Cause::new(e)))?;
        let status = response.status();
        if status.is_success() {
            let bytes = response
                .bytes()
                .await
                .map_err(|e| Failure::transport(Some(status), Cause::new(e)))?;
            // 204 answers decode from `null`.
            let text: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
            serde_json::from_slice(text)
                .map_err(|e| Failure::transport(Some(status), Cause::new(e)))
        } else {
            let body: serde_json::Value = response.json().await.unwrap_or(serde_json::Value::Null);
            Err(Failure {
                status: Some(status),
                cause: format!(
                    "HTTP {status}: {}",
                    body.get("code").and_then(|c| c.as_str()).unwrap_or("")
                )
                .into(),
                body,
                circuit_open: None,
            })
        }
    }

    /// The port error for a failure that has no more specific meaning.
    fn error(&self, failure: Failure) -> UpstreamError {
        if let Some(retry_after) = failure.circuit_open {
            return UpstreamError::CircuitOpen {
                service: self.service,
                retry_after,
            };
        }
        match failure.status {
            Some(s) if s == reqwest::StatusCode::NOT_FOUND => UpstreamError::NotFound {
                service: self.service,
            },
            Some(s) if s.is_client_error() && s != reqwest::StatusCode::TOO_MANY_REQUESTS => {
                UpstreamError::Rejected {
                    service: self.service,
                    detail: failure.cause.to_string(),
                }
            }
            _ => UpstreamError::Unavailable {
                service: self.service,
                cause: failure.cause,
            },
        }
    }
}

/// The current trace's context as `traceparent` (and `tracestate`) headers: the upstream
/// continues our trace. Nothing is added while traces are off.
fn with_trace_context(mut request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    for (name, value) in order_trace_context::current() {
        request = request.header(name, value);
    }
    request
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(status: u16) -> Failure {
        Failure::transport(
            Some(reqwest::StatusCode::from_u16(status).expect("status")),
            String::new(),
        )
    }

    #[test]
    fn outages_are_5xx_408_429_and_no_answer_while_other_4xx_are_answers() {
        for status in [500, 502, 503, 504, 408, 429] {
            assert!(failure(status).is_outage(), "{status}");
        }
        for status in [400, 404, 409, 422] {
            assert!(!failure(status).is_outage(), "{status}");
        }
        assert!(Failure::transport(None, "refused").is_outage());
    }
}
