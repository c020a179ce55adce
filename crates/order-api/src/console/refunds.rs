//! The refund review queue: the tenant's refunds by status, approved, rejected with a reason or
//! paid out again through the same use cases as `POST /admin/refunds/{id}/…` — audited with the
//! operator's id, rate-limited per operator.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use order_domain::actor::RequestContext;
use order_domain::ids::RefundId;
use order_domain::money::Money;
use order_domain::order::RefundStatus;
use serde::Deserialize;

use super::render::{
    acting_operator, failed_action, html, message, money, problem_text, redirect, refused, when,
    who,
};
use super::session::{csrf_for, operator};
use crate::dto::{MAX_REASON, page};
use crate::error::ApiError;
use crate::state::AppState;

/// The queue, where every decision's problem page leads back to.
const QUEUE: &str = "/console/refunds";

struct RefundRow {
    id: String,
    order_id: String,
    amount: String,
    reason: String,
    requested_at: String,
    pending: bool,
    failed: bool,
}

#[derive(Template)]
#[template(path = "console/refunds.html")]
struct RefundsPage {
    operator: Option<String>,
    csrf: String,
    statuses: Vec<&'static str>,
    status: &'static str,
    rows: Vec<RefundRow>,
}

#[derive(Debug, Deserialize)]
pub(super) struct StatusQuery {
    #[serde(default)]
    status: String,
}

/// The queue: PENDING unless another status is asked for.
#[get("/refunds")]
pub(super) async fn queue(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<StatusQuery>,
) -> HttpResponse {
    let ctx = match operator(&state, &request) {
        Ok(ctx) => ctx,
        Err(refusal) => return refused(&request, refusal),
    };
    let status = query
        .status
        .parse::<RefundStatus>()
        .unwrap_or(RefundStatus::Pending);
    match state
        .service
        .list_refunds(&ctx, status, page(Some(50), None))
        .await
    {
        Ok(refunds) => {
            let (csrf, new_csrf) = csrf_for(&request);
            let page = RefundsPage {
                operator: Some(who(&ctx.actor)),
                csrf,
                statuses: RefundStatus::ALL.iter().map(|s| s.as_str()).collect(),
                status: status.as_str(),
                rows: refunds
                    .into_iter()
                    .map(|view| RefundRow {
                        id: view.refund.id.to_string(),
                        order_id: view.order_id.to_string(),
                        amount: money(Money::new(view.refund.amount, view.currency)),
                        reason: view.refund.reason.clone(),
                        requested_at: when(view.refund.requested_at),
                        pending: view.refund.status == RefundStatus::Pending,
                        failed: view.refund.status == RefundStatus::Failed,
                    })
                    .collect(),
            };
            html(&request, StatusCode::OK, &page, new_csrf)
        }
        Err(error) => {
            let (status, text) = problem_text(ApiError::UseCase(error));
            message(&request, Some(&ctx), status, "Refunds", &text, "/console")
        }
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// What an operator decides.
#[derive(Debug, Clone, Copy)]
enum Decision {
    Approve,
    Reject,
    Retry,
}

#[post("/refunds/{id}/approve")]
pub(super) async fn approve(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    form: web::Form<DecisionForm>,
) -> HttpResponse {
    decide(&state, &request, &path, &form, Decision::Approve).await
}

#[post("/refunds/{id}/reject")]
pub(super) async fn reject(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    form: web::Form<DecisionForm>,
) -> HttpResponse {
    decide(&state, &request, &path, &form, Decision::Reject).await
}

#[post("/refunds/{id}/retry")]
pub(super) async fn retry(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    form: web::Form<DecisionForm>,
) -> HttpResponse {
    decide(&state, &request, &path, &form, Decision::Retry).await
}

/// Checks the form and the operator, takes the decision through the use case, and shows the
/// order (its timeline has the decision) or the problem.
async fn decide(
    state: &AppState,
    request: &HttpRequest,
    path: &str,
    form: &DecisionForm,
    decision: Decision,
) -> HttpResponse {
    let ctx = match acting_operator(state, request, &form.csrf, QUEUE).await {
        Ok(ctx) => ctx,
        Err(answer) => return *answer,
    };
    match act(state, &ctx, path, form, decision).await {
        Ok(order) => redirect(&format!("/console/orders/{order}")),
        Err(error) => failed_action(request, &ctx, "Refund", QUEUE, error),
    }
}

async fn act(
    state: &AppState,
    ctx: &RequestContext,
    path: &str,
    form: &DecisionForm,
    decision: Decision,
) -> Result<String, ApiError> {
    let id: RefundId = path.parse().map_err(|_| ApiError::NotFound("refund"))?;
    let order = match decision {
        Decision::Approve => state.service.approve_refund(ctx, id).await?,
        Decision::Retry => state.service.retry_refund(ctx, id).await?,
        Decision::Reject => {
            let reason = form.reason.trim();
            if reason.is_empty() || reason.chars().count() > MAX_REASON {
                return Err(ApiError::field(
                    "reason",
                    "length",
                    "a reason of 1 to 500 characters",
                ));
            }
            state.service.reject_refund(ctx, id, reason).await?
        }
    };
    Ok(order.id().to_string())
}
