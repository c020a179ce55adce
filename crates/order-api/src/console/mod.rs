//! The operator console at `/console` (docs/console.md): server-rendered pages for admins and
//! warehouse staff, signed in with the same JWTs as the API, reading and acting through the same
//! use cases. No script: every page works with forms and links.

mod analytics;
mod order_page;
mod pages;
mod reconciliation;
mod refunds;
mod render;
pub mod session;
mod warehouse;
mod webhooks;

use actix_web::middleware::DefaultHeaders;
use actix_web::web::{self, ServiceConfig};

/// Content Security Policy of every console page: our own stylesheet, no script, no frames,
/// forms only to ourselves.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Mounts the console under `/console`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        web::scope("/console")
            .wrap(
                DefaultHeaders::new()
                    .add(("content-security-policy", CONTENT_SECURITY_POLICY))
                    .add(("referrer-policy", "no-referrer"))
                    .add(("x-content-type-options", "nosniff"))
                    .add(("x-frame-options", "DENY"))
                    .add(("cache-control", "no-store")),
            )
            .service(pages::stylesheet)
            .service(pages::sign_in_form)
            .service(pages::sign_in)
            .service(pages::sign_out)
            .service(order_page::show_order)
            .service(pages::search_orders)
            .service(refunds::queue)
            .service(refunds::approve)
            .service(refunds::reject)
            .service(refunds::retry)
            .service(warehouse::queue)
            .service(warehouse::start)
            .service(warehouse::ship)
            .service(warehouse::deliver)
            .service(analytics::figures)
            .service(webhooks::subscriptions)
            .service(webhooks::deliveries)
            .service(webhooks::replay)
            .service(reconciliation::list_runs)
            .service(reconciliation::start)
            .service(reconciliation::show_run),
    );
}
