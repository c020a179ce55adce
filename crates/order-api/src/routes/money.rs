//! The money trail: an order's ledger, and reconciliation runs against the payment service.

use actix_web::{HttpResponse, get, post, web};
use order_domain::ids::{OrderId, ReconciliationRunId};

use super::AppState;
use crate::caller::User;
use crate::dto::{LedgerResponse, ReconciliationBody, ReconciliationRunResponse};
use crate::error::ApiError;
use crate::extract::{Json, path_id};
use crate::guards::{Command, WhenStoreDown::FailOpen};

/// The order's ledger: every movement of money (capture, refunds paid, fees retained), oldest
/// first, and the balance `{captured, refunded, net, outstanding}`. Owner and admins.
#[utoipa::path(
    tag = "orders",
    operation_id = "order_ledger",
    params(("id" = uuid::Uuid, Path, description = "The order")),
    responses(
        (status = 200, description = "The ledger", body = LedgerResponse),
        (status = 404, description = "not_found"),
    ),
    security(("bearer" = [])),
)]
#[get("/orders/{id}/ledger")]
#[tracing::instrument(name = "use_case", skip_all, fields(otel.name = "order_ledger", use_case = "order_ledger"))]
pub(super) async fn ledger(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
) -> Result<web::Json<LedgerResponse>, ApiError> {
    let id: OrderId = path_id(&path, "order")?;
    let ledger = state.service.order_ledger(&ctx, id).await?;
    Ok(web::Json(LedgerResponse::from(&ledger)))
}

/// Admins: compare the ledger of every order of the tenant changed in `from..to` (at most 31
/// days, 10 000 orders) with the payment service; differences that can be repaired safely (a
/// payout the ledger lacks for a refund awaiting it, a capture for an order closed unpaid) are
/// repaired and say so. The run is stored and answered with its differences.
#[utoipa::path(
    tag = "admin",
    request_body = ReconciliationBody,
    responses(
        (status = 201, description = "The run", body = ReconciliationRunResponse),
        (status = 403, description = "forbidden"),
        (status = 422, description = "validation_failed: an empty, reversed or longer than 31 days window"),
    ),
    security(("bearer" = [])),
)]
#[post("/admin/reconciliation/runs", wrap = "Command::user(FailOpen)")]
#[tracing::instrument(name = "use_case", skip_all, fields(otel.name = "reconcile", use_case = "reconcile"))]
pub(super) async fn start_reconciliation(
    state: web::Data<AppState>,
    User(ctx): User,
    Json(body): Json<ReconciliationBody>,
) -> Result<HttpResponse, ApiError> {
    let run = state.service.reconcile(&ctx, body.from, body.to).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "location",
            format!("/api/v1/admin/reconciliation/runs/{}", run.id),
        ))
        .json(ReconciliationRunResponse::from(&run)))
}

/// Admins: a stored reconciliation run with its differences.
#[utoipa::path(
    tag = "admin",
    params(("id" = uuid::Uuid, Path, description = "The run")),
    responses(
        (status = 200, description = "The run", body = ReconciliationRunResponse),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found"),
    ),
    security(("bearer" = [])),
)]
#[get("/admin/reconciliation/runs/{id}")]
#[tracing::instrument(name = "use_case", skip_all, fields(otel.name = "reconciliation_run", use_case = "reconciliation_run"))]
pub(super) async fn reconciliation_run(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
) -> Result<web::Json<ReconciliationRunResponse>, ApiError> {
    let id: ReconciliationRunId = path_id(&path, "reconciliation run")?;
    let run = state.service.reconciliation_run(&ctx, id).await?;
    Ok(web::Json(ReconciliationRunResponse::from(&run)))
}
