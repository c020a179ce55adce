//! PostgreSQL adapters (sqlx): repositories, the unit of work, inbox, migrations and setup.
//!
//! Every transaction first sets the tenant (`set_config('app.tenant_id', …, true)`), so that the
//! row-level security policies of `migrations/0002_row_level_security.sql` hide other tenants'
//! rows even from a hand-written `SELECT *`; queries also filter by tenant themselves.
//!
//! The schema is this adapter's own: `rows.rs` are the typed rows it reads and restores the
//! aggregate from, `columns.rs` the typed column arrays it writes, and the SQL is checked against
//! the migrated schema at compile time (`sqlx::query!`; the offline data is in `.sqlx/`). One
//! order is still one statement per read or write (docs/persistence.md).

mod analytics;
mod audit_chain;
mod audit_log;
mod blind_index;
mod bulk_jobs;
mod carts;
mod columns;
mod email_index_backfill;
mod event_replays;
mod inbox;
mod item_row;
mod orders;
mod outbox;
mod pending_edits;
mod personal_data;
mod promotions;
mod reconciliations;
mod refunds;
mod rows;
mod scans;
mod sealing;
pub mod setup;
mod unit_of_work;
mod webhooks;

use order_domain::cause::Cause;
use order_domain::ids::TenantId;
use order_domain::ports::RepositoryError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};
use std::sync::Arc;

pub use self::email_index_backfill::index_contact_emails;
pub use self::sealing::{AddressKeys, InvalidAddressKeys};
pub use self::setup::{MIGRATOR, RoleProblem, check_roles, ensure_login_role, migrate};

/// All PostgreSQL ports over one connection pool.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Seals and opens the postal addresses of orders (docs/product/running.md).
    address_keys: Arc<AddressKeys>,
}

impl PgStore {
    /// Connects with at most `max_connections`, each of whose statements PostgreSQL cancels
    /// after `statement_timeout` (a stuck query gives its connection back instead of starving
    /// the pool); addresses are sealed with `address_keys`.
    ///
    /// # Errors
    /// When the server cannot be reached or refuses the credentials.
    pub async fn connect(
        url: &str,
        max_connections: u32,
        statement_timeout: std::time::Duration,
        address_keys: Arc<AddressKeys>,
    ) -> Result<Self, sqlx::Error> {
        let options: PgConnectOptions = url.parse()?;
        let timeout_ms = statement_timeout.as_millis().max(1).to_string();
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect_with(
                with_generic_plans(options).options([("statement_timeout", timeout_ms.as_str())]),
            )
            .await?;
        Ok(Self::from_pool(pool, address_keys))
    }

    /// Wraps an existing pool.
    pub fn from_pool(pool: PgPool, address_keys: Arc<AddressKeys>) -> Self {
        Self { pool, address_keys }
    }

    /// The pool (health checks).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Whether the database answers (`/health/readiness`).
    pub async fn ping(&self) -> bool {
        sqlx::query!("SELECT 1 AS one")
            .fetch_one(&self.pool)
            .await
            .is_ok()
    }

    /// A transaction scoped to `tenant` for row-level security.
    async fn tenant_tx(
        &self,
        tenant: TenantId,
    ) -> Result<Transaction<'static, Postgres>, RepositoryError> {
        let mut tx = self.pool.begin().await.map_err(storage)?;
        sqlx::query!(
            "SELECT set_config('app.tenant_id', $1, true)",
            tenant.to_string()
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(storage)?;
        Ok(tx)
    }
}

/// Every statement of this adapter is written so that one plan serves all its parameters (only
/// the filters given are written into list queries; lookups go by keys). PostgreSQL would
/// otherwise keep planning the big unit-of-work statement afresh for each order, because a plan
/// for given parameters can prune branches and so looks cheaper than the generic one; that
/// planning cost more CPU than running the statement.
pub fn with_generic_plans(options: PgConnectOptions) -> PgConnectOptions {
    options.options([("plan_cache_mode", "force_generic_plan")])
}

/// A `currency` column (`char(3)`, space-padded by PostgreSQL).
pub(crate) fn currency(code: &str) -> Result<order_domain::money::Currency, RepositoryError> {
    code.trim().parse().map_err(corrupt)
}

/// Maps a sqlx error to the port's error by SQLSTATE and constraint name; the sqlx error stays
/// the cause, for logs, never for clients.
///
/// | SQLSTATE | port error |
/// |---|---|
/// | 23505 on `orders_tenant_number_key` | [`RepositoryError::OrderNumberTaken`] (the use case draws another number) |
/// | 23505 elsewhere | [`RepositoryError::Duplicate`] naming the constraint (409) |
/// | 40001, 40P01 | [`RepositoryError::Conflict`] (a concurrent writer won) |
/// | 23502, 23503, 23514, class 22 | [`RepositoryError::Rejected`] naming the constraint (422) |
/// | anything else | [`RepositoryError::Unavailable`] |
pub fn storage(error: sqlx::Error) -> RepositoryError {
    if let sqlx::Error::Database(db) = &error {
        if db.code().as_deref() == Some("23505") {
            if db.constraint() == Some("orders_tenant_number_key") {
                return RepositoryError::OrderNumberTaken;
            }
            return RepositoryError::Duplicate {
                what: db.constraint().unwrap_or("unique key").to_owned(),
            };
        }
        // serialization_failure / deadlock_detected: a concurrent writer won.
        if matches!(db.code().as_deref(), Some("40001" | "40P01")) {
            return RepositoryError::Conflict { expected: 0 };
        }
        // Data exceptions (class 22: a NUL character in text, a number out of range) and
        // not_null_violation / foreign_key_violation / check_violation: no retry helps.
        if let Some(code) = db.code().filter(|code| {
            code.starts_with("22") || matches!(code.as_ref(), "23502" | "23503" | "23514")
        }) {
            return RepositoryError::Rejected {
                constraint: db
                    .constraint()
                    .map_or_else(|| format!("SQLSTATE {code}"), ToOwned::to_owned),
            };
        }
    }
    RepositoryError::Unavailable(Cause::new(error))
}

/// Stored data that cannot be what the schema promises, with the error that found out as its
/// cause (the log shows the whole chain).
fn corrupt(error: impl std::error::Error + Send + Sync + 'static) -> RepositoryError {
    RepositoryError::Corrupt(order_domain::cause::Cause::new(error))
}

/// Stored data that breaks a rule this adapter checks itself.
fn corrupt_data(problem: impl Into<String>) -> RepositoryError {
    RepositoryError::Corrupt(problem.into().into())
}

fn to_i64(value: u32) -> i64 {
    i64::from(value)
}

pub(crate) fn to_i32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// What one housekeeping pass deleted ([`PgStore::prune_expired`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Per-day quota counters of days before the cutoff.
    pub daily_quotas: u64,
    /// Idempotency keys past their replay window.
    pub idempotency_keys: u64,
    /// Consumed message ids past the redelivery window.
    pub inbox_messages: u64,
    /// Carts past their expiry, with their lines.
    pub carts: u64,
}

impl Pruned {
    /// Whether anything was deleted.
    pub fn any(&self) -> bool {
        self.daily_quotas + self.idempotency_keys + self.inbox_messages + self.carts > 0
    }
}

impl PgStore {
    /// Deletes, across tenants, at most `max_rows` of each: per-day quota counters of days before
    /// `quota_day`, idempotency keys created before `keys_before`, and consumed message ids
    /// processed before `inbox_before`.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    pub async fn prune_expired(
        &self,
        quota_day: time::Date,
        keys_before: time::OffsetDateTime,
        inbox_before: time::OffsetDateTime,
        max_rows: u32,
    ) -> Result<Pruned, RepositoryError> {
        let row = sqlx::query!(
            r#"SELECT daily_quotas AS "daily_quotas!", idempotency_keys AS "idempotency_keys!",
                inbox_messages AS "inbox_messages!"
            FROM prune_expired($1, $2, $3, $4)"#,
            quota_day,
            keys_before,
            inbox_before,
            to_i32(max_rows),
        )
        .fetch_one(&self.pool)
        .await
        .map_err(storage)?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(Pruned {
            daily_quotas: count(row.daily_quotas),
            idempotency_keys: count(row.idempotency_keys),
            inbox_messages: count(row.inbox_messages),
            carts: 0,
        })
    }

    /// Deletes, across tenants, at most `max_rows` carts that expired before `before` (their
    /// lines with them).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    pub async fn prune_expired_carts(
        &self,
        before: time::OffsetDateTime,
        max_rows: u32,
    ) -> Result<u64, RepositoryError> {
        let deleted = sqlx::query_scalar!(
            r#"SELECT prune_expired_carts($1, $2) AS "deleted!""#,
            before,
            to_i32(max_rows),
        )
        .fetch_one(&self.pool)
        .await
        .map_err(storage)?;
        Ok(u64::try_from(deleted).unwrap_or(0))
    }
}

/// The work waiting across tenants, for `/metrics` ([`PgStore::backlog`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Backlog {
    /// Outbox rows not yet published.
    pub outbox_unpublished: i64,
    /// Age of the oldest of them, seconds.
    pub outbox_oldest_seconds: Option<f64>,
    /// Webhook deliveries waiting.
    pub webhooks_pending: i64,
    /// Age of the oldest of them, seconds.
    pub webhooks_oldest_seconds: Option<f64>,
}

impl PgStore {
    /// The outbox's and the webhooks' backlog at `now`.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    pub async fn backlog(&self, now: time::OffsetDateTime) -> Result<Backlog, RepositoryError> {
        let row = sqlx::query!(
            r#"SELECT outbox_unpublished AS "outbox_unpublished!", outbox_oldest_seconds,
                webhooks_pending AS "webhooks_pending!", webhooks_oldest_seconds
            FROM operations_backlog($1)"#,
            now,
        )
        .fetch_one(&self.pool)
        .await
        .map_err(storage)?;
        Ok(Backlog {
            outbox_unpublished: row.outbox_unpublished,
            outbox_oldest_seconds: row.outbox_oldest_seconds,
            webhooks_pending: row.webhooks_pending,
            webhooks_oldest_seconds: row.webhooks_oldest_seconds,
        })
    }
}
