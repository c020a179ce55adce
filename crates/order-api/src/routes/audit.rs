//! The tamper-evident audit (docs/audit.md): checks of the hash chains and the daily anchors'
//! export.

use actix_web::{get, web};

use super::AppState;
use crate::caller::User;
use crate::dto::{
    AuditAnchorListResponse, AuditAnchorsQuery, AuditVerificationResponse, AuditVerifyQuery,
};
use crate::error::ApiError;
use crate::extract::Query;
use crate::spans;

/// Admins: recompute an order's hash chain (`orderId`), or every chain with an entry in
/// `from..to` and the tenant's daily anchors of those days (at most 31 days), and report the
/// first link that does not hold.
#[utoipa::path(
    operation_id = "verifyAudit",
    tag = "admin",
    params(AuditVerifyQuery),
    responses(
        (status = 200, description = "What was checked, and the first break if any", body = AuditVerificationResponse),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found: no such order in the tenant"),
        (status = 422, description = "validation_failed: neither or both of an order and a range, or a range that is empty, reversed or longer than 31 days"),
    ),
    security(("bearer" = [])),
)]
#[get("/admin/audit/verify")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "verify_audit", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn verify(
    state: web::Data<AppState>,
    User(ctx): User,
    Query(q): Query<AuditVerifyQuery>,
) -> Result<web::Json<AuditVerificationResponse>, ApiError> {
    let scope = q.scope()?;
    let report = state.service.verify_audit(&ctx, scope).await?;
    Ok(web::Json(report.into()))
}

/// Admins: the tenant's daily anchors of the UTC days `from..=to` (at most 31 days), to keep a
/// copy outside the service: a later check against the copy shows anchors rewritten here.
#[utoipa::path(
    operation_id = "listAuditAnchors",
    tag = "admin",
    params(AuditAnchorsQuery),
    responses(
        (status = 200, description = "Oldest first", body = AuditAnchorListResponse),
        (status = 403, description = "forbidden"),
        (status = 422, description = "validation_failed: a day that is not YYYY-MM-DD, or a range reversed or longer than 31 days"),
    ),
    security(("bearer" = [])),
)]
#[get("/admin/audit/anchors")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "audit_anchors", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn anchors(
    state: web::Data<AppState>,
    User(ctx): User,
    Query(q): Query<AuditAnchorsQuery>,
) -> Result<web::Json<AuditAnchorListResponse>, ApiError> {
    let (from, to) = q.days()?;
    let anchors = state.service.audit_anchors(&ctx, from, to).await?;
    Ok(web::Json(anchors.into()))
}
