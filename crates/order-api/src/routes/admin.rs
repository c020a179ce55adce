//! `/api/v1/admin/…`: the refund review queue and the analytics.

use actix_web::{HttpRequest, HttpResponse, web};
use order_domain::ids::RefundId;
use order_domain::order::RefundStatus;
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use crate::dto::{OrderResponse, RefundResponse, RejectBody, reason};
use crate::error::ApiError;
use crate::extract::{json, page, path_id, query, read_body};
use crate::guards::{WhenStoreDown, idempotent};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RefundQuery {
    status: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

pub(super) async fn list_refunds(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.auth.user(&request)?;
    let q: RefundQuery = query(&request)?;
    let status = q
        .status
        .as_deref()
        .unwrap_or("PENDING")
        .parse::<RefundStatus>()
        .map_err(|_| ApiError::field("query.status", "invalid", "not a refund status"))?;
    let page = page(q.limit, q.offset)?;
    let refunds = state.service.list_refunds(&ctx, status, page).await?;
    Ok(HttpResponse::Ok().json(json!({
        "refunds": refunds.iter().map(RefundResponse::from).collect::<Vec<_>>(),
    })))
}

pub(super) async fn approve(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    pay_out(state, request, path, payload, Payout::Approve).await
}

/// `POST /api/v1/admin/refunds/{id}/retry`: pays a FAILED refund out again (its id is the payment's
/// idempotency key, so it is never paid twice); the attempt is audited like every other.
pub(super) async fn retry(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    pay_out(state, request, path, payload, Payout::Retry).await
}

/// The two admin commands that pay a refund out.
enum Payout {
    /// A PENDING refund, approved.
    Approve,
    /// A FAILED refund, tried again.
    Retry,
}

async fn pay_out(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    payout: Payout,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.auth.user(&request)?;
    let id: RefundId = path_id(&path, "refund")?;
    let raw = read_body(payload, state.max_body_bytes).await?;
    idempotent(
        &state,
        &request,
        &ctx,
        &raw,
        None,
        WhenStoreDown::FailOpen,
        |_| async {
            let order = match payout {
                Payout::Approve => state.service.approve_refund(&ctx, id).await?,
                Payout::Retry => state.service.retry_refund(&ctx, id).await?,
            };
            refund_answer(&order, id)
        },
    )
    .await
}

pub(super) async fn reject(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.auth.user(&request)?;
    let id: RefundId = path_id(&path, "refund")?;
    let raw = read_body(payload, state.max_body_bytes).await?;
    idempotent(
        &state,
        &request,
        &ctx,
        &raw,
        None,
        WhenStoreDown::FailOpen,
        |_| async {
            let body: RejectBody = json(&request, &raw, false)?;
            let why = reason(Some(body.reason), "reason", "")?;
            if why.is_empty() {
                return Err(ApiError::field(
                    "reason",
                    "required",
                    "a rejection needs a reason",
                ));
            }
            let order = state.service.reject_refund(&ctx, id, &why).await?;
            refund_answer(&order, id)
        },
    )
    .await
}

fn refund_answer(
    order: &order_domain::order::Order,
    id: RefundId,
) -> Result<HttpResponse, ApiError> {
    let refund = order
        .refund(id)
        .ok_or_else(|| ApiError::Internal("refund missing after review".into()))?;
    Ok(HttpResponse::Ok().json(json!({
        "refund": RefundResponse::new(order, refund),
        "order": OrderResponse::new(order, None),
    })))
}

/// `GET /api/v1/admin/analytics`: the tenant's latest figures (computed every
/// `METRICS_AGGREGATION_INTERVAL_MINUTES`, or now when none exist yet).
pub(super) async fn analytics(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.auth.user(&request)?;
    let analytics = state
        .service
        .analytics(&ctx, state.analytics_window)
        .await?;
    Ok(HttpResponse::Ok().json(analytics))
}
