//! Configuration from the environment (seed 002's variable names, SPEC defaults). A missing or
//! malformed value stops start-up with one line naming the variable.

use secrecy::SecretString;
use std::str::FromStr;
use std::time::Duration;

use order_domain::money::{Rate, RoundingMode};
use order_domain::policy::DomainConfig;

/// A variable that is missing or cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error: {variable} {problem}")]
pub struct ConfigError {
    /// The environment variable.
    pub variable: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

/// How bearer tokens are verified.
#[derive(Debug, Clone)]
pub enum JwtKey {
    /// HS256 with `JWT_SECRET`.
    Hs256(SecretString),
    /// RS256 with the PEM public key in `JWT_PUBLIC_KEY`.
    Rs256(String),
}

/// JWT settings.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    /// Verification key.
    pub key: JwtKey,
    /// Required `iss`, when set (`JWT_ISSUER`).
    pub issuer: Option<String>,
    /// Required `aud`, when set (`JWT_AUDIENCE`).
    pub audience: Option<String>,
    /// HS256 secret used by `dev-token` (the same as the verification secret).
    pub signing_secret: Option<SecretString>,
}

/// A service allowed on `/internal/v1/*`.
#[derive(Debug, Clone)]
pub struct ServiceKey {
    /// Name recorded as the actor.
    pub name: String,
    /// The key it sends as `Authorization: Service-Key <key>`.
    pub key: SecretString,
}

/// Per-user limits of seed 002's table, per minute.
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
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            orders: 10,
            reserve: 5,
            cancel: 5,
            refund: 3,
        }
    }
}

/// Everything `order-api` is configured with.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT` (3004).
    pub port: u16,
    /// `HOST` (127.0.0.1; 0.0.0.0 in containers).
    pub host: String,
    /// `DATABASE_URL`: the application's login role.
    pub database_url: SecretString,
    /// `DATABASE_ADMIN_URL`: the owner, for `order-api migrate` (defaults to `DATABASE_URL`).
    pub database_admin_url: SecretString,
    /// `DATABASE_MAX_CONNECTIONS` (20).
    pub database_max_connections: u32,
    /// JWT verification.
    pub jwt: JwtConfig,
    /// `SERVICE_API_KEYS`: `name:key,name:key`.
    pub service_keys: Vec<ServiceKey>,
    /// `TICKET_SERVICE_URL`.
    pub ticket_service_url: String,
    /// `PAYMENT_SERVICE_URL`.
    pub payment_service_url: String,
    /// `EVENT_SERVICE_URL`.
    pub event_service_url: String,
    /// `EVENT_CACHE_TTL_SECONDS` (30; 0 turns it off): how long event details are reused for
    /// the on-sale check of new orders (decision 0022).
    pub event_cache_ttl: Duration,
    /// `UPSTREAM_SERVICE_KEY`: what this service sends upstream.
    pub upstream_service_key: Option<SecretString>,
    /// `UPSTREAM_TIMEOUT_MS` (5000).
    pub upstream_timeout: Duration,
    /// Circuit breaker and retries of every upstream: `CIRCUIT_BREAKER_FAILURE_RATE_PERCENT`
    /// (50), `CIRCUIT_BREAKER_REQUEST_VOLUME` (10), `CIRCUIT_BREAKER_WINDOW_MS` (60000),
    /// `CIRCUIT_BREAKER_RESET_TIMEOUT_MS` (30000), `UPSTREAM_MAX_RETRIES` (3),
    /// `UPSTREAM_RETRY_BASE_MS` (100).
    pub upstream_resilience: order_http_clients::Resilience,
    /// `REDIS_URL`, or `redis://[:REDIS_PASSWORD@]REDIS_HOST:REDIS_PORT` (seed 002's names).
    pub redis_url: SecretString,
    /// Requests per minute and user: `RATE_LIMIT_ORDERS_PER_MINUTE` (10),
    /// `RATE_LIMIT_RESERVE_PER_MINUTE` (5), `RATE_LIMIT_CANCEL_PER_MINUTE` (5),
    /// `RATE_LIMIT_REFUND_PER_MINUTE` (3).
    pub rate_limits: RateLimits,
    /// `RABBITMQ_URL` (amqp://guest:guest@127.0.0.1:5672/%2f).
    pub rabbitmq_url: SecretString,
    /// `OUTBOX_BATCH_SIZE` (100): rows leased per relay pass.
    pub outbox_batch_size: u32,
    /// The consumed queues: `AMQP_QUEUE_PREFIX` (`order-service`) and `CONSUMER_MAX_ATTEMPTS`
    /// (5) deliveries before the dead-letter queue.
    pub consumers: order_amqp::consumers::ConsumerTopology,
    /// `CONSUMER_RETRY_DELAY_MS` (1000): the first pause before a failed message is retried;
    /// it doubles with each delivery.
    pub consumer_retry_delay: Duration,
    /// `EXPIRATION_CHECK_INTERVAL_MINUTES` (1).
    pub expiry_interval: std::time::Duration,
    /// `EXPIRY_BATCH_SIZE` (500).
    pub expiry_batch_size: u32,
    /// `REFUND_RETRY_INTERVAL_SECONDS` (60): how often FAILED refunds that are due are paid
    /// out again.
    pub refund_retry_interval: std::time::Duration,
    /// `HOUSEKEEPING_INTERVAL_MINUTES` (10): how often rows that no longer matter are deleted.
    pub housekeeping_interval: std::time::Duration,
    /// `INBOX_RETENTION_DAYS` (30): consumed message ids are kept this long, so a message the
    /// broker redelivers (or an operator replays from the dead-letter queue) within it is applied
    /// once.
    pub inbox_retention: time::Duration,
    /// `METRICS_AGGREGATION_INTERVAL_MINUTES` (5).
    pub metrics_interval: std::time::Duration,
    /// `ANALYTICS_WINDOW_DAYS` (30): analytics count orders created this far back.
    pub analytics_window: time::Duration,
    /// `RUN_JOBS` (true): run the background jobs inside the API process.
    pub run_jobs: bool,
    /// `REDIS_KEY_PREFIX` (`order-service`): namespaces our keys in a shared Redis.
    pub redis_key_prefix: String,
    /// `IDEMPOTENCY_TTL_MINUTES` (30).
    pub idempotency_ttl: time::Duration,
    /// `IDEMPOTENCY_LEASE_SECONDS` (60): how long a request's claim on its key lasts; a
    /// request that dies holding it stops pinning the key when the lease ends.
    pub idempotency_lease: time::Duration,
    /// `MAX_BODY_BYTES` (65536).
    pub max_body_bytes: usize,
    /// `TRUSTED_PROXIES` (none): addresses and networks whose `X-Forwarded-For` names the
    /// caller in the audit trail, e.g. `10.0.0.0/8,127.0.0.1`.
    pub trusted_proxies: crate::client_ip::TrustedProxies,
    /// `LOG_LEVEL` (info) — or `RUST_LOG` for per-module filters.
    pub log_level: String,
    /// `LOG_FORMAT`: `json` or `text` (text).
    pub log_json: bool,
    /// Business rules.
    pub domain: DomainConfig,
}

/// Reads variables through `lookup` (the process environment in production, a map in tests).
pub struct Env<F: Fn(&str) -> Option<String>>(pub F);

impl<F: Fn(&str) -> Option<String>> std::fmt::Debug for Env<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Env")
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    fn get(&self, variable: &'static str) -> Option<String> {
        (self.0)(variable)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn required(&self, variable: &'static str) -> Result<String, ConfigError> {
        self.get(variable).ok_or(ConfigError {
            variable,
            problem: "is required".into(),
        })
    }

    fn parsed<T: FromStr>(
        &self,
        variable: &'static str,
        default: T,
        what: &str,
    ) -> Result<T, ConfigError> {
        match self.get(variable) {
            None => Ok(default),
            Some(text) => text.parse().map_err(|_| ConfigError {
                variable,
                problem: format!("must be {what}, got {text:?}"),
            }),
        }
    }

    /// Like [`Self::parsed`], and the value must lie in `range` (described as `what`).
    fn in_range<T, R>(
        &self,
        variable: &'static str,
        default: T,
        range: R,
        what: &str,
    ) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd,
        R: std::ops::RangeBounds<T>,
    {
        let value = self.parsed(variable, default, what)?;
        if range.contains(&value) {
            Ok(value)
        } else {
            Err(ConfigError {
                variable,
                problem: format!("must be {what}"),
            })
        }
    }

    /// A job interval given in whole minutes.
    fn interval_minutes(
        &self,
        variable: &'static str,
        default_minutes: i64,
    ) -> Result<Duration, ConfigError> {
        let minutes = self.minutes(variable, time::Duration::minutes(default_minutes))?;
        Ok(Duration::from_secs(
            u64::try_from(minutes.whole_seconds()).unwrap_or(60),
        ))
    }

    fn rate(&self, variable: &'static str, default: Rate) -> Result<Rate, ConfigError> {
        match self.get(variable) {
            None => Ok(default),
            Some(text) => Rate::parse_percent(&text).map_err(|_| ConfigError {
                variable,
                problem: format!("must be a percentage like 2.9, got {text:?}"),
            }),
        }
    }

    fn minutes(
        &self,
        variable: &'static str,
        default: time::Duration,
    ) -> Result<time::Duration, ConfigError> {
        let minutes: i64 = self.parsed(
            variable,
            default.whole_minutes(),
            "a whole number of minutes",
        )?;
        if minutes <= 0 {
            return Err(ConfigError {
                variable,
                problem: "must be positive".into(),
            });
        }
        Ok(time::Duration::minutes(minutes))
    }
}

impl Config {
    /// Reads the process environment.
    ///
    /// # Errors
    /// The first missing or malformed variable.
    pub fn from_process_env() -> Result<Self, ConfigError> {
        Self::from_env(&Env(|name| std::env::var(name).ok()))
    }

    /// Reads variables through `env`.
    ///
    /// # Errors
    /// The first missing or malformed variable.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let database_url = env.required("DATABASE_URL")?;
        let secret = env.get("JWT_SECRET");
        let public_key = env.get("JWT_PUBLIC_KEY");
        let key = match (&secret, public_key) {
            (_, Some(pem)) => JwtKey::Rs256(pem),
            (Some(secret), None) if secret.len() >= 32 => {
                JwtKey::Hs256(SecretString::from(secret.clone()))
            }
            (Some(_), None) => {
                return Err(ConfigError {
                    variable: "JWT_SECRET",
                    problem: "must be at least 32 characters".into(),
                });
            }
            (None, None) => {
                return Err(ConfigError {
                    variable: "JWT_SECRET",
                    problem: "is required (or JWT_PUBLIC_KEY for RS256)".into(),
                });
            }
        };
        let service_keys = match env.get("SERVICE_API_KEYS") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(|entry| {
                    let (name, key) = entry.trim().split_once(':').ok_or(ConfigError {
                        variable: "SERVICE_API_KEYS",
                        problem: "must be a list of name:key pairs separated by commas".into(),
                    })?;
                    if key.len() < 16 {
                        return Err(ConfigError {
                            variable: "SERVICE_API_KEYS",
                            problem: format!("the key of {name:?} must be at least 16 characters"),
                        });
                    }
                    Ok(ServiceKey {
                        name: name.to_owned(),
                        key: SecretString::from(key.to_owned()),
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let defaults = DomainConfig::default();
        let mut domain = defaults.clone();
        domain.limits.max_order_value = env.parsed(
            "MAX_ORDER_VALUE_CENTS",
            defaults.limits.max_order_value,
            "an amount in minor units",
        )?;
        domain.limits.min_order_value = env.parsed(
            "MIN_ORDER_VALUE_CENTS",
            defaults.limits.min_order_value,
            "an amount in minor units",
        )?;
        domain.limits.max_line_items = env.parsed(
            "MAX_ITEMS_PER_ORDER",
            defaults.limits.max_line_items,
            "a count",
        )?;
        domain.limits.max_quantity_per_item = env.parsed(
            "MAX_QUANTITY_PER_ITEM",
            defaults.limits.max_quantity_per_item,
            "a count",
        )?;
        domain.limits.max_per_ticket_type = env.parsed(
            "MAX_TICKETS_PER_TYPE",
            defaults.limits.max_per_ticket_type,
            "a count",
        )?;
        domain.limits.max_total_quantity = env.parsed(
            "MAX_TOTAL_QUANTITY",
            defaults.limits.max_total_quantity,
            "a count",
        )?;
        domain.limits.max_orders_per_user_per_day = env.parsed(
            "MAX_ORDERS_PER_USER_PER_DAY",
            defaults.limits.max_orders_per_user_per_day,
            "a count",
        )?;
        domain.limits.max_active_orders_per_user_per_event = env.parsed(
            "MAX_ACTIVE_ORDERS_PER_EVENT",
            defaults.limits.max_active_orders_per_user_per_event,
            "a count",
        )?;
        domain.limits.max_cart_lines =
            env.parsed("MAX_CART_ITEMS", defaults.limits.max_cart_lines, "a count")?;
        domain.reservation.ticket_hold = env.minutes(
            "RESERVATION_DURATION_MINUTES",
            defaults.reservation.ticket_hold,
        )?;
        domain.reservation.vip_ticket_hold = env.minutes(
            "VIP_RESERVATION_DURATION_MINUTES",
            defaults.reservation.vip_ticket_hold,
        )?;
        domain.reservation.grace = env.minutes(
            "RESERVATION_GRACE_PERIOD_MINUTES",
            defaults.reservation.grace,
        )?;
        domain.reservation.goods_payment_window = env.minutes(
            "ORDER_TIMEOUT_MINUTES",
            defaults.reservation.goods_payment_window,
        )?;
        let cutoff_hours: i64 = env.parsed("REFUND_CUTOFF_HOURS", 24, "a whole number of hours")?;
        domain.refund.cutoff = time::Duration::hours(cutoff_hours);
        domain.refund.retention_rate = env.rate(
            "REFUND_PROCESSING_FEE_RETENTION",
            defaults.refund.retention_rate,
        )?;
        domain.refund.auto_approve_below = env.parsed(
            "REFUND_AUTO_APPROVE_THRESHOLD_CENTS",
            defaults.refund.auto_approve_below,
            "an amount in minor units",
        )?;
        domain.ticket_fees.platform_rate =
            env.rate("PLATFORM_FEE_PERCENT", defaults.ticket_fees.platform_rate)?;
        domain.ticket_fees.processing_rate = env.rate(
            "PROCESSING_FEE_PERCENT",
            defaults.ticket_fees.processing_rate,
        )?;
        domain.ticket_fees.processing_fixed = env.parsed(
            "PROCESSING_FEE_FIXED_CENTS",
            defaults.ticket_fees.processing_fixed,
            "an amount in minor units",
        )?;
        domain.ticket_fees.default_tax_rate =
            env.rate("TAX_RATE_PERCENT", defaults.ticket_fees.default_tax_rate)?;
        domain.ticket_fees.rounding = env.parsed::<RoundingMode>(
            "ROUNDING_MODE",
            defaults.ticket_fees.rounding,
            "half_up, half_even or floor",
        )?;
        let log_format = env.get("LOG_FORMAT").unwrap_or_else(|| "text".into());
        if log_format != "text" && log_format != "json" {
            return Err(ConfigError {
                variable: "LOG_FORMAT",
                problem: format!("must be text or json, got {log_format:?}"),
            });
        }
        Ok(Self {
            port: env.parsed("PORT", 3004, "a port number")?,
            host: env.get("HOST").unwrap_or_else(|| "127.0.0.1".into()),
            database_admin_url: SecretString::from(
                env.get("DATABASE_ADMIN_URL")
                    .unwrap_or_else(|| database_url.clone()),
            ),
            database_url: SecretString::from(database_url),
            database_max_connections: env.parsed("DATABASE_MAX_CONNECTIONS", 20, "a count")?,
            jwt: JwtConfig {
                key,
                issuer: env.get("JWT_ISSUER"),
                audience: env.get("JWT_AUDIENCE"),
                signing_secret: secret.map(SecretString::from),
            },
            service_keys,
            ticket_service_url: env.required("TICKET_SERVICE_URL")?,
            payment_service_url: env.required("PAYMENT_SERVICE_URL")?,
            event_service_url: env.required("EVENT_SERVICE_URL")?,
            event_cache_ttl: Duration::from_secs(env.in_range(
                "EVENT_CACHE_TTL_SECONDS",
                30u64,
                0..=3_600,
                "a number of seconds from 0 to 3600",
            )?),
            upstream_service_key: env.get("UPSTREAM_SERVICE_KEY").map(SecretString::from),
            upstream_timeout: Duration::from_millis(env.parsed(
                "UPSTREAM_TIMEOUT_MS",
                5_000,
                "milliseconds",
            )?),
            upstream_resilience: order_http_clients::Resilience {
                failure_percent: env.in_range(
                    "CIRCUIT_BREAKER_FAILURE_RATE_PERCENT",
                    50u8,
                    1..=100,
                    "a percentage from 1 to 100",
                )?,
                minimum_calls: env.parsed("CIRCUIT_BREAKER_REQUEST_VOLUME", 10, "a count")?,
                window: Duration::from_millis(env.parsed(
                    "CIRCUIT_BREAKER_WINDOW_MS",
                    60_000,
                    "a number of milliseconds",
                )?),
                open_for: Duration::from_millis(env.parsed(
                    "CIRCUIT_BREAKER_RESET_TIMEOUT_MS",
                    30_000,
                    "a number of milliseconds",
                )?),
                max_retries: env.parsed("UPSTREAM_MAX_RETRIES", 3, "a count")?,
                retry_base: Duration::from_millis(env.parsed(
                    "UPSTREAM_RETRY_BASE_MS",
                    100,
                    "a number of milliseconds",
                )?),
            },
            redis_url: SecretString::from(match env.get("REDIS_URL") {
                Some(url) => url,
                None => {
                    let host = env.get("REDIS_HOST").unwrap_or_else(|| "127.0.0.1".into());
                    let port: u16 = env.parsed("REDIS_PORT", 6379, "a port number")?;
                    match env.get("REDIS_PASSWORD") {
                        Some(password) => format!("redis://:{password}@{host}:{port}"),
                        None => format!("redis://{host}:{port}"),
                    }
                }
            }),
            rate_limits: RateLimits {
                orders: env.parsed("RATE_LIMIT_ORDERS_PER_MINUTE", 10, "a count")?,
                reserve: env.parsed("RATE_LIMIT_RESERVE_PER_MINUTE", 5, "a count")?,
                cancel: env.parsed("RATE_LIMIT_CANCEL_PER_MINUTE", 5, "a count")?,
                refund: env.parsed("RATE_LIMIT_REFUND_PER_MINUTE", 3, "a count")?,
            },
            rabbitmq_url: SecretString::from(
                env.get("RABBITMQ_URL")
                    .unwrap_or_else(|| "amqp://guest:guest@127.0.0.1:5672/%2f".into()),
            ),
            outbox_batch_size: env.parsed("OUTBOX_BATCH_SIZE", 100, "a count")?,
            consumers: order_amqp::consumers::ConsumerTopology {
                prefix: env
                    .get("AMQP_QUEUE_PREFIX")
                    .unwrap_or_else(|| "order-service".into()),
                max_attempts: env.in_range(
                    "CONSUMER_MAX_ATTEMPTS",
                    5u32,
                    1..,
                    "a count of at least 1",
                )?,
                idle_expiry: None,
            },
            consumer_retry_delay: Duration::from_millis(env.parsed(
                "CONSUMER_RETRY_DELAY_MS",
                1_000,
                "a number of milliseconds",
            )?),
            expiry_interval: env.interval_minutes("EXPIRATION_CHECK_INTERVAL_MINUTES", 1)?,
            expiry_batch_size: env.parsed("EXPIRY_BATCH_SIZE", 500, "a count")?,
            metrics_interval: env.interval_minutes("METRICS_AGGREGATION_INTERVAL_MINUTES", 5)?,
            housekeeping_interval: env.interval_minutes("HOUSEKEEPING_INTERVAL_MINUTES", 10)?,
            inbox_retention: time::Duration::days(env.in_range(
                "INBOX_RETENTION_DAYS",
                30i64,
                1..=3_650,
                "a number of days from 1 to 3650",
            )?),
            refund_retry_interval: std::time::Duration::from_secs(env.in_range(
                "REFUND_RETRY_INTERVAL_SECONDS",
                60u64,
                1..=3_600,
                "a number of seconds from 1 to 3600",
            )?),
            analytics_window: time::Duration::days(env.in_range(
                "ANALYTICS_WINDOW_DAYS",
                30i64,
                1..=3_650,
                "a number of days from 1 to 3650",
            )?),
            run_jobs: env.parsed("RUN_JOBS", true, "true or false")?,
            redis_key_prefix: env
                .get("REDIS_KEY_PREFIX")
                .unwrap_or_else(|| "order-service".into()),
            idempotency_ttl: env.minutes("IDEMPOTENCY_TTL_MINUTES", time::Duration::minutes(30))?,
            idempotency_lease: time::Duration::seconds(env.in_range(
                "IDEMPOTENCY_LEASE_SECONDS",
                60i64,
                1..=3_600,
                "a number of seconds from 1 to 3600",
            )?),
            max_body_bytes: env.parsed("MAX_BODY_BYTES", 64 * 1024, "a size in bytes")?,
            trusted_proxies: crate::client_ip::TrustedProxies::parse(
                &env.get("TRUSTED_PROXIES").unwrap_or_default(),
            )
            .map_err(|problem| ConfigError {
                variable: "TRUSTED_PROXIES",
                problem: format!("must list addresses or networks: {problem}"),
            })?,
            log_level: env.get("LOG_LEVEL").unwrap_or_else(|| "info".into()),
            log_json: log_format == "json",
            domain,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_env(&Env(move |name| map.get(name).cloned()))
    }

    const BASE: &[(&str, &str)] = &[
        ("DATABASE_URL", "postgres://order_api@localhost/orders"),
        ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
        ("TICKET_SERVICE_URL", "http://localhost:3001"),
        ("PAYMENT_SERVICE_URL", "http://localhost:3002"),
        ("EVENT_SERVICE_URL", "http://localhost:3005"),
    ];

    #[test]
    fn debug_output_never_shows_a_secret() {
        let mut vars: Vec<_> = BASE
            .iter()
            .copied()
            .filter(|(k, _)| *k != "DATABASE_URL")
            .collect();
        vars.push((
            "DATABASE_URL",
            "postgres://order_api:db-password-1@localhost/orders",
        ));
        vars.push(("SERVICE_API_KEYS", "payment:service-key-0123456789"));
        vars.push(("UPSTREAM_SERVICE_KEY", "upstream-key-0123456789"));
        vars.push((
            "RABBITMQ_URL",
            "amqp://order:broker-password-1@localhost:5672/%2f",
        ));
        vars.push(("REDIS_PASSWORD", "redis-password-1"));
        let config = env(&vars).expect("valid");
        assert!(
            config
                .database_url
                .expose_secret()
                .contains("db-password-1")
        );
        let printed = format!("{config:?}");
        for secret in [
            "db-password-1",
            "0123456789abcdef0123456789abcdef",
            "service-key-0123456789",
            "upstream-key-0123456789",
            "broker-password-1",
            "redis-password-1",
        ] {
            assert!(!printed.contains(secret), "{secret} printed in {printed}");
        }
        assert!(printed.contains("payment"), "names still show: {printed}");
    }

    #[test]
    fn defaults_follow_the_spec() {
        let config = env(BASE).expect("valid");
        assert_eq!(config.port, 3004);
        assert_eq!(config.domain, DomainConfig::default());
        assert_eq!(config.upstream_timeout, Duration::from_secs(5));
    }

    #[test]
    fn a_missing_or_malformed_variable_is_named() {
        let missing: Vec<_> = BASE
            .iter()
            .copied()
            .filter(|(k, _)| *k != "DATABASE_URL")
            .collect();
        assert_eq!(
            env(&missing).map(|_| ()).expect_err("missing").variable,
            "DATABASE_URL"
        );
        let mut bad = BASE.to_vec();
        bad.push(("PORT", "eighty"));
        let error = env(&bad).map(|_| ()).expect_err("malformed");
        assert_eq!(error.variable, "PORT");
        assert!(error.to_string().contains("eighty"));
        let mut bad = BASE.to_vec();
        bad.push(("PLATFORM_FEE_PERCENT", "five"));
        assert_eq!(
            env(&bad).map(|_| ()).expect_err("rate").variable,
            "PLATFORM_FEE_PERCENT"
        );
        let mut short = BASE.to_vec();
        short.retain(|(k, _)| *k != "JWT_SECRET");
        short.push(("JWT_SECRET", "short"));
        assert_eq!(
            env(&short).map(|_| ()).expect_err("short").variable,
            "JWT_SECRET"
        );
    }

    #[test]
    fn trusted_proxies_are_none_by_default_and_a_bad_entry_is_named() {
        assert_eq!(
            env(BASE).expect("valid").trusted_proxies,
            crate::client_ip::TrustedProxies::default()
        );
        let mut vars = BASE.to_vec();
        vars.push(("TRUSTED_PROXIES", "10.0.0.0/8, proxy.local"));
        let error = env(&vars).map(|_| ()).expect_err("bad entry");
        assert_eq!(error.variable, "TRUSTED_PROXIES");
        assert!(error.to_string().contains("proxy.local"), "{error}");
    }

    #[test]
    fn rules_and_service_keys_come_from_the_environment() {
        let mut vars = BASE.to_vec();
        vars.push(("PLATFORM_FEE_PERCENT", "4.5"));
        vars.push(("ROUNDING_MODE", "floor"));
        vars.push(("RESERVATION_DURATION_MINUTES", "10"));
        vars.push((
            "SERVICE_API_KEYS",
            "payment:aaaaaaaaaaaaaaaa,scheduler:bbbbbbbbbbbbbbbb",
        ));
        let config = env(&vars).expect("valid");
        assert_eq!(
            config.domain.ticket_fees.platform_rate,
            Rate::from_basis_points(450)
        );
        assert_eq!(config.domain.ticket_fees.rounding, RoundingMode::Floor);
        assert_eq!(
            config.domain.reservation.ticket_hold,
            time::Duration::minutes(10)
        );
        assert_eq!(config.service_keys.len(), 2);
        assert_eq!(config.service_keys[1].name, "scheduler");
    }

    #[test]
    fn jobs_consumers_and_breakers_have_the_seed_defaults_and_checked_ranges() {
        let config = env(BASE).expect("valid");
        assert_eq!(config.expiry_interval, Duration::from_secs(60));
        assert_eq!(config.metrics_interval, Duration::from_secs(300));
        assert_eq!(config.analytics_window, time::Duration::days(30));
        assert_eq!(config.consumers.prefix, "order-service");
        assert_eq!(config.consumers.max_attempts, 5);
        assert_eq!(
            config.upstream_resilience,
            order_http_clients::Resilience::default()
        );
        for (variable, value) in [
            ("CIRCUIT_BREAKER_FAILURE_RATE_PERCENT", "0"),
            ("CIRCUIT_BREAKER_FAILURE_RATE_PERCENT", "101"),
            ("CONSUMER_MAX_ATTEMPTS", "0"),
            ("ANALYTICS_WINDOW_DAYS", "0"),
            ("METRICS_AGGREGATION_INTERVAL_MINUTES", "0"),
        ] {
            let mut vars = BASE.to_vec();
            vars.push((variable, value));
            let error = env(&vars).map(|_| ()).expect_err("out of range");
            assert_eq!(error.variable, variable, "{variable}={value}");
        }
    }
}
