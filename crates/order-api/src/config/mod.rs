//! Configuration from the environment (the ticketing API's variable names, the defaults of
//! docs/product/). A missing or malformed value stops start-up with one line naming the variable.
//!
//! figment deserialises the variables of each concern into its own type — `http` (listener,
//! rate limits, logging), `auth`, `stores` (PostgreSQL, Redis, RabbitMQ), `upstreams`,
//! `jobs`, `rules` (the domain's limits, windows, refund policy and fees) — and each checks
//! its ranges; [`Config`] is the flat result the rest of the binary reads. Secrets are `secrecy`
//! types and never print. The variables and their defaults: `docs/configuration.md`.

mod auth;
mod http;
mod jobs;
mod pricing;
mod rules;
mod stores;
mod traces;
mod upstreams;
mod values;
mod webhooks;

use std::time::Duration;

use order_domain::policy::DomainConfig;
use secrecy::SecretString;

pub use self::auth::{JwtConfig, JwtKey, ServiceKey, ServiceScope};

/// The service's name: the `service` of every JSON log line, and the default
/// `OTEL_SERVICE_NAME`.
pub const SERVICE: &str = "order-service";
pub use self::http::RateLimits;
pub use self::traces::TraceExport;
pub use self::values::{ConfigError, Env};
pub use self::webhooks::WebhookSettings;

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
    /// `DATABASE_STATEMENT_TIMEOUT_MS` (10 000): PostgreSQL cancels a statement of the
    /// application's connections that runs longer.
    pub database_statement_timeout: std::time::Duration,
    /// `ADDRESS_ENCRYPTION_KEYS`: `id:base64,id:base64`, the current key first; the others still
    /// open what they sealed (docs/product/running.md).
    pub address_keys: std::sync::Arc<order_postgres::AddressKeys>,
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
    /// `PRODUCT_SERVICE_URL`: names, SKUs and prices of the shop's products.
    pub product_service_url: String,
    /// `INVENTORY_SERVICE_URL`: stock, reservations and allocations.
    pub inventory_service_url: String,
    /// `SHIPPING_SERVICE_URL`: rates and labels.
    pub shipping_service_url: String,
    /// `NOTIFICATION_SERVICE_URL`: where buyers' notifications are sent.
    pub notification_service_url: String,
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
    /// `REDIS_URL`, or `redis://[:REDIS_PASSWORD@]REDIS_HOST:REDIS_PORT` (the ticketing API's
    /// names).
    pub redis_url: SecretString,
    /// Requests per minute and user: `RATE_LIMIT_ORDERS_PER_MINUTE` (10),
    /// `RATE_LIMIT_RESERVE_PER_MINUTE` (5), `RATE_LIMIT_CANCEL_PER_MINUTE` (5),
    /// `RATE_LIMIT_REFUND_PER_MINUTE` (3).
    pub rate_limits: RateLimits,
    /// `MAX_CONCURRENT_COMMANDS` (64): state-changing requests run at once by this process; the
    /// rest wait their turn in arrival order (docs/resilience.md).
    pub max_concurrent_commands: usize,
    /// `COMMAND_QUEUE_TIMEOUT_MS` (10000): how long a command waits for its turn before 503
    /// `overloaded`.
    pub command_queue_timeout: std::time::Duration,
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
    /// `RECONCILIATION_INTERVAL_MINUTES` (60): how often the reconciliation job compares the
    /// orders changed since its last pass with the payment service.
    pub reconciliation_interval: std::time::Duration,
    /// `HOUSEKEEPING_INTERVAL_MINUTES` (10): how often rows that no longer matter are deleted.
    pub housekeeping_interval: std::time::Duration,
    /// `INBOX_RETENTION_DAYS` (30): consumed message ids are kept this long, so a message the
    /// broker redelivers (or an operator replays from the dead-letter queue) within it is applied
    /// once.
    pub inbox_retention: time::Duration,
    /// `ORDER_RETENTION_DAYS` (2557, seven years): orders finished longer ago are archived, their
    /// personal data erased and their financial records kept.
    pub order_retention: time::Duration,
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
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` (or `…_TRACES_ENDPOINT`) and `OTEL_SERVICE_NAME`: spans
    /// exported over OTLP; none while unset.
    pub traces: Option<TraceExport>,
    /// Business rules.
    pub domain: DomainConfig,
    /// `PRICING_FILE` (built-in tables): goods tax rates and shipping methods per tenant.
    pub pricing: order_domain::use_cases::GoodsCatalogs,
    /// `WEBHOOK_*`: how webhooks are delivered.
    pub webhooks: webhooks::WebhookSettings,
}

impl Config {
    /// Reads the process environment.
    ///
    /// # Errors
    /// The first missing or malformed variable.
    pub fn from_process_env() -> Result<Self, ConfigError> {
        Self::from_env(&Env::process())
    }

    /// Reads the variables of `env`.
    ///
    /// # Errors
    /// The first missing or malformed variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let stores = env.section::<stores::StoreVars>()?.resolve()?;
        let (jwt, service_keys) = env.section::<auth::AuthVars>()?.resolve()?;
        let upstreams = env.section::<upstreams::UpstreamVars>()?.resolve()?;
        let domain = env.section::<rules::RuleVars>()?.resolve()?;
        let http = env.section::<http::HttpVars>()?.resolve()?;
        let jobs = env.section::<jobs::JobVars>()?.resolve()?;
        let pricing = env.section::<pricing::PricingVars>()?.resolve()?;
        let webhooks = env.section::<webhooks::WebhookVars>()?.resolve()?;
        let traces = env.section::<traces::TraceVars>()?.resolve()?;
        Ok(Self {
            port: http.port,
            host: http.host,
            database_url: stores.database_url,
            database_admin_url: stores.database_admin_url,
            database_max_connections: stores.database_max_connections,
            database_statement_timeout: stores.database_statement_timeout,
            address_keys: stores.address_keys,
            jwt,
            service_keys,
            ticket_service_url: upstreams.ticket_service_url,
            payment_service_url: upstreams.payment_service_url,
            event_service_url: upstreams.event_service_url,
            product_service_url: upstreams.product_service_url,
            inventory_service_url: upstreams.inventory_service_url,
            shipping_service_url: upstreams.shipping_service_url,
            notification_service_url: upstreams.notification_service_url,
            event_cache_ttl: upstreams.event_cache_ttl,
            upstream_service_key: upstreams.upstream_service_key,
            upstream_timeout: upstreams.upstream_timeout,
            upstream_resilience: upstreams.upstream_resilience,
            redis_url: stores.redis_url,
            rate_limits: http.rate_limits,
            max_concurrent_commands: http.max_concurrent_commands,
            command_queue_timeout: http.command_queue_timeout,
            rabbitmq_url: stores.rabbitmq_url,
            outbox_batch_size: stores.outbox_batch_size,
            consumers: stores.consumers,
            consumer_retry_delay: stores.consumer_retry_delay,
            expiry_interval: jobs.expiry_interval,
            expiry_batch_size: jobs.expiry_batch_size,
            refund_retry_interval: jobs.refund_retry_interval,
            reconciliation_interval: jobs.reconciliation_interval,
            housekeeping_interval: jobs.housekeeping_interval,
            inbox_retention: jobs.inbox_retention,
            order_retention: jobs.order_retention,
            metrics_interval: jobs.metrics_interval,
            analytics_window: jobs.analytics_window,
            run_jobs: jobs.run_jobs,
            redis_key_prefix: stores.redis_key_prefix,
            idempotency_ttl: stores.idempotency_ttl,
            idempotency_lease: stores.idempotency_lease,
            max_body_bytes: http.max_body_bytes,
            trusted_proxies: http.trusted_proxies,
            log_level: http.log_level,
            log_json: http.log_json,
            traces,
            domain,
            pricing,
            webhooks,
        })
    }
}

#[cfg(test)]
mod tests {
    use order_domain::money::{Rate, RoundingMode};
    use secrecy::ExposeSecret;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_env(&Env::from_pairs(pairs.iter().copied()))
    }

    const BASE: &[(&str, &str)] = &[
        ("DATABASE_URL", "postgres://order_api@localhost/orders"),
        (
            "ADDRESS_ENCRYPTION_KEYS",
            order_postgres::setup::testing::TEST_ADDRESS_KEYS,
        ),
        ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
        ("TICKET_SERVICE_URL", "http://localhost:3001"),
        ("PAYMENT_SERVICE_URL", "http://localhost:3002"),
        ("EVENT_SERVICE_URL", "http://localhost:3005"),
        ("PRODUCT_SERVICE_URL", "http://localhost:3006"),
        ("INVENTORY_SERVICE_URL", "http://localhost:3007"),
        ("SHIPPING_SERVICE_URL", "http://localhost:3008"),
        ("NOTIFICATION_SERVICE_URL", "http://localhost:3009"),
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
        vars.push(("SERVICE_KEY_SCOPES", "payment=confirm"));
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
    fn traces_are_exported_only_to_a_configured_collector_at_its_traces_path() {
        assert_eq!(env(BASE).expect("valid").traces, None);
        let with = |pairs: &[(&'static str, &'static str)]| {
            let mut all = BASE.to_vec();
            all.extend_from_slice(pairs);
            env(&all)
        };
        let base = with(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")])
            .expect("valid")
            .traces
            .expect("on");
        assert_eq!(base.endpoint, "http://collector:4318/v1/traces");
        assert_eq!(base.service_name, "order-service");
        let exact = with(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://ignored:4318"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "https://c.example/otlp/traces",
            ),
            ("OTEL_SERVICE_NAME", "orders-eu"),
        ])
        .expect("valid")
        .traces
        .expect("on");
        assert_eq!(exact.endpoint, "https://c.example/otlp/traces");
        assert_eq!(exact.service_name, "orders-eu");
        let refused =
            with(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")]).expect_err("not a URL");
        assert!(
            refused.to_string().contains("OTEL_EXPORTER_OTLP_ENDPOINT"),
            "{refused}"
        );
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
    fn production_needs_the_tokens_issuer_and_audience() {
        let mut vars = BASE.to_vec();
        vars.push(("APP_ENV", "production"));
        let error = env(&vars).expect_err("no issuer");
        assert!(error.to_string().contains("JWT_ISSUER"), "{error}");
        vars.push(("JWT_ISSUER", "https://id.example.com"));
        let error = env(&vars).expect_err("no audience");
        assert!(error.to_string().contains("JWT_AUDIENCE"), "{error}");
        vars.push(("JWT_AUDIENCE", "order-service"));
        vars.push(("JWT_MAX_LIFETIME_MINUTES", "60"));
        let config = env(&vars).expect("valid");
        assert_eq!(config.jwt.max_lifetime, time::Duration::hours(1));
        let mut development = BASE.to_vec();
        development.push(("APP_ENV", "staging"));
        assert!(env(&development).is_err(), "an unknown environment");
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
        let unscoped = env(&vars).expect_err("a key without scopes");
        assert!(
            unscoped.to_string().contains("SERVICE_KEY_SCOPES"),
            "{unscoped}"
        );
        vars.push((
            "SERVICE_KEY_SCOPES",
            "payment=confirm;scheduler=expire,expiring",
        ));
        vars.push((
            "SERVICE_KEY_TENANTS",
            "payment=00000000-0000-4000-8000-00000000000a",
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
        assert_eq!(
            config.service_keys[1].scopes,
            [ServiceScope::Expire, ServiceScope::Expiring].into()
        );
        assert_eq!(config.service_keys[1].tenants, None);
        assert_eq!(
            config.service_keys[0].tenants.as_ref().map(|t| t.len()),
            Some(1)
        );
        let typo: Vec<_> = vars
            .iter()
            .map(|&(k, v)| match k {
                "SERVICE_KEY_SCOPES" => (k, "payment=confirn;scheduler=expire"),
                _ => (k, v),
            })
            .collect();
        let unknown = env(&typo).expect_err("an unknown scope");
        assert!(unknown.to_string().contains("confirn"), "{unknown}");
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

    #[test]
    fn errors_are_one_line_naming_the_variable_and_what_it_must_be() {
        let message = |extra: &[(&str, &str)], without: &str| {
            let mut vars: Vec<_> = BASE
                .iter()
                .copied()
                .filter(|(k, _)| *k != without)
                .collect();
            vars.extend_from_slice(extra);
            env(&vars).map(|_| ()).expect_err("invalid").to_string()
        };
        assert_eq!(
            message(&[], "DATABASE_URL"),
            "configuration error: DATABASE_URL is required"
        );
        assert_eq!(
            message(&[("PORT", "eighty")], ""),
            "configuration error: PORT must be a port number, got string \"eighty\""
        );
        assert_eq!(
            message(&[("PLATFORM_FEE_PERCENT", "five")], ""),
            "configuration error: PLATFORM_FEE_PERCENT must be a percentage like 2.9, got string \"five\""
        );
        assert_eq!(
            message(&[("RESERVATION_DURATION_MINUTES", "0")], ""),
            "configuration error: RESERVATION_DURATION_MINUTES must be a positive whole number of minutes, got string \"0\""
        );
        for text in [
            message(&[("RUN_JOBS", "maybe")], ""),
            message(&[("CONSUMER_MAX_ATTEMPTS", "0")], ""),
        ] {
            assert!(!text.contains('\n'), "one line: {text}");
        }
    }

    #[test]
    fn numbers_in_text_values_stay_text_and_percentages_stay_exact() {
        let mut vars: Vec<_> = BASE
            .iter()
            .copied()
            .filter(|(k, _)| *k != "JWT_SECRET")
            .collect();
        // A secret of digits only is still a secret, not a number.
        vars.push(("JWT_SECRET", "01234567890123456789012345678901"));
        vars.push(("PROCESSING_FEE_PERCENT", "2.9"));
        let config = env(&vars).expect("valid");
        assert!(matches!(config.jwt.key, JwtKey::Hs256(ref s) if s.expose_secret().len() == 32));
        assert_eq!(
            config.domain.ticket_fees.processing_rate,
            Rate::from_basis_points(290)
        );
    }
}
