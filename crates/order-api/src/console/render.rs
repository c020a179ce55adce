//! What every console page shares: rendering a template into an answer, redirects, the message
//! page for refusals and failures, the checks every action's form passes, and how amounts,
//! times and operators are written.

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, LOCATION};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use order_domain::actor::{Actor, RequestContext};
use order_domain::money::Money;

use super::session::{Refusal, count_action, csrf_for, csrf_holds, operator};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "console/message.html")]
struct MessagePage {
    operator: Option<String>,
    csrf: String,
    heading: String,
    message: String,
    back: String,
}

/// An HTML answer with `status`, setting the CSRF cookie when it was new.
pub(super) fn html(
    request: &HttpRequest,
    status: StatusCode,
    page: &impl Template,
    new_csrf: Option<Cookie<'static>>,
) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    if let Some(set) = new_csrf {
        response.cookie(set);
    }
    match page.render() {
        Ok(body) => response
            .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
            .body(body),
        Err(error) => {
            tracing::error!(%error, path = request.path(), "a console page did not render");
            HttpResponse::InternalServerError()
                .insert_header((CONTENT_TYPE, "text/plain; charset=utf-8"))
                .body("This page could not be shown; the error is logged.")
        }
    }
}

pub(super) fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, to.to_owned()))
        .finish()
}

pub(super) fn who(actor: &Actor) -> String {
    match actor {
        Actor::User { id, roles, .. } => {
            let roles: Vec<String> = roles
                .iter()
                .map(|r| format!("{r:?}").to_lowercase())
                .collect();
            format!("{id} ({})", roles.join(", "))
        }
        Actor::Service { name } | Actor::System { name } => name.clone(),
    }
}

/// The answer for a request the session does not allow.
pub(super) fn refused(request: &HttpRequest, refusal: Refusal) -> HttpResponse {
    match refusal {
        Refusal::SignedOut => redirect("/console/sign-in"),
        Refusal::NotAnOperator => message(
            request,
            None,
            StatusCode::FORBIDDEN,
            "Not for this account",
            "The console is for admins and warehouse staff.",
            "/console/sign-in",
        ),
    }
}

pub(super) fn message(
    request: &HttpRequest,
    ctx: Option<&RequestContext>,
    status: StatusCode,
    heading: &str,
    text: &str,
    back: &str,
) -> HttpResponse {
    let (csrf, new_csrf) = csrf_for(request);
    let page = MessagePage {
        operator: ctx.map(|c| who(&c.actor)),
        csrf,
        heading: heading.to_owned(),
        message: text.to_owned(),
        back: back.to_owned(),
    };
    html(request, status, &page, new_csrf)
}

/// The problem's message a page shows for a refused or failed use case (never a trace).
pub(super) fn problem_text(error: ApiError) -> (StatusCode, String) {
    let (status, _) = error.status_and_code();
    let text = match (status.as_u16(), &error) {
        (403, _) => "Your role does not allow this.".to_owned(),
        (404, _) => "Not found in your shop.".to_owned(),
        (422, ApiError::Validation(violations)) => {
            let fields: Vec<String> = violations
                .0
                .iter()
                .map(|field| {
                    let name = field.path.rsplit('.').next().unwrap_or(&field.path);
                    format!("{name}: {}", field.message)
                })
                .collect();
            format!("Please check the form: {}.", fields.join("; "))
        }
        (422, _) => format!("Please check the form: {error}"),
        (503, _) => "A service this page needs is unavailable; try again shortly.".to_owned(),
        _ => "Something went wrong; the error is logged.".to_owned(),
    };
    (status, text)
}

pub(super) fn money(amount: Money) -> String {
    amount.to_string()
}

pub(super) fn when(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The operator behind an action's form, once the session, the form's CSRF token and the
/// operator's action budget all hold; otherwise the page that says why (leading to `back`).
pub(super) async fn acting_operator(
    state: &AppState,
    request: &HttpRequest,
    csrf: &str,
    back: &str,
) -> Result<RequestContext, Box<HttpResponse>> {
    let ctx = operator(state, request).map_err(|refusal| Box::new(refused(request, refusal)))?;
    if !csrf_holds(request, csrf) {
        return Err(Box::new(message(
            request,
            Some(&ctx),
            StatusCode::FORBIDDEN,
            "Form expired",
            "This form was not sent from this console; reload the page and try again.",
            back,
        )));
    }
    if let Err(error) = count_action(state, &ctx).await {
        return Err(Box::new(failed_action(
            request,
            &ctx,
            "Slow down",
            back,
            error,
        )));
    }
    Ok(ctx)
}

/// The page of an action the use case refused or that failed: its problem's message and status.
pub(super) fn failed_action(
    request: &HttpRequest,
    ctx: &RequestContext,
    heading: &str,
    back: &str,
    error: ApiError,
) -> HttpResponse {
    let (status, text) = problem_text(error);
    message(request, Some(ctx), status, heading, &text, back)
}

/// Midnight (UTC) `days_after` days after the date in `text`: a date field's first instant, or
/// with 1 the instant after its last (so the day `to` names is included).
pub(super) fn day_start(
    field: &str,
    text: &str,
    days_after: i64,
) -> Result<Option<time::OffsetDateTime>, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, format)
        .ok()
        .and_then(|day| day.checked_add(time::Duration::days(days_after)))
        .map(|day| Some(day.midnight().assume_utc()))
        .ok_or_else(|| ApiError::field(field, "invalid", "a date like 2026-12-07"))
}
