//! The money trail of an order: its ledger.

use actix_web::{get, web};
use order_domain::ids::OrderId;

use super::AppState;
use crate::caller::User;
use crate::dto::LedgerResponse;
use crate::error::ApiError;
use crate::extract::path_id;

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
