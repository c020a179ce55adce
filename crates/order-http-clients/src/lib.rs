//! HTTP adapters for the upstream services: [`HttpTicketService`], [`HttpPaymentGateway`] and
//! [`HttpEventCatalog`] implement the domain's ports over the contracts of `docs/upstreams.md`.
//!
//! Every client has a timeout and sends `Authorization: Service-Key <key>` when a key is
//! configured. Upstream bodies never reach our clients: failures become [`UpstreamError`]s whose
//! detail is for logs.

mod events;
mod not_configured;
mod payments;
mod tickets;

use std::time::Duration;

use order_domain::ports::UpstreamError;
use serde::de::DeserializeOwned;

pub use self::events::HttpEventCatalog;
pub use self::not_configured::NotConfigured;
pub use self::payments::HttpPaymentGateway;
pub use self::tickets::HttpTicketService;

/// Where an upstream lives and how to talk to it.
#[derive(Debug, Clone)]
pub struct UpstreamConfig {
    /// Base URL, e.g. `http://127.0.0.1:3010`.
    pub base_url: String,
    /// Sent as `Authorization: Service-Key <key>`.
    pub service_key: Option<String>,
    /// Per-request timeout (5 s by default).
    pub timeout: Duration,
}

impl UpstreamConfig {
    /// An upstream at `base_url` with the default 5 s timeout and no key.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            service_key: None,
            timeout: Duration::from_secs(5),
        }
    }
}

/// One HTTP client per upstream, with its base URL and key.
#[derive(Debug, Clone)]
struct Upstream {
    service: &'static str,
    client: reqwest::Client,
    config: UpstreamConfig,
}

/// A non-success answer, kept for mapping to the port's error.
#[derive(Debug)]
struct Failure {
    status: Option<reqwest::StatusCode>,
    body: serde_json::Value,
    detail: String,
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
            config,
        })
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

    /// Sends and decodes a JSON answer; non-2xx answers become a [`Failure`].
    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, Failure> {
        let response = request.send().await.map_err(|e| Failure {
            status: None,
            body: serde_json::Value::Null,
            detail: e.to_string(),
        })?;
        let status = response.status();
        if status.is_success() {
            let bytes = response.bytes().await.map_err(|e| Failure {
                status: Some(status),
                body: serde_json::Value::Null,
                detail: e.to_string(),
            })?;
            // 204 answers decode from `null`.
            let text: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
            serde_json::from_slice(text).map_err(|e| Failure {
                status: Some(status),
                body: serde_json::Value::Null,
                detail: format!("unexpected body: {e}"),
            })
        } else {
            let body: serde_json::Value = response.json().await.unwrap_or(serde_json::Value::Null);
            Err(Failure {
                status: Some(status),
                detail: format!(
                    "HTTP {status}: {}",
                    body.get("code").and_then(|c| c.as_str()).unwrap_or("")
                ),
                body,
            })
        }
    }

    /// The port error for a failure that has no more specific meaning.
    fn error(&self, failure: Failure) -> UpstreamError {
        match failure.status {
            Some(s) if s == reqwest::StatusCode::NOT_FOUND => UpstreamError::NotFound {
                service: self.service,
            },
            Some(s) if s.is_client_error() && s != reqwest::StatusCode::TOO_MANY_REQUESTS => {
                UpstreamError::Rejected {
                    service: self.service,
                    detail: failure.detail,
                }
            }
            _ => UpstreamError::Unavailable {
                service: self.service,
                detail: failure.detail,
            },
        }
    }
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
