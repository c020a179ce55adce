//! Health checks, the OpenAPI document and its docs page.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::AppState;

pub(super) async fn liveness() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready when every dependency this instance needs answers within [`CHECK_TIMEOUT`]: PostgreSQL,
/// Redis (idempotency and rate limits), and RabbitMQ when the instance runs the relay and the
/// consumers. The checks run at once; the answer names each.
pub(super) async fn readiness(state: web::Data<AppState>) -> HttpResponse {
    let checks = &state.readiness;
    let (database, redis, broker) = tokio::join!(
        within(checks.store.ping()),
        within(checks.redis.ping()),
        async {
            match &checks.broker_url {
                Some(url) => Some(order_amqp::broker_reachable(url, CHECK_TIMEOUT).await),
                None => None,
            }
        },
    );
    let word = |up: bool| if up { "ok" } else { "unreachable" };
    let mut report = serde_json::Map::new();
    report.insert("database".into(), word(database).into());
    report.insert("redis".into(), word(redis).into());
    if let Some(broker) = broker {
        report.insert("broker".into(), word(broker).into());
    }
    if database && redis && broker.unwrap_or(true) {
        HttpResponse::Ok().json(json!({ "status": "ok", "checks": report }))
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header(("retry-after", "5"))
            .json(json!({ "status": "unavailable", "checks": report }))
    }
}

/// How long one dependency may take to answer a readiness check.
const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

async fn within(check: impl std::future::Future<Output = bool>) -> bool {
    tokio::time::timeout(CHECK_TIMEOUT, check)
        .await
        .unwrap_or(false)
}

pub(super) async fn openapi() -> HttpResponse {
    HttpResponse::Ok().json(crate::openapi::document())
}

pub(super) async fn docs() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(crate::openapi::html())
}
