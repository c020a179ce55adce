//! Migrations and roles.

use sqlx::migrate::Migrator;
use sqlx::postgres::PgPool;

/// The embedded migrations of `migrations/`.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// Applies pending migrations. Run it as the owner role (it creates tables, policies and the
/// `order_app` group role).
///
/// # Errors
/// When a migration fails; the database is left at the last applied one.
pub async fn migrate(admin: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(admin).await
}

/// Makes sure the application's login role exists and is a member of `order_app` (no ownership,
/// no BYPASSRLS). `password` is set when given (local servers trust loopback connections).
///
/// # Errors
/// When the owner cannot create or alter roles.
pub async fn ensure_login_role(
    admin: &PgPool,
    role: &str,
    password: Option<&str>,
) -> Result<(), sqlx::Error> {
    if !role.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || role.is_empty() {
        return Err(sqlx::Error::Configuration(
            format!("invalid role name {role:?}").into(),
        ));
    }
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
            .bind(role)
            .fetch_one(admin)
            .await?;
    // Role names cannot be bind parameters; the name was checked to be a plain identifier above.
    if !exists {
        let created = sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE IN ROLE order_app"
        )))
        .execute(admin)
        .await;
        match created {
            Ok(_) => {}
            // 42710 duplicate_object: another process created it meanwhile.
            Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42710") => {}
            Err(other) => return Err(other),
        }
    } else {
        sqlx::query(sqlx::AssertSqlSafe(format!("GRANT order_app TO {role}")))
            .execute(admin)
            .await?;
    }
    if let Some(password) = password {
        let literal: String = sqlx::query_scalar("SELECT quote_literal($1)")
            .bind(password)
            .fetch_one(admin)
            .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER ROLE {role} PASSWORD {literal}"
        )))
        .execute(admin)
        .await?;
    }
    Ok(())
}

/// Roles that would turn tenant isolation or the background jobs off without an error.
#[derive(Debug, thiserror::Error)]
pub enum RoleProblem {
    /// The application's role skips row-level security.
    #[error(
        "the application role {role:?} bypasses row-level security ({why}): tenant isolation in \
         PostgreSQL would be off. Connect DATABASE_URL as a login role that is a member of \
         order_app and has neither (`ALTER ROLE {role} NOSUPERUSER NOBYPASSRLS`; see the database \
         roles in docs/persistence.md)"
    )]
    AppBypassesIsolation {
        /// The role.
        role: String,
        /// `superuser` or `BYPASSRLS`.
        why: &'static str,
    },
    /// The functions the jobs call across tenants are subject to row-level security.
    #[error(
        "the functions the jobs call across tenants (SECURITY DEFINER) belong to {owner:?}, \
         which lacks BYPASSRLS: expiry, the outbox relay, webhook deliveries and refund retries \
         would find nothing. Give it BYPASSRLS (`ALTER ROLE {owner} BYPASSRLS`), or run the \
         migrations as a role that has it (see the database roles in docs/persistence.md)"
    )]
    JobsSeeNoTenant {
        /// The functions' owner.
        owner: String,
    },
    /// The check could not run.
    #[error("cannot read the database's roles: {0}")]
    Database(#[from] sqlx::Error),
}

/// Checks that `role` (the application's login role; `None`: the pool's own role) cannot bypass
/// row-level security.
///
/// # Errors
/// [`RoleProblem::AppBypassesIsolation`], or the query's failure.
pub async fn check_app_role(pool: &PgPool, role: Option<&str>) -> Result<(), RoleProblem> {
    let (name, superuser, bypass): (String, bool, bool) = sqlx::query_as(
        "SELECT rolname::text, rolsuper, rolbypassrls FROM pg_roles
         WHERE rolname = coalesce($1, current_user)",
    )
    .bind(role)
    .fetch_one(pool)
    .await?;
    match (superuser, bypass) {
        (true, _) => Err(RoleProblem::AppBypassesIsolation {
            role: name,
            why: "superuser",
        }),
        (_, true) => Err(RoleProblem::AppBypassesIsolation {
            role: name,
            why: "BYPASSRLS",
        }),
        _ => Ok(()),
    }
}

/// Checks that the owner of the cross-tenant functions the jobs call bypasses row-level
/// security, as those functions need to (managed PostgreSQL often gives the migrating role no
/// BYPASSRLS).
///
/// # Errors
/// [`RoleProblem::JobsSeeNoTenant`], or the query's failure.
pub async fn check_definer_owner(pool: &PgPool) -> Result<(), RoleProblem> {
    let bound: Option<String> = sqlx::query_scalar(
        "SELECT r.rolname::text FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner
         WHERE p.prosecdef AND p.pronamespace = 'public'::regnamespace
           AND NOT (r.rolsuper OR r.rolbypassrls)
         LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    match bound {
        Some(owner) => Err(RoleProblem::JobsSeeNoTenant { owner }),
        None => Ok(()),
    }
}

/// Both checks, from the application's connection (start-up).
///
/// # Errors
/// The first [`RoleProblem`].
pub async fn check_roles(app: &PgPool) -> Result<(), RoleProblem> {
    check_app_role(app, None).await?;
    check_definer_owner(app).await
}

/// A fresh, migrated database for integration tests (feature `testing`).
#[cfg(feature = "testing")]
pub mod testing {
    use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

    /// The address key tests seal with (`test:` + 32 bytes; a test value, never a real key).
    pub const TEST_ADDRESS_KEYS: &str = "test:dGVzdC1hZGRyZXNzLWtleS0zMi1ieXRlcy1sb25nISE=";

    /// [`TEST_ADDRESS_KEYS`] parsed.
    ///
    /// # Panics
    /// Never: the constant is a valid key list.
    pub fn address_keys() -> std::sync::Arc<crate::AddressKeys> {
        std::sync::Arc::new(crate::AddressKeys::parse(TEST_ADDRESS_KEYS).expect("a valid key"))
    }

    /// The login role tests connect as: a member of `order_app`, nothing more.
    pub const APP_ROLE: &str = "order_api_test";

    /// Setup touches cluster-wide roles: one database at a time.
    static SETUP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    /// The owner's URL: `TEST_DATABASE_ADMIN_URL`, or the server `just services-up` starts.
    pub fn admin_url() -> String {
        std::env::var("TEST_DATABASE_ADMIN_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:55432/postgres".into())
    }

    /// A new database: migrated by the owner, with [`APP_ROLE`] able to log in.
    #[derive(Debug, Clone)]
    pub struct TestDatabase {
        /// Owner pool (bypasses RLS) for checks behind the application's back.
        pub owner: PgPool,
        /// Connection options of the application role.
        pub app_options: PgConnectOptions,
        /// The same as a URL (for configuration under test).
        pub app_url: String,
    }

    impl TestDatabase {
        /// A pool of the application role.
        ///
        /// # Panics
        /// When the database cannot be reached (tests only).
        pub async fn app_pool(&self, max_connections: u32) -> PgPool {
            PgPoolOptions::new()
                .max_connections(max_connections)
                .connect_with(crate::with_generic_plans(self.app_options.clone()))
                .await
                .expect("application role connects")
        }
    }

    /// Creates, migrates and opens a fresh database.
    ///
    /// # Panics
    /// When PostgreSQL is not reachable: run `just services-up` first.
    pub async fn fresh_database() -> TestDatabase {
        let _guard = SETUP.lock().await;
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect(&admin_url())
            .await
            .expect("PostgreSQL is not reachable: run `just services-up` first");
        let name = format!("order_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .expect("create database");
        admin.close().await;
        let base: PgConnectOptions = admin_url().parse().expect("admin url");
        let owner = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(base.clone().database(&name))
            .await
            .expect("owner connection");
        super::migrate(&owner).await.expect("migrations");
        super::ensure_login_role(&owner, APP_ROLE, None)
            .await
            .expect("login role");
        let app_url = format!(
            "postgres://{APP_ROLE}@{}:{}/{name}",
            base.get_host(),
            base.get_port()
        );
        TestDatabase {
            owner,
            app_options: base.database(&name).username(APP_ROLE),
            app_url,
        }
    }
}
