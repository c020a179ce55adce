//! Reconciliation with the payment service: the latest runs with what they found, a run started
//! over chosen days, and one run's differences with a link to each order — through the same use
//! cases as `/admin/reconciliation/runs`, the start audited and rate-limited like every action.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use order_domain::actor::RequestContext;
use order_domain::ids::ReconciliationRunId;
use serde::Deserialize;

use super::render::{
    acting_operator, day_start, failed_action, html, message, problem_text, redirect, refused,
    when, who,
};
use super::session::{csrf_for, operator};
use crate::error::ApiError;
use crate::state::AppState;

/// The list, where a failed start leads back to.
const RUNS: &str = "/console/reconciliation";
/// Runs the list shows.
const LISTED: u32 = 20;

struct RunRow {
    id: String,
    window: String,
    orders_checked: u32,
    orders_unchecked: u32,
    differences: u32,
    repaired: u32,
    started_at: String,
}

#[derive(Template)]
#[template(path = "console/reconciliation.html")]
struct RunsPage {
    operator: Option<String>,
    csrf: String,
    today: String,
    runs: Vec<RunRow>,
}

struct DifferenceRow {
    order_id: String,
    kind: &'static str,
    ours: i64,
    theirs: i64,
    repaired: bool,
}

#[derive(Template)]
#[template(path = "console/reconciliation_run.html")]
struct RunPage {
    operator: Option<String>,
    csrf: String,
    window: String,
    orders_checked: u32,
    orders_unchecked: u32,
    started_at: String,
    finished_at: String,
    differences: Vec<DifferenceRow>,
}

fn window(from: time::OffsetDateTime, to: time::OffsetDateTime) -> String {
    format!("{} – {}", when(from), when(to))
}

/// Admins: the latest runs and the form that starts one.
#[get("/reconciliation")]
pub(super) async fn list_runs(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    let ctx = match operator(&state, &request) {
        Ok(ctx) => ctx,
        Err(refusal) => return refused(&request, refusal),
    };
    match state.service.reconciliation_runs(&ctx, LISTED).await {
        Ok(runs) => {
            let (csrf, new_csrf) = csrf_for(&request);
            let page = RunsPage {
                operator: Some(who(&ctx.actor)),
                csrf,
                today: time::OffsetDateTime::now_utc().date().to_string(),
                runs: runs
                    .iter()
                    .map(|run| RunRow {
                        id: run.id.to_string(),
                        window: window(run.window_from, run.window_to),
                        orders_checked: run.orders_checked,
                        orders_unchecked: run.orders_unchecked,
                        differences: run.differences,
                        repaired: run.repaired,
                        started_at: when(run.started_at),
                    })
                    .collect(),
            };
            html(&request, StatusCode::OK, &page, new_csrf)
        }
        Err(error) => failed_action(
            &request,
            &ctx,
            "Reconciliation",
            "/console",
            ApiError::UseCase(error),
        ),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct StartForm {
    #[serde(default)]
    csrf: String,
    /// The first UTC day of payment changes to compare.
    #[serde(default)]
    from: String,
    /// The last UTC day, included.
    #[serde(default)]
    to: String,
}

/// Admins: compares the orders whose payments changed on the chosen days, then shows the run.
#[post("/reconciliation")]
pub(super) async fn start(
    state: web::Data<AppState>,
    request: HttpRequest,
    form: web::Form<StartForm>,
) -> HttpResponse {
    let ctx = match acting_operator(&state, &request, &form.csrf, RUNS).await {
        Ok(ctx) => ctx,
        Err(answer) => return *answer,
    };
    match reconcile(&state, &ctx, &form).await {
        Ok(run) => redirect(&format!("{RUNS}/{run}")),
        Err(error) => failed_action(&request, &ctx, "Reconciliation", RUNS, error),
    }
}

async fn reconcile(
    state: &AppState,
    ctx: &RequestContext,
    form: &StartForm,
) -> Result<ReconciliationRunId, ApiError> {
    let required = |field: &str, day: Option<time::OffsetDateTime>| {
        day.ok_or_else(|| ApiError::field(field, "required", "a date like 2026-12-07"))
    };
    let from = required("from", day_start("from", &form.from, 0)?)?;
    let to = required("to", day_start("to", &form.to, 1)?)?;
    Ok(state.service.reconcile(ctx, from, to).await?.id)
}

/// Admins: one run and every difference it found.
#[get("/reconciliation/{id}")]
pub(super) async fn show_run(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let ctx = match operator(&state, &request) {
        Ok(ctx) => ctx,
        Err(refusal) => return refused(&request, refusal),
    };
    let run = async {
        let id: ReconciliationRunId = path
            .parse()
            .map_err(|_| ApiError::NotFound("reconciliation run"))?;
        Ok::<_, ApiError>(state.service.reconciliation_run(&ctx, id).await?)
    }
    .await;
    match run {
        Ok(run) => {
            let (csrf, new_csrf) = csrf_for(&request);
            let page = RunPage {
                operator: Some(who(&ctx.actor)),
                csrf,
                window: window(run.window_from, run.window_to),
                orders_checked: run.orders_checked,
                orders_unchecked: run.orders_unchecked,
                started_at: when(run.started_at),
                finished_at: when(run.finished_at),
                differences: run
                    .differences
                    .iter()
                    .map(|d| DifferenceRow {
                        order_id: d.order_id.to_string(),
                        kind: d.kind.as_str(),
                        ours: d.ours,
                        theirs: d.theirs,
                        repaired: d.repaired,
                    })
                    .collect(),
            };
            html(&request, StatusCode::OK, &page, new_csrf)
        }
        Err(error) => {
            let (status, text) = problem_text(error);
            message(&request, Some(&ctx), status, "Reconciliation", &text, RUNS)
        }
    }
}
