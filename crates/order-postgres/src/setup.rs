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
