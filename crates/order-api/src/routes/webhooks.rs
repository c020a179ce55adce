//! `/api/v1/admin/webhooks…`: a tenant's webhook subscriptions, secret rotation, the delivery log
//! and replays (docs/product/routes.md, docs/webhooks.md).

use actix_web::{HttpResponse, delete, get, patch, post, web};
use order_domain::ids::{WebhookDeliveryId, WebhookId};

use super::AppState;
use crate::caller::User;
use crate::dto::{
    CreateWebhookBody, DeliveriesQuery, DeliveryListResponse, DeliveryResponse, UpdateWebhookBody,
    WebhookListResponse, WebhookResponse, WebhookSecretResponse,
};
use crate::error::ApiError;
use crate::extract::{Json, Query, path_id};
use crate::guards::{Command, WhenStoreDown::*};

/// Admins: subscribe a receiver. The answer carries the signing secret, shown this once.
#[utoipa::path(
    operation_id = "createWebhookSubscription",
    tag = "webhooks",
    request_body = CreateWebhookBody,
    responses(
        (status = 201, description = "Subscribed", body = WebhookSecretResponse),
        (status = 403, description = "forbidden"),
        (status = 422, description = "validation_failed (url_refused at url, unknown at eventTypes[n])"),
    ),
    security(("bearer" = [])),
)]
#[post("/admin/webhooks", wrap = "Command::user(FailOpen)")]
#[tracing::instrument(name = "use_case", skip_all, fields(otel.name = "webhooks.subscribe", use_case = "webhooks.subscribe"))]
pub(super) async fn create(
    state: web::Data<AppState>,
    User(ctx): User,
    Json(body): Json<CreateWebhookBody>,
) -> Result<HttpResponse, ApiError> {
    let (subscription, secret) = state.webhooks.subscribe(&ctx, body.into_domain()).await?;
    Ok(HttpResponse::Created().json(WebhookSecretResponse::new(&subscription, &secret)))
}

/// Admins: the tenant's subscriptions with their delivery figures.
#[utoipa::path(
    operation_id = "listWebhookSubscriptions",
    tag = "webhooks",
    responses(
        (status = 200, description = "Oldest first", body = WebhookListResponse),
        (status = 403, description = "forbidden"),
    ),
    security(("bearer" = [])),
)]
#[get("/admin/webhooks")]
#[tracing::instrument(name = "use_case", skip_all, fields(otel.name = "webhooks.subscriptions", use_case = "webhooks.subscriptions"))]
pub(super) async fn list(
    state: web::Data<AppState>,
    User(ctx): User,
) -> Result<web::Json<WebhookListResponse>, ApiError> {
    let views = state.webhooks.subscriptions(&ctx).await?;
    Ok(web::Json(WebhookListResponse {
        webhooks: views.iter().map(WebhookResponse::from).collect(),
    }))
}

/// Admins: one subscription: pending deliveries, attempts by outcome, the oldest pending age and
/// the breaker.
#[utoipa::path(
    operation_id = "getWebhookSubscription",
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path, description = "The subscription")),
    responses(
        (status = 200, description = "The subscription", body = WebhookResponse),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found"),
    ),
    security(("bearer" = [])),
)]
#[get("/admin/webhooks/{id}")]
#[tracing::instrument(name = "use_case", skip_all, fields(otel.name = "webhooks.subscription", use_case = "webhooks.subscription"))]
pub(super) async fn get(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
) -> Result<web::Json<WebhookResponse>, ApiError> {
    let id: WebhookId = path_id(&path, "webhook")?;
    let view = state.webhooks.subscription(&ctx, id).await?;
    Ok(web::Json(WebhookResponse::from(&view)))
}

/// Admins: change the URL, the event types, the note, or enable/disable.
#[utoipa::path(
    operation_id = "updateWebhookSubscription",
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path, description = "The subscription")),
    request_body = UpdateWebhookBody,
    responses(
        (status = 200, description = "Changed", body = WebhookResponse),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found"),
        (status = 422, description = "validation_failed"),
    ),
    security(("bearer" = [])),
)]
#[patch("/admin/webhooks/{id}")]
#[tracing::instrument(name = "use_case", skip_all, fields(otel.name = "webhooks.change", use_case = "webhooks.change"))]
pub(super) async fn update(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
    Json(body): Json<UpdateWebhookBody>,
) -> Result<web::Json<WebhookResponse>, ApiError> {
    let id: WebhookId = path_id(&path, "webhook")?;
    let subscription = state.webhooks.change(&ctx, id, body.into_domain()).await?;
    Ok(web::Json(WebhookResponse::new(&subscription, None)))
}

/// Admins: unsubscribe; its delivery log goes too.
#[utoipa::path(
    operation_id = "deleteWebhookSubscription",
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path, description = "The subscription")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found"),
    ),
    security(("bearer" = [])),
)]
#[delete("/admin/webhooks/{id}")]
#[tracing::instrument(name = "use_case", skip_all, fields(otel.name = "webhooks.unsubscribe", use_case = "webhooks.unsubscribe"))]
pub(super) async fn remove(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: WebhookId = path_id(&path, "webhook")?;
    state.webhooks.unsubscribe(&ctx, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Admins: a new signing secret, shown this once; the previous one keeps signing for 24 h.
#[utoipa::path(
    operation_id = "rotateWebhookSecret",
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path, description = "The subscription")),
    responses(
        (status = 200, description = "Rotated", body = WebhookSecretResponse),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found"),
    ),
    security(("bearer" = [])),
)]
#[post("/admin/webhooks/{id}/rotate-secret", wrap = "Command::user(FailOpen)")]
#[tracing::instrument(name = "use_case", skip_all, fields(otel.name = "webhooks.rotate_secret", use_case = "webhooks.rotate_secret"))]
pub(super) async fn rotate_secret(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
) -> Result<web::Json<WebhookSecretResponse>, ApiError> {
    let id: WebhookId = path_id(&path, "webhook")?;
    let (subscription, secret) = state.webhooks.rotate_secret(&ctx, id).await?;
    Ok(web::Json(WebhookSecretResponse::new(
        &subscription,
        &secret,
    )))
}

/// Admins: the delivery log, newest first, with every attempt (kept 30 days).
#[utoipa::path(
    operation_id = "listWebhookDeliveries",
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path, description = "The subscription"), DeliveriesQuery),
    responses(
        (status = 200, description = "Newest first", body = DeliveryListResponse),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found"),
        (status = 422, description = "validation_failed"),
    ),
    security(("bearer" = [])),
)]
#[get("/admin/webhooks/{id}/deliveries")]
#[tracing::instrument(name = "use_case", skip_all, fields(otel.name = "webhooks.deliveries", use_case = "webhooks.deliveries"))]
pub(super) async fn deliveries(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
    Query(q): Query<DeliveriesQuery>,
) -> Result<web::Json<DeliveryListResponse>, ApiError> {
    let id: WebhookId = path_id(&path, "webhook")?;
    let status = q.status()?;
    let logs = state
        .webhooks
        .deliveries(&ctx, id, status, q.limit.unwrap_or(50))
        .await?;
    Ok(web::Json(DeliveryListResponse {
        deliveries: logs.iter().map(DeliveryResponse::from).collect(),
    }))
}

/// Admins: send a delivery again — same `webhook-id`, a fresh timestamp — by the next worker pass.
#[utoipa::path(
    operation_id = "replayWebhookDelivery",
    tag = "webhooks",
    params(
        ("id" = uuid::Uuid, Path, description = "The subscription"),
        ("deliveryId" = uuid::Uuid, Path, description = "The delivery"),
    ),
    responses(
        (status = 202, description = "Queued", body = DeliveryResponse),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found"),
    ),
    security(("bearer" = [])),
)]
#[post(
    "/admin/webhooks/{id}/deliveries/{deliveryId}/replay",
    wrap = "Command::user(FailOpen)"
)]
#[tracing::instrument(name = "use_case", skip_all, fields(otel.name = "webhooks.replay", use_case = "webhooks.replay"))]
pub(super) async fn replay(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, delivery) = path.into_inner();
    let id: WebhookId = path_id(&id, "webhook")?;
    let delivery: WebhookDeliveryId = path_id(&delivery, "delivery")?;
    let queued = state.webhooks.replay(&ctx, id, delivery).await?;
    Ok(HttpResponse::Accepted().json(DeliveryResponse::new(&queued, None)))
}
