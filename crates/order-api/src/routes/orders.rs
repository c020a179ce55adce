//! `/api/v1/orders…`: the ticket buyer's routes.
//!
//! Each handler declares its pipeline in its route attribute (caller, rate limit, behaviour
//! when Redis is down; [`Command`]) and its contract in `#[utoipa::path]`: the OpenAPI document
//! is generated from these. Problem answers list their codes; the document adds the ones every
//! authenticated route shares (`openapi::finish`).

use actix_web::{HttpResponse, get, post, web};
use order_domain::ids::{OrderId, OrderItemId};

use super::{AppState, order_answer};
use crate::caller::{Contact, User};
use crate::dto::{
    CancellationResponse, ConfirmBody, CreateGoodsOrderBody, CreateOrderBody, CreateOrderRequest,
    CreatedOrderResponse, GoodsOrderCreated, HistoryEntry, HistoryResponse,
    LineCancellationResponse, ListQuery, OrderPageResponse, OrderResponse, PaymentIntentBody,
    ReasonBody, RefundBody, RefundResponse, ReservationResponse, page, reason,
};
use crate::error::ApiError;
use crate::extract::{Json, JsonOrEmpty, Query, RawJson, path_id};
use crate::guards::{Claim, Command, RateAction, WhenStoreDown::*};
use crate::spans;

/// Create an order. `eventId` + `items`: a ticket order — priced by the ticket service, its
/// tickets held, a payment intent created. `shippingAddress` (+ `billingAddress`,
/// `shippingMethod`, `promoCode`, `notes`, `paymentMethodId`): a goods order from the caller's
/// cart — priced by the product service with promotions, tax and shipping, its stock reserved, a
/// payment intent created, the cart emptied in the same transaction (the shop's answer).
#[utoipa::path(
    operation_id = "createOrder",
    tag = "orders",
    request_body = CreateOrderRequest,
    responses(
        (status = 201, description = "Created and reserved: the order (tickets) or {order, paymentIntent} (goods)",
            body = CreatedOrderResponse,
            headers(("Location" = String, description = "/api/v1/orders/{id}"))),
        (status = 402, description = "payment_declined"),
        (status = 409, description = "sold_out, out_of_stock"),
        (status = 422, description = "validation_failed, limit_exceeded, promo_code_invalid"),
        (status = 429, description = "rate_limited: RATE_LIMIT_ORDERS_PER_MINUTE (default 10) per user"),
        (status = 503, description = "upstream_unavailable, guard_unavailable"),
    ),
    security(("bearer" = [])),
)]
#[post(
    "/orders",
    wrap = "Command::user(FailClosed).limited(RateAction::Orders)"
)]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "create_order", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn create(
    state: web::Data<AppState>,
    User(ctx): User,
    Contact(contact_email): Contact,
    Claim(idempotency): Claim,
    body: RawJson,
) -> Result<HttpResponse, ApiError> {
    if body.has_field("shippingAddress")? {
        let request = body
            .parse::<CreateGoodsOrderBody>()?
            .into_domain(idempotency, contact_email);
        let created = state.service.create_goods_order(&ctx, request).await?;
        let order = &created.order;
        let answer = GoodsOrderCreated {
            order: order_answer(&state, order),
            payment_intent: PaymentIntentBody {
                id: order.payment_intent_id().map(|p| p.as_str().to_owned()),
                status: "requires_confirmation",
                client_secret: created.client_secret.clone(),
            },
        };
        return Ok(created_at(order.id(), created.replayed).json(answer));
    }
    let request = body
        .parse::<CreateOrderBody>()?
        .try_into_domain(idempotency, contact_email)?;
    let created = state.service.create_ticket_order(&ctx, request).await?;
    Ok(created_at(created.order.id(), created.replayed)
        .json(OrderResponse::new(&created.order, created.client_secret)))
}

/// A 201 naming the order, marked when it answers an earlier attempt's order again.
fn created_at(id: OrderId, replayed: bool) -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::Created();
    response.insert_header(("location", format!("/api/v1/orders/{id}")));
    if replayed {
        response.insert_header(("idempotent-replayed", "true"));
    }
    response
}

/// One order.
#[utoipa::path(
    operation_id = "getOrder",
    tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "The order")),
    responses(
        (status = 200, description = "The order", body = OrderResponse),
        (status = 404, description = "not_found"),
    ),
    security(("bearer" = [])),
)]
#[get("/orders/{id}")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "get_order", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn get(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
) -> Result<web::Json<OrderResponse>, ApiError> {
    let id: OrderId = path_id(&path, "order")?;
    let order = state.service.get_order(&ctx, id).await?;
    Ok(web::Json(order_answer(&state, &order)))
}

/// The caller's orders (admins and warehouse staff: the tenant's), with filters and pages.
#[utoipa::path(
    operation_id = "listOrders",
    tag = "orders",
    params(ListQuery),
    responses(
        (status = 200, description = "One page", body = OrderPageResponse),
        (status = 422, description = "validation_failed"),
    ),
    security(("bearer" = [])),
)]
#[get("/orders")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "list_orders", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn list(
    state: web::Data<AppState>,
    User(ctx): User,
    Query(q): Query<ListQuery>,
) -> Result<web::Json<OrderPageResponse>, ApiError> {
    let admin_only = [
        ("query.userId", q.user_id.is_some()),
        ("query.orderNumber", q.order_number.is_some()),
        ("query.email", q.email.is_some()),
    ];
    if let Some((path, _)) = admin_only.iter().find(|(_, given)| *given) {
        return Err(ApiError::field(
            *path,
            "admin_only",
            "use GET /api/v1/admin/orders",
        ));
    }
    let page = order_page(q.limit, q.offset, q.cursor.as_deref())?;
    let result = state.service.list_orders(&ctx, q.filter()?, page).await?;
    Ok(web::Json(OrderPageResponse::new(&result, page)))
}

/// Admins: search the tenant's orders by status, user, event, order number, contact e-mail and
/// dates.
#[utoipa::path(
    operation_id = "searchOrders",
    tag = "admin",
    params(ListQuery),
    responses(
        (status = 200, description = "One page", body = OrderPageResponse),
        (status = 403, description = "forbidden"),
        (status = 422, description = "validation_failed"),
    ),
    security(("bearer" = [])),
)]
#[get("/admin/orders")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "search_orders", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn search(
    state: web::Data<AppState>,
    User(ctx): User,
    Query(q): Query<ListQuery>,
) -> Result<web::Json<OrderPageResponse>, ApiError> {
    let page = order_page(q.limit, q.offset, q.cursor.as_deref())?;
    let result = state.service.search_orders(&ctx, q.filter()?, page).await?;
    Ok(web::Json(OrderPageResponse::new(&result, page)))
}

/// The page of a list: `offset` or a keyset `cursor`, never both.
pub(crate) fn order_page(
    limit: Option<i64>,
    offset: Option<i64>,
    cursor: Option<&str>,
) -> Result<order_domain::ports::OrderPageRequest, ApiError> {
    let paging = page(limit, offset);
    let after = cursor.map(crate::cursor::decode).transpose()?;
    if after.is_some() && paging.offset > 0 {
        return Err(ApiError::field(
            "query.offset",
            "exclusive",
            "give either offset or cursor",
        ));
    }
    Ok(order_domain::ports::OrderPageRequest {
        limit: paging.limit,
        offset: paging.offset,
        after,
    })
}

/// Hold a PENDING order's tickets, or extend a RESERVED order's hold.
#[utoipa::path(
    operation_id = "reserveOrder",
    tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "The order")),
    responses(
        (status = 200, description = "Held", body = ReservationResponse),
        (status = 404, description = "not_found"),
        (status = 409, description = "invalid_transition, order_locked, sold_out, hold_limit_reached (extended RESERVATION_MAX_EXTENSIONS times, or at creation + RESERVATION_MAX_HOLD_MULTIPLE holds)"),
        (status = 429, description = "rate_limited: RATE_LIMIT_RESERVE_PER_MINUTE (default 5) per user"),
    ),
    security(("bearer" = [])),
)]
#[post(
    "/orders/{id}/reserve",
    wrap = "Command::user(FailOpen).limited(RateAction::Reserve)"
)]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "reserve", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn reserve(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
) -> Result<web::Json<ReservationResponse>, ApiError> {
    let id: OrderId = path_id(&path, "order")?;
    let order = state.service.reserve(&ctx, id).await?;
    Ok(web::Json(ReservationResponse::new(&order)))
}

/// Cancel an order; a paid order is refunded under the refund policy.
#[utoipa::path(
    operation_id = "cancelOrder",
    tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "The order")),
    request_body(content = Option<ReasonBody>, description = "Optional"),
    responses(
        (status = 200, description = "Cancelled", body = CancellationResponse),
        (status = 404, description = "not_found"),
        (status = 409, description = "invalid_transition"),
        (status = 422, description = "refund_not_allowed, validation_failed"),
        (status = 429, description = "rate_limited: RATE_LIMIT_CANCEL_PER_MINUTE (default 5) per user"),
    ),
    security(("bearer" = [])),
)]
#[post(
    "/orders/{id}/cancel",
    wrap = "Command::user(FailOpen).limited(RateAction::Cancel)"
)]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "cancel", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn cancel(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
    JsonOrEmpty(body): JsonOrEmpty<ReasonBody>,
) -> Result<web::Json<CancellationResponse>, ApiError> {
    let id: OrderId = path_id(&path, "order")?;
    let why = reason(body.reason.as_deref(), "cancelled by the customer");
    let outcome = state.service.cancel(&ctx, id, &why).await?;
    Ok(web::Json(CancellationResponse::new(
        &outcome.order,
        outcome.refund_id,
    )))
}

/// Cancel one line before shipping (decision 0050): its tickets or stock are released and, when
/// the order is paid, exactly its share is refunded under the refund policy; a line of an unpaid
/// order is refunded once the payment arrives. The last active line cancels the whole order.
#[utoipa::path(
    operation_id = "cancelOrderItem",
    tag = "orders",
    params(
        ("id" = uuid::Uuid, Path, description = "The order"),
        ("itemId" = uuid::Uuid, Path, description = "The line"),
    ),
    request_body(content = Option<ReasonBody>, description = "Optional"),
    responses(
        (status = 200, description = "Cancelled", body = LineCancellationResponse),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found (order or line)"),
        (status = 409, description = "line_not_cancellable, item_already_cancelled"),
        (status = 422, description = "refund_not_allowed, validation_failed"),
        (status = 429, description = "rate_limited: RATE_LIMIT_CANCEL_PER_MINUTE (default 5) per user"),
    ),
    security(("bearer" = [])),
)]
#[post(
    "/orders/{id}/items/{itemId}/cancel",
    wrap = "Command::user(FailOpen).limited(RateAction::Cancel)"
)]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "cancel_line", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn cancel_item(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<(String, String)>,
    JsonOrEmpty(body): JsonOrEmpty<ReasonBody>,
) -> Result<web::Json<LineCancellationResponse>, ApiError> {
    let (order, item) = path.into_inner();
    let id: OrderId = path_id(&order, "order")?;
    let item: OrderItemId = path_id(&item, "item")?;
    let why = reason(body.reason.as_deref(), "cancelled by the customer");
    let outcome = state.service.cancel_line(&ctx, id, item, &why).await?;
    Ok(web::Json(LineCancellationResponse::new(
        &outcome.order,
        order_answer(&state, &outcome.order),
        outcome.refund_id,
    )))
}

/// Request a full, amount or per-line refund of a confirmed order.
#[utoipa::path(
    operation_id = "requestRefund",
    tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "The order")),
    request_body(content = Option<RefundBody>, description = "Optional: everything still refundable"),
    responses(
        (status = 200, description = "Requested (completed at once below REFUND_AUTO_APPROVE_THRESHOLD_CENTS). With an `Idempotency-Key` the key is stored with the refund: a repeated request answers the same refund (header `Idempotent-Replayed: true`) and never pays twice", body = RefundResponse),
        (status = 404, description = "not_found"),
        (status = 409, description = "invalid_transition"),
        (status = 422, description = "refund_not_allowed, refund_exceeds_maximum, nothing_to_refund, item_already_refunded, validation_failed"),
        (status = 429, description = "rate_limited: RATE_LIMIT_REFUND_PER_MINUTE (default 3) per user"),
        (status = 503, description = "guard_unavailable"),
    ),
    security(("bearer" = [])),
)]
#[post(
    "/orders/{id}/refund",
    wrap = "Command::user(FailClosed).limited(RateAction::Refund)"
)]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "request_refund", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn refund(
    state: web::Data<AppState>,
    User(ctx): User,
    Claim(idempotency): Claim,
    path: web::Path<String>,
    JsonOrEmpty(body): JsonOrEmpty<RefundBody>,
) -> Result<HttpResponse, ApiError> {
    let id: OrderId = path_id(&path, "order")?;
    let scope = body.scope()?;
    let why = reason(body.reason.as_deref(), "requested by the customer");
    let requested = state
        .service
        .request_refund_with_key(&ctx, id, scope, &why, idempotency.as_ref())
        .await?;
    let order = &requested.order;
    let refund = order
        .refund(requested.refund_id)
        .ok_or_else(|| ApiError::Internal("refund missing after request".into()))?;
    let mut response = HttpResponse::Ok();
    if requested.replayed {
        response.insert_header(("idempotent-replayed", "true"));
    }
    Ok(response.json(RefundResponse::new(order, refund)))
}

/// Owners: confirm the order's payment intent with the payment service (the shop). Success →
/// CONFIRMED (tickets issued or stock committed); a declined card → 402 `payment_declined` and the
/// order is cancelled with its holds released. Confirming a CONFIRMED order again answers it.
#[utoipa::path(
    operation_id = "confirmPayment",
    tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "The order")),
    request_body = ConfirmBody,
    responses(
        (status = 200, description = "Confirmed", body = OrderResponse),
        (status = 402, description = "payment_declined"),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found"),
        (status = 409, description = "invalid_transition, payment_intent_mismatch"),
        (status = 422, description = "validation_failed"),
        (status = 503, description = "upstream_unavailable"),
    ),
    security(("bearer" = [])),
)]
#[post("/orders/{id}/confirm-payment", wrap = "Command::user(FailOpen)")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "confirm_payment", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn confirm_payment(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
    Json(body): Json<ConfirmBody>,
) -> Result<web::Json<OrderResponse>, ApiError> {
    let id: OrderId = path_id(&path, "order")?;
    let order = state
        .service
        .confirm_payment(
            &ctx,
            id,
            order_domain::ids::PaymentIntentId::new(body.payment_intent_id),
        )
        .await?;
    Ok(web::Json(order_answer(&state, &order)))
}

/// The order's audit trail, oldest first (the ticketing API's event types: `ORDER_CREATED`, …).
#[utoipa::path(
    operation_id = "getOrderHistory",
    tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "The order")),
    responses(
        (status = 200, description = "The history", body = HistoryResponse),
        (status = 404, description = "not_found"),
    ),
    security(("bearer" = [])),
)]
#[get("/orders/{id}/events")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "order_history", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn history(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
) -> Result<web::Json<HistoryResponse>, ApiError> {
    let id: OrderId = path_id(&path, "order")?;
    let entries = state.service.order_history(&ctx, id).await?;
    Ok(web::Json(HistoryResponse {
        events: entries
            .into_iter()
            .map(|entry| HistoryEntry::seen_by(entry, &ctx.actor))
            .collect(),
    }))
}
