//! The console's sign-in session and its CSRF token.
//!
//! The session cookie holds the JWT the operator signed in with, verified on every request by
//! the API's own [`Authenticator`](crate::auth::Authenticator): one authority for both. It is
//! HttpOnly, SameSite=Strict, limited to `/console`, Secure except on loopback, and expires with
//! the token. Forms carry a CSRF token that must equal the value of a second cookie
//! (double submit): a page of another site can neither read the cookie nor post with it.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use order_domain::actor::{Actor, RequestContext, Role};

use crate::auth::constant_time_eq;
use crate::state::AppState;

/// The session cookie: the operator's JWT.
pub const SESSION_COOKIE: &str = "order_console_session";
/// The CSRF cookie whose value every form repeats.
pub const CSRF_COOKIE: &str = "order_console_csrf";
/// Where the cookies apply.
const PATH: &str = "/console";

/// Why a console request was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No session, or its token no longer verifies: sign in.
    SignedOut,
    /// A token of someone the console is not for (buyers).
    NotAnOperator,
}

/// The signed-in operator of `request`.
///
/// # Errors
/// [`Refusal::SignedOut`] without a valid session; [`Refusal::NotAnOperator`] for a token
/// without the admin or warehouse role.
pub fn operator(state: &AppState, request: &HttpRequest) -> Result<RequestContext, Refusal> {
    let token = request
        .cookie(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .ok_or(Refusal::SignedOut)?;
    let (ctx, _) = state
        .auth
        .verify_token(&token, request)
        .map_err(|_| Refusal::SignedOut)?;
    if is_operator(&ctx.actor) {
        Ok(ctx)
    } else {
        Err(Refusal::NotAnOperator)
    }
}

/// Admins and warehouse staff.
pub fn is_operator(actor: &Actor) -> bool {
    matches!(actor, Actor::User { roles, .. }
        if roles.iter().any(|r| matches!(r, Role::Admin | Role::Warehouse)))
}

/// The CSRF value of `request`'s cookie, when it has one.
pub fn csrf_of(request: &HttpRequest) -> Option<String> {
    request.cookie(CSRF_COOKIE).map(|c| c.value().to_owned())
}

/// Whether the form's `given` token is the one the cookie holds.
pub fn csrf_holds(request: &HttpRequest, given: &str) -> bool {
    csrf_of(request).is_some_and(|expected| {
        !given.is_empty() && constant_time_eq(expected.as_bytes(), given.as_bytes())
    })
}

/// A fresh CSRF value: 244 random bits.
pub fn new_csrf() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Secure unless the request came to a loopback host (local runs over plain http).
fn secure(request: &HttpRequest) -> bool {
    let host = request.connection_info().host().to_owned();
    let name = host
        .rsplit_once(':')
        .map_or(host.as_str(), |(name, _)| name);
    !matches!(name, "127.0.0.1" | "localhost" | "[::1]")
}

/// A console cookie with the session's flags, living `max_age`.
pub fn cookie(
    request: &HttpRequest,
    name: &'static str,
    value: String,
    max_age: CookieDuration,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path(PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure(request))
        .max_age(max_age)
        .finish()
}

/// The CSRF value forms of this response carry, and the cookie to set when the request had
/// none yet.
pub fn csrf_for(request: &HttpRequest) -> (String, Option<Cookie<'static>>) {
    match csrf_of(request) {
        Some(value) => (value, None),
        None => {
            let value = new_csrf();
            let set = cookie(
                request,
                CSRF_COOKIE,
                value.clone(),
                CookieDuration::hours(12),
            );
            (value, Some(set))
        }
    }
}

/// Console actions one operator may take per minute.
const ACTIONS_PER_MINUTE: u32 = 60;

/// Counts one action of the operator: 60 a minute at the most.
///
/// # Errors
/// 429 `rate_limited` when the minute's actions are used up.
pub async fn count_action(
    state: &AppState,
    ctx: &RequestContext,
) -> Result<(), crate::error::ApiError> {
    let check = order_domain::ports::RateCheck {
        key: format!(
            "{}:console:{}:{}",
            state.redis_key_prefix,
            ctx.tenant_id,
            crate::spans::caller(ctx)
        ),
        limit: ACTIONS_PER_MINUTE,
        window: time::Duration::MINUTE,
    };
    crate::guards::rate_limit(state, &check).await
}
