//! The console's pages: sign-in and sign-out, and the order search (the order page is
//! `order_page.rs`). Every page reads through the same use cases as the API, with the signed-in
//! operator's context: the use cases decide what the operator may see, exactly as for the API.

use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use order_domain::actor::RequestContext;
use order_domain::order::OrderStatus;
use serde::Deserialize;

use super::render::{day_start, html, message, money, problem_text, redirect, refused, when, who};
use super::session::{
    CSRF_COOKIE, Refusal, SESSION_COOKIE, cookie, csrf_for, csrf_holds, is_operator, operator,
};
use crate::dto::ListQuery;
use crate::error::ApiError;
use crate::state::AppState;

/// The one stylesheet.
const STYLESHEET: &str = include_str!("../../static/console.css");

#[derive(Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage {
    operator: Option<String>,
    csrf: String,
    problem: Option<String>,
}

/// The search form as typed: empty fields are no filter.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SearchForm {
    #[serde(default)]
    order_number: String,
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    event_id: String,
    #[serde(default)]
    email: String,
    /// The first day (UTC) of orders to show, `YYYY-MM-DD` as a date input sends it.
    #[serde(default)]
    from: String,
    /// The last day (UTC) of orders to show, included.
    #[serde(default)]
    to: String,
    #[serde(default)]
    cursor: String,
}

struct OrderRow {
    id: String,
    number: String,
    status: &'static str,
    kind: &'static str,
    total: String,
    created_at: String,
}

#[derive(Template)]
#[template(path = "console/orders.html")]
struct OrdersPage {
    operator: Option<String>,
    csrf: String,
    form: SearchForm,
    statuses: Vec<&'static str>,
    rows: Vec<OrderRow>,
    total: String,
    next: Option<String>,
    problem: Option<String>,
}

/// Sign-in: a token from the identity provider.
#[get("/sign-in")]
pub(super) async fn sign_in_form(request: HttpRequest) -> HttpResponse {
    let (csrf, new_csrf) = csrf_for(&request);
    let page = SignInPage {
        operator: None,
        csrf,
        problem: None,
    };
    html(&request, StatusCode::OK, &page, new_csrf)
}

#[derive(Debug, Deserialize)]
pub(super) struct SignInForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
}

/// Checks the token as the API does and keeps it in the session cookie until it expires.
#[post("/sign-in")]
pub(super) async fn sign_in(
    state: web::Data<AppState>,
    request: HttpRequest,
    form: web::Form<SignInForm>,
) -> HttpResponse {
    if !csrf_holds(&request, &form.csrf) {
        return message(
            &request,
            None,
            StatusCode::FORBIDDEN,
            "Form expired",
            "This form was not sent from this console; reload the page and sign in again.",
            "/console/sign-in",
        );
    }
    let token = form.token.trim();
    let (ctx, expires_at) = match state.auth.verify_token(token, &request) {
        Ok(verified) => verified,
        Err(_) => {
            let (csrf, new_csrf) = csrf_for(&request);
            let page = SignInPage {
                operator: None,
                csrf,
                problem: Some("This token is not valid or has expired.".into()),
            };
            return html(&request, StatusCode::UNAUTHORIZED, &page, new_csrf);
        }
    };
    if !is_operator(&ctx.actor) {
        return refused(&request, Refusal::NotAnOperator);
    }
    let lifetime = expires_at - time::OffsetDateTime::now_utc().unix_timestamp();
    let mut response = redirect("/console");
    let _ = response.add_cookie(&cookie(
        &request,
        SESSION_COOKIE,
        token.to_owned(),
        CookieDuration::seconds(lifetime.max(0)),
    ));
    response
}

#[derive(Debug, Deserialize)]
pub(super) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Ends the session.
#[post("/sign-out")]
pub(super) async fn sign_out(request: HttpRequest, form: web::Form<CsrfForm>) -> HttpResponse {
    if !csrf_holds(&request, &form.csrf) {
        return message(
            &request,
            None,
            StatusCode::FORBIDDEN,
            "Form expired",
            "This form was not sent from this console; reload the page.",
            "/console",
        );
    }
    let mut response = redirect("/console/sign-in");
    for name in [SESSION_COOKIE, CSRF_COOKIE] {
        let _ = response.add_cookie(&cookie(&request, name, String::new(), CookieDuration::ZERO));
    }
    response
}

pub(super) fn none_if_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Order search: number, buyer, contact e-mail, status, event and days; newest first, keyset
/// pages of 50.
#[get("")]
pub(super) async fn search_orders(
    state: web::Data<AppState>,
    request: HttpRequest,
    form: web::Query<SearchForm>,
) -> HttpResponse {
    let ctx = match operator(&state, &request) {
        Ok(ctx) => ctx,
        Err(refusal) => return refused(&request, refusal),
    };
    let form = form.into_inner();
    let (csrf, new_csrf) = csrf_for(&request);
    let mut page = OrdersPage {
        operator: Some(who(&ctx.actor)),
        csrf,
        statuses: OrderStatus::ALL.iter().map(|s| s.as_str()).collect(),
        rows: Vec::new(),
        total: "0".into(),
        next: None,
        problem: None,
        form,
    };
    match search(&state, &ctx, &page.form).await {
        Ok((rows, total, next)) => {
            page.rows = rows;
            page.total = total;
            page.next = next;
            html(&request, StatusCode::OK, &page, new_csrf)
        }
        Err(error) => {
            let (status, text) = problem_text(error);
            page.problem = Some(text);
            html(&request, status, &page, new_csrf)
        }
    }
}

async fn search(
    state: &AppState,
    ctx: &RequestContext,
    form: &SearchForm,
) -> Result<(Vec<OrderRow>, String, Option<String>), ApiError> {
    let parse_id = |field: &str, text: &str| {
        none_if_empty(text)
            .map(|t| {
                t.parse::<uuid::Uuid>()
                    .map_err(|_| ApiError::field(field, "invalid", "not an id"))
            })
            .transpose()
    };
    let query = ListQuery {
        status: none_if_empty(&form.status),
        event_id: parse_id("eventId", &form.event_id)?.map(order_domain::ids::EventId::from_uuid),
        from: day_start("from", &form.from, 0)?,
        to: day_start("to", &form.to, 1)?,
        limit: Some(50),
        offset: None,
        cursor: none_if_empty(&form.cursor),
        user_id: parse_id("userId", &form.user_id)?.map(order_domain::ids::UserId::from_uuid),
        order_number: none_if_empty(&form.order_number),
        email: none_if_empty(&form.email),
    };
    let paging = crate::routes::order_page(query.limit, query.offset, query.cursor.as_deref())?;
    let found = state
        .service
        .search_orders(ctx, query.filter()?, paging)
        .await?;
    let rows = found
        .orders
        .iter()
        .map(|o| OrderRow {
            id: o.id().to_string(),
            number: o.number().to_string(),
            status: o.status().as_str(),
            kind: o.kind().as_str(),
            total: money(o.total()),
            created_at: when(o.created_at()),
        })
        .collect();
    let total = if found.total_is_estimate {
        format!("More than {}", found.total)
    } else {
        found.total.to_string()
    };
    let next = found
        .has_more
        .then(|| found.orders.last())
        .flatten()
        .map(|last| {
            let cursor = crate::cursor::encode(&order_domain::ports::OrderCursor::after(last));
            let query = serde_urlencoded::to_string([
                ("orderNumber", form.order_number.as_str()),
                ("userId", form.user_id.as_str()),
                ("status", form.status.as_str()),
                ("eventId", form.event_id.as_str()),
                ("email", form.email.as_str()),
                ("from", form.from.as_str()),
                ("to", form.to.as_str()),
                ("cursor", cursor.as_str()),
            ])
            .unwrap_or_default();
            format!("/console?{query}")
        });
    Ok((rows, total, next))
}

/// The stylesheet.
#[get("/console.css")]
pub(super) async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header(("cache-control", "public, max-age=3600"))
        .body(STYLESHEET)
}
