//! `/api/v1/orders/{id}/edits`: lines added, changed and removed after an order was placed
//! (docs/edits.md).

use actix_web::http::header;
use actix_web::{HttpRequest, get, post, web};
use order_domain::ids::OrderId;

use super::AppState;
use crate::caller::User;
use crate::dto::{EditBody, EditResponse, EditsResponse, OrderResponse};
use crate::error::ApiError;
use crate::extract::{Json, path_id};
use crate::guards::{Command, RateAction, WhenStoreDown::*};
use crate::spans;

/// Edit an order (its owner or an admin): add lines, change quantities, remove lines. Ticket
/// orders change until the refund cutoff before the event, goods orders until fulfillment starts.
/// `preview: true` answers the repriced order and its balance and changes nothing. Applied, the
/// edit claims only its difference upstream, stores the order under its next `version`, and
/// settles: an unpaid order gets a payment intent for its new total (`order.clientSecret`); a
/// paid order whose total falls is refunded exactly the difference (`refund`).
#[utoipa::path(
    operation_id = "editOrder",
    tag = "orders",
    params(
        ("id" = uuid::Uuid, Path, description = "The order"),
        ("If-Match" = Option<String>, Header, description = "The order's `version` the edit was made from; 409 when the order changed since"),
    ),
    request_body = EditBody,
    responses(
        (status = 200, description = "Applied, or previewed (`applied: false`)", body = EditResponse),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found"),
        (status = 409, description = "conflict (stale version), order_not_editable, sold_out, out_of_stock"),
        (status = 422, description = "validation_failed (paths name the change at fault: changes[2].quantity)"),
        (status = 429, description = "rate_limited: RATE_LIMIT_ORDERS_PER_MINUTE (default 10) per user"),
        (status = 503, description = "upstream_unavailable, guard_unavailable"),
    ),
    security(("bearer" = [])),
)]
#[post(
    "/orders/{id}/edits",
    wrap = "Command::user(FailClosed).limited(RateAction::Orders)"
)]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "edit_order", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn edit(
    state: web::Data<AppState>,
    User(ctx): User,
    request: HttpRequest,
    path: web::Path<String>,
    Json(body): Json<EditBody>,
) -> Result<web::Json<EditResponse>, ApiError> {
    let id: OrderId = path_id(&path, "order")?;
    let command = body.try_into_domain(if_match(&request)?)?;
    let outcome = state.service.edit_order(&ctx, id, command).await?;
    let answer = OrderResponse::new(&outcome.order, outcome.client_secret.clone())
        .with_estimated_delivery(state.service.estimated_delivery(&outcome.order));
    Ok(web::Json(EditResponse::new(&outcome, answer)))
}

/// An order's edits, oldest first (owner and admins).
#[utoipa::path(
    operation_id = "listOrderEdits",
    tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "The order")),
    responses(
        (status = 200, description = "The edits", body = EditsResponse),
        (status = 404, description = "not_found"),
    ),
    security(("bearer" = [])),
)]
#[get("/orders/{id}/edits")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "order_edits", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn list(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
) -> Result<web::Json<EditsResponse>, ApiError> {
    let id: OrderId = path_id(&path, "order")?;
    let (order, entries) = state.service.order_edits(&ctx, id).await?;
    Ok(web::Json(EditsResponse::new(&order, entries, &ctx.actor)))
}

/// The version in `If-Match` (`3`, `"3"` or `W/"3"`), when sent.
fn if_match(request: &HttpRequest) -> Result<Option<u64>, ApiError> {
    let Some(value) = request.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|v| v.parse().ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::field(
                "If-Match",
                "invalid",
                "send the order's version, as in its `version` field",
            )
        })
}
