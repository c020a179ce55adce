//! `/internal/v1/orders…`: routes for other services, authenticated by service key.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use order_domain::ids::{OrderId, PaymentIntentId};
use time::Duration;

use super::AppState;
use crate::caller::{AnyTenantService, Service};
use crate::dto::{
    BulkCancelBody, BulkCancelLine, BulkCancelResponse, ConfirmBody, ConfirmationResponse,
    ExpireBody, ExpiringListResponse, ExpiringQuery, ExpiryResponse, reason,
};
use crate::error::ApiError;
use crate::extract::{Json, JsonOrEmpty, Query, path_id};
use crate::guards::{Command, WhenStoreDown::*};

/// The payment service: the order's intent succeeded; CONFIRMED.
#[utoipa::path(
    tag = "internal",
    params(
        ("id" = uuid::Uuid, Path, description = "The order"),
        ("X-Tenant-Id" = uuid::Uuid, Header, description = "The order's tenant"),
    ),
    request_body = ConfirmBody,
    responses(
        (status = 200, description = "Confirmed", body = ConfirmationResponse),
        (status = 404, description = "not_found"),
        (status = 409, description = "invalid_transition, payment_intent_mismatch"),
        (status = 403, description = "service_forbidden: the key's SERVICE_KEY_SCOPES or SERVICE_KEY_TENANTS do not include this route or tenant"),
        (status = 422, description = "validation_failed"),
    ),
    security(("serviceKey" = [])),
)]
#[post("/{id}/confirm", wrap = "Command::service(FailOpen)")]
#[tracing::instrument(name = "use_case", skip_all, fields(otel.name = "confirm", use_case = "confirm"))]
pub(super) async fn confirm(
    state: web::Data<AppState>,
    Service(ctx): Service,
    path: web::Path<String>,
    Json(body): Json<ConfirmBody>,
) -> Result<web::Json<ConfirmationResponse>, ApiError> {
    let id: OrderId = path_id(&path, "order")?;
    let order = state
        .service
        .confirm(&ctx, id, PaymentIntentId::new(body.payment_intent_id), None)
        .await?;
    Ok(web::Json(ConfirmationResponse::new(&order)))
}

/// The scheduler: expire an order whose window has run out (`force` with a reason: now).
#[utoipa::path(
    tag = "internal",
    params(
        ("id" = uuid::Uuid, Path, description = "The order"),
        ("X-Tenant-Id" = uuid::Uuid, Header, description = "The order's tenant"),
    ),
    request_body(content = Option<ExpireBody>, description = "Optional"),
    responses(
        (status = 200, description = "Expired", body = ExpiryResponse),
        (status = 404, description = "not_found"),
        (status = 409, description = "invalid_transition, not_yet_expired"),
        (status = 403, description = "service_forbidden: the key's SERVICE_KEY_SCOPES or SERVICE_KEY_TENANTS do not include this route or tenant"),
        (status = 422, description = "validation_failed"),
    ),
    security(("serviceKey" = [])),
)]
#[post("/{id}/expire", wrap = "Command::service(FailOpen)")]
#[tracing::instrument(name = "use_case", skip_all, fields(otel.name = "expire_with", use_case = "expire_with"))]
pub(super) async fn expire(
    state: web::Data<AppState>,
    Service(ctx): Service,
    path: web::Path<String>,
    JsonOrEmpty(body): JsonOrEmpty<ExpireBody>,
) -> Result<web::Json<ExpiryResponse>, ApiError> {
    let id: OrderId = path_id(&path, "order")?;
    let forced = body.forced_reason()?;
    let order = state
        .service
        .expire_with(&ctx, id, forced.as_deref())
        .await?;
    Ok(web::Json(ExpiryResponse::new(&order)))
}

/// The scheduler: holds of every tenant that end within `minutes`.
#[utoipa::path(
    tag = "internal",
    params(ExpiringQuery),
    responses(
        (status = 200, description = "Soonest first", body = ExpiringListResponse),
        (status = 403, description = "service_forbidden: the key's SERVICE_KEY_SCOPES or SERVICE_KEY_TENANTS do not include this route or tenant"),
        (status = 422, description = "validation_failed"),
    ),
    security(("serviceKey" = [])),
)]
#[get("/expiring")]
#[tracing::instrument(name = "use_case", skip_all, fields(otel.name = "list_expiring", use_case = "list_expiring"))]
pub(super) async fn expiring(
    state: web::Data<AppState>,
    _: AnyTenantService,
    Query(q): Query<ExpiringQuery>,
) -> Result<web::Json<ExpiringListResponse>, ApiError> {
    let orders = state
        .service
        .list_expiring(
            Duration::minutes(q.minutes.unwrap_or(5)),
            q.limit.unwrap_or(100),
        )
        .await?;
    Ok(web::Json(ExpiringListResponse::new(
        &orders,
        time::OffsetDateTime::now_utc(),
    )))
}

/// The event service: the organiser cancelled an event; cancel (and fully refund) its orders.
#[utoipa::path(
    tag = "internal",
    params(("X-Tenant-Id" = uuid::Uuid, Header, description = "The event's tenant")),
    request_body = BulkCancelBody,
    responses(
        (status = 200, description = "Every order cancelled", body = BulkCancelResponse),
        (status = 207, description = "Some orders cancelled", body = BulkCancelResponse),
        (status = 500, description = "No order could be cancelled", body = BulkCancelResponse),
        (status = 403, description = "service_forbidden: the key's SERVICE_KEY_SCOPES or SERVICE_KEY_TENANTS do not include this route or tenant"),
        (status = 422, description = "validation_failed"),
    ),
    security(("serviceKey" = [])),
)]
#[post("/bulk/cancel", wrap = "Command::service(FailOpen)")]
#[tracing::instrument(name = "use_case", skip_all, fields(otel.name = "bulk_cancel_event", use_case = "bulk_cancel_event"))]
pub(super) async fn bulk_cancel(
    state: web::Data<AppState>,
    Service(ctx): Service,
    Json(body): Json<BulkCancelBody>,
) -> Result<HttpResponse, ApiError> {
    let why = reason(body.reason.as_deref(), "event cancelled by the organiser");
    let results = state
        .service
        .bulk_cancel_event(&ctx, body.event_id, &why)
        .await?;
    let succeeded = results.iter().filter(|r| r.outcome.is_ok()).count();
    let failed = results.len() - succeeded;
    let status = match (succeeded, failed) {
        (_, 0) => StatusCode::OK,
        (0, _) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::MULTI_STATUS,
    };
    let lines = results
        .iter()
        .map(|r| match &r.outcome {
            Ok(status) => BulkCancelLine {
                order_id: r.order_id,
                success: true,
                status: serde_json::to_value(status).unwrap_or_default(),
                code: None,
            },
            Err(error) => {
                let (status, code) = ApiError::UseCase(error.clone()).status_and_code();
                BulkCancelLine {
                    order_id: r.order_id,
                    success: false,
                    status: status.as_u16().into(),
                    code: Some(code),
                }
            }
        })
        .collect();
    Ok(HttpResponse::build(status).json(BulkCancelResponse {
        event_id: body.event_id,
        total: results.len(),
        succeeded,
        failed,
        results: lines,
    }))
}
