//! `/api/v1/admin/…`: the refund review queue, promo codes and the analytics.

use actix_web::{delete, get, post, web};
use order_domain::ids::RefundId;

use super::AppState;
use crate::caller::User;
use crate::dto::{
    AnalyticsResponse, PromoCodeBody, PromoCodeListResponse, PromoCodeResponse,
    RefundDecisionResponse, RefundListResponse, RefundQuery, RefundResponse, RejectBody, page,
};
use crate::error::ApiError;
use crate::extract::{Json, Query, path_id};
use crate::guards::{Command, WhenStoreDown::*};
use crate::spans;

/// Admins: the tenant's refunds in one status (PENDING by default: the review queue).
#[utoipa::path(
    operation_id = "listRefunds",
    tag = "admin",
    params(RefundQuery),
    responses(
        (status = 200, description = "One page", body = RefundListResponse),
        (status = 403, description = "forbidden"),
        (status = 422, description = "validation_failed"),
    ),
    security(("bearer" = [])),
)]
#[get("/admin/refunds")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "list_refunds", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn list_refunds(
    state: web::Data<AppState>,
    User(ctx): User,
    Query(q): Query<RefundQuery>,
) -> Result<web::Json<RefundListResponse>, ApiError> {
    let status = q.status()?;
    let refunds = state
        .service
        .list_refunds(&ctx, status, page(q.limit, q.offset))
        .await?;
    Ok(web::Json(RefundListResponse {
        refunds: refunds.iter().map(RefundResponse::from).collect(),
    }))
}

/// Admins: approve a PENDING refund; it is paid out at once.
#[utoipa::path(
    operation_id = "approveRefund",
    tag = "admin",
    params(("id" = uuid::Uuid, Path, description = "The refund")),
    responses(
        (status = 200, description = "Approved and paid (or FAILED, retried later)", body = RefundDecisionResponse),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found"),
        (status = 409, description = "invalid_transition"),
    ),
    security(("bearer" = [])),
)]
#[post("/admin/refunds/{id}/approve", wrap = "Command::user(FailOpen)")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "approve_refund", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn approve(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
) -> Result<web::Json<RefundDecisionResponse>, ApiError> {
    let id: RefundId = path_id(&path, "refund")?;
    let order = state.service.approve_refund(&ctx, id).await?;
    decision(&order, id)
}

/// Admins: pay a FAILED refund out again. Its id is the payment's idempotency key, so it is
/// never paid twice; the attempt is audited like every other.
#[utoipa::path(
    operation_id = "retryRefund",
    tag = "admin",
    params(("id" = uuid::Uuid, Path, description = "The refund")),
    responses(
        (status = 200, description = "Paid (or FAILED again)", body = RefundDecisionResponse),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found"),
        (status = 409, description = "invalid_transition"),
    ),
    security(("bearer" = [])),
)]
#[post("/admin/refunds/{id}/retry", wrap = "Command::user(FailOpen)")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "retry_refund", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn retry(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
) -> Result<web::Json<RefundDecisionResponse>, ApiError> {
    let id: RefundId = path_id(&path, "refund")?;
    let order = state.service.retry_refund(&ctx, id).await?;
    decision(&order, id)
}

/// Admins: reject a PENDING refund, with a reason.
#[utoipa::path(
    operation_id = "rejectRefund",
    tag = "admin",
    params(("id" = uuid::Uuid, Path, description = "The refund")),
    request_body = RejectBody,
    responses(
        (status = 200, description = "Rejected", body = RefundDecisionResponse),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found"),
        (status = 409, description = "invalid_transition"),
        (status = 422, description = "validation_failed"),
    ),
    security(("bearer" = [])),
)]
#[post("/admin/refunds/{id}/reject", wrap = "Command::user(FailOpen)")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "reject_refund", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn reject(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
    Json(body): Json<RejectBody>,
) -> Result<web::Json<RefundDecisionResponse>, ApiError> {
    let id: RefundId = path_id(&path, "refund")?;
    let order = state
        .service
        .reject_refund(&ctx, id, body.reason.trim())
        .await?;
    decision(&order, id)
}

fn decision(
    order: &order_domain::order::Order,
    id: RefundId,
) -> Result<web::Json<RefundDecisionResponse>, ApiError> {
    let refund = order
        .refund(id)
        .ok_or_else(|| ApiError::Internal("refund missing after review".into()))?;
    Ok(web::Json(RefundDecisionResponse::new(order, refund)))
}

/// Admins: the tenant's latest figures — AOV, conversion, top events, status breakdown, revenue
/// by currency, cancellation and refund rates (computed every
/// `METRICS_AGGREGATION_INTERVAL_MINUTES`, or now when none exist yet).
#[utoipa::path(
    operation_id = "getAnalytics",
    tag = "admin",
    responses(
        (status = 200, description = "The figures", body = AnalyticsResponse),
        (status = 403, description = "forbidden"),
    ),
    security(("bearer" = [])),
)]
#[get("/admin/analytics")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "analytics", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn analytics(
    state: web::Data<AppState>,
    User(ctx): User,
) -> Result<web::Json<AnalyticsResponse>, ApiError> {
    let analytics = state
        .service
        .analytics(&ctx, state.analytics_window)
        .await?;
    Ok(web::Json(analytics.into()))
}

/// Admins: the tenant's promo codes.
#[utoipa::path(
    operation_id = "listPromoCodes",
    tag = "admin",
    responses(
        (status = 200, description = "By code", body = PromoCodeListResponse),
        (status = 403, description = "forbidden"),
    ),
    security(("bearer" = [])),
)]
#[get("/admin/promo-codes")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "list_promo_codes", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn list_promo_codes(
    state: web::Data<AppState>,
    User(ctx): User,
) -> Result<web::Json<PromoCodeListResponse>, ApiError> {
    let codes = state.service.list_promo_codes(&ctx).await?;
    Ok(web::Json(PromoCodeListResponse {
        promo_codes: codes.iter().map(PromoCodeResponse::from).collect(),
    }))
}

/// Admins: create a promo code (percent or fixed, a window, usage limits).
#[utoipa::path(
    operation_id = "createPromoCode",
    tag = "admin",
    request_body = PromoCodeBody,
    responses(
        (status = 201, description = "Created", body = PromoCodeResponse),
        (status = 403, description = "forbidden"),
        (status = 409, description = "conflict: the code exists"),
        (status = 422, description = "validation_failed"),
    ),
    security(("bearer" = [])),
)]
#[post("/admin/promo-codes", wrap = "Command::user(FailOpen)")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "create_promo_code", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn create_promo_code(
    state: web::Data<AppState>,
    User(ctx): User,
    Json(body): Json<PromoCodeBody>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let code = body.into_domain(time::OffsetDateTime::now_utc())?;
    let created = state.service.create_promo_code(&ctx, code).await?;
    Ok(actix_web::HttpResponse::Created().json(PromoCodeResponse::from(&created)))
}

/// Admins: retire a promo code now (its redemptions stay on record).
#[utoipa::path(
    operation_id = "retirePromoCode",
    tag = "admin",
    params(("code" = String, Path, description = "The code")),
    responses(
        (status = 204, description = "Retired"),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found"),
    ),
    security(("bearer" = [])),
)]
#[delete("/admin/promo-codes/{code}")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "retire_promo_code", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn retire_promo_code(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
) -> Result<actix_web::HttpResponse, ApiError> {
    state.service.retire_promo_code(&ctx, &path).await?;
    Ok(actix_web::HttpResponse::NoContent().finish())
}
