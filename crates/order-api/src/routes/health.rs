//! Health checks, the OpenAPI document and its docs page.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use crate::state::ApiDocument;

/// A health answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Health)]
struct HealthBody {
    /// `ok` or `unavailable`.
    #[schema(example = "ok")]
    status: &'static str,
    /// Each dependency checked: `ok` or `unreachable` (`database`, `redis`, `broker`).
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    checks: serde_json::Map<String, serde_json::Value>,
}

/// The process answers.
#[utoipa::path(
    operation_id = "getLiveness",
    tag = "operations",
    responses((status = 200, description = "Alive", body = HealthBody)),
    security(),
)]
#[get("/health/liveness")]
pub(super) async fn liveness() -> web::Json<HealthBody> {
    web::Json(HealthBody {
        status: "ok",
        checks: serde_json::Map::new(),
    })
}

/// Ready when every dependency this instance needs answers within [`CHECK_TIMEOUT`]: PostgreSQL,
/// Redis (idempotency and rate limits), and RabbitMQ when the instance runs the relay and the
/// consumers. The checks run at once; the answer names each.
#[utoipa::path(
    operation_id = "getReadiness",
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = HealthBody),
        (status = 503, description = "A dependency is unreachable", body = HealthBody,
            headers(("Retry-After" = u32, description = "seconds"))),
    ),
    security(),
)]
#[get("/health/readiness")]
pub(super) async fn readiness(state: web::Data<AppState>) -> HttpResponse {
    let checks = &state.readiness;
    let (database, redis, broker) = tokio::join!(
        within(checks.store.ping()),
        within(checks.redis.ping()),
        async {
            match &checks.broker {
                Some(probe) => Some(probe.reachable(CHECK_TIMEOUT).await),
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
        HttpResponse::Ok().json(HealthBody {
            status: "ok",
            checks: report,
        })
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header(("retry-after", "5"))
            .json(HealthBody {
                status: "unavailable",
                checks: report,
            })
    }
}

/// One dependency in `/health/detailed`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DependencyHealth)]
struct DependencyBody {
    /// `ok`, `unreachable`, or for an upstream its breaker: `closed`, `half_open`, `open`.
    status: String,
    /// How long the check took, milliseconds (none for upstreams: their breaker is read).
    latency_ms: Option<u64>,
}

/// `/health/detailed`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DetailedHealth)]
struct DetailedBody {
    /// `ok` when every dependency this instance needs answers.
    status: &'static str,
    /// `database`, `redis`, `broker` (instances with jobs), `upstream.<service>`.
    dependencies: std::collections::BTreeMap<String, DependencyBody>,
}

async fn timed(check: impl std::future::Future<Output = bool>) -> DependencyBody {
    let started = std::time::Instant::now();
    let up = within(check).await;
    DependencyBody {
        status: if up { "ok" } else { "unreachable" }.to_owned(),
        latency_ms: Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)),
    }
}

/// Each dependency with its status and latency, and each upstream's circuit breaker; for
/// operators only (a service key or an admin's token). Always 200: the body says what is down.
#[utoipa::path(
    operation_id = "getDetailedHealth",
    tag = "operations",
    responses(
        (status = 200, description = "Each dependency", body = DetailedBody),
        (status = 401, description = "unauthorized"),
        (status = 403, description = "forbidden"),
    ),
    security(("bearer" = []), ("serviceKey" = [])),
)]
#[get("/health/detailed")]
pub(super) async fn detailed(
    state: web::Data<AppState>,
    _operator: crate::caller::Operator,
) -> web::Json<DetailedBody> {
    let checks = &state.readiness;
    let (database, redis, broker) = tokio::join!(
        timed(checks.store.ping()),
        timed(checks.redis.ping()),
        async {
            match &checks.broker {
                Some(probe) => Some(timed(probe.reachable(CHECK_TIMEOUT)).await),
                None => None,
            }
        },
    );
    let healthy = [Some(&database), Some(&redis), broker.as_ref()]
        .into_iter()
        .flatten()
        .all(|d| d.status == "ok");
    let mut dependencies = std::collections::BTreeMap::new();
    dependencies.insert("database".to_owned(), database);
    dependencies.insert("redis".to_owned(), redis);
    if let Some(broker) = broker {
        dependencies.insert("broker".to_owned(), broker);
    }
    for (service, breaker) in state.breakers.states() {
        dependencies.insert(
            format!("upstream.{service}"),
            DependencyBody {
                status: breaker.as_str().to_owned(),
                latency_ms: None,
            },
        );
    }
    web::Json(DetailedBody {
        status: if healthy { "ok" } else { "degraded" },
        dependencies,
    })
}

/// How long one dependency may take to answer a readiness check.
const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

async fn within(check: impl std::future::Future<Output = bool>) -> bool {
    tokio::time::timeout(CHECK_TIMEOUT, check)
        .await
        .unwrap_or(false)
}

/// This document.
#[utoipa::path(
    operation_id = "getOpenApiDocument",
    tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object)),
    security(),
)]
#[get("/openapi.json")]
pub(super) async fn openapi(document: web::Data<ApiDocument>) -> HttpResponse {
    HttpResponse::Ok().json(&document.json)
}

/// This document as an interactive reference (Swagger UI, served by us: no CDN).
#[utoipa::path(
    operation_id = "getApiDocs",
    tag = "operations",
    responses((status = 200, description = "HTML", content_type = "text/html", body = String)),
    security(),
)]
#[get("/docs", wrap = "crate::api_reference::security_headers()")]
pub(super) async fn docs() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("cache-control", "no-cache"))
        .body(crate::api_reference::PAGE)
}
