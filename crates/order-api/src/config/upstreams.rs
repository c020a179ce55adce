//! The services around us: where they are, the key we send, timeouts, retries and breakers.

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use super::values::{ConfigError, Count, Millis, Seconds, in_range};

#[derive(Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(super) struct UpstreamVars {
    ticket_service_url: String,
    payment_service_url: String,
    event_service_url: String,
    product_service_url: String,
    inventory_service_url: String,
    shipping_service_url: String,
    notification_service_url: String,
    event_cache_ttl_seconds: Option<Seconds>,
    upstream_service_key: Option<SecretString>,
    upstream_timeout_ms: Option<Millis>,
    circuit_breaker_failure_rate_percent: Option<Count>,
    circuit_breaker_request_volume: Option<Count>,
    circuit_breaker_window_ms: Option<Millis>,
    circuit_breaker_reset_timeout_ms: Option<Millis>,
    upstream_max_retries: Option<Count>,
    upstream_retry_base_ms: Option<Millis>,
}

pub(super) struct Upstreams {
    pub(super) ticket_service_url: String,
    pub(super) payment_service_url: String,
    pub(super) event_service_url: String,
    pub(super) product_service_url: String,
    pub(super) inventory_service_url: String,
    pub(super) shipping_service_url: String,
    pub(super) notification_service_url: String,
    pub(super) event_cache_ttl: Duration,
    pub(super) upstream_service_key: Option<SecretString>,
    pub(super) upstream_timeout: Duration,
    pub(super) upstream_resilience: order_http_clients::Resilience,
}

impl UpstreamVars {
    pub(super) fn resolve(self) -> Result<Upstreams, ConfigError> {
        let defaults = order_http_clients::Resilience::default();
        let ttl = in_range(
            "EVENT_CACHE_TTL_SECONDS",
            self.event_cache_ttl_seconds.map_or(30, |s| s.0),
            0..=3_600,
            "a number of seconds from 0 to 3600",
        )?;
        let failure_percent = in_range(
            "CIRCUIT_BREAKER_FAILURE_RATE_PERCENT",
            self.circuit_breaker_failure_rate_percent
                .map_or(u32::from(defaults.failure_percent), |c| c.0),
            1..=100,
            "a percentage from 1 to 100",
        )?;
        Ok(Upstreams {
            ticket_service_url: self.ticket_service_url,
            payment_service_url: self.payment_service_url,
            event_service_url: self.event_service_url,
            product_service_url: self.product_service_url,
            inventory_service_url: self.inventory_service_url,
            shipping_service_url: self.shipping_service_url,
            notification_service_url: self.notification_service_url,
            event_cache_ttl: Duration::from_secs(ttl),
            upstream_service_key: self.upstream_service_key,
            upstream_timeout: self
                .upstream_timeout_ms
                .map_or(Duration::from_secs(5), |m| m.0),
            upstream_resilience: order_http_clients::Resilience {
                failure_percent: u8::try_from(failure_percent).unwrap_or(defaults.failure_percent),
                minimum_calls: self
                    .circuit_breaker_request_volume
                    .map_or(defaults.minimum_calls, |c| c.0),
                window: self
                    .circuit_breaker_window_ms
                    .map_or(defaults.window, |m| m.0),
                open_for: self
                    .circuit_breaker_reset_timeout_ms
                    .map_or(defaults.open_for, |m| m.0),
                max_retries: self
                    .upstream_max_retries
                    .map_or(defaults.max_retries, |c| c.0),
                retry_base: self
                    .upstream_retry_base_ms
                    .map_or(defaults.retry_base, |m| m.0),
            },
        })
    }
}
