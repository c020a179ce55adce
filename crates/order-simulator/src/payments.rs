//! The payment service: intents that lapse unless confirmed, confirmation, cancellation,
//! refunds once per refund id, and the admin endpoints that force a late success or a failure.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Simulator, error};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum PaymentStatus {
    RequiresConfirmation,
    Succeeded,
    Canceled,
    Failed,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Payment {
    pub(crate) id: String,
    pub(crate) tenant_id: Uuid,
    pub(crate) order_id: Uuid,
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) status: PaymentStatus,
    /// An intent not confirmed by then is canceled by the simulator.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub(crate) expires_at: Option<OffsetDateTime>,
    pub(crate) refunds: Vec<PaymentRefund>,
    /// Set by `POST /_admin/payments/{intent}/decline`: the card is refused at confirmation.
    pub(crate) declines: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PaymentRefund {
    pub(crate) refund_id: Uuid,
    pub(crate) amount: i64,
    pub(crate) reference: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IntentRequest {
    pub(crate) tenant_id: Uuid,
    pub(crate) order_id: Uuid,
    pub(crate) amount: i64,
    pub(crate) currency: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub(crate) expires_at: Option<OffsetDateTime>,
}

pub(crate) fn payment_json(payment: &Payment) -> serde_json::Value {
    json!({
        "id": payment.id,
        "clientSecret": format!("{}_secret", payment.id),
        "status": payment.status,
        "amount": payment.amount,
        "currency": payment.currency,
    })
}

pub(crate) async fn create_intent(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    body: web::Json<IntentRequest>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "payments").await {
        return refused;
    }
    if body.amount <= 0 {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_amount",
            "amount must be positive",
        );
    }
    let key = request
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut state = sim.lock();
    if let Some(existing) = key
        .as_ref()
        .and_then(|k| state.intent_keys.get(k))
        .and_then(|id| state.payments.get(id))
    {
        return HttpResponse::Ok().json(payment_json(existing));
    }
    let payment = Payment {
        id: format!("pi_{}", Uuid::new_v4().simple()),
        tenant_id: body.tenant_id,
        order_id: body.order_id,
        amount: body.amount,
        currency: body.currency.clone(),
        status: PaymentStatus::RequiresConfirmation,
        expires_at: body.expires_at,
        refunds: Vec::new(),
        declines: false,
    };
    let response = payment_json(&payment);
    if let Some(key) = key {
        state.intent_keys.insert(key, payment.id.clone());
    }
    state.add_payment(payment);
    HttpResponse::Created().json(response)
}

pub(crate) async fn confirm_intent(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "payments").await {
        return refused;
    }
    let mut state = sim.lock();
    match state.payments.get_mut(path.as_str()) {
        Some(p) if p.status == PaymentStatus::Succeeded => HttpResponse::Ok().json(payment_json(p)),
        Some(p) if p.declines => error(
            StatusCode::PAYMENT_REQUIRED,
            "card_declined",
            "the card was declined",
        ),
        Some(p) if p.status != PaymentStatus::Canceled => {
            p.status = PaymentStatus::Succeeded;
            sim.payment_message("payment.succeeded", p, succeeded_data(p));
            HttpResponse::Ok().json(payment_json(p))
        }
        Some(_) => error(
            StatusCode::CONFLICT,
            "payment_canceled",
            "the intent was canceled",
        ),
        None => error(StatusCode::NOT_FOUND, "not_found", "no such payment intent"),
    }
}

pub(crate) async fn cancel_intent(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "payments").await {
        return refused;
    }
    let mut state = sim.lock();
    match state.payments.get_mut(path.as_str()) {
        Some(p) if p.status == PaymentStatus::Succeeded => error(
            StatusCode::CONFLICT,
            "payment_succeeded",
            "a paid intent is refunded, not canceled",
        ),
        Some(p) => {
            p.status = PaymentStatus::Canceled;
            HttpResponse::Ok().json(payment_json(p))
        }
        None => error(StatusCode::NOT_FOUND, "not_found", "no such payment intent"),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RefundRequest {
    pub(crate) refund_id: Uuid,
    pub(crate) amount: i64,
}

pub(crate) async fn refund_intent(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    path: web::Path<String>,
    body: web::Json<RefundRequest>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "payments").await {
        return refused;
    }
    let mut state = sim.lock();
    let Some(payment) = state.payments.get_mut(path.as_str()) else {
        return error(StatusCode::NOT_FOUND, "not_found", "no such payment intent");
    };
    // The refund id is the idempotency key: the same refund is never paid twice.
    if let Some(done) = payment
        .refunds
        .iter()
        .find(|r| r.refund_id == body.refund_id)
    {
        return HttpResponse::Ok()
            .json(json!({ "reference": done.reference, "amount": done.amount }));
    }
    if payment.status != PaymentStatus::Succeeded {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_paid",
            "only a paid intent can be refunded",
        );
    }
    let refunded: i64 = payment.refunds.iter().map(|r| r.amount).sum();
    if body.amount <= 0 || refunded + body.amount > payment.amount {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "refund_exceeds_payment",
            "refunds would exceed the payment",
        );
    }
    let reference = format!("re_{}", Uuid::new_v4().simple());
    payment.refunds.push(PaymentRefund {
        refund_id: body.refund_id,
        amount: body.amount,
        reference: reference.clone(),
    });
    HttpResponse::Created().json(json!({ "reference": reference, "amount": body.amount }))
}

pub(crate) fn succeeded_data(payment: &Payment) -> serde_json::Value {
    json!({
        "paymentIntentId": payment.id,
        "amount": payment.amount,
        "currency": payment.currency,
    })
}

/// The buyer paid outside our service (e.g. in the browser), possibly after the intent was
/// canceled: the late payment of decision 0015. Announces `payment.succeeded`.
pub(crate) async fn admin_succeed_payment(
    sim: web::Data<Simulator>,
    path: web::Path<String>,
) -> HttpResponse {
    let mut state = sim.lock();
    match state.payments.get_mut(path.as_str()) {
        Some(p) => {
            p.status = PaymentStatus::Succeeded;
            sim.payment_message("payment.succeeded", p, succeeded_data(p));
            HttpResponse::Ok().json(payment_json(p))
        }
        None => error(StatusCode::NOT_FOUND, "not_found", "no such payment intent"),
    }
}

/// The payment failed for good. Announces `payment.failed`.
pub(crate) async fn admin_fail_payment(
    sim: web::Data<Simulator>,
    path: web::Path<String>,
) -> HttpResponse {
    let mut state = sim.lock();
    match state.payments.get_mut(path.as_str()) {
        Some(p) if p.status != PaymentStatus::Succeeded => {
            p.status = PaymentStatus::Failed;
            let data = json!({ "paymentIntentId": p.id, "reason": "card_declined" });
            sim.payment_message("payment.failed", p, data);
            HttpResponse::Ok().json(payment_json(p))
        }
        Some(_) => error(
            StatusCode::CONFLICT,
            "payment_succeeded",
            "the intent is already paid",
        ),
        None => error(StatusCode::NOT_FOUND, "not_found", "no such payment intent"),
    }
}

/// `POST /_admin/payments/{intent}/decline`: the buyer's card will be declined when the intent is
/// confirmed (the shop's decline path).
pub(crate) async fn admin_decline_payment(
    sim: web::Data<Simulator>,
    path: web::Path<String>,
) -> HttpResponse {
    let mut state = sim.lock();
    match state.payments.get_mut(path.as_str()) {
        Some(p) => {
            p.declines = true;
            HttpResponse::Ok().json(payment_json(p))
        }
        None => error(StatusCode::NOT_FOUND, "not_found", "no such payment intent"),
    }
}

/// `GET /payments/intents/{intent}`: what the payment service holds for reconciliation — the
/// amount captured (0 unless paid) and every payout by refund id.
pub(crate) async fn get_intent(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    if let Some(refused) = sim.admit(&request, "payments").await {
        return refused;
    }
    let state = sim.lock();
    match state.payments.get(path.as_str()) {
        Some(p) => HttpResponse::Ok().json(json!({
            "id": p.id,
            "status": p.status,
            "amount": p.amount,
            "currency": p.currency,
            "captured": if p.status == PaymentStatus::Succeeded { p.amount } else { 0 },
            "refunds": p.refunds,
        })),
        None => error(StatusCode::NOT_FOUND, "not_found", "no such payment intent"),
    }
}

/// `POST /_admin/payments/{intent}/refunds/{refundId}/lose`: the payment service forgets a payout
/// (drift for reconciliation tests).
pub(crate) async fn admin_lose_payout(
    sim: web::Data<Simulator>,
    path: web::Path<(String, Uuid)>,
) -> HttpResponse {
    let (intent, refund) = path.into_inner();
    let mut state = sim.lock();
    match state.payments.get_mut(intent.as_str()) {
        Some(p) if p.refunds.iter().any(|r| r.refund_id == refund) => {
            p.refunds.retain(|r| r.refund_id != refund);
            HttpResponse::Ok().json(payment_json(p))
        }
        _ => error(StatusCode::NOT_FOUND, "not_found", "no such payout"),
    }
}

/// `POST /_admin/payments/{intent}/payouts` `{refundId, amount}`: the payment service records a
/// payout the order service never heard of (drift for reconciliation tests). Returns its
/// reference.
pub(crate) async fn admin_invent_payout(
    sim: web::Data<Simulator>,
    path: web::Path<String>,
    body: web::Json<RefundRequest>,
) -> HttpResponse {
    let mut state = sim.lock();
    match state.payments.get_mut(path.as_str()) {
        Some(p) => {
            let reference = format!("re_{}", Uuid::new_v4().simple());
            p.refunds.push(PaymentRefund {
                refund_id: body.refund_id,
                amount: body.amount,
                reference: reference.clone(),
            });
            HttpResponse::Created().json(json!({ "reference": reference }))
        }
        None => error(StatusCode::NOT_FOUND, "not_found", "no such payment intent"),
    }
}
