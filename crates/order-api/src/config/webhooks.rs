//! Webhook delivery: development mode (http to loopback and private receivers allowed), the
//! attempt timeout, how many attempts run at once, and how often workers look for due ones.

use std::time::Duration;

use serde::Deserialize;

use super::values::{ConfigError, Count, Flag, Millis, Seconds, in_range};

#[derive(Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(super) struct WebhookVars {
    webhook_development_mode: Option<Flag>,
    webhook_timeout_seconds: Option<Seconds>,
    webhook_concurrency: Option<Count>,
    webhook_poll_interval_ms: Option<Millis>,
}

/// How webhooks are delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookSettings {
    /// `WEBHOOK_DEVELOPMENT_MODE` (false) and `WEBHOOK_TIMEOUT_SECONDS` (10, 1–30).
    pub transport: order_http_clients::WebhookTransportConfig,
    /// `WEBHOOK_CONCURRENCY` (16, 1–256): attempts in flight per worker.
    pub concurrency: u32,
    /// `WEBHOOK_POLL_INTERVAL_MS` (500): the pause when nothing is due.
    pub poll_interval: Duration,
}

impl WebhookVars {
    pub(super) fn resolve(self) -> Result<WebhookSettings, ConfigError> {
        let timeout = in_range(
            "WEBHOOK_TIMEOUT_SECONDS",
            self.webhook_timeout_seconds.map_or(10, |s| s.0),
            1..=30,
            "a number of seconds from 1 to 30 (shorter than the 60 s delivery lease)",
        )?;
        Ok(WebhookSettings {
            transport: order_http_clients::WebhookTransportConfig {
                timeout: Duration::from_secs(timeout),
                allow_private: self.webhook_development_mode.is_some_and(|f| f.0),
            },
            concurrency: in_range(
                "WEBHOOK_CONCURRENCY",
                self.webhook_concurrency.map_or(16, |c| c.0),
                1..=256,
                "a count from 1 to 256",
            )?,
            poll_interval: self
                .webhook_poll_interval_ms
                .map_or(Duration::from_millis(500), |m| m.0),
        })
    }
}
