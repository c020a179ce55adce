//! An in-memory simulator of the upstream services: events, ticket types with prices and quotas
//! (holds that expire, commit and release), payment intents, and the shop's services — products,
//! inventory (reservations, commits, allocations: `stock`), shipping and notifications (`shop`).
//!
//! One mutex guards the whole state: a hold checks availability and takes the tickets under the
//! same lock, so concurrent holds can never exceed a quota. The contracts are documented in
//! `docs/upstreams.md`, the seed format in `docs/simulator.md`.
//!
//! With [`Simulator::with_events`] it also announces `payment.succeeded`, `payment.failed` and
//! `ticket.allocated` on RabbitMQ, and `PUT /_admin/faults` makes a service fail or slow down.

mod catalog;
mod faults;
mod publisher;
mod shop;
mod stock;

pub use self::catalog::{Catalog, SeedEvent, SeedPrice, SeedProduct, SeedTicketType, SeedVariant};

pub use self::faults::{Fault, FaultStatus, Faults};
use self::publisher::{Announcer, Outgoing};
pub use self::publisher::{PAYMENT_EXCHANGE, TICKET_EXCHANGE};

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct HoldLine {
    ticket_type_id: Uuid,
    ticket_pricing_id: Uuid,
    quantity: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum HoldStatus {
    Held,
    Committed,
    Released,
    Expired,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Hold {
    id: String,
    tenant_id: Uuid,
    order_id: Uuid,
    event_id: Uuid,
    lines: Vec<HoldLine>,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    status: HoldStatus,
    ticket_ids: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum PaymentStatus {
    RequiresConfirmation,
    Succeeded,
    Canceled,
    Failed,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Payment {
    id: String,
    tenant_id: Uuid,
    order_id: Uuid,
    amount: i64,
    currency: String,
    status: PaymentStatus,
    /// An intent not confirmed by then is canceled by the simulator.
    #[serde(default, with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
    refunds: Vec<PaymentRefund>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct PaymentRefund {
    refund_id: Uuid,
    amount: i64,
    reference: String,
}

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
            .route("/events/{tenant}/{event}", web::get().to(get_event))
            .route("/tickets/prices", web::post().to(ticket_prices))
            .route("/tickets/holds", web::post().to(create_hold))
            .route("/tickets/holds/release", web::post().to(release_holds))
            .route("/tickets/holds/{hold}/extend", web::post().to(extend_hold))
            .route("/tickets/holds/{hold}/commit", web::post().to(commit_hold))
            .route("/tickets/holds/{hold}", web::delete().to(release_hold))
            .route("/payments/intents", web::post().to(create_intent))
            .route(
                "/payments/intents/{intent}/confirm",
                web::post().to(confirm_intent),
            )
            .route(
                "/payments/intents/{intent}/cancel",
                web::post().to(cancel_intent),
            )
            .route(
                "/payments/intents/{intent}/refunds",
                web::post().to(refund_intent),
            )
            .route(
                "/_admin/payments/{intent}/succeed",
                web::post().to(admin_succeed_payment),
            )
            .route(
                "/_admin/payments/{intent}/fail",
                web::post().to(admin_fail_payment),
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
            .route("/_admin/state", web::get().to(get_state));
    }
}

/// Binds `addr` (port 0 for any free port) and serves in the background.
///
/// # Errors
/// When the address cannot be bound.
pub fn start(addr: &str, simulator: Simulator) -> std::io::Result<(SocketAddr, ServerHandle)> {
    // The caller owns shutdown (signals in the binary, the runtime's end in tests).
    let server = HttpServer::new(move || App::new().configure(configure(simulator.clone())))
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

async fn get_event(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "events").await {
        return refused;
    }
    let (tenant, event) = path.into_inner();
    let state = sim.lock();
    match state.event(tenant, event) {
        Some(e) => HttpResponse::Ok().json(json!({
            "id": e.id,
            "name": e.name,
            "startsAt": e.starts_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "status": e.status,
            "currency": e.currency,
        })),
        None => error(StatusCode::NOT_FOUND, "not_found", "no such event"),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineRequest {
    ticket_type_id: Uuid,
    ticket_pricing_id: Uuid,
    quantity: u32,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PricesRequest {
    tenant_id: Uuid,
    event_id: Uuid,
    lines: Vec<LineRequest>,
}

async fn ticket_prices(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    body: web::Json<PricesRequest>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "tickets").await {
        return refused;
    }
    let state = sim.lock();
    let Some(event) = state.event(body.tenant_id, body.event_id) else {
        return error(StatusCode::NOT_FOUND, "not_found", "no such event");
    };
    let mut prices = Vec::new();
    for line in &body.lines {
        let found = event
            .ticket_types
            .iter()
            .find(|t| t.id == line.ticket_type_id)
            .and_then(|t| {
                t.prices
                    .iter()
                    .find(|p| p.id == line.ticket_pricing_id)
                    .map(|p| (t, p))
            });
        if let Some((ticket_type, price)) = found {
            prices.push(json!({
                "ticketTypeId": ticket_type.id,
                "ticketPricingId": price.id,
                "amount": price.amount,
                "currency": event.currency,
                "available": state.available(ticket_type),
            }));
        }
    }
    HttpResponse::Ok().json(json!({ "prices": prices }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HoldRequest {
    tenant_id: Uuid,
    order_id: Uuid,
    event_id: Uuid,
    lines: Vec<LineRequest>,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

fn hold_json(hold: &Hold) -> serde_json::Value {
    json!({
        "holdId": hold.id,
        "expiresAt": hold.expires_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "status": hold.status,
        "ticketIds": hold.ticket_ids,
    })
}

async fn create_hold(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    body: web::Json<HoldRequest>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "tickets").await {
        return refused;
    }
    let mut state = sim.lock();
    // Idempotent per order: the order's active or sold hold is returned again.
    if let Some(existing) = state
        .hold_of_order
        .get(&body.order_id)
        .and_then(|id| state.holds.get(id))
        .filter(|h| matches!(h.status, HoldStatus::Held | HoldStatus::Committed))
    {
        return HttpResponse::Ok().json(hold_json(existing));
    }
    let Some(event) = state.event(body.tenant_id, body.event_id).cloned() else {
        return error(StatusCode::NOT_FOUND, "not_found", "no such event");
    };
    // The ticket service has the last word on whether an event is on sale.
    if event.status != "SCHEDULED" || event.starts_at <= OffsetDateTime::now_utc() {
        return error(
            StatusCode::CONFLICT,
            "not_on_sale",
            "the event is not on sale",
        );
    }
    let mut wanted: HashMap<Uuid, u32> = HashMap::new();
    for line in &body.lines {
        let Some(ticket_type) = event
            .ticket_types
            .iter()
            .find(|t| t.id == line.ticket_type_id)
        else {
            return error(StatusCode::NOT_FOUND, "not_found", "no such ticket type");
        };
        if !ticket_type
            .prices
            .iter()
            .any(|p| p.id == line.ticket_pricing_id)
        {
            return error(StatusCode::NOT_FOUND, "not_found", "no such ticket price");
        }
        let total = wanted.entry(ticket_type.id).or_default();
        *total += line.quantity;
        let available = state.available(ticket_type);
        if *total > available {
            return HttpResponse::Conflict().json(json!({
                "code": "sold_out",
                "message": "not enough tickets left",
                "ticketTypeId": ticket_type.id,
                "available": available,
            }));
        }
    }
    let hold = Hold {
        id: format!("hold_{}", Uuid::new_v4().simple()),
        tenant_id: body.tenant_id,
        order_id: body.order_id,
        event_id: body.event_id,
        lines: body
            .lines
            .iter()
            .map(|l| HoldLine {
                ticket_type_id: l.ticket_type_id,
                ticket_pricing_id: l.ticket_pricing_id,
                quantity: l.quantity,
            })
            .collect(),
        expires_at: body.expires_at,
        status: HoldStatus::Held,
        ticket_ids: Vec::new(),
    };
    let response = hold_json(&hold);
    state.add_hold(hold);
    HttpResponse::Created().json(response)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExtendRequest {
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

async fn extend_hold(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    path: web::Path<String>,
    body: web::Json<ExtendRequest>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "tickets").await {
        return refused;
    }
    let mut state = sim.lock();
    match state.holds.get_mut(path.as_str()) {
        Some(hold) if hold.status == HoldStatus::Held => {
            hold.expires_at = body.expires_at;
            let answer = HttpResponse::Ok().json(hold_json(hold));
            state
                .hold_expiries
                .push(Reverse((body.expires_at, path.into_inner())));
            answer
        }
        _ => error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no active hold with that id",
        ),
    }
}

async fn commit_hold(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "tickets").await {
        return refused;
    }
    let mut state = sim.lock();
    let Some(hold) = state.holds.get(path.as_str()).cloned() else {
        return error(StatusCode::NOT_FOUND, "not_found", "no hold with that id");
    };
    match hold.status {
        // Committing twice returns the same tickets.
        HoldStatus::Committed => HttpResponse::Ok().json(hold_json(&hold)),
        HoldStatus::Held => {
            let mut tickets = Vec::new();
            for line in &hold.lines {
                *state.sold.entry(line.ticket_type_id).or_default() += line.quantity;
                for _ in 0..line.quantity {
                    tickets.push(format!("tkt_{}", Uuid::new_v4().simple()));
                }
            }
            let stored = state
                .settle_hold(path.as_str(), HoldStatus::Committed)
                .map(|h| {
                    h.ticket_ids = tickets.clone();
                    hold_json(h)
                });
            sim.announce(Outgoing::new(
                TICKET_EXCHANGE,
                "ticket.allocated",
                hold.tenant_id,
                hold.order_id,
                json!({ "ticketIds": tickets }),
            ));
            HttpResponse::Ok().json(stored)
        }
        HoldStatus::Released | HoldStatus::Expired => error(
            StatusCode::NOT_FOUND,
            "not_found",
            "the hold has expired or was released",
        ),
    }
}

async fn release_hold(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "tickets").await {
        return refused;
    }
    let mut state = sim.lock();
    state.settle_hold(path.as_str(), HoldStatus::Released);
    // Releasing is idempotent: unknown or already released holds are fine.
    HttpResponse::NoContent().finish()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReleaseRequest {
    hold_ids: Vec<String>,
}

/// Many holds let go at once (the expiry job's batches); idempotent like one.
async fn release_holds(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    body: web::Json<ReleaseRequest>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "tickets").await {
        return refused;
    }
    let mut state = sim.lock();
    for hold in &body.hold_ids {
        state.settle_hold(hold, HoldStatus::Released);
    }
    HttpResponse::NoContent().finish()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntentRequest {
    tenant_id: Uuid,
    order_id: Uuid,
    amount: i64,
    currency: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
}

fn payment_json(payment: &Payment) -> serde_json::Value {
    json!({
        "id": payment.id,
        "clientSecret": format!("{}_secret", payment.id),
        "status": payment.status,
        "amount": payment.amount,
        "currency": payment.currency,
    })
}

async fn create_intent(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    body: web::Json<IntentRequest>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "payments").await {
        return refused;
    }
    if body.amount <= 0 {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_amount",
            "amount must be positive",
        );
    }
    let key = request
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut state = sim.lock();
    if let Some(existing) = key
        .as_ref()
        .and_then(|k| state.intent_keys.get(k))
        .and_then(|id| state.payments.get(id))
    {
        return HttpResponse::Ok().json(payment_json(existing));
    }
    let payment = Payment {
        id: format!("pi_{}", Uuid::new_v4().simple()),
        tenant_id: body.tenant_id,
        order_id: body.order_id,
        amount: body.amount,
        currency: body.currency.clone(),
        status: PaymentStatus::RequiresConfirmation,
        expires_at: body.expires_at,
        refunds: Vec::new(),
    };
    let response = payment_json(&payment);
    if let Some(key) = key {
        state.intent_keys.insert(key, payment.id.clone());
    }
    state.add_payment(payment);
    HttpResponse::Created().json(response)
}

async fn confirm_intent(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "payments").await {
        return refused;
    }
    let mut state = sim.lock();
    match state.payments.get_mut(path.as_str()) {
        Some(p) if p.status == PaymentStatus::Succeeded => HttpResponse::Ok().json(payment_json(p)),
        Some(p) if p.status != PaymentStatus::Canceled => {
            p.status = PaymentStatus::Succeeded;
            sim.payment_message("payment.succeeded", p, succeeded_data(p));
            HttpResponse::Ok().json(payment_json(p))
        }
        Some(_) => error(
            StatusCode::CONFLICT,
            "payment_canceled",
            "the intent was canceled",
        ),
        None => error(StatusCode::NOT_FOUND, "not_found", "no such payment intent"),
    }
}

async fn cancel_intent(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "payments").await {
        return refused;
    }
    let mut state = sim.lock();
    match state.payments.get_mut(path.as_str()) {
        Some(p) if p.status == PaymentStatus::Succeeded => error(
            StatusCode::CONFLICT,
            "payment_succeeded",
            "a paid intent is refunded, not canceled",
        ),
        Some(p) => {
            p.status = PaymentStatus::Canceled;
            HttpResponse::Ok().json(payment_json(p))
        }
        None => error(StatusCode::NOT_FOUND, "not_found", "no such payment intent"),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefundRequest {
    refund_id: Uuid,
    amount: i64,
}

async fn refund_intent(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    path: web::Path<String>,
    body: web::Json<RefundRequest>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "payments").await {
        return refused;
    }
    let mut state = sim.lock();
    let Some(payment) = state.payments.get_mut(path.as_str()) else {
        return error(StatusCode::NOT_FOUND, "not_found", "no such payment intent");
    };
    // The refund id is the idempotency key: the same refund is never paid twice.
    if let Some(done) = payment
        .refunds
        .iter()
        .find(|r| r.refund_id == body.refund_id)
    {
        return HttpResponse::Ok()
            .json(json!({ "reference": done.reference, "amount": done.amount }));
    }
    if payment.status != PaymentStatus::Succeeded {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_paid",
            "only a paid intent can be refunded",
        );
    }
    let refunded: i64 = payment.refunds.iter().map(|r| r.amount).sum();
    if body.amount <= 0 || refunded + body.amount > payment.amount {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "refund_exceeds_payment",
            "refunds would exceed the payment",
        );
    }
    let reference = format!("re_{}", Uuid::new_v4().simple());
    payment.refunds.push(PaymentRefund {
        refund_id: body.refund_id,
        amount: body.amount,
        reference: reference.clone(),
    });
    HttpResponse::Created().json(json!({ "reference": reference, "amount": body.amount }))
}

fn succeeded_data(payment: &Payment) -> serde_json::Value {
    json!({
        "paymentIntentId": payment.id,
        "amount": payment.amount,
        "currency": payment.currency,
    })
}

/// The buyer paid outside our service (e.g. in the browser), possibly after the intent was
/// canceled: the late payment of decision 0015. Announces `payment.succeeded`.
async fn admin_succeed_payment(sim: web::Data<Simulator>, path: web::Path<String>) -> HttpResponse {
    let mut state = sim.lock();
    match state.payments.get_mut(path.as_str()) {
        Some(p) => {
            p.status = PaymentStatus::Succeeded;
            sim.payment_message("payment.succeeded", p, succeeded_data(p));
            HttpResponse::Ok().json(payment_json(p))
        }
        None => error(StatusCode::NOT_FOUND, "not_found", "no such payment intent"),
    }
}

/// The payment failed for good. Announces `payment.failed`.
async fn admin_fail_payment(sim: web::Data<Simulator>, path: web::Path<String>) -> HttpResponse {
    let mut state = sim.lock();
    match state.payments.get_mut(path.as_str()) {
        Some(p) if p.status != PaymentStatus::Succeeded => {
            p.status = PaymentStatus::Failed;
            let data = json!({ "paymentIntentId": p.id, "reason": "card_declined" });
            sim.payment_message("payment.failed", p, data);
            HttpResponse::Ok().json(payment_json(p))
        }
        Some(_) => error(
            StatusCode::CONFLICT,
            "payment_succeeded",
            "the intent is already paid",
        ),
        None => error(StatusCode::NOT_FOUND, "not_found", "no such payment intent"),
    }
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
