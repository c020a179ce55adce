//! The event and ticket services: events by tenant, ticket prices with availability, and holds
//! that extend, commit (tickets issued, `ticket.allocated` announced) and release.

use std::cmp::Reverse;
use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::publisher::Outgoing;
use crate::{Simulator, TICKET_EXCHANGE, error};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HoldLine {
    pub(crate) ticket_type_id: Uuid,
    pub(crate) ticket_pricing_id: Uuid,
    pub(crate) quantity: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum HoldStatus {
    Held,
    Committed,
    Released,
    Expired,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Hold {
    pub(crate) id: String,
    pub(crate) tenant_id: Uuid,
    pub(crate) order_id: Uuid,
    pub(crate) event_id: Uuid,
    pub(crate) lines: Vec<HoldLine>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) expires_at: OffsetDateTime,
    pub(crate) status: HoldStatus,
    pub(crate) ticket_ids: Vec<String>,
    /// Lines given back one by one (idempotency of a line's release).
    pub(crate) released_lines: Vec<String>,
}

pub(crate) async fn get_event(
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
pub(crate) struct LineRequest {
    pub(crate) ticket_type_id: Uuid,
    pub(crate) ticket_pricing_id: Uuid,
    pub(crate) quantity: u32,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PricesRequest {
    pub(crate) tenant_id: Uuid,
    pub(crate) event_id: Uuid,
    pub(crate) lines: Vec<LineRequest>,
}

pub(crate) async fn ticket_prices(
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
pub(crate) struct HoldRequest {
    pub(crate) tenant_id: Uuid,
    pub(crate) order_id: Uuid,
    pub(crate) event_id: Uuid,
    pub(crate) lines: Vec<LineRequest>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) expires_at: OffsetDateTime,
}

pub(crate) fn hold_json(hold: &Hold) -> serde_json::Value {
    json!({
        "holdId": hold.id,
        "expiresAt": hold.expires_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "status": hold.status,
        "ticketIds": hold.ticket_ids,
    })
}

pub(crate) async fn create_hold(
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
        released_lines: Vec::new(),
    };
    let response = hold_json(&hold);
    state.add_hold(hold);
    HttpResponse::Created().json(response)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExtendRequest {
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) expires_at: OffsetDateTime,
}

pub(crate) async fn extend_hold(
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

pub(crate) async fn commit_hold(
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

pub(crate) async fn release_hold(
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

/// One line of a hold back to sale, held or sold; idempotent per line id.
pub(crate) async fn release_hold_line(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<LineRequest>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "tickets").await {
        return refused;
    }
    let (hold, line) = path.into_inner();
    let mut state = sim.lock();
    if state.release_hold_line(
        &hold,
        &line,
        body.ticket_type_id,
        body.ticket_pricing_id,
        body.quantity,
    ) {
        HttpResponse::NoContent().finish()
    } else {
        error(
            StatusCode::NOT_FOUND,
            "not_found",
            "the hold has no such tickets",
        )
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AdjustRequest {
    pub(crate) key: Uuid,
    #[serde(default)]
    pub(crate) add: Vec<LineRequest>,
    #[serde(default)]
    pub(crate) release: Vec<LineRequest>,
}

/// A held (unsold) hold changed in one step: `add` held too, `release` given back, all or
/// nothing under the one lock that counts the tickets; idempotent per `key`.
pub(crate) async fn adjust_hold(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    path: web::Path<String>,
    body: web::Json<AdjustRequest>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "tickets").await {
        return refused;
    }
    let id = path.into_inner();
    let applied = format!("adjust:{}", body.key);
    let mut state = sim.lock();
    let Some(hold) = state.holds.get(&id).cloned() else {
        return error(StatusCode::NOT_FOUND, "not_found", "no hold with that id");
    };
    if hold.released_lines.contains(&applied) {
        return HttpResponse::Ok().json(hold_json(&hold));
    }
    // A sold hold only gives tickets back (they are voided); nothing is added to it.
    let sold = hold.status == HoldStatus::Committed;
    if !(hold.status == HoldStatus::Held || sold && body.add.is_empty()) {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            "the hold is not held any more",
        );
    }
    let Some(event) = state.event(hold.tenant_id, hold.event_id).cloned() else {
        return error(StatusCode::NOT_FOUND, "not_found", "no such event");
    };
    let mut wanted: HashMap<Uuid, u32> = HashMap::new();
    for line in &body.add {
        let Some(ticket_type) = event.ticket_types.iter().find(|t| {
            t.id == line.ticket_type_id && t.prices.iter().any(|p| p.id == line.ticket_pricing_id)
        }) else {
            return error(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such ticket type or price",
            );
        };
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
    let mut lines = hold.lines.clone();
    for line in &body.release {
        let Some(held) = lines.iter_mut().find(|l| {
            l.ticket_type_id == line.ticket_type_id
                && l.ticket_pricing_id == line.ticket_pricing_id
                && l.quantity >= line.quantity
        }) else {
            return error(
                StatusCode::NOT_FOUND,
                "not_found",
                "the hold has no such tickets",
            );
        };
        held.quantity -= line.quantity;
    }
    lines.retain(|l| l.quantity > 0);
    lines.extend(body.add.iter().map(|l| HoldLine {
        ticket_type_id: l.ticket_type_id,
        ticket_pricing_id: l.ticket_pricing_id,
        quantity: l.quantity,
    }));
    for line in &body.add {
        *state.held_by_type.entry(line.ticket_type_id).or_default() += line.quantity;
    }
    let counter = if sold {
        &mut state.sold
    } else {
        &mut state.held_by_type
    };
    for line in &body.release {
        if let Some(count) = counter.get_mut(&line.ticket_type_id) {
            *count = count.saturating_sub(line.quantity);
        }
    }
    let voided: usize = body.release.iter().map(|l| l.quantity as usize).sum();
    let Some(stored) = state.holds.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, "not_found", "no hold with that id");
    };
    if sold {
        let keep = stored.ticket_ids.len().saturating_sub(voided);
        stored.ticket_ids.truncate(keep);
    }
    stored.lines = lines;
    stored.released_lines.push(applied);
    HttpResponse::Ok().json(hold_json(stored))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReleaseRequest {
    pub(crate) hold_ids: Vec<String>,
}

/// Many holds let go at once (the expiry job's batches); idempotent like one.
pub(crate) async fn release_holds(
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
