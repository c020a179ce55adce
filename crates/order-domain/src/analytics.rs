//! Order analytics per tenant (the shop's dashboard, the ticketing API's metrics job): average
//! order value, conversion from reserved to confirmed, top events by revenue, status breakdown,
//! revenue by currency and per day, cancellation and refund rates.
//!
//! Storage counts and sums ([`OrderStats`]); this module derives the figures ([`Analytics`]).
//! Money stays in integer minor units per currency (never summed across currencies); rates are
//! integer basis points (1 % = 100), rounded half up.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::ids::EventId;
use crate::money::Currency;
use crate::order::OrderStatus;

/// How many events [`Analytics::top_events`] lists.
pub const TOP_EVENTS: usize = 10;

/// Raw counts over the orders created since `window_start`, as storage reads them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderStats {
    /// Orders per status.
    pub by_status: BTreeMap<OrderStatus, u64>,
    /// Orders that were ever RESERVED.
    pub reserved: u64,
    /// Of those, orders that were then CONFIRMED (paid).
    pub reserved_then_confirmed: u64,
    /// Paid orders per currency.
    pub revenue: Vec<CurrencyTotals>,
    /// Paid ticket orders per event.
    pub events: Vec<EventTotals>,
    /// Paid orders per UTC day of payment and currency.
    pub daily_revenue: Vec<DailyRevenue>,
}

/// Paid orders of one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrencyTotals {
    /// The currency.
    pub currency: Currency,
    /// Orders that were paid (reached CONFIRMED).
    pub paid_orders: u64,
    /// Sum of their totals, minor units.
    pub gross: i64,
    /// Completed refunds on them, minor units.
    pub refunded: i64,
    /// Paid orders with at least one completed refund.
    pub refunded_orders: u64,
}

/// Paid ticket orders of one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventTotals {
    /// The event.
    pub event_id: EventId,
    /// Its currency.
    pub currency: Currency,
    /// Paid orders.
    pub paid_orders: u64,
    /// Sum of their totals minus completed refunds, minor units.
    pub revenue: i64,
}

/// What was paid on one UTC day in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DailyRevenue {
    /// The day the orders were paid (CONFIRMED), in UTC.
    pub day: Date,
    /// The currency.
    pub currency: Currency,
    /// Orders paid that day.
    pub paid_orders: u64,
    /// Sum of their totals, minor units (refunds count on the figures by currency, not here: they
    /// happen on other days).
    pub gross: i64,
}

/// Revenue of one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrencyRevenue {
    /// The currency.
    pub currency: Currency,
    /// Paid orders.
    pub paid_orders: u64,
    /// Sum of paid totals, minor units.
    pub gross: i64,
    /// Completed refunds, minor units.
    pub refunded: i64,
    /// `gross − refunded`, minor units.
    pub net: i64,
    /// `gross / paid_orders`, minor units, rounded half up (0 without orders).
    pub average_order_value: i64,
}

/// Reserved → confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversion {
    /// Orders ever RESERVED.
    pub reserved: u64,
    /// Of those, paid.
    pub confirmed: u64,
    /// `confirmed / reserved`, basis points.
    pub rate_bps: u32,
}

/// One tenant's figures over a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Analytics {
    /// Orders created since then count.
    #[serde(with = "time::serde::rfc3339")]
    pub window_start: OffsetDateTime,
    /// When these figures were computed.
    #[serde(with = "time::serde::rfc3339")]
    pub computed_at: OffsetDateTime,
    /// Orders created in the window.
    pub total_orders: u64,
    /// Orders per status (every status listed).
    pub status_breakdown: BTreeMap<OrderStatus, u64>,
    /// Paid revenue and average order value per currency.
    pub revenue_by_currency: Vec<CurrencyRevenue>,
    /// Reserved → confirmed.
    pub conversion: Conversion,
    /// CANCELLED orders / all orders, basis points.
    pub cancellation_rate_bps: u32,
    /// Paid orders with a completed refund / paid orders, basis points.
    pub refund_rate_bps: u32,
    /// The [`TOP_EVENTS`] events with the highest net revenue (per currency, highest first).
    pub top_events: Vec<EventTotals>,
    /// Paid revenue per UTC day and currency, by day then currency (snapshots from before it
    /// was kept have none).
    #[serde(default)]
    pub revenue_by_day: Vec<DailyRevenue>,
}

impl Analytics {
    /// Derives the figures from `stats`.
    pub fn from_stats(
        stats: OrderStats,
        window_start: OffsetDateTime,
        computed_at: OffsetDateTime,
    ) -> Self {
        let mut status_breakdown: BTreeMap<OrderStatus, u64> =
            OrderStatus::ALL.iter().map(|s| (*s, 0)).collect();
        for (status, count) in &stats.by_status {
            status_breakdown.insert(*status, *count);
        }
        let total_orders: u64 = status_breakdown.values().sum();
        let cancelled = status_breakdown
            .get(&OrderStatus::Cancelled)
            .copied()
            .unwrap_or(0);
        let paid: u64 = stats.revenue.iter().map(|c| c.paid_orders).sum();
        let refunded_orders: u64 = stats.revenue.iter().map(|c| c.refunded_orders).sum();
        let mut revenue_by_currency: Vec<CurrencyRevenue> = stats
            .revenue
            .iter()
            .map(|c| CurrencyRevenue {
                currency: c.currency,
                paid_orders: c.paid_orders,
                gross: c.gross,
                refunded: c.refunded,
                net: c.gross.saturating_sub(c.refunded),
                average_order_value: average(c.gross, c.paid_orders),
            })
            .collect();
        revenue_by_currency.sort_by_key(|c| c.currency.code());
        let mut top_events = stats.events;
        top_events.sort_by(|a, b| {
            b.revenue
                .cmp(&a.revenue)
                .then_with(|| a.event_id.as_uuid().cmp(b.event_id.as_uuid()))
        });
        top_events.truncate(TOP_EVENTS);
        let mut revenue_by_day = stats.daily_revenue;
        revenue_by_day.sort_by_key(|d| (d.day, d.currency.code()));
        Self {
            window_start,
            computed_at,
            total_orders,
            status_breakdown,
            revenue_by_currency,
            conversion: Conversion {
                reserved: stats.reserved,
                confirmed: stats.reserved_then_confirmed,
                rate_bps: basis_points(stats.reserved_then_confirmed, stats.reserved),
            },
            cancellation_rate_bps: basis_points(cancelled, total_orders),
            refund_rate_bps: basis_points(refunded_orders, paid),
            top_events,
            revenue_by_day,
        }
    }
}

/// `part / whole` in basis points, rounded half up; 0 when `whole` is 0.
pub fn basis_points(part: u64, whole: u64) -> u32 {
    if whole == 0 {
        return 0;
    }
    let scaled = u128::from(part) * 10_000;
    let rounded = (scaled * 2 + u128::from(whole)) / (u128::from(whole) * 2);
    u32::try_from(rounded).unwrap_or(u32::MAX)
}

/// `sum / count` rounded half up (minor units); 0 when `count` is 0.
fn average(sum: i64, count: u64) -> i64 {
    if count == 0 {
        return 0;
    }
    let count = i128::from(count);
    let sum = i128::from(sum);
    let rounded = (sum * 2 + count).div_euclid(count * 2);
    i64::try_from(rounded).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;

    const T0: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

    fn event(n: u128, revenue: i64) -> EventTotals {
        EventTotals {
            event_id: EventId::from_uuid(Uuid::from_u128(n)),
            currency: Currency::Usd,
            paid_orders: 1,
            revenue,
        }
    }

    #[test]
    fn figures_are_derived_with_integer_money_and_basis_points() {
        let stats = OrderStats {
            by_status: BTreeMap::from([
                (OrderStatus::Confirmed, 2),
                (OrderStatus::Cancelled, 1),
                (OrderStatus::Expired, 3),
            ]),
            reserved: 6,
            reserved_then_confirmed: 2,
            revenue: vec![
                CurrencyTotals {
                    currency: Currency::Usd,
                    paid_orders: 3,
                    gross: 23_370 + 23_370 + 11_686,
                    refunded: 22_840,
                    refunded_orders: 1,
                },
                CurrencyTotals {
                    currency: Currency::Eur,
                    paid_orders: 0,
                    gross: 0,
                    refunded: 0,
                    refunded_orders: 0,
                },
            ],
            events: vec![event(1, 100), event(2, 300), event(3, 200)],
            daily_revenue: Vec::new(),
        };
        let analytics = Analytics::from_stats(stats, T0, T0);
        assert_eq!(analytics.total_orders, 6);
        assert_eq!(analytics.status_breakdown.len(), 10, "every status listed");
        assert_eq!(analytics.status_breakdown[&OrderStatus::Pending], 0);
        let usd = &analytics.revenue_by_currency[1];
        assert_eq!(usd.currency, Currency::Usd);
        assert_eq!(usd.net, 58_426 - 22_840);
        // 58 426 / 3 = 19 475.33… → 19 475
        assert_eq!(usd.average_order_value, 19_475);
        assert_eq!(analytics.revenue_by_currency[0].average_order_value, 0);
        assert_eq!(analytics.conversion.rate_bps, 3_333);
        assert_eq!(analytics.cancellation_rate_bps, 1_667);
        assert_eq!(analytics.refund_rate_bps, 3_333);
        let top: Vec<i64> = analytics.top_events.iter().map(|e| e.revenue).collect();
        assert_eq!(top, [300, 200, 100]);
    }

    #[test]
    fn revenue_per_day_is_listed_by_day_then_currency_and_old_snapshots_have_none() {
        let day = |d: u8, currency: Currency, gross: i64| DailyRevenue {
            day: time::Date::from_calendar_date(2026, time::Month::December, d).expect("a day"),
            currency,
            paid_orders: 1,
            gross,
        };
        let stats = OrderStats {
            daily_revenue: vec![
                day(7, Currency::Usd, 300),
                day(6, Currency::Usd, 100),
                day(7, Currency::Eur, 200),
            ],
            ..OrderStats::default()
        };
        let analytics = Analytics::from_stats(stats, T0, T0);
        assert_eq!(
            analytics.revenue_by_day,
            [
                day(6, Currency::Usd, 100),
                day(7, Currency::Eur, 200),
                day(7, Currency::Usd, 300)
            ]
        );
        let mut stored = serde_json::to_value(&analytics).expect("json");
        stored
            .as_object_mut()
            .expect("an object")
            .remove("revenueByDay");
        let old: Analytics = serde_json::from_value(stored).expect("an older snapshot reads");
        assert!(old.revenue_by_day.is_empty());
    }

    #[test]
    fn only_the_top_ten_events_are_kept() {
        let stats = OrderStats {
            events: (0..15)
                .map(|n| event(n, i64::try_from(n).expect("small")))
                .collect(),
            ..OrderStats::default()
        };
        let analytics = Analytics::from_stats(stats, T0, T0);
        assert_eq!(analytics.top_events.len(), TOP_EVENTS);
        assert_eq!(analytics.top_events[0].revenue, 14);
    }

    #[test]
    fn rates_round_half_up_and_survive_empty_windows() {
        assert_eq!(basis_points(1, 3), 3_333);
        assert_eq!(basis_points(2, 3), 6_667);
        assert_eq!(basis_points(1, 8), 1_250);
        assert_eq!(basis_points(0, 0), 0);
        assert_eq!(basis_points(u64::MAX, u64::MAX), 10_000);
        assert_eq!(average(5, 2), 3);
        assert_eq!(average(i64::MAX, 1), i64::MAX);
        let empty = Analytics::from_stats(OrderStats::default(), T0, T0);
        assert_eq!(empty.total_orders, 0);
        assert_eq!(empty.conversion.rate_bps, 0);
    }
}
