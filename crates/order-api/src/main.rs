//! `order-api` — serve the API (default), `migrate` the database, or print a `dev-token`.

use std::process::ExitCode;

use order_api::auth::{Claims, sign_dev_token};
use order_api::config::Config;
use order_api::startup::Application;
use order_domain::actor::Role;

const USAGE: &str = "usage:
  order-api                      serve the API (configuration from the environment)
  order-api worker               run the background jobs only (expiry), no HTTP
  order-api expire-due           expire every order due now, once, and report how many and how fast
  order-api migrate              apply migrations as DATABASE_ADMIN_URL and let DATABASE_URL's role log in
  order-api dev-token --tenant <uuid> --user <uuid> [--roles customer,admin,warehouse] [--vip] [--minutes 60]
                                 print a JWT signed with JWT_SECRET";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match Config::from_process_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    match args.first().map(String::as_str) {
        None | Some("serve") => serve(config).await,
        Some("migrate") => migrate(&config).await,
        Some("worker") => {
            order_api::telemetry::init(&config.log_level, config.log_json);
            match order_api::startup::run_worker(config).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("error: {error}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("expire-due") => expire_due(&config).await,
        Some("dev-token") => dev_token(&config, &args[1..]),
        Some(_) => {
            eprintln!("{USAGE}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> ExitCode {
    order_api::telemetry::init(&config.log_level, config.log_json);
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(port = app.port(), "order-api listening");
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: the server stopped: {error}");
            ExitCode::FAILURE
        }
    }
}

/// One expiry pass over the whole backlog (operators after an outage; the benchmark).
async fn expire_due(config: &Config) -> ExitCode {
    order_api::telemetry::init(&config.log_level, config.log_json);
    let (service, _, _) = match order_api::startup::build_service(config).await {
        Ok(built) => built,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let started = std::time::Instant::now();
    let report =
        order_api::jobs::expire_due_orders(&service, config.expiry_batch_size, &stopped).await;
    println!(
        "expired {} orders in {:.1} s ({} lost to another writer, {} failed)",
        report.expired,
        started.elapsed().as_secs_f64(),
        report.lost_races,
        report.failed
    );
    if report.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn migrate(config: &Config) -> ExitCode {
    let result = async {
        let admin = sqlx::PgPool::connect(&config.database_admin_url).await?;
        println!("==> applying migrations");
        order_postgres::migrate(&admin).await?;
        let options: sqlx::postgres::PgConnectOptions = config.database_url.parse()?;
        let role = options.get_username().to_owned();
        println!("==> letting role {role} log in as a member of order_app");
        order_postgres::ensure_login_role(&admin, &role, None).await?;
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    match result {
        Ok(()) => {
            println!("==> database ready");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!(
                "error: migration failed: {error}; check DATABASE_ADMIN_URL (the owner role)"
            );
            ExitCode::FAILURE
        }
    }
}

fn dev_token(config: &Config, args: &[String]) -> ExitCode {
    let mut tenant = None;
    let mut user = None;
    let mut roles = vec![Role::Customer];
    let mut vip = false;
    let mut minutes: i64 = 60;
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let mut value = || iter.next().cloned().unwrap_or_default();
        match flag.as_str() {
            "--tenant" => tenant = value().parse().ok(),
            "--user" => user = value().parse().ok(),
            "--roles" => {
                let parsed: Result<Vec<Role>, _> = value()
                    .split(',')
                    .map(|r| serde_json::from_value(serde_json::Value::String(r.trim().to_owned())))
                    .collect();
                match parsed {
                    Ok(list) if !list.is_empty() => roles = list,
                    _ => {
                        eprintln!(
                            "error: --roles takes customer, admin and/or warehouse separated by commas"
                        );
                        return ExitCode::FAILURE;
                    }
                }
            }
            "--vip" => vip = true,
            "--minutes" => minutes = value().parse().unwrap_or(60),
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::FAILURE;
            }
        }
    }
    let (Some(tenant_id), Some(sub)) = (tenant, user) else {
        eprintln!("error: --tenant and --user take UUIDs\n{USAGE}");
        return ExitCode::FAILURE;
    };
    let Some(secret) = &config.jwt.signing_secret else {
        eprintln!("error: dev-token signs with JWT_SECRET, which is not set");
        return ExitCode::FAILURE;
    };
    let claims = Claims {
        sub,
        tenant_id,
        roles,
        vip,
        exp: (time::OffsetDateTime::now_utc() + time::Duration::minutes(minutes)).unix_timestamp(),
        iss: config.jwt.issuer.clone(),
        aud: config.jwt.audience.clone(),
    };
    match sign_dev_token(secret, &claims) {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: cannot sign: {error}");
            ExitCode::FAILURE
        }
    }
}
