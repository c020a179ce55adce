//! Prometheus metrics (docs/product/running.md) in one registry per application, rendered at `GET
//! /metrics`.
//!
//! Each application owns its recorder instead of installing a process-wide one, so that what a
//! test reads is what its own application counted. Business counters come from committed
//! changes ([`MeteredUnitOfWork`] sees every event of every path: requests, consumers, jobs);
//! HTTP figures from a middleware labelled by route template (never the raw path); upstream
//! call durations from the clients' observer; gauges (pool, outbox lag, webhook backlog,
//! breakers) are read at scrape time. Amounts are minor units.

mod http;
mod observers;

pub use self::http::record_http;
pub use self::observers::{MeteredLock, MeteredUnitOfWork};

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use metrics::{Key, KeyName, Label, Level, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use order_domain::events::OrderEvent;
use order_domain::ports::OrderChange;

const METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// Latency buckets, seconds.
const SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Order value buckets, minor units (1.00 … 10 000.00).
const ORDER_VALUE: &[f64] = &[
    100.0,
    500.0,
    1_000.0,
    2_500.0,
    5_000.0,
    10_000.0,
    25_000.0,
    50_000.0,
    100_000.0,
    250_000.0,
    1_000_000.0,
];
/// Fulfillment buckets, seconds (a minute … two weeks).
const PROCESSING: &[f64] = &[
    60.0,
    600.0,
    3_600.0,
    21_600.0,
    86_400.0,
    259_200.0,
    604_800.0,
    1_209_600.0,
];

/// The upstream services the clients call, as they name themselves in metrics.
const UPSTREAMS: [&str; 7] = [
    "tickets",
    "payments",
    "events",
    "products",
    "inventory",
    "shipping",
    "notifications",
];

/// The application's metrics.
pub struct AppMetrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// Carts started and goods orders made from one, for `cart_conversion_rate`.
    carts_started: AtomicU64,
    carts_converted: AtomicU64,
}

impl std::fmt::Debug for AppMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppMetrics").finish_non_exhaustive()
    }
}

fn labels(pairs: &[(&'static str, &str)]) -> Vec<Label> {
    pairs
        .iter()
        .map(|(k, v)| Label::new(*k, (*v).to_owned()))
        .collect()
}

impl AppMetrics {
    /// A registry with this service's buckets and descriptions.
    pub fn new() -> Arc<Self> {
        let builder = PrometheusBuilder::new();
        // The bucket lists are constants and non-empty: the builder cannot refuse them.
        let builder = builder
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full("order_value".into()), ORDER_VALUE)
            })
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full("order_processing_duration_seconds".into()),
                    PROCESSING,
                )
            })
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let metrics = Self {
            recorder,
            handle,
            carts_started: AtomicU64::new(0),
            carts_converted: AtomicU64::new(0),
        };
        metrics.describe();
        metrics.start_at_zero();
        Arc::new(metrics)
    }

    /// The series the spec names, at zero for their known label values before anything
    /// happened: a fresh instance shows them at its first scrape, so dashboards read 0 rather
    /// than "no data" and `absent()` alerts stay quiet.
    fn start_at_zero(&self) {
        use order_domain::order::OrderKind;
        use order_domain::reconciliation::DifferenceKind;
        for name in [
            "order_service_orders_created_total",
            "order_service_orders_confirmed_total",
            "order_service_orders_cancelled_total",
            "order_service_reservation_expires_total",
            "order_service_refunds_processed_total",
        ] {
            for kind in OrderKind::ALL {
                self.count(name, &[("kind", kind.as_str())], 0);
            }
        }
        for kind in OrderKind::ALL {
            self.register_histogram("order_value", &[("kind", kind.as_str())]);
        }
        for currency in order_domain::money::Currency::ALL {
            let code = currency.to_string();
            self.count("order_service_revenue_total", &[("currency", &code)], 0);
        }
        for source in ["tickets", "cart"] {
            self.count(
                "orders_created_total",
                &[("source", source), ("payment_method", "card")],
                0,
            );
        }
        self.count("carts_created_total", &[], 0);
        self.count("order_service_orders_archived_total", &[], 0);
        for reason in ["contended", "unavailable"] {
            self.count(
                "order_service_lock_failures_total",
                &[("reason", reason)],
                0,
            );
        }
        for kind in DifferenceKind::ALL {
            for repaired in ["true", "false"] {
                self.count(
                    "order_service_reconciliation_differences_total",
                    &[("kind", kind.as_str()), ("repaired", repaired)],
                    0,
                );
            }
        }
        for operation in ["commit", "commit_batch"] {
            self.register_histogram(
                "order_service_operation_duration_seconds",
                &[("operation", operation)],
            );
        }
        for service in UPSTREAMS {
            self.register_histogram(
                "order_service_external_call_duration_seconds",
                &[("service", service)],
            );
        }
        self.register_histogram("order_processing_duration_seconds", &[]);
    }

    /// A histogram with no observation yet (rendered with zero counts).
    fn register_histogram(&self, name: &'static str, pairs: &[(&'static str, &str)]) {
        // Registering is what makes it appear; the handle itself is not needed.
        let _registered = self
            .recorder
            .register_histogram(&Key::from_parts(name, labels(pairs)), &METADATA);
    }

    fn describe(&self) {
        let counters = [
            (
                "order_service_orders_created_total",
                "Orders created, by kind",
            ),
            (
                "order_service_orders_confirmed_total",
                "Orders whose payment succeeded",
            ),
            ("order_service_orders_cancelled_total", "Orders cancelled"),
            (
                "order_service_reservation_expires_total",
                "Reservations that ran out",
            ),
            ("order_service_refunds_processed_total", "Refunds paid out"),
            (
                "order_service_revenue_total",
                "Confirmed order totals, minor units",
            ),
            (
                "orders_created_total",
                "Orders created, by source and payment method (the shop)",
            ),
            (
                "http_requests_total",
                "HTTP requests by method, route template and status",
            ),
            (
                "order_service_external_calls_total",
                "Upstream calls by service and outcome",
            ),
            ("carts_created_total", "Carts started (their first line)"),
            (
                "order_service_orders_archived_total",
                "Finished orders archived by the retention job (personal data erased)",
            ),
            (
                "order_service_lock_failures_total",
                "Times the order lock could not be taken, by reason (contended, unavailable)",
            ),
            (
                "order_service_messages_consumed_total",
                "Consumed messages by queue and disposition (ack, retry, dead_letter)",
            ),
            (
                "order_service_reconciliation_differences_total",
                "Differences between the ledger and the payment service, by kind and whether they were repaired",
            ),
        ];
        for (name, help) in counters {
            self.recorder
                .describe_counter(KeyName::from(name), None, SharedString::from(help));
        }
        let histograms = [
            (
                "order_service_operation_duration_seconds",
                "Duration of storage operations",
            ),
            (
                "order_service_external_call_duration_seconds",
                "Duration of upstream calls",
            ),
            (
                "http_request_duration_seconds",
                "HTTP request duration by method and route template",
            ),
            ("order_value", "Order totals at creation, minor units"),
            (
                "order_processing_duration_seconds",
                "From creation to delivery (goods)",
            ),
        ];
        for (name, help) in histograms {
            self.recorder.describe_histogram(
                KeyName::from(name),
                Some(Unit::Seconds),
                SharedString::from(help),
            );
        }
        let gauges = [
            (
                "cart_conversion_rate",
                "Goods orders made from a cart per cart started on this instance (the shop)",
            ),
            (
                "db_pool_connections",
                "Database pool connections by state (idle, in_use)",
            ),
            (
                "db_pool_max_connections",
                "Largest database pool (DATABASE_MAX_CONNECTIONS)",
            ),
            (
                "upstream_circuit_breaker_state",
                "Circuit breaker per upstream: 0 closed, 1 half open, 2 open",
            ),
            (
                "order_service_outbox_unpublished",
                "Outbox events not yet confirmed by the broker",
            ),
            (
                "order_service_outbox_lag_seconds",
                "Age of the oldest unpublished outbox event",
            ),
            (
                "webhook_deliveries_pending",
                "Webhook deliveries waiting to be sent",
            ),
            (
                "webhook_oldest_pending_seconds",
                "Age of the oldest pending webhook delivery",
            ),
        ];
        for (name, help) in gauges {
            self.recorder
                .describe_gauge(KeyName::from(name), None, SharedString::from(help));
        }
    }

    /// Counts orders the retention job archived.
    pub fn archived(&self, orders: u32) {
        self.count(
            "order_service_orders_archived_total",
            &[],
            u64::from(orders),
        );
    }

    /// Counts the differences of a reconciliation run by kind and repair.
    pub fn reconciled(&self, run: &order_domain::reconciliation::ReconciliationRun) {
        for difference in &run.differences {
            self.count(
                "order_service_reconciliation_differences_total",
                &[
                    ("kind", difference.kind.as_str()),
                    (
                        "repaired",
                        if difference.repaired { "true" } else { "false" },
                    ),
                ],
                1,
            );
        }
    }

    /// Adds `by` to counter `name`.
    pub fn count(&self, name: &'static str, pairs: &[(&'static str, &str)], by: u64) {
        self.recorder
            .register_counter(&Key::from_parts(name, labels(pairs)), &METADATA)
            .increment(by);
    }

    /// Records `value` in histogram `name`.
    pub fn observe(&self, name: &'static str, pairs: &[(&'static str, &str)], value: f64) {
        self.recorder
            .register_histogram(&Key::from_parts(name, labels(pairs)), &METADATA)
            .record(value);
    }

    /// Sets gauge `name`.
    pub fn gauge(&self, name: &'static str, pairs: &[(&'static str, &str)], value: f64) {
        self.recorder
            .register_gauge(&Key::from_parts(name, labels(pairs)), &METADATA)
            .set(value);
    }

    /// One HTTP request.
    pub fn http_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let status = status.to_string();
        self.count(
            "http_requests_total",
            &[("method", method), ("route", route), ("status", &status)],
            1,
        );
        self.observe(
            "http_request_duration_seconds",
            &[("method", method), ("route", route)],
            elapsed.as_secs_f64(),
        );
    }

    /// One upstream call.
    pub fn external_call(&self, service: &str, outcome: &str, elapsed: Duration) {
        self.count(
            "order_service_external_calls_total",
            &[("service", service), ("outcome", outcome)],
            1,
        );
        self.observe(
            "order_service_external_call_duration_seconds",
            &[("service", service)],
            elapsed.as_secs_f64(),
        );
    }

    /// The business counters of a committed change.
    pub fn committed(&self, change: &OrderChange) {
        let order = &change.order;
        let kind = order.kind().as_str();
        for envelope in &change.outbox {
            match &envelope.event {
                OrderEvent::Created(created) => {
                    self.count("order_service_orders_created_total", &[("kind", kind)], 1);
                    let source = if kind == "GOODS" { "cart" } else { "tickets" };
                    if change.consumed_cart.is_some() {
                        self.carts_converted.fetch_add(1, Ordering::Relaxed);
                    }
                    let method = order.goods().payment_method.as_deref().unwrap_or("card");
                    self.count(
                        "orders_created_total",
                        &[("source", source), ("payment_method", method)],
                        1,
                    );
                    #[allow(clippy::cast_precision_loss)] // a histogram of minor units
                    self.observe("order_value", &[("kind", kind)], created.total as f64);
                }
                OrderEvent::Confirmed(confirmed) => {
                    self.count("order_service_orders_confirmed_total", &[("kind", kind)], 1);
                    let currency = order.currency().to_string();
                    self.count(
                        "order_service_revenue_total",
                        &[("currency", &currency)],
                        u64::try_from(confirmed.total).unwrap_or(0),
                    );
                }
                OrderEvent::Cancelled(_) => {
                    self.count("order_service_orders_cancelled_total", &[("kind", kind)], 1);
                }
                OrderEvent::Expired(_) => {
                    self.count(
                        "order_service_reservation_expires_total",
                        &[("kind", kind)],
                        1,
                    );
                }
                OrderEvent::RefundCompleted(_) => {
                    self.count(
                        "order_service_refunds_processed_total",
                        &[("kind", kind)],
                        1,
                    );
                }
                OrderEvent::Delivered(_) => {
                    let milestones = &order.milestones();
                    if let Some(delivered) = milestones.delivered_at {
                        let took = (delivered - milestones.created_at).as_seconds_f64();
                        self.observe("order_processing_duration_seconds", &[], took.max(0.0));
                    }
                }
                _ => {}
            }
        }
    }

    /// A shopper put the first line into an empty cart.
    pub fn cart_started(&self) {
        self.carts_started.fetch_add(1, Ordering::Relaxed);
        self.count("carts_created_total", &[], 1);
    }

    /// Goods orders made from a cart per cart started on this instance since it started (the
    /// shop's `cart_conversion_rate`; across instances and windows the dashboard divides the
    /// counters `orders_created_total{source="cart"}` by `carts_created_total`).
    pub fn cart_conversion_rate(&self) -> f64 {
        let started = self.carts_started.load(Ordering::Relaxed);
        let converted = self.carts_converted.load(Ordering::Relaxed);
        if started == 0 {
            return 0.0;
        }
        // A ratio of counts, not money.
        #[allow(clippy::float_arithmetic, clippy::cast_precision_loss)]
        let rate = (converted as f64 / started as f64).min(1.0);
        rate
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        self.handle.run_upkeep();
        self.handle.render()
    }
}
