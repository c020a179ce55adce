//! `/api/v1/orders/{id}/fulfillment/…` and `…/returns…`: warehouse staff and admins move a paid
//! goods order from the shelf to the door, and take returned goods back.

use actix_web::{get, post, web};
use order_domain::ids::OrderId;

use super::{AppState, order_answer, order_answer_for};
use crate::caller::User;
use crate::dto::{
    CancellationResponse, FulfillmentStarted, OrderPageResponse, OrderResponse, QueueQuery,
    RefundDecisionResponse, RejectBody, ReturnBody, ShipBody, reason,
};
use crate::error::ApiError;
use crate::extract::{Json, JsonOrEmpty, Query, path_id};
use crate::spans;

/// Warehouse: the paid goods orders waiting for a step, newest first — CONFIRMED to start,
/// PROCESSING to ship, SHIPPED to deliver, RETURNED to take back — in the warehouse's view (the
/// lines, the shipping address and method; not the billing address, metadata or payment).
#[utoipa::path(
    operation_id = "listFulfillmentQueue",
    tag = "fulfillment",
    params(QueueQuery),
    responses(
        (status = 200, description = "One page of the queue", body = OrderPageResponse),
        (status = 403, description = "forbidden"),
        (status = 422, description = "validation_failed"),
    ),
    security(("bearer" = [])),
)]
#[get("/fulfillment/queue")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "fulfillment_queue", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn queue(
    state: web::Data<AppState>,
    User(ctx): User,
    Query(q): Query<QueueQuery>,
) -> Result<web::Json<OrderPageResponse>, ApiError> {
    let page = super::orders::order_page(q.limit, None, q.cursor.as_deref())?;
    let result = state
        .service
        .fulfillment_queue(&ctx, q.status()?, page)
        .await?;
    Ok(web::Json(OrderPageResponse::for_warehouse(&result, page)))
}
use crate::guards::{Command, WhenStoreDown::*};

/// Warehouse: CONFIRMED → PROCESSING; the stock is allocated at a warehouse and the pick list
/// answered (again on a PROCESSING order: the same list).
#[utoipa::path(
    operation_id = "startFulfillment",
    tag = "fulfillment",
    params(("id" = uuid::Uuid, Path, description = "The order")),
    responses(
        (status = 200, description = "Processing, with the pick list", body = FulfillmentStarted),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found"),
        (status = 409, description = "invalid_transition"),
        (status = 503, description = "upstream_unavailable"),
    ),
    security(("bearer" = [])),
)]
#[post("/orders/{id}/fulfillment/start", wrap = "Command::user(FailOpen)")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "start_fulfillment", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn start(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
) -> Result<web::Json<FulfillmentStarted>, ApiError> {
    let id: OrderId = path_id(&path, "order")?;
    let (order, allocation) = state.service.start_fulfillment(&ctx, id).await?;
    Ok(web::Json(FulfillmentStarted::new(
        order_answer_for(&state, &ctx, &order),
        allocation,
    )))
}

/// Warehouse: PROCESSING → SHIPPED, with the carrier's tracking number or, without one, a label
/// from the shipping service.
#[utoipa::path(
    operation_id = "shipOrder",
    tag = "fulfillment",
    params(("id" = uuid::Uuid, Path, description = "The order")),
    request_body(content = Option<ShipBody>, description = "Optional"),
    responses(
        (status = 200, description = "Shipped", body = OrderResponse),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found"),
        (status = 409, description = "invalid_transition"),
        (status = 422, description = "validation_failed"),
        (status = 503, description = "upstream_unavailable"),
    ),
    security(("bearer" = [])),
)]
#[post("/orders/{id}/fulfillment/ship", wrap = "Command::user(FailOpen)")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "ship", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn ship(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
    JsonOrEmpty(body): JsonOrEmpty<ShipBody>,
) -> Result<web::Json<OrderResponse>, ApiError> {
    let id: OrderId = path_id(&path, "order")?;
    let order = state.service.ship(&ctx, id, body.manual()?).await?;
    Ok(web::Json(order_answer_for(&state, &ctx, &order)))
}

/// Warehouse: SHIPPED → DELIVERED.
#[utoipa::path(
    operation_id = "deliverOrder",
    tag = "fulfillment",
    params(("id" = uuid::Uuid, Path, description = "The order")),
    responses(
        (status = 200, description = "Delivered", body = OrderResponse),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found"),
        (status = 409, description = "invalid_transition"),
    ),
    security(("bearer" = [])),
)]
#[post("/orders/{id}/fulfillment/deliver", wrap = "Command::user(FailOpen)")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "deliver", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn deliver(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
) -> Result<web::Json<OrderResponse>, ApiError> {
    let id: OrderId = path_id(&path, "order")?;
    let order = state.service.deliver(&ctx, id).await?;
    Ok(web::Json(order_answer_for(&state, &ctx, &order)))
}

/// Warehouse: a processing error — PROCESSING → CANCELLED, refunded in full, the stock let go.
#[utoipa::path(
    operation_id = "failFulfillment",
    tag = "fulfillment",
    params(("id" = uuid::Uuid, Path, description = "The order")),
    request_body = RejectBody,
    responses(
        (status = 200, description = "Cancelled and refunded", body = CancellationResponse),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found"),
        (status = 409, description = "invalid_transition"),
        (status = 422, description = "validation_failed"),
    ),
    security(("bearer" = [])),
)]
#[post("/orders/{id}/fulfillment/fail", wrap = "Command::user(FailOpen)")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "fail_fulfillment", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn fail(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
    Json(body): Json<RejectBody>,
) -> Result<web::Json<CancellationResponse>, ApiError> {
    let id: OrderId = path_id(&path, "order")?;
    let outcome = state
        .service
        .fail_fulfillment(&ctx, id, body.reason.trim())
        .await?;
    Ok(web::Json(CancellationResponse::new(
        &outcome.order,
        outcome.refund_id,
    )))
}

/// Owners: return a SHIPPED or DELIVERED goods order within the return window — the lines
/// `itemIds`, or the whole order.
#[utoipa::path(
    operation_id = "requestReturn",
    tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "The order")),
    request_body(content = Option<ReturnBody>, description = "Optional"),
    responses(
        (status = 200, description = "RETURNED, awaiting the goods", body = OrderResponse),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found"),
        (status = 409, description = "invalid_transition"),
        (status = 422, description = "return_window_closed (30 days after delivery), validation_failed"),
    ),
    security(("bearer" = [])),
)]
#[post("/orders/{id}/returns", wrap = "Command::user(FailOpen)")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "request_return", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn request_return(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
    JsonOrEmpty(body): JsonOrEmpty<ReturnBody>,
) -> Result<web::Json<OrderResponse>, ApiError> {
    let id: OrderId = path_id(&path, "order")?;
    let why = reason(body.reason.as_deref(), "returned by the customer");
    let items = body.item_ids.unwrap_or_default();
    let order = state.service.request_return(&ctx, id, &why, &items).await?;
    Ok(web::Json(order_answer(&state, &order)))
}

/// Warehouse: the returned goods arrived — RETURNED → REFUNDED; everything but shipping is paid
/// back.
#[utoipa::path(
    operation_id = "receiveReturn",
    tag = "fulfillment",
    params(("id" = uuid::Uuid, Path, description = "The order")),
    responses(
        (status = 200, description = "Refunded", body = RefundDecisionResponse),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found"),
        (status = 409, description = "invalid_transition"),
        (status = 422, description = "wrong_order_kind"),
    ),
    security(("bearer" = [])),
)]
#[post("/orders/{id}/returns/receive", wrap = "Command::user(FailOpen)")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "complete_return_refund", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn receive_return(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
) -> Result<web::Json<RefundDecisionResponse>, ApiError> {
    let id: OrderId = path_id(&path, "order")?;
    let order = state.service.complete_return_refund(&ctx, id).await?;
    let refund = order
        .refunds()
        .last()
        .ok_or_else(|| ApiError::Internal("the return refund is missing".into()))?;
    Ok(web::Json(RefundDecisionResponse::new(&order, refund)))
}
