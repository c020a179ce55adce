//! Health checks, the OpenAPI document and its docs page.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::AppState;

pub(super) async fn liveness() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready when the database answers.
pub(super) async fn readiness(state: web::Data<AppState>) -> HttpResponse {
    if state.store.ping().await {
        HttpResponse::Ok().json(json!({ "status": "ok", "checks": { "database": "ok" } }))
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header(("retry-after", "5"))
            .json(json!({ "status": "unavailable", "checks": { "database": "unreachable" } }))
    }
}

pub(super) async fn openapi() -> HttpResponse {
    HttpResponse::Ok().json(crate::openapi::document())
}

pub(super) async fn docs() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(crate::openapi::html())
}
