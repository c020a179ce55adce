//! The warehouse queue: confirmed goods orders → start (the pick list) → ship → deliver, through
//! the same use cases as `POST /orders/{id}/fulfillment/…`, for warehouse staff and admins.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use order_domain::actor::RequestContext;
use order_domain::ids::OrderId;
use order_domain::order::{ItemProduct, OrderStatus};
use order_domain::use_cases::ManualShipment;
use serde::Deserialize;

use super::render::{
    acting_operator, failed_action, html, message, problem_text, redirect, refused, who,
};
use super::session::{csrf_for, operator};
use crate::dto::ShipBody;
use crate::error::ApiError;
use crate::state::AppState;

/// The queue, where every step's page leads back to.
const QUEUE: &str = "/console/warehouse";

/// The queue's steps, in order.
const STEPS: [OrderStatus; 3] = [
    OrderStatus::Confirmed,
    OrderStatus::Processing,
    OrderStatus::Shipped,
];

struct QueueRow {
    id: String,
    number: String,
    lines: String,
}

#[derive(Template)]
#[template(path = "console/warehouse.html")]
struct WarehousePage {
    operator: Option<String>,
    csrf: String,
    statuses: Vec<&'static str>,
    status: &'static str,
    rows: Vec<QueueRow>,
}

struct PickRow {
    location: String,
    product: String,
    quantity: u32,
}

#[derive(Template)]
#[template(path = "console/pick_list.html")]
struct PickListPage {
    operator: Option<String>,
    csrf: String,
    number: String,
    warehouse: String,
    picks: Vec<PickRow>,
}

#[derive(Debug, Deserialize)]
pub(super) struct StepQuery {
    #[serde(default)]
    status: String,
}

/// The orders at one step (CONFIRMED unless another is asked for).
#[get("/warehouse")]
pub(super) async fn queue(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<StepQuery>,
) -> HttpResponse {
    let ctx = match operator(&state, &request) {
        Ok(ctx) => ctx,
        Err(refusal) => return refused(&request, refusal),
    };
    let status = query
        .status
        .parse::<OrderStatus>()
        .ok()
        .filter(|s| STEPS.contains(s))
        .unwrap_or(OrderStatus::Confirmed);
    let listed = async {
        let page = crate::routes::order_page(Some(50), None, None)?;
        Ok::<_, ApiError>(state.service.fulfillment_queue(&ctx, status, page).await?)
    }
    .await;
    match listed {
        Ok(found) => {
            let (csrf, new_csrf) = csrf_for(&request);
            let page = WarehousePage {
                operator: Some(who(&ctx.actor)),
                csrf,
                statuses: STEPS.iter().map(|s| s.as_str()).collect(),
                status: status.as_str(),
                rows: found
                    .orders
                    .iter()
                    .map(|order| QueueRow {
                        id: order.id().to_string(),
                        number: order.number().to_string(),
                        lines: order
                            .items()
                            .iter()
                            .map(|item| match &item.product {
                                ItemProduct::Goods { name, .. } => {
                                    format!("{} × {name}", item.quantity)
                                }
                                ItemProduct::Ticket { .. } => format!("{} × ticket", item.quantity),
                            })
                            .collect::<Vec<_>>()
                            .join(", "),
                    })
                    .collect(),
            };
            html(&request, StatusCode::OK, &page, new_csrf)
        }
        Err(error) => {
            let (status, text) = problem_text(error);
            message(&request, Some(&ctx), status, "Warehouse", &text, "/console")
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StepForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    carrier: String,
    #[serde(default)]
    tracking_number: String,
}

fn failed(request: &HttpRequest, ctx: &RequestContext, error: ApiError) -> HttpResponse {
    failed_action(request, ctx, "Warehouse", QUEUE, error)
}

fn order_id(path: &str) -> Result<OrderId, ApiError> {
    path.parse().map_err(|_| ApiError::NotFound("order"))
}

/// CONFIRMED → PROCESSING: the stock is allocated; the pick list is shown, ready to print.
#[post("/warehouse/{id}/start")]
pub(super) async fn start(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    form: web::Form<StepForm>,
) -> HttpResponse {
    let ctx = match acting_operator(&state, &request, &form.csrf, QUEUE).await {
        Ok(ctx) => ctx,
        Err(answer) => return *answer,
    };
    let started = async {
        let id = order_id(&path)?;
        Ok::<_, ApiError>(state.service.start_fulfillment(&ctx, id).await?)
    }
    .await;
    match started {
        Ok((order, allocation)) => {
            let (csrf, new_csrf) = csrf_for(&request);
            let names = |product| {
                order
                    .items()
                    .iter()
                    .find_map(|item| match &item.product {
                        ItemProduct::Goods {
                            product_id, name, ..
                        } if *product_id == product => Some(name.clone()),
                        _ => None,
                    })
                    .unwrap_or_else(|| product.to_string())
            };
            let page = PickListPage {
                operator: Some(who(&ctx.actor)),
                csrf,
                number: order.number().to_string(),
                warehouse: allocation.warehouse.clone(),
                picks: allocation
                    .picks
                    .iter()
                    .map(|pick| PickRow {
                        location: pick.location.clone(),
                        product: names(pick.product_id),
                        quantity: pick.quantity,
                    })
                    .collect(),
            };
            html(&request, StatusCode::OK, &page, new_csrf)
        }
        Err(error) => failed(&request, &ctx, error),
    }
}

/// PROCESSING → SHIPPED, with the warehouse's carrier and tracking number or a label the
/// shipping service makes.
#[post("/warehouse/{id}/ship")]
pub(super) async fn ship(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    form: web::Form<StepForm>,
) -> HttpResponse {
    let ctx = match acting_operator(&state, &request, &form.csrf, QUEUE).await {
        Ok(ctx) => ctx,
        Err(answer) => return *answer,
    };
    let optional = |text: &str| {
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_owned())
    };
    let shipped = async {
        let id = order_id(&path)?;
        let manual: Option<ManualShipment> = ShipBody {
            carrier: optional(&form.carrier),
            tracking_number: optional(&form.tracking_number),
        }
        .manual()?;
        Ok::<_, ApiError>(state.service.ship(&ctx, id, manual).await?)
    }
    .await;
    match shipped {
        Ok(_) => redirect("/console/warehouse?status=SHIPPED"),
        Err(error) => failed(&request, &ctx, error),
    }
}

/// SHIPPED → DELIVERED.
#[post("/warehouse/{id}/deliver")]
pub(super) async fn deliver(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    form: web::Form<StepForm>,
) -> HttpResponse {
    let ctx = match acting_operator(&state, &request, &form.csrf, QUEUE).await {
        Ok(ctx) => ctx,
        Err(answer) => return *answer,
    };
    let delivered = async {
        let id = order_id(&path)?;
        Ok::<_, ApiError>(state.service.deliver(&ctx, id).await?)
    }
    .await;
    match delivered {
        Ok(_) => redirect("/console/warehouse?status=SHIPPED"),
        Err(error) => failed(&request, &ctx, error),
    }
}
