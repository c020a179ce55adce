//! `/internal/v1/orders…`: routes for other services, authenticated by service key.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use order_domain::actor::{Actor, RequestContext};
use order_domain::ids::{OrderId, PaymentIntentId, TenantId};
use serde::Deserialize;
use serde_json::json;
use time::Duration;

use super::AppState;
use super::orders::rfc3339;
use crate::dto::{BulkCancelBody, ConfirmBody, ExpireBody, reason};
use crate::error::ApiError;
use crate::extract::{json, path_id, query, read_body};
use crate::guards::{WhenStoreDown, idempotent};

/// The calling service as an actor of `tenant` (from `X-Tenant-Id`).
fn service_context(state: &AppState, request: &HttpRequest) -> Result<RequestContext, ApiError> {
    let (name, tenant) = state.auth.service(request)?;
    let tenant: TenantId = tenant.ok_or_else(|| {
        ApiError::field(
            "header.X-Tenant-Id",
            "required",
            "internal order routes need the tenant",
        )
    })?;
    Ok(RequestContext {
        tenant_id: tenant,
        actor: Actor::Service { name },
        ip: state.auth.client_ip(request),
    })
}

pub(super) async fn confirm(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let ctx = service_context(&state, &request)?;
    let id: OrderId = path_id(&path, "order")?;
    let raw = read_body(payload, state.max_body_bytes).await?;
    idempotent(
        &state,
        &request,
        &ctx,
        &raw,
        None,
        WhenStoreDown::FailOpen,
        |_| async {
            let body: ConfirmBody = json(&request, &raw, false)?;
            if body.payment_intent_id.trim().is_empty() || body.payment_intent_id.len() > 200 {
                return Err(ApiError::field(
                    "paymentIntentId",
                    "invalid",
                    "a payment intent id",
                ));
            }
            let order = state
                .service
                .confirm(&ctx, id, PaymentIntentId::new(body.payment_intent_id), None)
                .await?;
            Ok(HttpResponse::Ok().json(json!({
                "orderId": order.id(),
                "status": order.status(),
                "confirmedAt": order.record().milestones.confirmed_at.map(rfc3339),
                "ticketIds": order.record().ticket_ids,
            })))
        },
    )
    .await
}

pub(super) async fn expire(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let ctx = service_context(&state, &request)?;
    let id: OrderId = path_id(&path, "order")?;
    let raw = read_body(payload, state.max_body_bytes).await?;
    idempotent(
        &state,
        &request,
        &ctx,
        &raw,
        None,
        WhenStoreDown::FailOpen,
        |_| async {
            let body: ExpireBody = json(&request, &raw, true)?;
            let forced = if body.force == Some(true) {
                if body.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
                    return Err(ApiError::field(
                        "reason",
                        "required",
                        "a forced expiry records the operator's reason",
                    ));
                }
                Some(reason(body.reason, "reason", "")?)
            } else {
                reason(body.reason, "reason", "reservation expired")?;
                None
            };
            let order = state
                .service
                .expire_with(&ctx, id, forced.as_deref())
                .await?;
            Ok(HttpResponse::Ok().json(json!({
                "message": "Order expired successfully",
                "orderId": order.id(),
                "status": order.status(),
            })))
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpiringQuery {
    minutes: Option<i64>,
    limit: Option<u32>,
}

pub(super) async fn expiring(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    state.auth.service(&request)?;
    let q: ExpiringQuery = query(&request)?;
    let minutes = q.minutes.unwrap_or(5);
    if !(0..=24 * 60).contains(&minutes) {
        return Err(ApiError::field(
            "query.minutes",
            "out_of_range",
            "between 0 and 1440",
        ));
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field(
            "query.limit",
            "out_of_range",
            "between 1 and 1000",
        ));
    }
    let orders = state
        .service
        .list_expiring(Duration::minutes(minutes), limit)
        .await?;
    let now = time::OffsetDateTime::now_utc();
    Ok(HttpResponse::Ok().json(json!({
        "orders": orders.iter().map(|o| json!({
            "id": o.order_id,
            "tenantId": o.tenant_id,
            "status": o.status,
            "reservationExpiresAt": rfc3339(o.expires_at),
            "minutesUntilExpiration": (o.expires_at - now).whole_minutes().max(0),
        })).collect::<Vec<_>>(),
    })))
}

pub(super) async fn bulk_cancel(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let ctx = service_context(&state, &request)?;
    let raw = read_body(payload, state.max_body_bytes).await?;
    idempotent(&state, &request, &ctx, &raw, None, WhenStoreDown::FailOpen, |_| async {
    let body: BulkCancelBody = json(&request, &raw, false)?;
        let why = reason(body.reason, "reason", "event cancelled by the organiser")?;
        let results = state
            .service
            .bulk_cancel_event(&ctx, body.event_id, &why)
            .await?;
        let succeeded = results.iter().filter(|r| r.outcome.is_ok()).count();
        let failed = results.len() - succeeded;
        // 200 when every order was cancelled, 207 when some were, 500 when none could be.
        let status = match (succeeded, failed) {
            (_, 0) => StatusCode::OK,
            (0, _) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::MULTI_STATUS,
        };
        let rendered: Vec<_> = results
            .iter()
            .map(|r| match &r.outcome {
                Ok(status) => json!({ "orderId": r.order_id, "success": true, "status": status }),
                Err(error) => {
                    let (status, code) = ApiError::UseCase(error.clone()).status_and_code();
                    json!({ "orderId": r.order_id, "success": false, "status": status.as_u16(), "code": code })
                }
            })
            .collect();
        Ok(HttpResponse::build(status).json(json!({
            "eventId": body.event_id,
            "total": results.len(),
            "succeeded": succeeded,
            "failed": failed,
            "results": rendered,
        })))
    })
    .await
}
