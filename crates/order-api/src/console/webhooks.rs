//! Webhooks in the console: the tenant's subscriptions with their figures, each one's delivery
//! log (status, attempts, the receiver's last answer and its latency), and sending a delivery
//! again — through the same use cases as `/admin/webhooks`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use order_domain::ids::{WebhookDeliveryId, WebhookId};
use serde::Deserialize;

use super::render::{acting_operator, failed_action, html, redirect, refused, when, who};
use super::session::{csrf_for, operator};
use crate::error::ApiError;
use crate::state::AppState;

/// Deliveries one log page shows.
const LOG: u32 = 50;

struct SubscriptionRow {
    id: String,
    url: String,
    events: String,
    state: String,
    pending: u64,
    delivered: u64,
    failed: u64,
}

#[derive(Template)]
#[template(path = "console/webhooks.html")]
struct WebhooksPage {
    operator: Option<String>,
    csrf: String,
    rows: Vec<SubscriptionRow>,
}

struct DeliveryRow {
    id: String,
    event_type: String,
    order_id: String,
    status: String,
    attempts: u32,
    last_status: String,
    latency: String,
    created_at: String,
}

#[derive(Template)]
#[template(path = "console/webhook.html")]
struct WebhookPage {
    operator: Option<String>,
    csrf: String,
    id: String,
    url: String,
    rows: Vec<DeliveryRow>,
}

/// Admins: the subscriptions.
#[get("/webhooks")]
pub(super) async fn subscriptions(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> HttpResponse {
    let ctx = match operator(&state, &request) {
        Ok(ctx) => ctx,
        Err(refusal) => return refused(&request, refusal),
    };
    match state.webhooks.subscriptions(&ctx).await {
        Ok(views) => {
            let (csrf, new_csrf) = csrf_for(&request);
            let page = WebhooksPage {
                operator: Some(who(&ctx.actor)),
                csrf,
                rows: views
                    .into_iter()
                    .map(|view| {
                        let s = view.subscription;
                        SubscriptionRow {
                            id: s.id.to_string(),
                            url: s.url,
                            events: if s.event_types.is_empty() {
                                "all".into()
                            } else {
                                s.event_types.join(", ")
                            },
                            state: match (s.enabled, view.stats.circuit_open) {
                                (false, _) => format!(
                                    "disabled{}",
                                    s.disabled_reason
                                        .map(|r| format!(": {r}"))
                                        .unwrap_or_default()
                                ),
                                (true, true) => "paused (receiver failing)".into(),
                                (true, false) => "enabled".into(),
                            },
                            pending: view.stats.pending,
                            delivered: view.stats.delivered,
                            failed: view.stats.failed,
                        }
                    })
                    .collect(),
            };
            html(&request, StatusCode::OK, &page, new_csrf)
        }
        Err(error) => failed_action(
            &request,
            &ctx,
            "Webhooks",
            "/console",
            ApiError::from(error),
        ),
    }
}

/// Admins: one subscription's delivery log, newest first.
#[get("/webhooks/{id}")]
pub(super) async fn deliveries(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let ctx = match operator(&state, &request) {
        Ok(ctx) => ctx,
        Err(refusal) => return refused(&request, refusal),
    };
    let loaded = async {
        let id: WebhookId = path.parse().map_err(|_| ApiError::NotFound("webhook"))?;
        let view = state.webhooks.subscription(&ctx, id).await?;
        let log = state.webhooks.deliveries(&ctx, id, None, LOG).await?;
        Ok::<_, ApiError>((view, log))
    }
    .await;
    match loaded {
        Ok((view, log)) => {
            let (csrf, new_csrf) = csrf_for(&request);
            let page = WebhookPage {
                operator: Some(who(&ctx.actor)),
                csrf,
                id: view.subscription.id.to_string(),
                url: view.subscription.url,
                rows: log
                    .into_iter()
                    .map(|entry| {
                        let last = entry.attempts.last();
                        DeliveryRow {
                            id: entry.delivery.id.to_string(),
                            event_type: entry.delivery.event_type,
                            order_id: entry.delivery.order_id.to_string(),
                            status: entry.delivery.status.as_str().to_owned(),
                            attempts: entry.delivery.attempts,
                            last_status: entry
                                .delivery
                                .last_status
                                .map_or_else(|| "none yet".into(), |s| s.to_string()),
                            latency: last
                                .map_or_else(String::new, |a| format!("{} ms", a.latency_ms)),
                            created_at: when(entry.delivery.created_at),
                        }
                    })
                    .collect(),
            };
            html(&request, StatusCode::OK, &page, new_csrf)
        }
        Err(error) => failed_action(&request, &ctx, "Webhook", "/console/webhooks", error),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct ReplayForm {
    #[serde(default)]
    csrf: String,
}

/// Admins: a delivery due again now, with the same `webhook-id`.
#[post("/webhooks/{id}/deliveries/{delivery}/replay")]
pub(super) async fn replay(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
    form: web::Form<ReplayForm>,
) -> HttpResponse {
    let ctx = match acting_operator(&state, &request, &form.csrf, "/console/webhooks").await {
        Ok(ctx) => ctx,
        Err(answer) => return *answer,
    };
    let (id, delivery) = path.into_inner();
    let replayed = async {
        let id: WebhookId = id.parse().map_err(|_| ApiError::NotFound("webhook"))?;
        let delivery: WebhookDeliveryId = delivery
            .parse()
            .map_err(|_| ApiError::NotFound("delivery"))?;
        state.webhooks.replay(&ctx, id, delivery).await?;
        Ok::<_, ApiError>(id)
    }
    .await;
    match replayed {
        Ok(id) => redirect(&format!("/console/webhooks/{id}")),
        Err(error) => failed_action(&request, &ctx, "Webhook", "/console/webhooks", error),
    }
}
