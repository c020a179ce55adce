//! The shop's upstreams (`docs/upstreams.md`): products (`/products/lookup`), inventory
//! (`/inventory/…`, the shop's contract plus commit and allocation), shipping (`/shipping/…`)
//! and notifications (`/notifications`, recorded and shown at `GET /_admin/notifications`).

use std::collections::{HashMap, HashSet};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::stock::Stock;
use crate::{Simulator, error};

/// What the shop's services remember besides the catalog.
#[derive(Debug, Default)]
pub(crate) struct ShopState {
    pub(crate) stock: Stock,
    labels: HashMap<(Uuid, Uuid), Label>,
    notifications: Vec<Recorded>,
    notified: HashSet<Uuid>,
}

impl ShopState {
    /// Fresh state for `products`' stock.
    pub(crate) fn seeded(products: &[crate::catalog::SeedProduct]) -> Self {
        Self {
            stock: Stock::seeded(products),
            ..Self::default()
        }
    }
}

/// A label the shipping service made.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Label {
    carrier: &'static str,
    tracking_number: String,
    label_url: String,
}

/// A notification as it was received.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Recorded {
    id: Uuid,
    tenant_id: Uuid,
    user_id: Uuid,
    #[serde(default)]
    email: Option<String>,
    order_id: Uuid,
    #[serde(default)]
    order_number: Option<String>,
    template: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    tracking_number: Option<String>,
    #[serde(default)]
    invoice_number: Option<String>,
}

/// Shipping methods the simulated carrier offers: code, price in minor units, days, carrier.
const METHODS: [(&str, i64, u16, &str); 3] = [
    ("standard", 599, 5, "USPS"),
    ("express", 1499, 2, "UPS"),
    ("overnight", 2999, 1, "FedEx"),
];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LookupRequest {
    tenant_id: Uuid,
    product_ids: Vec<Uuid>,
}

pub(crate) async fn lookup_products(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    body: web::Json<LookupRequest>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "products").await {
        return refused;
    }
    let state = sim.lock();
    let products: Vec<_> = state
        .catalog
        .products
        .iter()
        .filter(|p| p.tenant_id == body.tenant_id && body.product_ids.contains(&p.id))
        .map(|p| {
            json!({
                "id": p.id,
                "sku": p.sku,
                "name": p.name,
                "imageUrl": p.image_url,
                "price": p.price,
                "currency": p.currency,
                "active": p.active,
                "variants": p.variants,
            })
        })
        .collect();
    HttpResponse::Ok().json(json!({ "products": products }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StockItem {
    product_id: Uuid,
    quantity: u32,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AvailabilityRequest {
    tenant_id: Uuid,
    items: Vec<StockItem>,
}

fn sells(sim_state: &crate::State, tenant: Uuid, product: Uuid) -> bool {
    sim_state
        .catalog
        .products
        .iter()
        .any(|p| p.tenant_id == tenant && p.id == product)
}

pub(crate) async fn check_availability(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    body: web::Json<AvailabilityRequest>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "inventory").await {
        return refused;
    }
    let state = sim.lock();
    let items: Vec<_> = body
        .items
        .iter()
        .map(|item| {
            let available = if sells(&state, body.tenant_id, item.product_id) {
                state.shop.stock.available(item.product_id)
            } else {
                0
            };
            json!({
                "productId": item.product_id,
                "available": available,
                "inStock": available >= item.quantity,
            })
        })
        .collect();
    HttpResponse::Ok().json(json!({ "items": items }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReserveRequest {
    tenant_id: Uuid,
    order_id: Uuid,
    items: Vec<StockItem>,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

pub(crate) async fn reserve_stock(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    body: web::Json<ReserveRequest>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "inventory").await {
        return refused;
    }
    let mut state = sim.lock();
    if let Some(unknown) = body
        .items
        .iter()
        .find(|i| !sells(&state, body.tenant_id, i.product_id))
    {
        return HttpResponse::Conflict().json(json!({
            "code": "insufficient_stock",
            "message": "no such product",
            "productId": unknown.product_id,
            "available": 0,
        }));
    }
    let items: Vec<(Uuid, u32)> = body
        .items
        .iter()
        .map(|i| (i.product_id, i.quantity))
        .collect();
    match state
        .shop
        .stock
        .reserve(body.tenant_id, body.order_id, &items, body.expires_at)
    {
        Ok((reservation, created)) => {
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            HttpResponse::build(status).json(json!({
                "reservationId": reservation.id,
                "expiresAt": crate::rfc3339(reservation.expires_at),
            }))
        }
        Err(short) => HttpResponse::Conflict().json(json!({
            "code": "insufficient_stock",
            "message": "not enough units",
            "productId": short.product_id,
            "available": short.available,
        })),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TenantBody {
    tenant_id: Uuid,
}

pub(crate) async fn release_stock(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    order: web::Path<Uuid>,
    body: web::Json<TenantBody>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "inventory").await {
        return refused;
    }
    sim.lock().shop.stock.release(body.tenant_id, *order);
    HttpResponse::NoContent().finish()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LineBody {
    tenant_id: Uuid,
    product_id: Uuid,
    quantity: u32,
}

/// One line of an order back to stock, reserved or sold; idempotent per line id.
pub(crate) async fn release_stock_line(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<LineBody>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "inventory").await {
        return refused;
    }
    let (order, line) = path.into_inner();
    let released = sim.lock().shop.stock.release_line(
        body.tenant_id,
        order,
        line,
        body.product_id,
        body.quantity,
    );
    if released {
        HttpResponse::NoContent().finish()
    } else {
        error(
            StatusCode::NOT_FOUND,
            "not_found",
            "the order has no such units",
        )
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AdjustBody {
    tenant_id: Uuid,
    key: Uuid,
    #[serde(default)]
    add: Vec<StockItem>,
    #[serde(default)]
    release: Vec<StockItem>,
}

/// An order edit's difference: units reserved too and units back, all or nothing; once per key.
pub(crate) async fn adjust_stock(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    order: web::Path<Uuid>,
    body: web::Json<AdjustBody>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "inventory").await {
        return refused;
    }
    let pairs = |items: &[StockItem]| -> Vec<(Uuid, u32)> {
        items.iter().map(|i| (i.product_id, i.quantity)).collect()
    };
    let outcome = sim.lock().shop.stock.adjust(
        body.tenant_id,
        *order,
        body.key,
        &pairs(&body.add),
        &pairs(&body.release),
    );
    match outcome {
        Ok(true) => HttpResponse::NoContent().finish(),
        Ok(false) => error(
            StatusCode::NOT_FOUND,
            "not_found",
            "the order has no such reservation or units",
        ),
        Err(short) => HttpResponse::Conflict().json(json!({
            "code": "insufficient_stock",
            "message": "not enough units",
            "productId": short.product_id,
            "available": short.available,
        })),
    }
}

pub(crate) async fn commit_stock(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    order: web::Path<Uuid>,
    body: web::Json<TenantBody>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "inventory").await {
        return refused;
    }
    if sim.lock().shop.stock.commit(body.tenant_id, *order) {
        HttpResponse::Ok().json(json!({ "orderId": *order, "status": "COMMITTED" }))
    } else {
        error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no live reservation for this order",
        )
    }
}

pub(crate) async fn allocate_stock(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    order: web::Path<Uuid>,
    body: web::Json<TenantBody>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "inventory").await {
        return refused;
    }
    match sim.lock().shop.stock.allocate(body.tenant_id, *order) {
        Some(allocation) => HttpResponse::Ok().json(allocation),
        None => error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no committed stock for this order",
        ),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RatesRequest {
    #[allow(dead_code)] // Part of the contract; one carrier serves every tenant here.
    tenant_id: Uuid,
    #[allow(dead_code)] // Rates do not depend on the destination in the simulator.
    destination: serde_json::Value,
}

pub(crate) async fn shipping_rates(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    _body: web::Json<RatesRequest>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "shipping").await {
        return refused;
    }
    let rates: Vec<_> = METHODS
        .iter()
        .map(|(method, price, days, _)| {
            json!({ "method": method, "price": price, "currency": "USD", "transitDays": days })
        })
        .collect();
    HttpResponse::Ok().json(json!({ "rates": rates }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LabelRequest {
    tenant_id: Uuid,
    order_id: Uuid,
    method: String,
    #[allow(dead_code)] // Printed on a real label; the simulator only checks it is there.
    destination: serde_json::Value,
}

pub(crate) async fn create_label(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    body: web::Json<LabelRequest>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "shipping").await {
        return refused;
    }
    let Some((_, _, _, carrier)) = METHODS.iter().find(|(m, ..)| *m == body.method) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_method",
            "no such shipping method",
        );
    };
    let mut state = sim.lock();
    let key = (body.tenant_id, body.order_id);
    if let Some(existing) = state.shop.labels.get(&key) {
        return HttpResponse::Ok().json(existing);
    }
    let tracking_number = format!("SIM{:012}", body.order_id.as_u128() % 1_000_000_000_000);
    let label = Label {
        carrier,
        label_url: format!("https://labels.simulator.invalid/{tracking_number}.pdf"),
        tracking_number,
    };
    state.shop.labels.insert(key, label.clone());
    HttpResponse::Created().json(label)
}

pub(crate) async fn notify(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    body: web::Json<Recorded>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "notifications").await {
        return refused;
    }
    let mut state = sim.lock();
    let notification = body.into_inner();
    // The same notification id twice is one notification.
    if state.shop.notified.insert(notification.id) {
        state.shop.notifications.push(notification);
    }
    HttpResponse::Accepted().finish()
}

/// `GET /_admin/notifications`: what was sent, oldest first.
pub(crate) async fn admin_notifications(sim: web::Data<Simulator>) -> HttpResponse {
    let state = sim.lock();
    HttpResponse::Ok().json(json!({ "notifications": state.shop.notifications }))
}

/// Stock per product and the reservations, for `/_admin/state`.
pub(crate) fn state_report(state: &crate::State) -> serde_json::Value {
    let stock: Vec<_> = state
        .catalog
        .products
        .iter()
        .map(|p| {
            json!({
                "productId": p.id,
                "onHand": state.shop.stock.on_hand(p.id),
                "available": state.shop.stock.available(p.id),
            })
        })
        .collect();
    json!({ "stock": stock, "reservations": state.shop.stock.reservations() })
}
