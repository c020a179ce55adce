//! `spawn_app()`: the API on port 0 with a fresh database and its own simulator; typed helpers.

use std::time::Duration as StdDuration;

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use order_api::auth::Claims;
use order_api::config::{Config, JwtConfig, JwtKey, RateLimits, ServiceKey};
use order_api::startup::Application;
use order_domain::actor::Role;
use order_domain::ids::{TenantId, UserId};
use order_domain::policy::DomainConfig;
use order_simulator::{
    Catalog, SeedEvent, SeedPrice, SeedProduct, SeedTicketType, SeedVariant, Simulator,
};
use reqwest::Response;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

pub(crate) const SECRET: &str = "test-secret-0123456789abcdef0123456789";
pub(crate) const SERVICE_KEY: &str = "payment-service-key-0123456789";
pub(crate) const UPSTREAM_KEY: &str = "upstream-key-0123456789";
pub(crate) const EVENTS_KEY: &str = "events-service-key-0123456789";

pub(crate) fn tenant_a() -> TenantId {
    TenantId::from_uuid(Uuid::from_u128(0xA))
}
pub(crate) fn tenant_b() -> TenantId {
    TenantId::from_uuid(Uuid::from_u128(0xB))
}
pub(crate) const EVENT: Uuid = Uuid::from_u128(0xE1);
pub(crate) const TICKET_TYPE: Uuid = Uuid::from_u128(0x71);
pub(crate) const PRICING: Uuid = Uuid::from_u128(0x72);
/// The shop's products in the test catalog: `PRODUCT + n` for n in 0..10, 2 000 each (the
/// XL variant 2 500), 5 units of each in stock.
pub(crate) const PRODUCT: Uuid = Uuid::from_u128(0xA0);
pub(crate) const PRODUCT_STOCK: u32 = 5;

/// Options for one test app.
pub(crate) struct Setup {
    pub(crate) quota: u32,
    pub(crate) price: i64,
    pub(crate) event_starts_in: Duration,
    pub(crate) domain: DomainConfig,
    /// Point the ticket service at a dead port.
    pub(crate) dead_ticket_service: bool,
    /// Point Redis at a dead port.
    pub(crate) dead_redis: bool,
    /// Run the background jobs (relay, consumers) against a broker on a dead port.
    pub(crate) jobs_with_dead_broker: bool,
    /// `TRUSTED_PROXIES`.
    pub(crate) trusted_proxies: &'static str,
    /// Per-user limits per minute.
    pub(crate) rate_limits: RateLimits,
    /// The simulator announces payment and ticket messages and the app consumes them.
    pub(crate) messaging: bool,
    /// Circuit breakers and retries of the upstream clients.
    pub(crate) resilience: order_http_clients::Resilience,
    /// Events besides [`EVENT`] in the catalog (see [`order_body_for`]).
    pub(crate) extra_events: u128,
    /// Goods-pricing tables per tenant (`PRICING_FILE`).
    pub(crate) pricing: order_domain::use_cases::GoodsCatalogs,
    /// `MAX_CONCURRENT_COMMANDS` and `COMMAND_QUEUE_TIMEOUT_MS`.
    pub(crate) command_places: (usize, StdDuration),
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            quota: 1_000,
            price: 10_000,
            event_starts_in: Duration::days(30),
            domain: DomainConfig::default(),
            dead_ticket_service: false,
            dead_redis: false,
            jobs_with_dead_broker: false,
            trusted_proxies: "",
            // High enough that only the rate-limit tests meet them.
            rate_limits: RateLimits {
                orders: 1_000,
                reserve: 1_000,
                cancel: 1_000,
                refund: 1_000,
                anonymous_cart: 1_000,
                cart_per_address: 10_000,
                promo_code_tries: 1_000,
            },
            messaging: false,
            extra_events: 0,
            pricing: Default::default(),
            command_places: (64, StdDuration::from_secs(10)),
            resilience: order_http_clients::Resilience {
                // Quick retries keep the dead-upstream tests fast.
                retry_base: StdDuration::from_millis(5),
                ..order_http_clients::Resilience::default()
            },
        }
    }
}

/// The app's clock in tests: the system's time plus however far the test has moved it. Time keeps
/// running (Redis, the simulator and PostgreSQL read real clocks beside it); a test that waits
/// for a reservation or a retry to fall due moves it forward instead of sleeping.
#[derive(Debug, Default)]
pub(crate) struct TestClock {
    ahead: std::sync::Mutex<Duration>,
}

impl TestClock {
    /// Moves the app's time `by` ahead of the system's (on top of earlier moves).
    pub(crate) fn advance(&self, by: Duration) {
        *self
            .ahead
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) += by;
    }
}

impl order_domain::ports::Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        let ahead = *self
            .ahead
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        order_domain::adapters::SystemClock.now() + ahead
    }
}

pub(crate) struct TestApp {
    pub(crate) base: String,
    /// The time of the app, its replica and its jobs.
    pub(crate) clock: std::sync::Arc<TestClock>,
    pub(crate) client: reqwest::Client,
    pub(crate) simulator: String,
    /// The use cases of the served app.
    pub(crate) service: order_domain::use_cases::OrderService,
    /// A second, independent instance on the same database: another replica.
    pub(crate) replica: order_domain::use_cases::OrderService,
    /// The replica's store (the application role), for the jobs that take it.
    pub(crate) store: order_postgres::PgStore,
    /// The database owner (bypasses row-level security), for checks behind the app's back.
    pub(crate) owner: sqlx::PgPool,
    /// The prefix of the app's Redis keys.
    pub(crate) redis_prefix: String,
    /// The app's database as its own role sees it (for the command line's tools).
    pub(crate) database_url: String,
    /// Dropping it stops the consumers.
    _stop_consumers: tokio::sync::watch::Sender<bool>,
}

pub(crate) fn amqp_url() -> String {
    std::env::var("TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:56720/%2f".into())
}

/// Declares the app's queues before anything is published, so no message is routed nowhere.
async fn declare_queues(topology: &order_amqp::consumers::ConsumerTopology) {
    let connection =
        lapin::Connection::connect(&amqp_url(), lapin::ConnectionProperties::default())
            .await
            .expect("RabbitMQ is not reachable: run `just services-up` first");
    let channel = connection.create_channel().await.expect("channel");
    topology.declare(&channel).await.expect("topology");
    let _ = connection.close(200, "declared".into()).await;
}

pub(crate) async fn spawn_app() -> TestApp {
    spawn_with(Setup::default()).await
}

/// The simulator serving the test event, on a free loopback port; returns its base URL.
pub(crate) fn start_simulator(setup: &Setup) -> String {
    let catalog = Catalog {
        events: (0..=setup.extra_events)
            .map(|n| {
                let (event, ticket_type, pricing) = event_ids(n);
                SeedEvent {
                    tenant_id: *tenant_a().as_uuid(),
                    id: event,
                    name: format!("Concert {n}"),
                    starts_at: OffsetDateTime::now_utc() + setup.event_starts_in,
                    status: "SCHEDULED".into(),
                    currency: "USD".into(),
                    ticket_types: vec![SeedTicketType {
                        id: ticket_type,
                        name: "GA".into(),
                        quota: setup.quota,
                        prices: vec![SeedPrice {
                            id: pricing,
                            name: "standard".into(),
                            amount: setup.price,
                        }],
                    }],
                }
            })
            .collect(),
        products: (0..10u128)
            .map(|n| SeedProduct {
                tenant_id: *tenant_a().as_uuid(),
                id: Uuid::from_u128(PRODUCT.as_u128() + n),
                sku: format!("TEE-{n}"),
                name: format!("T-shirt {n}"),
                image_url: None,
                price: 2_000,
                currency: "USD".into(),
                active: true,
                variants: vec![SeedVariant {
                    attributes: [("size".to_owned(), "XL".to_owned())].into(),
                    price: 2_500,
                }],
                stock: PRODUCT_STOCK,
            })
            .collect(),
    };
    let mut simulator = Simulator::new(catalog, Some(UPSTREAM_KEY.into()));
    if setup.messaging {
        simulator = simulator.with_events(amqp_url());
    }
    let (sim_addr, _sim) = order_simulator::start("127.0.0.1:0", simulator).expect("simulator");
    let simulator = format!("http://{sim_addr}");
    simulator
}

/// The app's configuration for `setup`, on `database_url` with the simulator at `simulator`.
pub(crate) fn test_config(setup: &Setup, database_url: &str, simulator: &str) -> Config {
    let ticket_url = if setup.dead_ticket_service {
        "http://127.0.0.1:9".to_owned()
    } else {
        simulator.to_owned()
    };
    Config {
        port: 0,
        host: "127.0.0.1".into(),
        database_url: database_url.to_owned().into(),
        database_admin_url: database_url.to_owned().into(),
        database_max_connections: 20,
        database_statement_timeout: StdDuration::from_secs(10),
        address_keys: order_postgres::setup::testing::address_keys(),
        jwt: JwtConfig {
            key: JwtKey::Hs256(SECRET.into()),
            issuer: None,
            audience: None,
            signing_secret: Some(SECRET.into()),
            max_lifetime: Duration::hours(24),
        },
        service_keys: vec![
            // The tests' all-purpose service: every scope, every tenant.
            ServiceKey {
                name: "payment".into(),
                key: SERVICE_KEY.into(),
                scopes: order_api::config::ServiceScope::ALL.into(),
                tenants: None,
            },
            // The ticketing API's event service: bulk cancellation (and its jobs) in tenant A only.
            ServiceKey {
                name: "events".into(),
                key: EVENTS_KEY.into(),
                scopes: [
                    order_api::config::ServiceScope::BulkCancel,
                    order_api::config::ServiceScope::Jobs,
                ]
                .into(),
                tenants: Some([tenant_a()].into()),
            },
        ],
        ticket_service_url: ticket_url,
        payment_service_url: simulator.to_owned(),
        event_service_url: simulator.to_owned(),
        product_service_url: simulator.to_owned(),
        inventory_service_url: simulator.to_owned(),
        shipping_service_url: simulator.to_owned(),
        notification_service_url: simulator.to_owned(),
        event_cache_ttl: StdDuration::from_secs(30),
        upstream_service_key: Some(UPSTREAM_KEY.into()),
        upstream_timeout: StdDuration::from_secs(2),
        upstream_resilience: setup.resilience.clone(),
        redis_url: if setup.dead_redis {
            "redis://127.0.0.1:9".into()
        } else {
            std::env::var("TEST_REDIS_URL")
                .unwrap_or_else(|_| "redis://127.0.0.1:56379".into())
                .into()
        },
        rate_limits: setup.rate_limits,
        max_concurrent_commands: setup.command_places.0,
        command_queue_timeout: setup.command_places.1,
        redis_key_prefix: format!("test-{}", Uuid::new_v4().simple()),
        rabbitmq_url: if setup.jobs_with_dead_broker {
            "amqp://guest:guest@127.0.0.1:9/%2f".into()
        } else {
            amqp_url().into()
        },
        outbox_batch_size: 100,
        consumers: order_amqp::consumers::ConsumerTopology {
            prefix: format!("test-{}", Uuid::new_v4().simple()),
            max_attempts: 3,
            // The broker drops this test's queues a minute after it ends.
            idle_expiry: Some(StdDuration::from_secs(60)),
        },
        consumer_retry_delay: StdDuration::from_millis(50),
        expiry_interval: StdDuration::from_secs(60),
        expiry_batch_size: 500,
        metrics_interval: StdDuration::from_secs(300),
        refund_retry_interval: StdDuration::from_secs(60),
        reconciliation_interval: StdDuration::from_secs(3_600),
        housekeeping_interval: StdDuration::from_secs(600),
        inbox_retention: Duration::days(30),
        order_retention: Duration::days(2_557),
        analytics_window: Duration::days(30),
        // Tests run the jobs themselves, deterministically.
        run_jobs: setup.jobs_with_dead_broker,
        idempotency_ttl: Duration::minutes(30),
        idempotency_lease: Duration::seconds(60),
        max_body_bytes: 16 * 1024,
        trusted_proxies: order_api::client_ip::TrustedProxies::parse(setup.trusted_proxies)
            .expect("trusted proxies"),
        log_level: "warn".into(),
        log_json: false,
        traces: None,
        domain: setup.domain.clone(),
        pricing: setup.pricing.clone(),
        webhooks: order_api::config::WebhookSettings {
            transport: order_http_clients::WebhookTransportConfig {
                timeout: StdDuration::from_secs(2),
                // The tests' receivers listen on loopback.
                allow_private: true,
            },
            concurrency: 8,
            poll_interval: StdDuration::from_millis(50),
        },
    }
}

pub(crate) async fn spawn_with(setup: Setup) -> TestApp {
    let db = order_postgres::setup::testing::fresh_database().await;
    let simulator = start_simulator(&setup);
    let config = test_config(&setup, &db.app_url, &simulator);
    if std::env::var("TEST_LOG").is_ok() {
        order_api::telemetry::init_with_provider("info", false, None);
    }
    let clock = std::sync::Arc::new(TestClock::default());
    let (replica, store, _) = order_api::startup::build_service_at(&config, clock.clone())
        .await
        .expect("replica builds");
    let consumers = config.consumers.clone();
    let announcer_metrics = order_api::metrics::AppMetrics::new();
    let announcer = order_api::startup::build_announcer(&store, &config, &announcer_metrics)
        .expect("announcer builds");
    let webhooks = order_api::startup::build_webhooks(&store, &config).expect("webhooks build");
    let webhook_settings = config.webhooks;
    let redis_prefix = config.redis_key_prefix.clone();
    let app = Application::build_at(config, clock.clone())
        .await
        .expect("app builds");
    let service = app.service().clone();
    let metrics = app.metrics();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let (stop_consumers, stopped) = tokio::sync::watch::channel(false);
    if setup.messaging {
        declare_queues(&consumers).await;
        tokio::spawn(
            order_amqp::consumers::Consumers::new(
                consumers.clone(),
                std::sync::Arc::new(service.clone()),
                StdDuration::from_millis(50),
            )
            .observed(metrics.clone())
            .run(amqp_url(), stopped.clone()),
        );
        tokio::spawn(
            order_amqp::consumers::Consumers::notifications(
                consumers.clone(),
                std::sync::Arc::new(announcer),
                StdDuration::from_millis(50),
            )
            .observed(metrics.clone())
            .run(amqp_url(), stopped.clone()),
        );
        tokio::spawn(
            order_amqp::consumers::Consumers::webhooks(
                consumers.clone(),
                std::sync::Arc::new(webhooks.clone()),
                StdDuration::from_millis(50),
            )
            .observed(metrics)
            .run(amqp_url(), stopped.clone()),
        );
        tokio::spawn(order_api::webhook_worker::run_webhook_deliveries(
            webhooks,
            webhook_settings,
            stopped,
        ));
    }
    TestApp {
        _stop_consumers: stop_consumers,
        base,
        clock,
        client: reqwest::Client::new(),
        simulator,
        service,
        replica,
        store,
        owner: db.owner.clone(),
        redis_prefix,
        database_url: db.app_url.clone(),
    }
}

pub(crate) fn token_with(
    tenant: TenantId,
    user: UserId,
    roles: &[Role],
    exp: OffsetDateTime,
) -> String {
    let claims = Claims {
        sub: user,
        tenant_id: tenant,
        roles: roles.to_vec(),
        vip: false,
        email: Some(format!("{}@example.com", user.as_uuid().simple())),
        exp: exp.unix_timestamp(),
        iat: None,
        nbf: None,
        iss: None,
        aud: None,
    };
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("token")
}

pub(crate) fn user(n: u128) -> UserId {
    UserId::from_uuid(Uuid::from_u128(0x1000 + n))
}

pub(crate) fn customer(n: u128) -> String {
    token_with(
        tenant_a(),
        user(n),
        &[Role::Customer],
        OffsetDateTime::now_utc() + Duration::hours(1),
    )
}

pub(crate) fn admin() -> String {
    token_with(
        tenant_a(),
        user(999),
        &[Role::Admin],
        OffsetDateTime::now_utc() + Duration::hours(1),
    )
}

/// An admin of the other shop (tenant B).
pub(crate) fn other_shop_admin() -> String {
    token_with(
        tenant_b(),
        user(90),
        &[Role::Admin],
        OffsetDateTime::now_utc() + Duration::hours(1),
    )
}

pub(crate) fn order_body(quantity: i64) -> Value {
    order_body_for(0, quantity)
}

/// Event, ticket type and price of the `n`-th event of the catalog (0: [`EVENT`]).
fn event_ids(n: u128) -> (Uuid, Uuid, Uuid) {
    if n == 0 {
        (EVENT, TICKET_TYPE, PRICING)
    } else {
        (
            Uuid::from_u128(0xE100 + n),
            Uuid::from_u128(0x7100 + n),
            Uuid::from_u128(0x7200 + n),
        )
    }
}

/// An order for `quantity` tickets of the `n`-th event (see [`Setup::extra_events`]).
pub(crate) fn order_body_for(n: u128, quantity: i64) -> Value {
    let (event, ticket_type, pricing) = event_ids(n);
    json!({
        "eventId": event,
        "items": [{ "ticketTypeId": ticket_type, "ticketPricingId": pricing, "quantity": quantity }]
    })
}

impl TestApp {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) async fn create_order(&self, token: &str, body: &Value) -> Response {
        self.client
            .post(self.url("/api/v1/orders"))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub(crate) async fn post(&self, token: &str, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub(crate) async fn get(&self, token: &str, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub(crate) async fn internal(
        &self,
        path: &str,
        tenant: Option<TenantId>,
        body: &Value,
    ) -> Response {
        let mut request = self
            .client
            .post(self.url(path))
            .header("authorization", format!("Service-Key {SERVICE_KEY}"))
            .json(body);
        if let Some(tenant) = tenant {
            request = request.header("x-tenant-id", tenant.to_string());
        }
        request.send().await.expect("request")
    }

    /// Creates an order for customer `n` and returns its JSON (asserting 201).
    pub(crate) async fn new_order(&self, n: u128, quantity: i64) -> Value {
        let response = self.create_order(&customer(n), &order_body(quantity)).await;
        assert_eq!(
            response.status(),
            201,
            "create: {:?}",
            response.text().await
        );
        response.json().await.expect("json")
    }

    /// Confirms `order` as the payment service.
    pub(crate) async fn confirm(&self, order: &Value) -> Response {
        self.internal(
            &format!(
                "/internal/v1/orders/{}/confirm",
                order["id"].as_str().expect("id")
            ),
            Some(tenant_a()),
            &json!({ "paymentIntentId": order["paymentIntentId"] }),
        )
        .await
    }

    /// Marks the order's intent paid in the simulator (so refunds can be paid back).
    pub(crate) async fn pay(&self, order: &Value) {
        let intent = order["paymentIntentId"].as_str().expect("intent");
        let response = self
            .client
            .post(format!(
                "{}/payments/intents/{intent}/confirm",
                self.simulator
            ))
            .header("authorization", format!("Service-Key {UPSTREAM_KEY}"))
            .send()
            .await
            .expect("simulator");
        assert!(response.status().is_success());
    }

    /// A paid, CONFIRMED order of customer `n` for `quantity` tickets: its creation answer.
    pub(crate) async fn confirmed_order(&self, n: u128, quantity: i64) -> Value {
        let order = self.new_order(n, quantity).await;
        self.pay(&order).await;
        assert_eq!(self.confirm(&order).await.status(), 200);
        order
    }

    /// The audit history of order `id` as `token` reads it: its event types, oldest first.
    pub(crate) async fn history_types(&self, token: &str, id: &str) -> Vec<String> {
        let history: Value = self
            .get(token, &format!("/api/v1/orders/{id}/events"))
            .await
            .json()
            .await
            .expect("json");
        history["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["eventType"].as_str().map(str::to_owned))
            .collect()
    }

    /// What `/metrics` shows now.
    pub(crate) async fn metrics_text(&self) -> String {
        self.client
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("request")
            .text()
            .await
            .expect("text")
    }

    pub(crate) async fn simulator_state(&self) -> Value {
        self.simulator_read("state").await
    }

    /// The simulator's `GET /_admin/{what}` (state, faults, traceparents).
    pub(crate) async fn simulator_read(&self, what: &str) -> Value {
        self.client
            .get(format!("{}/_admin/{what}", self.simulator))
            .send()
            .await
            .expect("simulator")
            .json()
            .await
            .expect("json")
    }
}

/// Asserts a problem+json answer with `status` and `code`; returns the body.
pub(crate) async fn assert_problem(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["code"], code, "problem: {body}");
    assert_eq!(body["status"], status);
    body
}

impl TestApp {
    /// Sets the simulator's injected faults (`PUT /_admin/faults`).
    pub(crate) async fn set_faults(&self, faults: Value) {
        let response = self
            .client
            .put(format!("{}/_admin/faults", self.simulator))
            .json(&faults)
            .send()
            .await
            .expect("simulator");
        assert!(response.status().is_success());
    }

    /// Ticket-service requests the simulator served since the faults were set.
    /// The upstream requests the simulator is serving now.
    pub(crate) async fn simulator_in_flight(&self) -> u64 {
        simulator_in_flight(&self.simulator).await
    }

    pub(crate) async fn ticket_requests(&self) -> u64 {
        let faults = self.simulator_read("faults").await;
        faults["tickets"]["requests"].as_u64().unwrap_or(0)
    }
}

/// A confirmed order of customer 1 whose refund the payment service refused: the order and the
/// FAILED refund's answer. The payment faults are cleared again.
pub(crate) async fn order_with_failed_refund(app: &TestApp) -> (Value, Value) {
    let order = app.confirmed_order(1, 1).await;
    let id = order["id"].as_str().expect("id");
    app.set_faults(serde_json::json!({"payments": {"errorPercent": 100}}))
        .await;
    let refund: Value = app
        .post(
            &customer(1),
            &format!("/api/v1/orders/{id}/refund"),
            &serde_json::json!({ "reason": "cannot come" }),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(refund["status"], "FAILED", "{refund}");
    app.set_faults(serde_json::json!({})).await;
    (order, refund)
}

/// The upstream requests the simulator is serving now.
pub(crate) async fn simulator_in_flight(simulator: &str) -> u64 {
    let answer: Value = reqwest::get(format!("{simulator}/_admin/in-flight"))
        .await
        .expect("simulator")
        .json()
        .await
        .expect("json");
    answer["inFlight"].as_u64().expect("inFlight")
}

pub(crate) use order_test_support::eventually;
