//! The HTTP side: listener, body size, trusted proxies, per-user rate limits, logging.

use serde::Deserialize;

use super::values::{ConfigError, Count, Millis, Port, Size};
use crate::client_ip::TrustedProxies;

/// Per-user limits of the ticketing API's table, per minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// `POST /orders`.
    pub orders: u32,
    /// `POST /orders/{id}/reserve`.
    pub reserve: u32,
    /// `POST /orders/{id}/cancel`.
    pub cancel: u32,
    /// `POST /orders/{id}/refund`.
    pub refund: u32,
    /// Cart requests of one anonymous session.
    pub anonymous_cart: u32,
    /// Anonymous cart requests from one client address (every session it names).
    pub cart_per_address: u32,
    /// Promo-code previews (`GET /cart?promoCode=`) of one shopper, and of one address.
    pub promo_code_tries: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            orders: 10,
            reserve: 5,
            cancel: 5,
            refund: 3,
            anonymous_cart: 60,
            cart_per_address: 600,
            promo_code_tries: 10,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(super) struct HttpVars {
    port: Option<Port>,
    host: Option<String>,
    max_body_bytes: Option<Size>,
    trusted_proxies: Option<String>,
    log_level: Option<String>,
    log_format: Option<String>,
    rate_limit_orders_per_minute: Option<Count>,
    rate_limit_reserve_per_minute: Option<Count>,
    rate_limit_cancel_per_minute: Option<Count>,
    rate_limit_refund_per_minute: Option<Count>,
    rate_limit_anonymous_cart_per_minute: Option<Count>,
    rate_limit_cart_per_address_per_minute: Option<Count>,
    rate_limit_promo_code_per_minute: Option<Count>,
    max_concurrent_commands: Option<Count>,
    command_queue_timeout_ms: Option<Millis>,
}

pub(super) struct Http {
    pub(super) port: u16,
    pub(super) host: String,
    pub(super) max_body_bytes: usize,
    pub(super) trusted_proxies: TrustedProxies,
    pub(super) log_level: String,
    pub(super) log_json: bool,
    pub(super) rate_limits: RateLimits,
    pub(super) max_concurrent_commands: usize,
    pub(super) command_queue_timeout: std::time::Duration,
}

impl HttpVars {
    pub(super) fn resolve(self) -> Result<Http, ConfigError> {
        let log_json = match self.log_format.as_deref().unwrap_or("text") {
            "text" => false,
            "json" => true,
            other => {
                return Err(ConfigError::new(
                    "LOG_FORMAT",
                    format!("must be text or json, got {other:?}"),
                ));
            }
        };
        let trusted_proxies = TrustedProxies::parse(self.trusted_proxies.as_deref().unwrap_or(""))
            .map_err(|problem| {
                ConfigError::new(
                    "TRUSTED_PROXIES",
                    format!("must list addresses or networks: {problem}"),
                )
            })?;
        let defaults = RateLimits::default();
        let max_concurrent_commands = self.max_concurrent_commands.map_or(64, |c| c.0);
        if max_concurrent_commands == 0 {
            return Err(ConfigError::new(
                "MAX_CONCURRENT_COMMANDS",
                "must be at least 1",
            ));
        }
        Ok(Http {
            max_concurrent_commands: usize::try_from(max_concurrent_commands).unwrap_or(usize::MAX),
            command_queue_timeout: self
                .command_queue_timeout_ms
                .map_or(std::time::Duration::from_secs(10), |m| m.0),
            port: self.port.map_or(3004, |p| p.0),
            host: self.host.unwrap_or_else(|| "127.0.0.1".into()),
            max_body_bytes: self.max_body_bytes.map_or(64 * 1024, |s| s.0),
            trusted_proxies,
            log_level: self.log_level.unwrap_or_else(|| "info".into()),
            log_json,
            rate_limits: RateLimits {
                orders: self
                    .rate_limit_orders_per_minute
                    .map_or(defaults.orders, |c| c.0),
                reserve: self
                    .rate_limit_reserve_per_minute
                    .map_or(defaults.reserve, |c| c.0),
                cancel: self
                    .rate_limit_cancel_per_minute
                    .map_or(defaults.cancel, |c| c.0),
                refund: self
                    .rate_limit_refund_per_minute
                    .map_or(defaults.refund, |c| c.0),
                anonymous_cart: self
                    .rate_limit_anonymous_cart_per_minute
                    .map_or(defaults.anonymous_cart, |c| c.0),
                cart_per_address: self
                    .rate_limit_cart_per_address_per_minute
                    .map_or(defaults.cart_per_address, |c| c.0),
                promo_code_tries: self
                    .rate_limit_promo_code_per_minute
                    .map_or(defaults.promo_code_tries, |c| c.0),
            },
        })
    }
}
