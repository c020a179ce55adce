//! Event replay (docs/events.md): stored events published again with their original ids, as a
//! durable background job.

use actix_web::{HttpResponse, get, post, web};
use order_domain::ids::ReplayId;

use super::AppState;
use crate::caller::User;
use crate::dto::{ReplayBody, ReplayResponse};
use crate::error::ApiError;
use crate::extract::{Json, path_id};
use crate::guards::{Command, WhenStoreDown::FailOpen};
use crate::spans;

/// Admins: publish the tenant's stored events again — one order's (`orderId`) or those that
/// occurred in `from..to` (at most 31 days), optionally only some `types` — to the broker or to
/// the webhook subscriptions, with their original ids (consumers and receivers dedupe on them).
/// A background job sends them in batches, after the live events, one replay per tenant at a
/// time; its progress is at the `Location`.
#[utoipa::path(
    operation_id = "startEventReplay",
    tag = "admin",
    request_body = ReplayBody,
    responses(
        (status = 202, description = "Accepted; the job runs in the background", body = ReplayResponse),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found: no such order in the tenant"),
        (status = 409, description = "replay_running: another replay of the tenant is running"),
        (status = 422, description = "validation_failed: neither or both of an order and a range, a range that is empty, reversed or longer than 31 days, or an unknown event type"),
    ),
    security(("bearer" = [])),
)]
#[post("/admin/events/replay", wrap = "Command::user(FailOpen)")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "start_event_replay", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn start(
    state: web::Data<AppState>,
    User(ctx): User,
    Json(body): Json<ReplayBody>,
) -> Result<HttpResponse, ApiError> {
    let replay = state
        .service
        .start_replay(&ctx, body.into_request()?)
        .await?;
    Ok(HttpResponse::Accepted()
        .insert_header((
            "location",
            format!("/api/v1/admin/events/replay/{}", replay.id),
        ))
        .json(ReplayResponse::from(&replay)))
}

/// Admins: a replay's progress — events sent, how far in time, done or not.
#[utoipa::path(
    operation_id = "getEventReplay",
    tag = "admin",
    params(("id" = uuid::Uuid, Path, description = "The replay")),
    responses(
        (status = 200, description = "The replay", body = ReplayResponse),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found"),
    ),
    security(("bearer" = [])),
)]
#[get("/admin/events/replay/{id}")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "event_replay", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn progress(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
) -> Result<web::Json<ReplayResponse>, ApiError> {
    let id: ReplayId = path_id(&path, "replay")?;
    let replay = state.service.replay_progress(&ctx, id).await?;
    Ok(web::Json(ReplayResponse::from(&replay)))
}
