//! `/api/v1/cart…`: the shopper's cart — a buyer's (bearer token) or an anonymous session's
//! (`X-Tenant-Id` + `X-Session-Id`).

use actix_web::{HttpResponse, delete, get, patch, post, web};
use order_domain::ids::{CartLineId, SessionId};
use order_domain::use_cases::CartScope;

use super::AppState;
use crate::caller::{Shopper, User};
use crate::dto::{
    AddCartItemBody, CartItemAddedResponse, CartMergedResponse, CartQuery, CartResponse,
    ChangeCartItemBody, MergeCartBody, SessionHeaders,
};
use crate::error::ApiError;
use crate::extract::{Json, Query, path_id};
use crate::guards::{Command, WhenStoreDown::*};
use crate::spans;

fn scope(shopper: &Shopper) -> Result<CartScope, ApiError> {
    Ok(CartScope {
        tenant_id: shopper.tenant_id(),
        owner: shopper.cart_owner().ok_or(ApiError::Unauthorized(
            "carts belong to buyers or anonymous sessions",
        ))?,
    })
}

fn quantity(value: i64) -> u32 {
    // garde bounds it to 0..=1000 already.
    u32::try_from(value).unwrap_or(0)
}

/// The shopper's cart: lines with availability, and the totals preview for the destination and
/// shipping method of the query.
#[utoipa::path(
    operation_id = "getCart",
    tag = "cart",
    params(
        CartQuery,
        SessionHeaders,
    ),
    responses(
        (status = 429, description = "rate_limited: RATE_LIMIT_ANONYMOUS_CART_PER_MINUTE (60) per anonymous session, RATE_LIMIT_CART_PER_ADDRESS_PER_MINUTE (600) per address; with promoCode, RATE_LIMIT_PROMO_CODE_PER_MINUTE (10) per shopper and per address"),
        (status = 200, description = "The cart (empty when there is none)", body = CartResponse),
        (status = 422, description = "validation_failed, promo_code_invalid"),
        (status = 503, description = "upstream_unavailable"),
    ),
    security(("bearer" = []), ()),
)]
#[get(
    "/cart",
    wrap = "actix_web::middleware::from_fn(crate::shopper_limits::limit_cart_use)"
)]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "view_cart", tenant_id = %shopper.tenant_id(),
    user_id = spans::shopper_user_id(&shopper), caller = %spans::shopper(&shopper),
))]
pub(super) async fn show(
    state: web::Data<AppState>,
    shopper: Shopper,
    Query(q): Query<CartQuery>,
) -> Result<web::Json<CartResponse>, ApiError> {
    let view = state
        .service
        .view_cart(&scope(&shopper)?, &q.preview())
        .await?;
    Ok(web::Json(CartResponse::new(&view)))
}

/// Empty the shopper's cart.
#[utoipa::path(
    operation_id = "clearCart",
    tag = "cart",
    params(
        SessionHeaders,
    ),
    responses(
        (status = 429, description = "rate_limited: RATE_LIMIT_ANONYMOUS_CART_PER_MINUTE (60) per anonymous session, RATE_LIMIT_CART_PER_ADDRESS_PER_MINUTE (600) per address"),
        (status = 204, description = "Emptied"),
        (status = 422, description = "validation_failed"),
    ),
    security(("bearer" = []), ()),
)]
#[delete(
    "/cart",
    wrap = "actix_web::middleware::from_fn(crate::shopper_limits::limit_cart_use)"
)]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "clear_cart", tenant_id = %shopper.tenant_id(),
    user_id = spans::shopper_user_id(&shopper), caller = %spans::shopper(&shopper),
))]
pub(super) async fn clear(
    state: web::Data<AppState>,
    shopper: Shopper,
) -> Result<HttpResponse, ApiError> {
    state.service.clear_cart(&scope(&shopper)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Add units of a product (same product + attributes add up) at the product service's price.
#[utoipa::path(
    operation_id = "addCartItem",
    tag = "cart",
    params(
        CartQuery,
        SessionHeaders,
    ),
    request_body = AddCartItemBody,
    responses(
        (status = 429, description = "rate_limited: RATE_LIMIT_ANONYMOUS_CART_PER_MINUTE (60) per anonymous session, RATE_LIMIT_CART_PER_ADDRESS_PER_MINUTE (600) per address"),
        (status = 201, description = "Added", body = CartItemAddedResponse),
        (status = 409, description = "conflict"),
        (status = 422, description = "validation_failed (productId unavailable), cart_invalid (MAX_CART_ITEMS lines, default 50; MAX_QUANTITY_PER_ITEM units, default 10)"),
        (status = 503, description = "upstream_unavailable, guard_unavailable"),
    ),
    security(("bearer" = []), ()),
)]
#[post(
    "/cart/items",
    wrap = "Command::shopper(FailClosed)",
    wrap = "actix_web::middleware::from_fn(crate::shopper_limits::limit_cart_use)"
)]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "add_to_cart", tenant_id = %shopper.tenant_id(),
    user_id = spans::shopper_user_id(&shopper), caller = %spans::shopper(&shopper),
))]
pub(super) async fn add(
    state: web::Data<AppState>,
    shopper: Shopper,
    Query(q): Query<CartQuery>,
    Json(body): Json<AddCartItemBody>,
) -> Result<HttpResponse, ApiError> {
    let added = state
        .service
        .add_to_cart(
            &scope(&shopper)?,
            body.product_id,
            body.selected_attributes,
            quantity(body.quantity),
            &q.preview(),
        )
        .await?;
    if added.started {
        state.metrics.cart_started();
    }
    let answer = CartItemAddedResponse::new(&added.view, added.line)
        .ok_or_else(|| ApiError::Internal("the added line is missing".into()))?;
    Ok(HttpResponse::Created().json(answer))
}

/// Change a line's quantity (0 removes it).
#[utoipa::path(
    operation_id = "changeCartItem",
    tag = "cart",
    params(
        ("id" = uuid::Uuid, Path, description = "The cart line"),
        CartQuery,
        SessionHeaders,
    ),
    request_body = ChangeCartItemBody,
    responses(
        (status = 429, description = "rate_limited: RATE_LIMIT_ANONYMOUS_CART_PER_MINUTE (60) per anonymous session, RATE_LIMIT_CART_PER_ADDRESS_PER_MINUTE (600) per address"),
        (status = 200, description = "Changed", body = CartResponse),
        (status = 404, description = "not_found"),
        (status = 409, description = "conflict"),
        (status = 422, description = "validation_failed, cart_invalid"),
    ),
    security(("bearer" = []), ()),
)]
#[patch(
    "/cart/items/{id}",
    wrap = "actix_web::middleware::from_fn(crate::shopper_limits::limit_cart_use)"
)]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "change_cart_line", tenant_id = %shopper.tenant_id(),
    user_id = spans::shopper_user_id(&shopper), caller = %spans::shopper(&shopper),
))]
pub(super) async fn change(
    state: web::Data<AppState>,
    shopper: Shopper,
    path: web::Path<String>,
    Query(q): Query<CartQuery>,
    Json(body): Json<ChangeCartItemBody>,
) -> Result<web::Json<CartResponse>, ApiError> {
    let line: CartLineId = path_id(&path, "cart item")?;
    let view = state
        .service
        .change_cart_line(
            &scope(&shopper)?,
            line,
            quantity(body.quantity),
            &q.preview(),
        )
        .await?;
    Ok(web::Json(CartResponse::new(&view)))
}

/// Remove a line.
#[utoipa::path(
    operation_id = "removeCartItem",
    tag = "cart",
    params(
        ("id" = uuid::Uuid, Path, description = "The cart line"),
        CartQuery,
        SessionHeaders,
    ),
    responses(
        (status = 429, description = "rate_limited: RATE_LIMIT_ANONYMOUS_CART_PER_MINUTE (60) per anonymous session, RATE_LIMIT_CART_PER_ADDRESS_PER_MINUTE (600) per address"),
        (status = 200, description = "Removed", body = CartResponse),
        (status = 404, description = "not_found"),
        (status = 409, description = "conflict"),
        (status = 422, description = "validation_failed"),
    ),
    security(("bearer" = []), ()),
)]
#[delete(
    "/cart/items/{id}",
    wrap = "actix_web::middleware::from_fn(crate::shopper_limits::limit_cart_use)"
)]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "remove_cart_line", tenant_id = %shopper.tenant_id(),
    user_id = spans::shopper_user_id(&shopper), caller = %spans::shopper(&shopper),
))]
pub(super) async fn remove(
    state: web::Data<AppState>,
    shopper: Shopper,
    path: web::Path<String>,
    Query(q): Query<CartQuery>,
) -> Result<web::Json<CartResponse>, ApiError> {
    let line: CartLineId = path_id(&path, "cart item")?;
    let view = state
        .service
        .remove_cart_line(&scope(&shopper)?, line, &q.preview())
        .await?;
    Ok(web::Json(CartResponse::new(&view)))
}

/// Buyers: move the anonymous session's cart into the buyer's (quantities add, limits hold) and
/// delete it — after login.
#[utoipa::path(
    operation_id = "mergeCart",
    tag = "cart",
    params(CartQuery),
    request_body = MergeCartBody,
    responses(
        (status = 200, description = "Merged (nothing when the session has no cart)", body = CartMergedResponse),
        (status = 403, description = "forbidden"),
        (status = 409, description = "conflict"),
        (status = 422, description = "validation_failed, cart_invalid"),
    ),
    security(("bearer" = [])),
)]
#[post("/cart/merge", wrap = "Command::user(FailOpen)")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "merge_carts", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn merge(
    state: web::Data<AppState>,
    User(ctx): User,
    Query(q): Query<CartQuery>,
    Json(body): Json<MergeCartBody>,
) -> Result<web::Json<CartMergedResponse>, ApiError> {
    let (view, report) = state
        .service
        .merge_carts(&ctx, SessionId::new(body.session_id), &q.preview())
        .await?;
    Ok(web::Json(CartMergedResponse::new(&view, report)))
}
