//! The money trail: an order's ledger, its invoices and credit notes, and reconciliation runs
//! against the payment service.

use actix_web::http::header::{ACCEPT, CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use order_domain::ids::{OrderId, ReconciliationRunId};

use super::AppState;
use crate::caller::User;
use crate::dto::{
    DocumentListResponse, DocumentResponse, DocumentSummary, LedgerResponse, ReconciliationBody,
    ReconciliationRunResponse, ReconciliationRunsQuery, ReconciliationRunsResponse, RunSummaryBody,
};
use crate::error::ApiError;
use crate::extract::{Json, Query, path_id};
use crate::guards::{Command, WhenStoreDown::FailOpen};
use crate::spans;

/// The order's ledger: every movement of money (capture, refunds paid, fees retained), oldest
/// first, and the balance `{captured, refunded, net, outstanding}`. Owner and admins.
#[utoipa::path(
    operation_id = "getOrderLedger",
    tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "The order")),
    responses(
        (status = 200, description = "The ledger", body = LedgerResponse),
        (status = 404, description = "not_found"),
    ),
    security(("bearer" = [])),
)]
#[get("/orders/{id}/ledger")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "order_ledger", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
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
    operation_id = "startReconciliationRun",
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
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "reconcile", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
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

/// Admins: the tenant's latest reconciliation runs, newest first, each with how many differences
/// it found and repaired.
#[utoipa::path(
    operation_id = "listReconciliationRuns",
    tag = "admin",
    params(ReconciliationRunsQuery),
    responses(
        (status = 200, description = "The runs", body = ReconciliationRunsResponse),
        (status = 403, description = "forbidden"),
        (status = 422, description = "validation_failed"),
    ),
    security(("bearer" = [])),
)]
#[get("/admin/reconciliation/runs")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "reconciliation_runs", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn reconciliation_runs(
    state: web::Data<AppState>,
    User(ctx): User,
    Query(q): Query<ReconciliationRunsQuery>,
) -> Result<web::Json<ReconciliationRunsResponse>, ApiError> {
    let runs = state
        .service
        .reconciliation_runs(&ctx, q.limit.unwrap_or(20))
        .await?;
    Ok(web::Json(ReconciliationRunsResponse {
        runs: runs.iter().map(RunSummaryBody::from).collect(),
    }))
}

/// Admins: a stored reconciliation run with its differences.
#[utoipa::path(
    operation_id = "getReconciliationRun",
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
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "reconciliation_run", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn reconciliation_run(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
) -> Result<web::Json<ReconciliationRunResponse>, ApiError> {
    let id: ReconciliationRunId = path_id(&path, "reconciliation run")?;
    let run = state.service.reconciliation_run(&ctx, id).await?;
    Ok(web::Json(ReconciliationRunResponse::from(&run)))
}

/// The order's invoices and credit notes (numbers, kinds, dates, totals), invoices first. Owner
/// and admins.
#[utoipa::path(
    operation_id = "listOrderDocuments",
    tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "The order")),
    responses(
        (status = 200, description = "The documents", body = DocumentListResponse),
        (status = 404, description = "not_found"),
    ),
    security(("bearer" = [])),
)]
#[get("/orders/{id}/documents")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "order_documents", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn documents(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
) -> Result<web::Json<DocumentListResponse>, ApiError> {
    let id: OrderId = path_id(&path, "order")?;
    let documents = state.service.order_documents(&ctx, id).await?;
    Ok(web::Json(DocumentListResponse {
        documents: documents.iter().map(DocumentSummary::from).collect(),
    }))
}

/// One invoice or credit note: JSON, or a PDF with `Accept: application/pdf`. Owner and admins.
#[utoipa::path(
    operation_id = "getOrderDocument",
    tag = "orders",
    params(
        ("id" = uuid::Uuid, Path, description = "The order"),
        ("number" = String, Path, description = "The document's number, e.g. INV-2026-000001"),
    ),
    responses(
        (status = 200, description = "The document (a PDF with Accept: application/pdf)", content(
            (DocumentResponse = "application/json"),
            (String = "application/pdf"),
        )),
        (status = 404, description = "not_found"),
    ),
    security(("bearer" = [])),
)]
#[get("/orders/{id}/documents/{number}")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "order_document", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn document(
    state: web::Data<AppState>,
    User(ctx): User,
    request: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (order, number) = path.into_inner();
    let id: OrderId = path_id(&order, "order")?;
    let document = state.service.order_document(&ctx, id, &number).await?;
    let wants_pdf = request
        .headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/pdf"));
    if wants_pdf {
        return Ok(HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, "application/pdf"))
            .insert_header((
                CONTENT_DISPOSITION,
                format!("inline; filename=\"{}.pdf\"", document.number),
            ))
            .body(crate::pdf::render(&document)));
    }
    Ok(HttpResponse::Ok().json(DocumentResponse::from(&document)))
}
