//! Abuse limits of the cart routes, which anonymous shoppers reach without credentials: each
//! session and each client address has a per-minute budget, and promo-code previews have a small
//! one per shopper and per address, so that nobody learns which codes exist by guessing.
//!
//! Counted in Redis with the same atomic counters as the other rate limits; when Redis is down
//! the routes run unlimited (they are reads and cart edits, and the store being down is logged).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};
use order_domain::actor::Actor;
use order_domain::ports::RateCheck;

use crate::caller::Session;
use crate::state::AppState;

/// Counts a cart request against its session's and address's budgets, and a promo-code preview
/// against the shopper's and address's; 429 with `Retry-After` past either.
///
/// # Errors
/// What the rest of the pipeline returns.
pub async fn limit_cart_use(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(state) = request.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(request).await?.map_into_left_body());
    };
    for check in checks(&state, &request) {
        match state
            .rate_limiter
            .hit(&check.key, check.limit, check.window)
            .await
        {
            Ok(decision) if !decision.allowed => {
                let refused = crate::guards::rate_limited(decision).error_response();
                return Ok(request.into_response(refused).map_into_right_body());
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "rate-limit store unavailable; the cart request runs unlimited"
                );
                break;
            }
        }
    }
    Ok(next.call(request).await?.map_into_left_body())
}

/// The budgets `request` counts against.
fn checks(state: &AppState, request: &ServiceRequest) -> Vec<RateCheck> {
    let limits = &state.rate_limits;
    let prefix = &state.redis_key_prefix;
    let minute = time::Duration::minutes(1);
    let address = state
        .auth
        .client_ip(request.request())
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let signed_in = request.headers().contains_key("authorization");
    let session = (!signed_in)
        .then(|| Session::of(request.request()).ok())
        .flatten();
    let mut checks = Vec::new();
    if !signed_in {
        if let Some(session) = &session {
            checks.push(RateCheck {
                key: format!(
                    "{prefix}:rl:{}:session:{}:cart",
                    session.tenant_id, session.session_id
                ),
                limit: limits.anonymous_cart,
                window: minute,
            });
        }
        checks.push(RateCheck {
            key: format!("{prefix}:rl:addr:{address}:cart"),
            limit: limits.cart_per_address,
            window: minute,
        });
    }
    if request.query_string().contains("promoCode=") {
        let shopper = match (&session, state.auth.user(request.request())) {
            (Some(session), _) => Some(format!(
                "{}:session:{}",
                session.tenant_id, session.session_id
            )),
            (None, Ok(ctx)) => match ctx.actor {
                Actor::User { id, .. } => Some(format!("{}:user:{id}", ctx.tenant_id)),
                _ => None,
            },
            (None, Err(_)) => None,
        };
        if let Some(shopper) = shopper {
            checks.push(RateCheck {
                key: format!("{prefix}:rl:{shopper}:promo"),
                limit: limits.promo_code_tries,
                window: minute,
            });
        }
        checks.push(RateCheck {
            key: format!("{prefix}:rl:addr:{address}:promo"),
            limit: limits.promo_code_tries,
            window: minute,
        });
    }
    checks
}
