//! An in-memory simulator of the upstream services, one module each: events and tickets
//! (`tickets`: prices with quotas, holds that expire, commit and release), payments (`payments`:
//! intents, refunds), and the shop's services (`shop`: products, inventory over `stock`,
//! shipping, notifications); the seed format is `catalog`.
//!
//! One mutex guards the whole state: a hold checks availability and takes the tickets under the
//! same lock, so concurrent holds can never exceed a quota. The contracts are documented in
//! `docs/upstreams.md`, the seed format in `docs/simulator.md`.
//!
//! With [`Simulator::with_events`] it also announces `payment.succeeded`, `payment.failed` and
//! `ticket.allocated` on RabbitMQ, and `PUT /_admin/faults` makes a service fail or slow down.

mod catalog;
mod faults;
mod payments;
mod publisher;
mod shop;
mod stock;
mod tickets;
mod trace_log;

pub use self::catalog::{Catalog, SeedEvent, SeedPrice, SeedProduct, SeedTicketType, SeedVariant};

pub use self::faults::{Fault, FaultStatus, Faults};
use self::payments::{Payment, PaymentStatus};
use self::publisher::{Announcer, Outgoing};
pub use self::publisher::{PAYMENT_EXCHANGE, TICKET_EXCHANGE};
use self::tickets::{Hold, HoldStatus};

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use actix_web::dev::{ServerHandle, Service};
use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

/// The simulator's memory. Counters and expiry queues keep every request O(log n) in the
/// number of holds and intents, so that a benchmark with 10^5 orders measures the order service,
/// not a simulator that rescans everything it ever held.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) catalog: Catalog,
    /// Stock, labels and notifications of the shop's services.
    pub(crate) shop: shop::ShopState,
    holds: HashMap<String, Hold>,
    payments: HashMap<String, Payment>,
    /// Idempotency keys of created intents.
    intent_keys: HashMap<String, String>,
    /// Tickets sold per ticket type.
    sold: HashMap<Uuid, u32>,
    /// Tickets in HELD holds per ticket type.
    held_by_type: HashMap<Uuid, u32>,
    /// The latest hold of each order (holding is idempotent per order).
    hold_of_order: HashMap<Uuid, String>,
    /// Holds and intents by expiry time, soonest first; an entry whose hold was extended or
    /// settled since is skipped when it comes up.
    hold_expiries: BinaryHeap<Reverse<(OffsetDateTime, String)>>,
    payment_expiries: BinaryHeap<Reverse<(OffsetDateTime, String)>>,
}

impl State {
    /// Marks holds past their expiry as expired (their tickets become available again) and
    /// cancels intents left unconfirmed past theirs.
    fn expire_holds(&mut self, now: OffsetDateTime) {
        while let Some(Reverse((at, id))) = self.hold_expiries.peek().cloned() {
            if at > now {
                break;
            }
            self.hold_expiries.pop();
            let due = self
                .holds
                .get(&id)
                .is_some_and(|h| h.status == HoldStatus::Held && h.expires_at <= now);
            if due {
                self.settle_hold(&id, HoldStatus::Expired);
            }
        }
        while let Some(Reverse((at, id))) = self.payment_expiries.peek().cloned() {
            if at > now {
                break;
            }
            self.payment_expiries.pop();
            if let Some(payment) = self
                .payments
                .get_mut(&id)
                .filter(|p| p.status == PaymentStatus::RequiresConfirmation)
            {
                payment.status = PaymentStatus::Canceled;
            }
        }
    }

    fn held(&self, ticket_type: Uuid) -> u32 {
        self.held_by_type.get(&ticket_type).copied().unwrap_or(0)
    }

    fn available(&self, ticket_type: &SeedTicketType) -> u32 {
        ticket_type
            .quota
            .saturating_sub(self.sold.get(&ticket_type.id).copied().unwrap_or(0))
            .saturating_sub(self.held(ticket_type.id))
    }

    fn add_hold(&mut self, hold: Hold) {
        for line in &hold.lines {
            *self.held_by_type.entry(line.ticket_type_id).or_default() += line.quantity;
        }
        self.hold_expiries
            .push(Reverse((hold.expires_at, hold.id.clone())));
        self.hold_of_order.insert(hold.order_id, hold.id.clone());
        self.holds.insert(hold.id.clone(), hold);
    }

    /// Moves a HELD hold to `status`, giving its tickets back to the held count.
    fn settle_hold(&mut self, id: &str, status: HoldStatus) -> Option<&mut Hold> {
        let hold = self.holds.get_mut(id)?;
        if hold.status == HoldStatus::Held {
            for line in &hold.lines {
                if let Some(held) = self.held_by_type.get_mut(&line.ticket_type_id) {
                    *held = held.saturating_sub(line.quantity);
                }
            }
            hold.status = status;
        }
        Some(hold)
    }

    /// Gives `quantity` tickets of one line of hold `id` back to sale: held ones leave the held
    /// count, sold ones the sold count (and that many tickets are voided). Idempotent per
    /// `line`; `false` when the hold has no such tickets.
    fn release_hold_line(
        &mut self,
        id: &str,
        line: &str,
        ticket_type: Uuid,
        pricing: Uuid,
        quantity: u32,
    ) -> bool {
        let Some(hold) = self.holds.get_mut(id) else {
            return false;
        };
        if hold.released_lines.iter().any(|l| l == line) {
            return true;
        }
        if matches!(hold.status, HoldStatus::Released | HoldStatus::Expired) {
            // Nothing is held any more: the tickets are back on sale already.
            hold.released_lines.push(line.to_owned());
            return true;
        }
        let Some(position) = hold.lines.iter().position(|l| {
            l.ticket_type_id == ticket_type
                && l.ticket_pricing_id == pricing
                && l.quantity >= quantity
        }) else {
            return false;
        };
        hold.lines[position].quantity -= quantity;
        if hold.lines[position].quantity == 0 {
            hold.lines.remove(position);
        }
        hold.released_lines.push(line.to_owned());
        let counter = if hold.status == HoldStatus::Held {
            &mut self.held_by_type
        } else {
            let keep = hold.ticket_ids.len().saturating_sub(quantity as usize);
            hold.ticket_ids.truncate(keep);
            &mut self.sold
        };
        if let Some(count) = counter.get_mut(&ticket_type) {
            *count = count.saturating_sub(quantity);
        }
        true
    }

    fn add_payment(&mut self, payment: Payment) {
        if let Some(at) = payment.expires_at {
            self.payment_expiries
                .push(Reverse((at, payment.id.clone())));
        }
        self.payments.insert(payment.id.clone(), payment);
    }

    fn event(&self, tenant: Uuid, event: Uuid) -> Option<&SeedEvent> {
        self.catalog
            .events
            .iter()
            .find(|e| e.tenant_id == tenant && e.id == event)
    }
}

/// Shared simulator state and its optional service key.
#[derive(Debug, Clone)]
pub struct Simulator {
    state: Arc<Mutex<State>>,
    service_key: Option<String>,
    announcer: Option<Announcer>,
    faults: Faults,
    traces: trace_log::TraceLog,
    /// Upstream requests being served; see [`get_in_flight`].
    in_flight: Arc<AtomicU64>,
}

impl Simulator {
    /// A simulator serving `catalog`; when `service_key` is set, every non-admin request must send
    /// `Authorization: Service-Key <key>`.
    pub fn new(catalog: Catalog, service_key: Option<String>) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                shop: shop::ShopState::seeded(&catalog.products),
                catalog,
                ..State::default()
            })),
            service_key,
            announcer: None,
            faults: Faults::default(),
            traces: trace_log::TraceLog::default(),
            in_flight: Arc::default(),
        }
    }

    /// Also announces payment and ticket messages on the RabbitMQ at `amqp_url`. Call inside a
    /// tokio runtime.
    #[must_use]
    pub fn with_events(mut self, amqp_url: impl Into<String>) -> Self {
        self.announcer = Some(Announcer::start(amqp_url.into()));
        self
    }

    fn announce(&self, message: Outgoing) {
        if let Some(announcer) = &self.announcer {
            announcer.announce(message);
        }
    }

    fn payment_message(
        &self,
        routing_key: &'static str,
        payment: &Payment,
        data: serde_json::Value,
    ) {
        self.announce(Outgoing::new(
            PAYMENT_EXCHANGE,
            routing_key,
            payment.tenant_id,
            payment.order_id,
            data,
        ));
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a handler panicked; the state itself stays consistent
        // because every handler mutates it in one go.
        let mut guard = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = OffsetDateTime::now_utc();
        guard.expire_holds(now);
        guard.shop.stock.expire(now);
        guard
    }

    /// Checks the service key, then applies `service`'s injected latency and errors; `Some` is
    /// the answer to send instead of serving the request.
    pub(crate) async fn admit(&self, request: &HttpRequest, service: &str) -> Option<HttpResponse> {
        if !self.authorized(request) {
            return Some(unauthorized());
        }
        self.traces.record(service, request);
        let fault = self.faults.next(service);
        if !fault.latency.is_zero() {
            tokio::time::sleep(fault.latency).await;
        }
        fault.fail.then(|| {
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "injected_fault",
                "fault injected by PUT /_admin/faults",
            )
        })
    }

    fn authorized(&self, request: &HttpRequest) -> bool {
        match &self.service_key {
            None => true,
            Some(key) => request
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Service-Key "))
                .is_some_and(|given| given == key),
        }
    }
}

/// Registers every route on an actix-web app.
pub fn configure(simulator: Simulator) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(simulator))
            .app_data(web::JsonConfig::default().limit(4 * 1024 * 1024))
            .route(
                "/events/{tenant}/{event}",
                web::get().to(tickets::get_event),
            )
            .route("/tickets/prices", web::post().to(tickets::ticket_prices))
            .route("/tickets/holds", web::post().to(tickets::create_hold))
            .route(
                "/tickets/holds/release",
                web::post().to(tickets::release_holds),
            )
            .route(
                "/tickets/holds/{hold}/extend",
                web::post().to(tickets::extend_hold),
            )
            .route(
                "/tickets/holds/{hold}/commit",
                web::post().to(tickets::commit_hold),
            )
            .route(
                "/tickets/holds/{hold}",
                web::delete().to(tickets::release_hold),
            )
            .route(
                "/tickets/holds/{hold}/lines/{line}/release",
                web::post().to(tickets::release_hold_line),
            )
            .route(
                "/tickets/holds/{hold}/adjust",
                web::post().to(tickets::adjust_hold),
            )
            .route("/payments/intents", web::post().to(payments::create_intent))
            .route(
                "/payments/intents/{intent}",
                web::get().to(payments::get_intent),
            )
            .route(
                "/_admin/payments/{intent}/refunds/{refund}/lose",
                web::post().to(payments::admin_lose_payout),
            )
            .route(
                "/_admin/payments/{intent}/payouts",
                web::post().to(payments::admin_invent_payout),
            )
            .route(
                "/payments/intents/{intent}/confirm",
                web::post().to(payments::confirm_intent),
            )
            .route(
                "/payments/intents/{intent}/cancel",
                web::post().to(payments::cancel_intent),
            )
            .route(
                "/payments/intents/{intent}/refunds",
                web::post().to(payments::refund_intent),
            )
            .route(
                "/_admin/payments/{intent}/succeed",
                web::post().to(payments::admin_succeed_payment),
            )
            .route(
                "/_admin/payments/{intent}/fail",
                web::post().to(payments::admin_fail_payment),
            )
            .route(
                "/_admin/payments/{intent}/decline",
                web::post().to(payments::admin_decline_payment),
            )
            .route("/products/lookup", web::post().to(shop::lookup_products))
            .route(
                "/inventory/check-availability",
                web::post().to(shop::check_availability),
            )
            .route("/inventory/reserve", web::post().to(shop::reserve_stock))
            .route(
                "/inventory/release/{order}",
                web::post().to(shop::release_stock),
            )
            .route(
                "/inventory/release/{order}/lines/{line}",
                web::post().to(shop::release_stock_line),
            )
            .route(
                "/inventory/adjust/{order}",
                web::post().to(shop::adjust_stock),
            )
            .route(
                "/inventory/commit/{order}",
                web::post().to(shop::commit_stock),
            )
            .route(
                "/inventory/allocate/{order}",
                web::post().to(shop::allocate_stock),
            )
            .route("/shipping/rates", web::post().to(shop::shipping_rates))
            .route("/shipping/labels", web::post().to(shop::create_label))
            .route("/notifications", web::post().to(shop::notify))
            .route(
                "/_admin/notifications",
                web::get().to(shop::admin_notifications),
            )
            .route("/_admin/faults", web::put().to(faults::put_faults))
            .route("/_admin/faults", web::get().to(faults::get_faults))
            .route("/_admin/seed", web::put().to(put_seed))
            .route("/_admin/state", web::get().to(get_state))
            .route("/_admin/in-flight", web::get().to(get_in_flight))
            .route(
                "/_admin/traceparents",
                web::get().to(trace_log::get_traceparents),
            );
    }
}

/// Binds `addr` (port 0 for any free port) and serves in the background.
///
/// # Errors
/// When the address cannot be bound.
pub fn start(addr: &str, simulator: Simulator) -> std::io::Result<(SocketAddr, ServerHandle)> {
    // The caller owns shutdown (signals in the binary, the runtime's end in tests).
    let server = HttpServer::new(move || {
        let in_flight = simulator.in_flight.clone();
        App::new()
            .wrap_fn(move |request, service| {
                // A request that is dropped half-way (its client went away) leaves the count too.
                let counted = (!request.path().starts_with("/_admin/"))
                    .then(|| InFlightGuard::enter(&in_flight));
                let answer = service.call(request);
                async move {
                    let answer = answer.await;
                    drop(counted);
                    answer
                }
            })
            .configure(configure(simulator.clone()))
    })
    .workers(1)
    .disable_signals()
    .bind(addr)?;
    let bound = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| std::io::Error::other("no address bound"))?;
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    Ok((bound, handle))
}

/// Counts one upstream request from its arrival until its answer is sent or it is dropped.
struct InFlightGuard(Arc<AtomicU64>);

impl InFlightGuard {
    fn enter(count: &Arc<AtomicU64>) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count.clone())
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `GET /_admin/in-flight`: upstream requests being served now (`/_admin` ones aside), so a test
/// can wait until a slowed-down service has answered everything it was sent.
async fn get_in_flight(sim: web::Data<Simulator>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "inFlight": sim.in_flight.load(Ordering::SeqCst) }))
}

/// RFC 3339 text of `at`.
pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "code": code, "message": message }))
}

fn unauthorized() -> HttpResponse {
    error(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "missing or wrong service key",
    )
}

async fn put_seed(sim: web::Data<Simulator>, body: web::Json<Catalog>) -> HttpResponse {
    let mut state = sim.lock();
    let catalog = body.into_inner();
    *state = State {
        shop: shop::ShopState::seeded(&catalog.products),
        catalog,
        ..State::default()
    };
    HttpResponse::NoContent().finish()
}

async fn get_state(sim: web::Data<Simulator>) -> HttpResponse {
    let state = sim.lock();
    let mut holds: Vec<&Hold> = state.holds.values().collect();
    holds.sort_by(|a, b| a.id.cmp(&b.id));
    let mut payments: Vec<&Payment> = state.payments.values().collect();
    payments.sort_by(|a, b| a.id.cmp(&b.id));
    let availability: Vec<_> = state
        .catalog
        .events
        .iter()
        .flat_map(|e| e.ticket_types.iter().map(move |t| (e, t)))
        .map(|(e, t)| {
            json!({
                "eventId": e.id,
                "ticketTypeId": t.id,
                "quota": t.quota,
                "sold": state.sold.get(&t.id).copied().unwrap_or(0),
                "held": state.held(t.id),
                "available": state.available(t),
            })
        })
        .collect();
    HttpResponse::Ok().json(json!({
        "catalog": state.catalog,
        "availability": availability,
        "holds": holds,
        "payments": payments,
        "shop": shop::state_report(&state),
    }))
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use super::*;
    use crate::tickets::HoldLine;

    const TYPE: Uuid = Uuid::from_u128(7);

    fn hold(n: u128, quantity: u32, expires_at: OffsetDateTime) -> Hold {
        Hold {
            id: format!("hold_{n}"),
            tenant_id: Uuid::from_u128(1),
            order_id: Uuid::from_u128(n),
            event_id: Uuid::from_u128(2),
            lines: vec![HoldLine {
                ticket_type_id: TYPE,
                ticket_pricing_id: Uuid::from_u128(8),
                quantity,
            }],
            expires_at,
            status: HoldStatus::Held,
            ticket_ids: Vec::new(),
            released_lines: Vec::new(),
        }
    }

    #[test]
    fn held_tickets_follow_each_hold_through_release_commit_and_expiry() {
        let now = OffsetDateTime::now_utc();
        let mut state = State::default();
        state.add_hold(hold(1, 2, now + Duration::minutes(1)));
        state.add_hold(hold(2, 3, now + Duration::minutes(2)));
        state.add_hold(hold(3, 4, now + Duration::minutes(3)));
        assert_eq!(state.held(TYPE), 9);
        state.settle_hold("hold_1", HoldStatus::Released);
        state.settle_hold("hold_1", HoldStatus::Released);
        assert_eq!(state.held(TYPE), 7, "releasing twice gives back once");
        state.settle_hold("hold_2", HoldStatus::Committed);
        assert_eq!(state.held(TYPE), 4);
        state.expire_holds(now + Duration::minutes(4));
        assert_eq!(state.held(TYPE), 0);
        assert_eq!(state.holds["hold_3"].status, HoldStatus::Expired);
        assert_eq!(state.holds["hold_2"].status, HoldStatus::Committed);
    }

    #[test]
    fn a_released_line_goes_back_on_sale_once_whether_held_or_sold() {
        let now = OffsetDateTime::now_utc();
        let mut state = State::default();
        let pricing = Uuid::from_u128(8);
        state.add_hold(hold(1, 3, now + Duration::minutes(1)));
        state.add_hold(hold(2, 3, now + Duration::minutes(1)));
        assert!(state.release_hold_line("hold_1", "line-a", TYPE, pricing, 2));
        assert!(
            state.release_hold_line("hold_1", "line-a", TYPE, pricing, 2),
            "again"
        );
        assert_eq!(state.held(TYPE), 4, "two held tickets back, once");
        state.settle_hold("hold_2", HoldStatus::Committed);
        *state.sold.entry(TYPE).or_default() += 3;
        assert!(state.release_hold_line("hold_2", "line-b", TYPE, pricing, 1));
        assert_eq!(state.sold[&TYPE], 2, "a sold ticket back on sale");
        assert!(
            !state.release_hold_line("hold_2", "line-c", TYPE, pricing, 5),
            "more tickets than the hold has"
        );
    }

    #[test]
    fn an_extended_hold_outlives_its_first_expiry() {
        let now = OffsetDateTime::now_utc();
        let mut state = State::default();
        state.add_hold(hold(1, 2, now + Duration::minutes(1)));
        let later = now + Duration::minutes(10);
        if let Some(h) = state.holds.get_mut("hold_1") {
            h.expires_at = later;
        }
        state.hold_expiries.push(Reverse((later, "hold_1".into())));
        state.expire_holds(now + Duration::minutes(5));
        assert_eq!(state.holds["hold_1"].status, HoldStatus::Held);
        assert_eq!(state.held(TYPE), 2);
        state.expire_holds(later);
        assert_eq!(state.holds["hold_1"].status, HoldStatus::Expired);
        assert_eq!(state.held(TYPE), 0);
    }
}
