//! What a use-case span says about its request. Each route's handler runs in one span named
//! after the use case it calls (`otel.name`), with the tenant, the caller and — once the path is
//! read ([`crate::extract::path_id`]) — the order as fields, so that a trace, and every log line
//! written inside it, names whose request it was.

use order_domain::actor::{Actor, RequestContext};
use order_domain::ids::UserId;
use tracing::field::{DisplayValue, Empty, display};

use crate::caller::Shopper;

/// A field the handler fills in later: the order id, once the path is parsed.
pub const LATER: Empty = Empty;

/// The caller as a span field: `user:<id>`, `service:<name>` or `job:<name>`.
pub fn caller(ctx: &RequestContext) -> String {
    match &ctx.actor {
        Actor::User { id, .. } => format!("user:{id}"),
        Actor::Service { name } => format!("service:{name}"),
        Actor::System { name } => format!("job:{name}"),
    }
}

/// The user behind the request, when a person made it (the logs' `userId`).
pub fn user_id(ctx: &RequestContext) -> Option<DisplayValue<UserId>> {
    ctx.actor.user_id().map(display)
}

/// The shopper as a span field: the buyer's `user:<id>`, or `anonymous` (a session id is a
/// credential and never recorded).
pub fn shopper(shopper: &Shopper) -> String {
    match shopper {
        Shopper::User(ctx) => caller(ctx),
        Shopper::Anonymous(_) => "anonymous".to_owned(),
    }
}

/// The buyer behind a cart request, when there is one.
pub fn shopper_user_id(shopper: &Shopper) -> Option<DisplayValue<UserId>> {
    match shopper {
        Shopper::User(ctx) => user_id(ctx),
        Shopper::Anonymous(_) => None,
    }
}
