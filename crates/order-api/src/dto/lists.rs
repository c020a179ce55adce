//! Pages of orders: the orders, the keyset cursor and how exact the total is, and the list's
//! summary of what the matching orders came to.

use order_domain::order::Order;
use order_domain::ports::{OrderCursor, OrderPage, OrderPageRequest, OrderSummary};
use serde::Serialize;
use utoipa::ToSchema;

use super::OrderResponse;
use crate::cursor;

/// the ticketing API's `{orders, pagination}` plus the keyset cursor and the estimate flag
/// (docs/product/routes.md).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OrderPage)]
pub struct OrderPageResponse {
    orders: Vec<OrderResponse>,
    pagination: Pagination,
    summary: ListSummary,
}

/// the shop's `summary` of the matching orders (the same orders `pagination.total` counts), in
/// minor units.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListSummary {
    /// Matching orders (as `pagination.total`).
    total_orders: u64,
    /// What the paid, not fully refunded orders of `currency` came to.
    total_spent: i64,
    /// `totalSpent` per matching order of `currency`, rounded half up.
    average_order_value: i64,
    /// The currency of the newest matching order; orders in others are not in the amounts.
    /// Absent when nothing matches.
    #[schema(value_type = Option<String>, example = "USD")]
    currency: Option<&'static str>,
}

impl ListSummary {
    fn new(summary: &OrderSummary) -> Self {
        Self {
            total_orders: summary.orders,
            total_spent: summary.spent.map_or(0, |m| m.minor()),
            average_order_value: summary.average.map_or(0, |m| m.minor()),
            currency: summary.spent.map(|m| m.currency().code()),
        }
    }
}

/// Where a page is in the list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    /// Exact up to 1000 matching orders; above, 1000 with `totalIsEstimate`.
    total: u64,
    total_is_estimate: bool,
    limit: u32,
    offset: u32,
    has_more: bool,
    /// Pass as `cursor` for the next page.
    next_cursor: Option<String>,
}

impl OrderPageResponse {
    /// The API view of `result`, asked for as `page`.
    pub fn new(result: &OrderPage, page: OrderPageRequest) -> Self {
        Self::with_view(result, page, |o| OrderResponse::new(o, None))
    }

    /// The warehouse's view of `result` (see [`OrderResponse::for_warehouse`]).
    pub fn for_warehouse(result: &OrderPage, page: OrderPageRequest) -> Self {
        Self::with_view(result, page, |o| {
            OrderResponse::new(o, None).for_warehouse()
        })
    }

    fn with_view(
        result: &OrderPage,
        page: OrderPageRequest,
        view: impl Fn(&Order) -> OrderResponse,
    ) -> Self {
        Self {
            orders: result.orders.iter().map(view).collect(),
            pagination: Pagination {
                total: result.total,
                total_is_estimate: result.total_is_estimate,
                limit: page.limit,
                offset: page.offset,
                has_more: result.has_more,
                next_cursor: result
                    .has_more
                    .then(|| {
                        result
                            .orders
                            .last()
                            .map(|o| cursor::encode(&OrderCursor::after(o)))
                    })
                    .flatten(),
            },
            summary: ListSummary::new(&result.summary),
        }
    }
}
