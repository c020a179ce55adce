//! `GET /metrics`: the Prometheus text of this instance, with the gauges read at scrape time
//! (database pool, outbox lag, webhook backlog, circuit breakers).

use actix_web::{HttpResponse, get, web};

use super::AppState;

/// Prometheus metrics (docs/product/running.md; the list is in docs/operations.md).
#[utoipa::path(
    operation_id = "getMetrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format", content_type = "text/plain")),
    security(),
)]
#[get("/metrics")]
pub(super) async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let metrics = &state.metrics;
    let pool = state.readiness.store.pool();
    let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
    let in_use = pool.size().saturating_sub(idle);
    metrics.gauge("db_pool_connections", &[("state", "idle")], f64::from(idle));
    metrics.gauge(
        "db_pool_connections",
        &[("state", "in_use")],
        f64::from(in_use),
    );
    metrics.gauge(
        "db_pool_max_connections",
        &[],
        f64::from(pool.options().get_max_connections()),
    );
    metrics.gauge("cart_conversion_rate", &[], metrics.cart_conversion_rate());
    for (service, breaker) in state.breakers.states() {
        let value = match breaker {
            order_http_clients::BreakerState::Closed => 0.0,
            order_http_clients::BreakerState::HalfOpen => 1.0,
            order_http_clients::BreakerState::Open => 2.0,
        };
        metrics.gauge(
            "upstream_circuit_breaker_state",
            &[("service", service)],
            value,
        );
    }
    // The backlog needs the database; without it the other figures are still shown.
    if let Some(backlog) = state.readiness.backlog.read(&state.readiness.store).await {
        #[allow(clippy::cast_precision_loss)] // counts far below 2^52
        {
            metrics.gauge(
                "order_service_outbox_unpublished",
                &[],
                backlog.outbox_unpublished as f64,
            );
            metrics.gauge(
                "webhook_deliveries_pending",
                &[],
                backlog.webhooks_pending as f64,
            );
        }
        metrics.gauge(
            "order_service_outbox_lag_seconds",
            &[],
            backlog.outbox_oldest_seconds.unwrap_or(0.0),
        );
        metrics.gauge(
            "webhook_oldest_pending_seconds",
            &[],
            backlog.webhooks_oldest_seconds.unwrap_or(0.0),
        );
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render())
}
