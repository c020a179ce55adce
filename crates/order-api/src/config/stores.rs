//! Where state lives: PostgreSQL (and the keys that seal the addresses in it), Redis
//! (idempotency keys, rate limits, the lock) and RabbitMQ (the outbox relay and the consumers).

use std::sync::Arc;

use order_postgres::AddressKeys;
use secrecy::SecretString;
use serde::Deserialize;

use super::values::{ConfigError, Count, Millis, Minutes, Port, Seconds, in_range};

#[derive(Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(super) struct StoreVars {
    database_url: SecretString,
    database_admin_url: Option<SecretString>,
    database_max_connections: Option<Count>,
    database_statement_timeout_ms: Option<Millis>,
    address_encryption_keys: Option<SecretString>,
    redis_url: Option<SecretString>,
    redis_host: Option<String>,
    redis_port: Option<Port>,
    redis_password: Option<SecretString>,
    redis_key_prefix: Option<String>,
    idempotency_ttl_minutes: Option<Minutes>,
    idempotency_lease_seconds: Option<Seconds>,
    rabbitmq_url: Option<SecretString>,
    outbox_batch_size: Option<Count>,
    amqp_queue_prefix: Option<String>,
    consumer_max_attempts: Option<Count>,
    consumer_retry_delay_ms: Option<Millis>,
}

pub(super) struct Stores {
    pub(super) database_url: SecretString,
    pub(super) database_admin_url: SecretString,
    pub(super) database_max_connections: u32,
    pub(super) database_statement_timeout: std::time::Duration,
    pub(super) address_keys: Arc<AddressKeys>,
    pub(super) redis_url: SecretString,
    pub(super) redis_key_prefix: String,
    pub(super) idempotency_ttl: time::Duration,
    pub(super) idempotency_lease: time::Duration,
    pub(super) rabbitmq_url: SecretString,
    pub(super) outbox_batch_size: u32,
    pub(super) consumers: order_amqp::consumers::ConsumerTopology,
    pub(super) consumer_retry_delay: std::time::Duration,
}

impl StoreVars {
    pub(super) fn resolve(self) -> Result<Stores, ConfigError> {
        use secrecy::ExposeSecret;
        // the ticketing API names Redis by host, port and password; REDIS_URL wins when given.
        let redis_url = self.redis_url.unwrap_or_else(|| {
            let host = self.redis_host.as_deref().unwrap_or("127.0.0.1");
            let port = self.redis_port.map_or(6379, |p| p.0);
            SecretString::from(match &self.redis_password {
                Some(password) => format!("redis://:{}@{host}:{port}", password.expose_secret()),
                None => format!("redis://{host}:{port}"),
            })
        });
        let lease = in_range(
            "IDEMPOTENCY_LEASE_SECONDS",
            self.idempotency_lease_seconds.map_or(60, |s| s.0),
            1..=3_600,
            "a number of seconds from 1 to 3600",
        )?;
        let max_attempts = in_range(
            "CONSUMER_MAX_ATTEMPTS",
            self.consumer_max_attempts.map_or(5, |c| c.0),
            1..,
            "a count of at least 1",
        )?;
        let address_keys = self
            .address_encryption_keys
            .ok_or_else(|| {
                ConfigError::new(
                    "ADDRESS_ENCRYPTION_KEYS",
                    "is required: id:base64-key pairs, the current key first \
                     (make one with `openssl rand -base64 32`)",
                )
            })
            .and_then(|list| {
                AddressKeys::parse(list.expose_secret())
                    .map_err(|e| ConfigError::new("ADDRESS_ENCRYPTION_KEYS", e.to_string()))
            })?;
        Ok(Stores {
            address_keys: Arc::new(address_keys),
            database_admin_url: self
                .database_admin_url
                .unwrap_or_else(|| self.database_url.clone()),
            database_url: self.database_url,
            database_max_connections: self.database_max_connections.map_or(20, |c| c.0),
            database_statement_timeout: self
                .database_statement_timeout_ms
                .map_or(std::time::Duration::from_secs(10), |m| m.0),
            redis_url,
            redis_key_prefix: self
                .redis_key_prefix
                .unwrap_or_else(|| "order-service".into()),
            idempotency_ttl: self
                .idempotency_ttl_minutes
                .map_or(time::Duration::minutes(30), |m| m.0),
            idempotency_lease: time::Duration::seconds(i64::try_from(lease).unwrap_or(60)),
            rabbitmq_url: self.rabbitmq_url.unwrap_or_else(|| {
                SecretString::from("amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
            }),
            outbox_batch_size: self.outbox_batch_size.map_or(100, |c| c.0),
            consumers: order_amqp::consumers::ConsumerTopology {
                prefix: self
                    .amqp_queue_prefix
                    .unwrap_or_else(|| "order-service".into()),
                max_attempts,
                idle_expiry: None,
            },
            consumer_retry_delay: self
                .consumer_retry_delay_ms
                .map_or(std::time::Duration::from_secs(1), |m| m.0),
        })
    }
}
