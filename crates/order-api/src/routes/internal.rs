//! `/internal/v1/orders…` and `/internal/v1/jobs/{id}`: routes for other services,
//! authenticated by service key.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use order_domain::bulk_cancel::BulkOutcome;
use order_domain::ids::{OrderId, PaymentIntentId};
use time::Duration;

use super::AppState;
use crate::caller::{AnyTenantService, Service};
use crate::dto::{
    BulkCancelBody, BulkJobResponse, ConfirmBody, ConfirmationResponse, ExpireBody,
    ExpiringListResponse, ExpiringQuery, ExpiryResponse, reason,
};
use crate::error::ApiError;
use crate::extract::{Json, JsonOrEmpty, Query, path_id};
use crate::guards::{Command, WhenStoreDown::*};
use crate::spans;

/// The payment service: the order's intent succeeded; CONFIRMED.
#[utoipa::path(
    operation_id = "confirmOrderForPaymentService",
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
#[post("/orders/{id}/confirm", wrap = "Command::service(FailOpen)")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "confirm", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
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
    operation_id = "expireOrder",
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
#[post("/orders/{id}/expire", wrap = "Command::service(FailOpen)")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "expire_with", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
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
    operation_id = "listExpiringOrders",
    tag = "internal",
    params(ExpiringQuery),
    responses(
        (status = 200, description = "Soonest first", body = ExpiringListResponse),
        (status = 403, description = "service_forbidden: the key's SERVICE_KEY_SCOPES or SERVICE_KEY_TENANTS do not include this route or tenant"),
        (status = 422, description = "validation_failed"),
    ),
    security(("serviceKey" = [])),
)]
#[get("/orders/expiring")]
#[tracing::instrument(name = "use_case", skip_all, fields(otel.name = "list_expiring"))]
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

/// The event service: the organiser cancelled an event; a durable job cancels (and fully
/// refunds) its orders. Answers the job at once; sending the request again answers the same job.
#[utoipa::path(
    operation_id = "requestBulkCancellation",
    tag = "internal",
    params(("X-Tenant-Id" = uuid::Uuid, Header, description = "The event's tenant")),
    request_body = BulkCancelBody,
    responses(
        (status = 202, description = "The job (Location: /internal/v1/jobs/{id})", body = BulkJobResponse,
            headers(("Location" = String, description = "where the job reports"))),
        (status = 403, description = "service_forbidden: the key's SERVICE_KEY_SCOPES or SERVICE_KEY_TENANTS do not include this route or tenant"),
        (status = 422, description = "validation_failed"),
    ),
    security(("serviceKey" = [])),
)]
#[post("/orders/bulk/cancel", wrap = "Command::service(FailOpen)")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "request_bulk_cancel", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn bulk_cancel(
    state: web::Data<AppState>,
    Service(ctx): Service,
    Json(body): Json<BulkCancelBody>,
) -> Result<HttpResponse, ApiError> {
    let why = reason(body.reason.as_deref(), "event cancelled by the organiser");
    let job = state
        .service
        .request_bulk_cancel(&ctx, body.event_id, &why)
        .await?;
    Ok(HttpResponse::Accepted()
        .insert_header(("location", format!("/internal/v1/jobs/{}", job.id)))
        .json(BulkJobResponse::new(&job)))
}

/// A job this service asked for: 202 while it runs; when done, the ticketing API's status — 200
/// when every order was cancelled (or there was none), 207 when some were, 500 when none could be.
#[utoipa::path(
    operation_id = "getBulkJob",
    tag = "internal",
    params(
        ("id" = uuid::Uuid, Path, description = "The job"),
        ("X-Tenant-Id" = uuid::Uuid, Header, description = "The job's tenant"),
    ),
    responses(
        (status = 200, description = "Done: every order cancelled", body = BulkJobResponse),
        (status = 202, description = "Still running, with the figures so far", body = BulkJobResponse),
        (status = 207, description = "Done: some orders cancelled", body = BulkJobResponse),
        (status = 403, description = "service_forbidden: the key's SERVICE_KEY_SCOPES or SERVICE_KEY_TENANTS do not include this route or tenant"),
        (status = 404, description = "not_found (another tenant's or service's job)"),
        (status = 500, description = "Done: no order could be cancelled", body = BulkJobResponse),
    ),
    security(("serviceKey" = [])),
)]
#[get("/jobs/{id}")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "bulk_job", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn job_report(
    state: web::Data<AppState>,
    Service(ctx): Service,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: order_domain::ids::BulkJobId = path_id(&path, "job")?;
    let job = state.service.bulk_job(&ctx, id).await?;
    let status = match job.outcome() {
        None => StatusCode::ACCEPTED,
        Some(BulkOutcome::All) => StatusCode::OK,
        Some(BulkOutcome::Partial) => StatusCode::MULTI_STATUS,
        Some(BulkOutcome::None) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    Ok(HttpResponse::build(status).json(BulkJobResponse::new(&job)))
}
