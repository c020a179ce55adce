//! The analytics page: the tenant's latest figures from the same use case as
//! `GET /admin/analytics`, with charts drawn on the server as SVG and every number written beside
//! its bar.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use order_domain::money::Money;

use super::render::{failed_action, html, money, refused, when, who};
use super::session::{csrf_for, operator};
use crate::error::ApiError;
use crate::state::AppState;

/// The widest bar, in SVG units.
const BAR_WIDTH: u64 = 360;
/// One bar's row height.
const ROW: u64 = 26;

struct Bar {
    label: String,
    value: String,
    y: u64,
    width: u64,
}

struct Chart {
    id: String,
    title: String,
    height: u64,
    bars: Vec<Bar>,
}

impl Chart {
    /// Bars of `rows` (label, size, value as written), scaled to the largest.
    fn of(
        id: impl Into<String>,
        title: impl Into<String>,
        rows: Vec<(String, u64, String)>,
    ) -> Self {
        let largest = rows
            .iter()
            .map(|(_, size, _)| *size)
            .max()
            .unwrap_or(0)
            .max(1);
        let bars: Vec<Bar> = rows
            .into_iter()
            .enumerate()
            .map(|(n, (label, size, value))| Bar {
                label,
                value,
                y: n as u64 * ROW,
                width: size * BAR_WIDTH / largest,
            })
            .collect();
        Self {
            id: id.into(),
            title: title.into(),
            height: (bars.len() as u64 * ROW).max(ROW),
            bars,
        }
    }
}

struct RevenueRow {
    currency: String,
    paid_orders: u64,
    gross: String,
    refunded: String,
    net: String,
    average: String,
}

#[derive(Template)]
#[template(path = "console/analytics.html")]
struct AnalyticsPage {
    operator: Option<String>,
    csrf: String,
    window_start: String,
    computed_at: String,
    total_orders: u64,
    conversion: String,
    cancellation_rate: String,
    refund_rate: String,
    charts: Vec<Chart>,
    revenue: Vec<RevenueRow>,
}

/// Basis points as a percentage with two decimals.
fn percent(bps: u32) -> String {
    format!("{}.{:02} %", bps / 100, bps % 100)
}

/// Admins: the figures, as `GET /admin/analytics` answers them.
#[get("/analytics")]
pub(super) async fn figures(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    let ctx = match operator(&state, &request) {
        Ok(ctx) => ctx,
        Err(refusal) => return refused(&request, refusal),
    };
    let figures = match state.service.analytics(&ctx, state.analytics_window).await {
        Ok(figures) => figures,
        Err(error) => {
            return failed_action(
                &request,
                &ctx,
                "Analytics",
                "/console",
                ApiError::UseCase(error),
            );
        }
    };
    let statuses = figures
        .status_breakdown
        .iter()
        .map(|(status, count)| (status.as_str().to_owned(), *count, count.to_string()))
        .collect();
    let events = figures
        .top_events
        .iter()
        .map(|event| {
            (
                // The id's first block names the event well enough beside its bar.
                format!("event {}…", &event.event_id.to_string()[..8]),
                u64::try_from(event.revenue).unwrap_or(0),
                format!(
                    "{} ({} orders)",
                    money(Money::new(event.revenue, event.currency)),
                    event.paid_orders
                ),
            )
        })
        .collect();
    let mut charts = vec![
        Chart::of("statuses", "Orders by status", statuses),
        Chart::of("events", "Top events by revenue", events),
    ];
    // One chart per currency: amounts of two currencies share no scale.
    let mut currencies: Vec<_> = figures.revenue_by_day.iter().map(|d| d.currency).collect();
    currencies.sort_by_key(|c| c.code());
    currencies.dedup();
    for currency in currencies {
        let days = figures
            .revenue_by_day
            .iter()
            .filter(|d| d.currency == currency)
            .map(|d| {
                (
                    d.day.to_string(),
                    u64::try_from(d.gross).unwrap_or(0),
                    format!(
                        "{} ({} orders)",
                        money(Money::new(d.gross, d.currency)),
                        d.paid_orders
                    ),
                )
            })
            .collect();
        charts.push(Chart::of(
            format!("revenue-{}", currency.code().to_lowercase()),
            format!("Revenue per day, {} (UTC days of payment)", currency.code()),
            days,
        ));
    }
    let (csrf, new_csrf) = csrf_for(&request);
    let page = AnalyticsPage {
        operator: Some(who(&ctx.actor)),
        csrf,
        window_start: when(figures.window_start),
        computed_at: when(figures.computed_at),
        total_orders: figures.total_orders,
        conversion: format!(
            "{} ({} of {})",
            percent(figures.conversion.rate_bps),
            figures.conversion.confirmed,
            figures.conversion.reserved
        ),
        cancellation_rate: percent(figures.cancellation_rate_bps),
        refund_rate: percent(figures.refund_rate_bps),
        charts,
        revenue: figures
            .revenue_by_currency
            .iter()
            .map(|row| RevenueRow {
                currency: row.currency.to_string(),
                paid_orders: row.paid_orders,
                gross: money(Money::new(row.gross, row.currency)),
                refunded: money(Money::new(row.refunded, row.currency)),
                net: money(Money::new(row.net, row.currency)),
                average: money(Money::new(row.average_order_value, row.currency)),
            })
            .collect(),
    };
    html(&request, StatusCode::OK, &page, new_csrf)
}
