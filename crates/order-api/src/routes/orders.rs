//! `/api/v1/orders…`: the ticket buyer's routes.

use actix_web::{HttpRequest, HttpResponse, web};
use order_domain::ids::{OrderId, OrderItemId};
use order_domain::order::{OrderStatus, RefundScope};
use order_domain::ports::{OrderCursor, OrderFilter, OrderPage, OrderPageRequest};
use order_domain::use_cases::{CreateTicketOrder, TicketItemRequest};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use super::AppState;
use crate::cursor;
use crate::dto::{
    CreateOrderBody, HistoryEntry, OrderResponse, ReasonBody, RefundBody, RefundResponse, reason,
};
use crate::error::ApiError;
use crate::extract::{json, page, path_id, query, read_body};
use crate::guards::{Limit, WhenStoreDown, idempotent};

pub(super) async fn create(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.auth.user(&request)?;
    let raw = read_body(payload, state.max_body_bytes).await?;
    idempotent(
        &state,
        &request,
        &ctx,
        &raw,
        Some(Limit::per_minute("orders", state.rate_limits.orders)),
        WhenStoreDown::FailClosed,
        |idempotency| async {
            let body: CreateOrderBody = json(&request, &raw, false)?;
            let currency = body
                .currency
                .as_deref()
                .map(str::parse::<order_domain::money::Currency>)
                .transpose()
                .map_err(|_| {
                    ApiError::field("currency", "unsupported", "one of USD, EUR, GBP, CAD, AUD")
                })?;
            let metadata = crate::dto::metadata(body.metadata)?;
            let created = state
                .service
                .create_ticket_order(
                    &ctx,
                    CreateTicketOrder {
                        event_id: body.event_id,
                        items: body
                            .items
                            .iter()
                            .map(|i| TicketItemRequest {
                                ticket_type_id: i.ticket_type_id,
                                ticket_pricing_id: i.ticket_pricing_id,
                                quantity: i.quantity,
                            })
                            .collect(),
                        currency,
                        idempotency,
                        metadata,
                    },
                )
                .await?;
            let id = created.order.id();
            let mut response = HttpResponse::Created();
            response.insert_header(("location", format!("/api/v1/orders/{id}")));
            if created.replayed {
                response.insert_header(("idempotent-replayed", "true"));
            }
            Ok(response.json(OrderResponse::new(&created.order, created.client_secret)))
        },
    )
    .await
}

pub(super) async fn get(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.auth.user(&request)?;
    let id: OrderId = path_id(&path, "order")?;
    let order = state.service.get_order(&ctx, id).await?;
    Ok(HttpResponse::Ok().json(OrderResponse::new(&order, None)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
    event_id: Option<order_domain::ids::EventId>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    from: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    to: Option<OffsetDateTime>,
    limit: Option<i64>,
    offset: Option<i64>,
    cursor: Option<String>,
    /// Admin search only.
    user_id: Option<order_domain::ids::UserId>,
    /// Admin search only.
    order_number: Option<String>,
}

impl ListQuery {
    fn filter(&self) -> Result<OrderFilter, ApiError> {
        let status = self
            .status
            .as_deref()
            .map(str::parse::<OrderStatus>)
            .transpose()
            .map_err(|_| ApiError::field("query.status", "invalid", "not an order status"))?;
        Ok(OrderFilter {
            user_id: self.user_id,
            status,
            event_id: self.event_id,
            created_from: self.from,
            created_to: self.to,
            order_number: self.order_number.clone(),
        })
    }

    fn page(&self) -> Result<OrderPageRequest, ApiError> {
        let page = page(self.limit, self.offset)?;
        let after = self.cursor.as_deref().map(cursor::decode).transpose()?;
        if after.is_some() && page.offset > 0 {
            return Err(ApiError::field(
                "query.offset",
                "exclusive",
                "give either offset or cursor",
            ));
        }
        Ok(OrderPageRequest {
            limit: page.limit,
            offset: page.offset,
            after,
        })
    }
}

/// `GET /orders`: the caller's orders (a buyer's own; the tenant's for admins and warehouse).
pub(super) async fn list(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.auth.user(&request)?;
    let q: ListQuery = query(&request)?;
    if q.user_id.is_some() || q.order_number.is_some() {
        let path = if q.user_id.is_some() {
            "query.userId"
        } else {
            "query.orderNumber"
        };
        return Err(ApiError::field(
            path,
            "admin_only",
            "use GET /api/v1/admin/orders",
        ));
    }
    let page = q.page()?;
    let result = state.service.list_orders(&ctx, q.filter()?, page).await?;
    Ok(HttpResponse::Ok().json(page_json(&result, page)))
}

/// `GET /admin/orders`: the tenant-wide search (user, order number, status, event, dates).
pub(super) async fn search(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.auth.user(&request)?;
    let q: ListQuery = query(&request)?;
    let page = q.page()?;
    let result = state.service.search_orders(&ctx, q.filter()?, page).await?;
    Ok(HttpResponse::Ok().json(page_json(&result, page)))
}

/// seed 002's `{orders, pagination}` plus the keyset cursor and the estimate flag (SPEC §9).
fn page_json(result: &OrderPage, page: OrderPageRequest) -> serde_json::Value {
    json!({
        "orders": result.orders.iter().map(|o| OrderResponse::new(o, None)).collect::<Vec<_>>(),
        "pagination": {
            "total": result.total,
            "totalIsEstimate": result.total_is_estimate,
            "limit": page.limit,
            "offset": page.offset,
            "hasMore": result.has_more,
            "nextCursor": result
                .has_more
                .then(|| result.orders.last().map(|o| cursor::encode(&OrderCursor::after(o))))
                .flatten(),
        },
    })
}

pub(super) async fn reserve(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.auth.user(&request)?;
    let id: OrderId = path_id(&path, "order")?;
    let raw = read_body(payload, state.max_body_bytes).await?;
    idempotent(
        &state,
        &request,
        &ctx,
        &raw,
        Some(Limit::per_minute("reserve", state.rate_limits.reserve)),
        WhenStoreDown::FailOpen,
        |_| async {
            let order = state.service.reserve(&ctx, id).await?;
            Ok(HttpResponse::Ok().json(json!({
                "orderId": order.id(),
                "status": order.status(),
                "reservationExpiresAt": rfc3339(order.expires_at()),
                "reservedAt": order.record().milestones.reserved_at.map(rfc3339),
                "order": OrderResponse::new(&order, None),
            })))
        },
    )
    .await
}

pub(super) async fn cancel(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.auth.user(&request)?;
    let id: OrderId = path_id(&path, "order")?;
    let raw = read_body(payload, state.max_body_bytes).await?;
    idempotent(
        &state,
        &request,
        &ctx,
        &raw,
        Some(Limit::per_minute("cancel", state.rate_limits.cancel)),
        WhenStoreDown::FailOpen,
        |_| async {
            let body: ReasonBody = json(&request, &raw, true)?;
            let why = reason(body.reason, "reason", "cancelled by the customer")?;
            let outcome = state.service.cancel(&ctx, id, &why).await?;
            let refund = outcome.refund_id.and_then(|r| outcome.order.refund(r));
            Ok(HttpResponse::Ok().json(json!({
                "orderId": outcome.order.id(),
                "status": outcome.order.status(),
                "cancelledAt": outcome.order.record().milestones.cancelled_at.map(rfc3339),
                "refundStatus": refund.map_or("NONE", |r| match r.status {
                    order_domain::order::RefundStatus::Completed => "COMPLETED",
                    order_domain::order::RefundStatus::Failed => "FAILED",
                    _ => "INITIATED",
                }),
                "refund": refund.map(|r| RefundResponse::new(&outcome.order, r)),
            })))
        },
    )
    .await
}

pub(super) async fn refund(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.auth.user(&request)?;
    let id: OrderId = path_id(&path, "order")?;
    let raw = read_body(payload, state.max_body_bytes).await?;
    idempotent(
        &state,
        &request,
        &ctx,
        &raw,
        Some(Limit::per_minute("refund", state.rate_limits.refund)),
        WhenStoreDown::FailClosed,
        |_| async {
            let body: RefundBody = json(&request, &raw, true)?;
            let why = reason(body.reason, "reason", "requested by the customer")?;
            let scope = match (body.amount, body.item_ids) {
                (Some(_), Some(_)) => {
                    return Err(ApiError::field(
                        "itemIds",
                        "exclusive",
                        "give either amount or itemIds",
                    ));
                }
                (Some(amount), None) if amount <= 0 => {
                    return Err(ApiError::field(
                        "amount",
                        "out_of_range",
                        "must be positive",
                    ));
                }
                (Some(amount), None) => RefundScope::Amount(amount),
                (None, Some(items)) if items.is_empty() => {
                    return Err(ApiError::field("itemIds", "too_few", "at least one item"));
                }
                (None, Some(items)) => {
                    RefundScope::Items(items.into_iter().collect::<Vec<OrderItemId>>())
                }
                (None, None) => RefundScope::Remaining,
            };
            let (order, refund_id) = state.service.request_refund(&ctx, id, scope, &why).await?;
            let refund = order
                .refund(refund_id)
                .ok_or_else(|| ApiError::Internal("refund missing after request".into()))?;
            Ok(HttpResponse::Ok().json(RefundResponse::new(&order, refund)))
        },
    )
    .await
}

pub(super) async fn history(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.auth.user(&request)?;
    let id: OrderId = path_id(&path, "order")?;
    let entries = state.service.order_history(&ctx, id).await?;
    let events: Vec<HistoryEntry> = entries.into_iter().map(HistoryEntry::from).collect();
    Ok(HttpResponse::Ok().json(json!({ "events": events })))
}

pub(super) fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
