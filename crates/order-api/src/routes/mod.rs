//! The HTTP routes. Handlers only translate: authenticate, parse, call one use case, shape the
//! answer. Business rules live in `order-domain`.

mod admin;
mod audit;
mod carts;
mod customers;
mod edits;
mod fulfillment;
mod health;
mod internal;
mod metrics;
mod money;
mod orders;
pub(crate) use orders::order_page;
mod replays;
mod webhooks;

use actix_web::{HttpRequest, HttpResponse};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;
pub use crate::state::AppState;

/// Every route of the API. Registered through utoipa-actix-web, so each route is in the
/// OpenAPI document with its `#[utoipa::path]` contract: a route cannot be served undocumented.
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(
        scope("/api/v1")
            .service(carts::show)
            .service(carts::clear)
            .service(carts::add)
            .service(carts::change)
            .service(carts::remove)
            .service(carts::merge)
            .service(orders::create)
            .service(orders::list)
            .service(orders::get)
            .service(orders::reserve)
            .service(orders::cancel)
            .service(orders::cancel_item)
            .service(edits::edit)
            .service(edits::list)
            .service(orders::refund)
            .service(orders::confirm_payment)
            .service(fulfillment::queue)
            .service(fulfillment::start)
            .service(fulfillment::ship)
            .service(fulfillment::deliver)
            .service(fulfillment::fail)
            .service(fulfillment::request_return)
            .service(fulfillment::receive_return)
            .service(orders::history)
            .service(money::ledger)
            .service(money::documents)
            .service(money::document)
            .service(money::start_reconciliation)
            .service(money::reconciliation_runs)
            .service(money::reconciliation_run)
            .service(orders::search)
            .service(admin::analytics)
            .service(admin::list_refunds)
            .service(admin::approve)
            .service(admin::reject)
            .service(admin::retry)
            .service(admin::list_promo_codes)
            .service(admin::create_promo_code)
            .service(admin::retire_promo_code)
            .service(audit::verify)
            .service(audit::anchors)
            .service(customers::export_mine)
            .service(customers::export_customer)
            .service(customers::erase)
            .service(replays::start)
            .service(replays::progress)
            .service(webhooks::create)
            .service(webhooks::list)
            .service(webhooks::get)
            .service(webhooks::update)
            .service(webhooks::remove)
            .service(webhooks::rotate_secret)
            .service(webhooks::deliveries)
            .service(webhooks::replay),
    )
    .service(
        scope("/internal/v1")
            .service(internal::expiring)
            .service(internal::bulk_cancel)
            .service(internal::confirm)
            .service(internal::expire)
            .service(internal::job_report),
    )
    .service(health::liveness)
    .service(health::readiness)
    .service(health::detailed)
    .service(metrics::metrics)
    .service(health::openapi)
    .service(health::docs);
}

/// What `order-api worker` serves beside its jobs: the health checks the orchestrator probes and
/// `/metrics`, no API route.
pub fn configure_operations(cfg: &mut ServiceConfig<'_>) {
    cfg.service(health::liveness)
        .service(health::readiness)
        .service(health::detailed)
        .service(metrics::metrics);
}

/// One order as the API shows it, with the day a goods order should arrive.
fn order_answer(state: &AppState, order: &order_domain::order::Order) -> crate::dto::OrderResponse {
    crate::dto::OrderResponse::new(order, None)
        .with_estimated_delivery(state.service.estimated_delivery(order))
}

/// An order as `ctx`'s caller may see it: in full for admins and services, the warehouse's
/// view for warehouse staff acting on a buyer's order.
fn order_answer_for(
    state: &AppState,
    ctx: &order_domain::actor::RequestContext,
    order: &order_domain::order::Order,
) -> crate::dto::OrderResponse {
    let answer = order_answer(state, order);
    if ctx.actor.can_see_order_of(order.user_id()) {
        answer
    } else {
        answer.for_warehouse()
    }
}

/// Unknown routes answer like everything else: problem+json.
pub async fn not_found(_: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("route"))
}

#[cfg(test)]
mod tests {
    /// Only `service(handler)` on utoipa-actix-web's types documents a route; actix's own
    /// `route`, `resource` and `scope` would serve it undocumented.
    #[test]
    fn routes_register_only_through_utoipa() {
        let sources = [
            include_str!("mod.rs"),
            include_str!("orders.rs"),
            include_str!("carts.rs"),
            include_str!("fulfillment.rs"),
            include_str!("admin.rs"),
            include_str!("internal.rs"),
            include_str!("health.rs"),
            include_str!("../startup.rs"),
        ];
        for source in sources {
            for banned in [
                concat!(".", "route("),
                concat!("web::", "resource("),
                concat!("web::", "scope("),
            ] {
                assert!(
                    !source.contains(banned),
                    "{banned} registers an undocumented route"
                );
            }
        }
    }
}
