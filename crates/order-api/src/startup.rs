//! Building the application: adapters → ports → `OrderService` → HTTP server.

use secrecy::ExposeSecret;
use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use order_domain::use_cases::{Announcer, OrderService, Ports, WebhookPorts, WebhookService};
use order_http_clients::{
    HttpEventCatalog, HttpInventoryService, HttpNotifier, HttpPaymentGateway, HttpProductCatalog,
    HttpShippingService, HttpTicketService, HttpWebhookTransport, UpstreamConfig,
};
use order_postgres::PgStore;
use order_redis::RedisGuards;
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;

use crate::auth::Authenticator;
use crate::config::Config;
use crate::metrics::{AppMetrics, MeteredLock, MeteredUnitOfWork};
use crate::openapi::{ApiDocument, DocumentedLimits};
use crate::routes::{self, AppState};
use crate::state::UpstreamBreakers;
use crate::system::{FailOpenLock, LoggedIncidents};
use order_domain::adapters::{SystemClock, UuidV7Ids};
use order_domain::ports::Clock;

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database is unreachable or refused us.
    #[error("cannot connect to the database (DATABASE_URL): {0}")]
    Database(#[from] sqlx::Error),
    /// The database's roles would switch tenant isolation or the jobs off.
    #[error("refusing to start: {0}")]
    Roles(#[from] order_postgres::RoleProblem),
    /// An HTTP client could not be built.
    #[error("cannot build the upstream clients: {0}")]
    Http(#[from] reqwest::Error),
    /// The Redis URL is malformed.
    #[error("REDIS_URL is not a valid Redis URL: {0}")]
    Redis(String),
    /// The JWT key is unusable.
    #[error("JWT_PUBLIC_KEY is not a valid RSA public key in PEM: {0}")]
    Jwt(#[from] jsonwebtoken::errors::Error),
    /// The port is taken.
    #[error("cannot listen on {address}: {source}; set PORT to a free port")]
    Listen {
        /// Host and port.
        address: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A built application: its port, the server future and the use cases (for the jobs).
pub struct Application {
    port: u16,
    server: Server,
    service: OrderService,
    store: PgStore,
    announcer: Announcer,
    webhooks: WebhookService,
    metrics: Arc<AppMetrics>,
    config: Config,
    run_jobs: bool,
}

/// Starts every background job: expiry, analytics, refund retries, reconciliation, housekeeping, the outbox
/// relay, the consumers (notifications and webhook deliveries included) and the webhook workers.
fn spawn_jobs(
    service: &OrderService,
    store: &PgStore,
    announcer: &Announcer,
    webhooks: &WebhookService,
    metrics: &Arc<AppMetrics>,
    config: &Config,
    stopped: &tokio::sync::watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    use order_amqp::consumers::Consumers;
    // The upstream messages, and our own events for notifications and for webhook deliveries:
    // each on connections of its own, each counted.
    let consumers = [
        Consumers::new(
            config.consumers.clone(),
            Arc::new(service.clone()),
            config.consumer_retry_delay,
        ),
        Consumers::notifications(
            config.consumers.clone(),
            Arc::new(announcer.clone()),
            config.consumer_retry_delay,
        ),
        Consumers::webhooks(
            config.consumers.clone(),
            Arc::new(webhooks.clone()),
            config.consumer_retry_delay,
        ),
    ];
    let consuming = consumers.into_iter().map(|consumers| {
        tokio::spawn(consumers.observed(metrics.clone()).run(
            config.rabbitmq_url.expose_secret().to_owned(),
            stopped.clone(),
        ))
    });
    let relay = order_amqp::OutboxRelay::new(
        Arc::new(store.clone()),
        config.outbox_batch_size,
        time::Duration::seconds(30),
    );
    vec![
        tokio::spawn(crate::jobs::run_expiry(
            service.clone(),
            config.expiry_interval,
            config.expiry_batch_size,
            stopped.clone(),
        )),
        tokio::spawn(crate::jobs::run_metrics(
            service.clone(),
            config.metrics_interval,
            config.analytics_window,
            stopped.clone(),
        )),
        tokio::spawn(crate::jobs::run_bulk_jobs(service.clone(), stopped.clone())),
        tokio::spawn(crate::jobs::run_refund_retries(
            service.clone(),
            config.refund_retry_interval,
            stopped.clone(),
        )),
        tokio::spawn(crate::jobs::run_edit_lapses(
            service.clone(),
            config.expiry_interval,
            stopped.clone(),
        )),
        tokio::spawn(crate::jobs::run_reconciliation(
            service.clone(),
            config.reconciliation_interval,
            metrics.clone(),
            stopped.clone(),
        )),
        tokio::spawn(crate::jobs::run_retention(
            service.clone(),
            config.housekeeping_interval,
            config.order_retention,
            metrics.clone(),
            stopped.clone(),
        )),
        tokio::spawn(crate::jobs::run_audit_anchoring(
            service.clone(),
            config.housekeeping_interval,
            stopped.clone(),
        )),
        tokio::spawn(crate::jobs::run_housekeeping(
            store.clone(),
            config.housekeeping_interval,
            crate::jobs::Retention {
                idempotency_ttl: config.idempotency_ttl,
                inbox: config.inbox_retention,
            },
            stopped.clone(),
        )),
        tokio::spawn(relay.run(
            config.rabbitmq_url.expose_secret().to_owned(),
            std::time::Duration::from_millis(200),
            stopped.clone(),
        )),
        tokio::spawn(crate::webhook_worker::run_webhook_deliveries(
            webhooks.clone(),
            config.webhooks,
            stopped.clone(),
        )),
        tokio::spawn(crate::jobs::run_event_replays(
            service.clone(),
            webhooks.clone(),
            config.rabbitmq_url.expose_secret().to_owned(),
            stopped.clone(),
        )),
        tokio::spawn(crate::webhook_worker::run_webhook_log_pruning(
            webhooks.clone(),
            config.housekeeping_interval,
            stopped.clone(),
        )),
    ]
    .into_iter()
    .chain(consuming)
    .collect()
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

fn upstream(url: &str, config: &Config, metrics: &Arc<AppMetrics>) -> UpstreamConfig {
    UpstreamConfig {
        observer: Some(metrics.clone()),
        service_key: config
            .upstream_service_key
            .as_ref()
            .map(|key| key.expose_secret().to_owned()),
        timeout: config.upstream_timeout,
        resilience: config.upstream_resilience.clone(),
        ..UpstreamConfig::new(url)
    }
}

/// What an instance's listener serves.
#[derive(Debug, Clone, Copy)]
enum Serves {
    /// Every route (`order-api serve`).
    Api,
    /// Health checks and `/metrics` only (`order-api worker`).
    Operations,
}

impl Application {
    /// Connects the adapters and binds the listener (`PORT` 0 picks a free port).
    ///
    /// # Errors
    /// [`StartError`] naming what failed and what to set.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        Self::build_at(config, Arc::new(SystemClock)).await
    }

    /// `order-api worker`: the background jobs, with only the health checks and `/metrics` on
    /// the listener (what an orchestrator probes and scrapes), no API route.
    ///
    /// # Errors
    /// [`StartError`] naming what failed and what to set.
    pub async fn build_worker(mut config: Config) -> Result<Self, StartError> {
        config.run_jobs = true;
        Self::build_serving(config, Arc::new(SystemClock), Serves::Operations).await
    }

    /// [`Application::build`] with the use cases reading the time from `clock`: tests move it
    /// forward instead of waiting for reservations and leases to run out.
    ///
    /// # Errors
    /// [`StartError`] naming what failed and what to set.
    pub async fn build_at(config: Config, clock: Arc<dyn Clock>) -> Result<Self, StartError> {
        Self::build_serving(config, clock, Serves::Api).await
    }

    async fn build_serving(
        config: Config,
        clock: Arc<dyn Clock>,
        serves: Serves,
    ) -> Result<Self, StartError> {
        let metrics = AppMetrics::new();
        let (service, store, redis, breakers) =
            build_service_with(&config, &metrics, clock).await?;
        let announcer = build_announcer(&store, &config, &metrics)?;
        let webhooks = build_webhooks(&store, &config)?;
        let store_for_jobs = store.clone();
        let state = AppState {
            service: service.clone(),
            webhooks: webhooks.clone(),
            metrics: metrics.clone(),
            breakers,
            auth: Authenticator::new(&config.jwt, config.service_keys.clone())?
                .with_trusted_proxies(config.trusted_proxies.clone()),
            readiness: crate::state::Readiness {
                store,
                redis: redis.clone(),
                backlog: Arc::default(),
                broker: config.run_jobs.then(|| {
                    Arc::new(order_amqp::BrokerProbe::new(
                        config.rabbitmq_url.expose_secret(),
                    ))
                }),
            },
            max_body_bytes: config.max_body_bytes,
            analytics_window: config.analytics_window,
            idempotency: redis.clone(),
            idempotency_ttl: config.idempotency_ttl,
            answer_keys: config.address_keys.clone(),
            rate_limiter: redis,
            rate_limits: config.rate_limits,
            command_gate: crate::admission::CommandGate::new(
                config.max_concurrent_commands,
                config.command_queue_timeout,
            ),
            redis_key_prefix: config.redis_key_prefix.clone(),
        };
        let address = format!("{}:{}", config.host, config.port);
        let listener = listen(&address).map_err(|source| StartError::Listen {
            address: address.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartError::Listen { address, source })?
            .port();
        let recorded = web::Data::from(state.metrics.clone());
        let data = web::Data::new(state);
        let document = web::Data::new(ApiDocument::generate(DocumentedLimits {
            max_line_items: config.domain.limits.max_line_items,
            max_quantity_per_item: config.domain.limits.max_quantity_per_item,
            max_body_bytes: config.max_body_bytes,
        }));
        let server = HttpServer::new(move || {
            App::new()
                .into_utoipa_app()
                .configure(match serves {
                    Serves::Api => routes::configure,
                    Serves::Operations => routes::configure_operations,
                })
                .into_app()
                .configure(|cfg| {
                    if matches!(serves, Serves::Api) {
                        crate::console::configure(cfg);
                        crate::api_reference::configure(cfg);
                    }
                })
                .wrap(actix_web::middleware::from_fn(crate::metrics::record_http))
                .wrap(TracingLogger::default())
                .app_data(data.clone())
                .app_data(recorded.clone())
                .app_data(document.clone())
                .default_service(web::to(routes::not_found))
        })
        .listen(listener)
        .map_err(|source| StartError::Listen {
            address: format!("port {port}"),
            source,
        })?
        .run();
        Ok(Self {
            port,
            server,
            service,
            store: store_for_jobs,
            announcer,
            webhooks,
            metrics,
            config: config.clone(),
            run_jobs: config.run_jobs,
        })
    }

    /// The use cases this application serves (for jobs and tests).
    pub fn service(&self) -> &OrderService {
        &self.service
    }

    /// The metrics this application shows at `/metrics` (for jobs run beside it, and tests).
    pub fn metrics(&self) -> Arc<AppMetrics> {
        self.metrics.clone()
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves (and runs the jobs, unless `RUN_JOBS=false`) until the process is asked to stop:
    /// actix finishes in-flight requests on SIGINT/SIGTERM, then the jobs stop after their
    /// current order.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let jobs = if self.run_jobs {
            spawn_jobs(
                &self.service,
                &self.store,
                &self.announcer,
                &self.webhooks,
                &self.metrics,
                &self.config,
                &stopped,
            )
        } else {
            Vec::new()
        };
        let result = self.server.await;
        let _ = stop.send(true);
        for job in jobs {
            let _ = job.await;
        }
        result
    }
}

/// The adapters wired into the use cases, shared by the API and `order-api worker`.
///
/// # Errors
/// [`StartError`] naming what failed.
pub async fn build_service(
    config: &Config,
) -> Result<(OrderService, PgStore, Arc<RedisGuards>), StartError> {
    build_service_at(config, Arc::new(SystemClock)).await
}

/// [`build_service`] reading the time from `clock`.
///
/// # Errors
/// [`StartError`] naming what failed.
pub async fn build_service_at(
    config: &Config,
    clock: Arc<dyn Clock>,
) -> Result<(OrderService, PgStore, Arc<RedisGuards>), StartError> {
    let (service, store, redis, _) = build_service_with(config, &AppMetrics::new(), clock).await?;
    Ok((service, store, redis))
}

/// [`build_service`] counting into `metrics`, with the upstreams' breakers.
///
/// # Errors
/// [`StartError`] naming what failed.
pub async fn build_service_with(
    config: &Config,
    metrics: &Arc<AppMetrics>,
    clock: Arc<dyn Clock>,
) -> Result<(OrderService, PgStore, Arc<RedisGuards>, UpstreamBreakers), StartError> {
    let store = PgStore::connect(
        config.database_url.expose_secret(),
        config.database_max_connections,
        config.database_statement_timeout,
        config.address_keys.clone(),
    )
    .await?;
    order_postgres::check_roles(store.pool()).await?;
    let tickets = HttpTicketService::new(upstream(&config.ticket_service_url, config, metrics))?;
    let products = HttpProductCatalog::new(upstream(&config.product_service_url, config, metrics))?;
    let inventory =
        HttpInventoryService::new(upstream(&config.inventory_service_url, config, metrics))?;
    let shipping =
        HttpShippingService::new(upstream(&config.shipping_service_url, config, metrics))?;
    let payments = HttpPaymentGateway::new(upstream(&config.payment_service_url, config, metrics))?;
    let events = HttpEventCatalog::with_cache(
        upstream(&config.event_service_url, config, metrics),
        config.event_cache_ttl,
    )?;
    let redis = Arc::new(
        RedisGuards::connect(config.redis_url.expose_secret(), 32)
            .map_err(StartError::Redis)?
            .with_in_flight_lease(config.idempotency_lease),
    );
    let store_arc = Arc::new(store.clone());
    let ports = Ports {
        orders: store_arc.clone(),
        scans: store_arc.clone(),
        audit: store_arc.clone(),
        audit_chain: store_arc.clone(),
        personal_data: store_arc.clone(),
        event_replays: store_arc.clone(),
        stored_events: store_arc.clone(),
        refunds: store_arc.clone(),
        carts: store_arc.clone(),
        promotions: store_arc.clone(),
        unit_of_work: Arc::new(MeteredUnitOfWork::new(store_arc.clone(), metrics.clone())),
        inbox: store_arc.clone(),
        analytics: store_arc.clone(),
        reconciliations: store_arc.clone(),
        bulk_jobs: store_arc,
        locks: Arc::new(FailOpenLock::new(MeteredLock::new(
            (*redis).clone(),
            metrics.clone(),
        ))),
        tickets: Arc::new(tickets.clone()),
        inventory: Arc::new(inventory.clone()),
        products: Arc::new(products.clone()),
        payments: Arc::new(payments.clone()),
        events: Arc::new(events.clone()),
        shipping: Arc::new(shipping.clone()),
        clock,
        ids: Arc::new(UuidV7Ids),
        incidents: Arc::new(LoggedIncidents),
    };
    let service = OrderService::new(ports, config.domain.clone(), config.pricing.clone());
    let breakers = UpstreamBreakers {
        tickets,
        payments,
        events,
        products,
        inventory,
        shipping,
    };
    Ok((service, store, redis, breakers))
}

/// The notifications sender the consumers hand our own events to.
///
/// # Errors
/// [`StartError::Http`] when the notification client cannot be built.
pub fn build_announcer(
    store: &PgStore,
    config: &Config,
    metrics: &Arc<AppMetrics>,
) -> Result<Announcer, StartError> {
    let store = Arc::new(store.clone());
    let notifier = HttpNotifier::new(upstream(&config.notification_service_url, config, metrics))?;
    Ok(Announcer::new(store.clone(), store, Arc::new(notifier)))
}

/// The webhook subscriptions, deliveries and workers' use cases.
///
/// # Errors
/// [`StartError::Http`] when the webhook client cannot be built.
pub fn build_webhooks(store: &PgStore, config: &Config) -> Result<WebhookService, StartError> {
    let transport = HttpWebhookTransport::new(config.webhooks.transport)?;
    Ok(WebhookService::new(WebhookPorts {
        repository: Arc::new(store.clone()),
        transport: Arc::new(transport),
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7Ids),
    }))
}

/// Connections the kernel holds for us before we accept them (capped by the kernel's
/// `net.core.somaxconn`). The standard library asks for 128: a burst of buyers beyond that (a
/// flash sale) is dropped by the kernel and waits for its SYN to be sent again, 1 s then 3 s later.
const LISTEN_BACKLOG: i32 = 4096;

/// A listener on `address` with [`LISTEN_BACKLOG`].
fn listen(address: &str) -> std::io::Result<TcpListener> {
    use std::net::ToSocketAddrs;
    let addr = address.to_socket_addrs()?.next().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the address names no host",
        )
    })?;
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    Ok(socket.into())
}
