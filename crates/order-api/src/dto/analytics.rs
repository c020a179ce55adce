//! The analytics answer (`GET /api/v1/admin/analytics`): the domain's figures in minor units and
//! basis points.

use std::collections::BTreeMap;

use order_domain::analytics::Analytics;
use order_domain::ids::EventId;
use order_domain::order::OrderStatus;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::schemas::CurrencySchema;

/// `GET /admin/analytics`: figures over the orders created since `windowStart`; money in minor
/// units per currency, rates in basis points (1 % = 100).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Analytics)]
pub struct AnalyticsResponse {
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    window_start: OffsetDateTime,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    computed_at: OffsetDateTime,
    total_orders: u64,
    /// Orders per status (every status listed).
    #[schema(value_type = BTreeMap<String, u64>)]
    status_breakdown: BTreeMap<OrderStatus, u64>,
    revenue_by_currency: Vec<CurrencyRevenueBody>,
    conversion: ConversionBody,
    cancellation_rate_bps: u32,
    refund_rate_bps: u32,
    top_events: Vec<EventRevenueBody>,
    /// What was paid per UTC day and currency (by day, then currency); refunds count in
    /// `revenueByCurrency`, on their own days.
    revenue_by_day: Vec<DailyRevenueBody>,
}

/// What was paid on one UTC day in one currency.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DailyRevenue)]
pub struct DailyRevenueBody {
    /// `YYYY-MM-DD`, UTC.
    #[schema(value_type = String, format = Date)]
    day: String,
    #[schema(value_type = CurrencySchema)]
    currency: &'static str,
    paid_orders: u64,
    /// Minor units.
    gross: i64,
}

/// Paid revenue of one currency.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CurrencyRevenue)]
pub struct CurrencyRevenueBody {
    #[schema(value_type = CurrencySchema)]
    currency: &'static str,
    paid_orders: u64,
    gross: i64,
    refunded: i64,
    net: i64,
    average_order_value: i64,
}

/// Reserved → confirmed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Conversion)]
pub struct ConversionBody {
    reserved: u64,
    confirmed: u64,
    rate_bps: u32,
}

/// One of the top events by net revenue.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = EventRevenue)]
pub struct EventRevenueBody {
    #[schema(value_type = uuid::Uuid)]
    event_id: EventId,
    #[schema(value_type = CurrencySchema)]
    currency: &'static str,
    paid_orders: u64,
    revenue: i64,
}

impl From<Analytics> for AnalyticsResponse {
    fn from(a: Analytics) -> Self {
        Self {
            window_start: a.window_start,
            computed_at: a.computed_at,
            total_orders: a.total_orders,
            status_breakdown: a.status_breakdown,
            revenue_by_currency: a
                .revenue_by_currency
                .iter()
                .map(|c| CurrencyRevenueBody {
                    currency: c.currency.code(),
                    paid_orders: c.paid_orders,
                    gross: c.gross,
                    refunded: c.refunded,
                    net: c.net,
                    average_order_value: c.average_order_value,
                })
                .collect(),
            conversion: ConversionBody {
                reserved: a.conversion.reserved,
                confirmed: a.conversion.confirmed,
                rate_bps: a.conversion.rate_bps,
            },
            cancellation_rate_bps: a.cancellation_rate_bps,
            refund_rate_bps: a.refund_rate_bps,
            top_events: a
                .top_events
                .iter()
                .map(|e| EventRevenueBody {
                    event_id: e.event_id,
                    currency: e.currency.code(),
                    paid_orders: e.paid_orders,
                    revenue: e.revenue,
                })
                .collect(),
            revenue_by_day: a
                .revenue_by_day
                .iter()
                .map(|d| DailyRevenueBody {
                    day: d.day.to_string(),
                    currency: d.currency.code(),
                    paid_orders: d.paid_orders,
                    gross: d.gross,
                })
                .collect(),
        }
    }
}
