//! `order-api` — serve the API (default), run the jobs alone, expire what is due, migrate the
//! database, or print a development token. `order-api --help` lists it all; configuration comes
//! from the environment (docs/configuration.md).

use secrecy::ExposeSecret;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use order_api::auth::{Claims, sign_dev_token};
use order_api::config::Config;
use order_api::startup::Application;
use order_domain::actor::Role;
use order_domain::ids::{OrderId, TenantId, UserId};

/// The order service: carts, orders, reservations, payments, fulfillment, refunds.
#[derive(Debug, Parser)]
#[command(name = "order-api", version)]
struct Cli {
    /// What to run; `serve` when left out.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API (and the background jobs unless RUN_JOBS=false).
    Serve,
    /// Run the background jobs (expiry, refund retries, analytics, outbox relay, consumers,
    /// webhooks) with only the health checks and /metrics on PORT, no API route.
    Worker,
    /// Expire every order due now, once, and report how many and how fast.
    ExpireDue,
    /// Apply the migrations as DATABASE_ADMIN_URL and let DATABASE_URL's role log in.
    Migrate,
    /// Exit 0 when the local instance answers /health/liveness on PORT (container health checks;
    /// needs no other configuration).
    HealthCheck,
    /// Archive every order finished more than ORDER_RETENTION_DAYS ago, once, and report how many
    /// and how fast (docs/personal-data.md).
    ArchiveDue,
    /// Check the tamper-evident audit trail (docs/audit.md).
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// The stored events (docs/events.md).
    Events {
        #[command(subcommand)]
        action: EventsAction,
    },
    /// Print a JWT signed with JWT_SECRET (local development and tests).
    DevToken {
        /// The tenant (shop) the token belongs to.
        #[arg(long)]
        tenant: TenantId,
        /// The user (`sub`).
        #[arg(long)]
        user: UserId,
        /// Roles, separated by commas.
        #[arg(long, value_enum, value_delimiter = ',', default_value = "customer")]
        roles: Vec<RoleArg>,
        /// A VIP (longer reservations).
        #[arg(long)]
        vip: bool,
        /// The user's e-mail address (the `email` claim): where order notifications go.
        #[arg(long)]
        email: Option<String>,
        /// Minutes until the token expires.
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(i64).range(1..=10_080))]
        minutes: i64,
    },
}

/// What `audit` does.
#[derive(Debug, Subcommand)]
enum AuditAction {
    /// Recompute an order's hash chain, or a tenant's range of chains and daily anchors, and
    /// report the first broken link (exit code 1 when there is one).
    Verify {
        /// The tenant.
        #[arg(long)]
        tenant: TenantId,
        /// One order's chain.
        #[arg(long, conflicts_with_all = ["from", "to"])]
        order: Option<OrderId>,
        /// Chains with an entry from this instant (RFC 3339)…
        #[arg(long, requires = "to", value_parser = rfc3339)]
        from: Option<time::OffsetDateTime>,
        /// …until before this one, and the anchors of those days (at most 31 days).
        #[arg(long, requires = "from", value_parser = rfc3339)]
        to: Option<time::OffsetDateTime>,
    },
}

/// What `events` does.
#[derive(Debug, Subcommand)]
enum EventsAction {
    /// Fold an order's stored events and compare the result with the stored order: the
    /// differences, and exit code 1 when there are any.
    Rebuild {
        /// One order.
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        order: Option<OrderId>,
        /// Every order of every tenant.
        #[arg(long)]
        all: bool,
    },
}

fn rfc3339(text: &str) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|error| format!("not an RFC 3339 instant: {error}"))
}

/// A JWT role on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    Customer,
    Admin,
    Warehouse,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Customer => Role::Customer,
            RoleArg::Admin => Role::Admin,
            RoleArg::Warehouse => Role::Warehouse,
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    // `--help` and argument errors need no configuration.
    let cli = Cli::parse();
    if matches!(cli.command, Some(Command::HealthCheck)) {
        return health_check().await;
    }
    let config = match Config::from_process_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config, false).await,
        Command::Migrate => migrate(&config).await,
        Command::HealthCheck => health_check().await,
        Command::Worker => serve(config, true).await,
        Command::ExpireDue => expire_due(&config).await,
        Command::Events {
            action: EventsAction::Rebuild { order, all: _ },
        } => {
            let _telemetry = match start_telemetry(&config) {
                Ok(telemetry) => telemetry,
                Err(code) => return code,
            };
            order_api::history_cli::events_rebuild(&config, order).await
        }
        Command::ArchiveDue => {
            let _telemetry = match start_telemetry(&config) {
                Ok(telemetry) => telemetry,
                Err(code) => return code,
            };
            order_api::history_cli::archive_due(&config).await
        }
        Command::Audit {
            action:
                AuditAction::Verify {
                    tenant,
                    order,
                    from,
                    to,
                },
        } => {
            let _telemetry = match start_telemetry(&config) {
                Ok(telemetry) => telemetry,
                Err(code) => return code,
            };
            let args = order_api::history_cli::VerifyArgs {
                tenant,
                order,
                from,
                to,
            };
            order_api::history_cli::audit_verify(&config, args).await
        }
        Command::DevToken {
            tenant,
            user,
            roles,
            vip,
            email,
            minutes,
        } => dev_token(
            &config,
            Claims {
                sub: user,
                tenant_id: tenant,
                roles: roles.into_iter().map(Role::from).collect(),
                vip,
                email,
                exp: (time::OffsetDateTime::now_utc() + time::Duration::minutes(minutes))
                    .unix_timestamp(),
                iat: Some(time::OffsetDateTime::now_utc().unix_timestamp()),
                nbf: None,
                iss: config.jwt.issuer.clone(),
                aud: config.jwt.audience.clone(),
            },
        ),
    }
}

/// GET /health/liveness on this host's PORT within 2 s.
async fn health_check() -> ExitCode {
    let port = std::env::var("PORT").unwrap_or_else(|_| "3004".into());
    let client = match reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(2))
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    match client
        .get(format!("http://127.0.0.1:{port}/health/liveness"))
        .send()
        .await
    {
        Ok(response) if response.status().is_success() => ExitCode::SUCCESS,
        Ok(response) => {
            eprintln!("unhealthy: /health/liveness answered {}", response.status());
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("unhealthy: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Logs, and traces when a collector is configured; a broken trace configuration stops start-up.
fn start_telemetry(config: &Config) -> Result<order_api::telemetry::Telemetry, ExitCode> {
    order_api::telemetry::init(&config.log_level, config.log_json, config.traces.as_ref()).map_err(
        |error| {
            eprintln!("error: {error}; check OTEL_EXPORTER_OTLP_ENDPOINT");
            ExitCode::FAILURE
        },
    )
}

/// `serve`, or with `worker` the jobs behind the health checks and /metrics only.
async fn serve(config: Config, worker: bool) -> ExitCode {
    let telemetry = match start_telemetry(&config) {
        Ok(telemetry) => telemetry,
        Err(code) => return code,
    };
    let built = if worker {
        Application::build_worker(config).await
    } else {
        Application::build(config).await
    };
    let app = match built {
        Ok(app) => app,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(port = app.port(), "order-api listening");
    let code = match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: the server stopped: {error}");
            ExitCode::FAILURE
        }
    };
    telemetry.shutdown();
    code
}

/// One expiry pass over the whole backlog (operators after an outage; the benchmark).
async fn expire_due(config: &Config) -> ExitCode {
    let _telemetry = match start_telemetry(config) {
        Ok(telemetry) => telemetry,
        Err(code) => return code,
    };
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
        let admin = sqlx::PgPool::connect(config.database_admin_url.expose_secret()).await?;
        println!("==> applying migrations");
        order_postgres::migrate(&admin).await?;
        let options: sqlx::postgres::PgConnectOptions =
            config.database_url.expose_secret().parse()?;
        let role = options.get_username().to_owned();
        println!("==> letting role {role} log in as a member of order_app");
        order_postgres::ensure_login_role(&admin, &role, None).await?;
        println!("==> checking that {role} cannot bypass row-level security and the jobs can");
        order_postgres::setup::check_app_role(&admin, Some(&role)).await?;
        order_postgres::setup::check_definer_owner(&admin).await?;
        println!("==> indexing the contact e-mails sealed before their blind index");
        let indexed =
            order_postgres::index_contact_emails(&admin, &config.address_keys, |so_far| {
                println!("    {so_far} indexed");
            })
            .await?;
        println!("    {indexed} order(s) indexed");
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

fn dev_token(config: &Config, claims: Claims) -> ExitCode {
    let Some(secret) = &config.jwt.signing_secret else {
        eprintln!("error: dev-token signs with JWT_SECRET, which is not set");
        return ExitCode::FAILURE;
    };
    let lifetime = claims.exp - claims.iat.unwrap_or(claims.exp);
    if lifetime > config.jwt.max_lifetime.whole_seconds() {
        eprintln!(
            "error: the API refuses tokens valid for more than {} minutes (JWT_MAX_LIFETIME_MINUTES); ask for fewer --minutes",
            config.jwt.max_lifetime.whole_minutes()
        );
        return ExitCode::FAILURE;
    }
    match sign_dev_token(secret.expose_secret(), &claims) {
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
