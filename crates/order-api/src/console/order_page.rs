//! The order page: the order's facts, lines and price breakdown, its shipment, refunds, ledger
//! (with its balance) and documents when it has them, and its timeline from the audit trail —
//! each read through the API's own use case for the signed-in operator.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use order_domain::actor::RequestContext;
use order_domain::documents::Document;
use order_domain::ids::OrderId;
use order_domain::money::Money;
use order_domain::order::{ItemProduct, Order};
use order_domain::use_cases::OrderLedger;

use super::render::{html, message, money, problem_text, refused, when, who};
use super::session::{csrf_for, operator};
use crate::dto::history_event_type;
use crate::error::ApiError;
use crate::state::AppState;

struct LineView {
    what: String,
    quantity: u32,
    unit_price: String,
    total: String,
}

struct OrderView {
    number: String,
    status: &'static str,
    kind: &'static str,
    user_id: String,
    created_at: String,
    lines: Vec<LineView>,
    /// The price breakdown, component by component, as (name, amount).
    price: Vec<(&'static str, String)>,
    total: String,
    shipment: Option<ShipmentView>,
    refunds: Vec<RefundView>,
}

struct ShipmentView {
    carrier: String,
    tracking_number: String,
    label_url: Option<String>,
    estimated_delivery: Option<String>,
}

struct RefundView {
    amount: String,
    status: &'static str,
    reason: String,
    requested_at: String,
    decided: String,
}

struct LedgerView {
    entries: Vec<LedgerRow>,
    captured: String,
    refunded: String,
    net: String,
    outstanding: String,
}

struct LedgerRow {
    at: String,
    kind: &'static str,
    amount: String,
    reference: String,
}

struct DocumentRow {
    number: String,
    kind: &'static str,
    issued_at: String,
    total: String,
    corrects: String,
}

struct TimelineEntry {
    at: String,
    what: String,
    change: String,
    who: String,
}

#[derive(Template)]
#[template(path = "console/order.html")]
struct OrderPage {
    operator: Option<String>,
    csrf: String,
    order: OrderView,
    ledger: Option<LedgerView>,
    documents: Vec<DocumentRow>,
    timeline: Vec<TimelineEntry>,
}

/// One order, everything an admin may read about it.
#[get("/orders/{id}")]
pub(super) async fn show_order(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let ctx = match operator(&state, &request) {
        Ok(ctx) => ctx,
        Err(refusal) => return refused(&request, refusal),
    };
    match load(&state, &ctx, &path).await {
        Ok((order, ledger, documents, history)) => {
            let (csrf, new_csrf) = csrf_for(&request);
            let page = OrderPage {
                operator: Some(who(&ctx.actor)),
                csrf,
                order: view(&order),
                ledger: ledger.as_ref().map(ledger_view),
                documents: documents.iter().map(document_row).collect(),
                timeline: history
                    .into_iter()
                    .map(|entry| TimelineEntry {
                        at: when(entry.occurred_at),
                        what: history_event_type(&entry.event_type),
                        change: match (entry.from_status, entry.to_status) {
                            (Some(from), Some(to)) => format!("{from} → {to}"),
                            (None, Some(to)) => format!("→ {to}"),
                            _ => String::new(),
                        },
                        who: who(&entry.actor),
                    })
                    .collect(),
            };
            html(&request, StatusCode::OK, &page, new_csrf)
        }
        Err(error) => {
            let (status, text) = problem_text(error);
            message(&request, Some(&ctx), status, "Order", &text, "/console")
        }
    }
}

type Loaded = (
    Order,
    Option<OrderLedger>,
    Vec<Document>,
    Vec<order_domain::audit::AuditEntry>,
);

/// The order, then what only its owner and admins may read (the money): an operator the use
/// cases refuse the ledger (warehouse staff) sees the order without it.
async fn load(state: &AppState, ctx: &RequestContext, id: &str) -> Result<Loaded, ApiError> {
    let id: OrderId = id.parse().map_err(|_| ApiError::NotFound("order"))?;
    let order = state.service.get_order(ctx, id).await?;
    let history = state.service.order_history(ctx, id).await?;
    let (ledger, documents) = if ctx.actor.is_privileged() {
        (
            Some(state.service.order_ledger(ctx, id).await?),
            state.service.order_documents(ctx, id).await?,
        )
    } else {
        (None, Vec::new())
    };
    Ok((order, ledger, documents, history))
}

fn view(order: &Order) -> OrderView {
    let price = order.pricing();
    OrderView {
        number: order.number().to_string(),
        status: order.status().as_str(),
        kind: order.kind().as_str(),
        user_id: order.user_id().to_string(),
        created_at: when(order.created_at()),
        lines: order
            .items()
            .iter()
            .map(|item| LineView {
                what: match &item.product {
                    ItemProduct::Ticket { ticket_type_id, .. } => {
                        format!("Ticket {ticket_type_id}")
                    }
                    ItemProduct::Goods { name, .. } => name.clone(),
                },
                quantity: item.quantity,
                unit_price: money(Money::new(item.unit_price, order.currency())),
                total: money(item.pricing.total()),
            })
            .collect(),
        price: [
            ("Subtotal", price.subtotal()),
            ("Discount", price.discount()),
            ("Platform fee", price.platform_fee()),
            ("Processing fee", price.processing_fee()),
            ("Shipping", price.shipping()),
            ("Tax", price.tax()),
        ]
        .into_iter()
        .filter(|(name, amount)| *name == "Subtotal" || amount.minor() != 0)
        .map(|(name, amount)| (name, money(amount)))
        .collect(),
        total: money(order.total()),
        shipment: order.shipment().map(|s| ShipmentView {
            carrier: s.carrier.clone(),
            tracking_number: s.tracking_number.clone(),
            label_url: s.label_url.clone(),
            estimated_delivery: s.estimated_delivery.map(|d| d.to_string()),
        }),
        refunds: order
            .refunds()
            .iter()
            .map(|r| RefundView {
                amount: money(Money::new(r.amount, order.currency())),
                status: r.status.as_str(),
                reason: r.reason.clone(),
                requested_at: when(r.requested_at),
                decided: match (&r.decided_by, r.decided_at) {
                    (Some(by), Some(at)) => format!("{by}, {}", when(at)),
                    _ => String::new(),
                },
            })
            .collect(),
    }
}

fn ledger_view(ledger: &OrderLedger) -> LedgerView {
    let currency = ledger.order.currency();
    let amount = |minor: i64| money(Money::new(minor, currency));
    LedgerView {
        entries: ledger
            .entries
            .iter()
            .map(|entry| LedgerRow {
                at: when(entry.occurred_at),
                kind: entry.kind.as_str(),
                amount: money(Money::new(entry.amount, entry.currency)),
                reference: entry.reference.clone().unwrap_or_default(),
            })
            .collect(),
        captured: amount(ledger.balance.captured),
        refunded: amount(ledger.balance.refunded),
        net: amount(ledger.balance.net),
        outstanding: amount(ledger.balance.outstanding),
    }
}

fn document_row(document: &Document) -> DocumentRow {
    let content = &document.content;
    DocumentRow {
        number: document.number.clone(),
        kind: content.kind.as_str(),
        issued_at: when(content.issued_at),
        total: money(Money::new(content.total, content.currency)),
        corrects: document.corrects.clone().unwrap_or_default(),
    }
}
