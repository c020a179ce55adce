//! The payment service: intents (create, confirm, cancel, read back) and refunds.

use async_trait::async_trait;
use order_domain::ids::{OrderId, PaymentIntentId, RefundId, TenantId};
use order_domain::money::Money;
use order_domain::ports::{
    PaymentError, PaymentGateway, PaymentIntent, PaymentRecord, Payout, UpstreamError,
};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::{Failure, Repeat, Upstream, UpstreamConfig};

/// [`PaymentGateway`] over HTTP.
#[derive(Debug, Clone)]
pub struct HttpPaymentGateway {
    upstream: Upstream,
}

impl HttpPaymentGateway {
    /// A client for the payment service.
    ///
    /// # Errors
    /// When the HTTP client cannot be built (TLS setup).
    pub fn new(config: UpstreamConfig) -> Result<Self, reqwest::Error> {
        Ok(Self {
            upstream: Upstream::new("payments", config)?,
        })
    }

    /// The state of this upstream's circuit breaker.
    pub fn breaker_state(&self) -> crate::BreakerState {
        self.upstream.breaker_state()
    }

    /// 402 and 422 answers are the payment service's "no", everything else a failure to answer.
    fn error(&self, failure: Failure) -> PaymentError {
        match failure.status {
            Some(s)
                if s == reqwest::StatusCode::PAYMENT_REQUIRED
                    || s == reqwest::StatusCode::UNPROCESSABLE_ENTITY =>
            {
                PaymentError::Declined(
                    failure
                        .body
                        .get("code")
                        .and_then(|c| c.as_str())
                        .unwrap_or("declined")
                        .to_owned(),
                )
            }
            _ => PaymentError::Upstream(self.upstream.error(failure)),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntentBody {
    id: String,
    client_secret: Option<String>,
}

#[derive(Deserialize)]
struct RefundBody {
    reference: String,
}

/// `GET /payments/intents/{id}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PaymentBody {
    captured: i64,
    refunds: Vec<PayoutBody>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PayoutBody {
    refund_id: RefundId,
    amount: i64,
    reference: String,
}

#[async_trait]
impl PaymentGateway for HttpPaymentGateway {
    async fn create_intent(
        &self,
        tenant: TenantId,
        order: OrderId,
        amount: Money,
        expires_at: time::OffsetDateTime,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, PaymentError> {
        let request = self
            .upstream
            .request(Method::POST, "/payments/intents")
            .header("idempotency-key", idempotency_key)
            .json(&json!({
                "tenantId": tenant,
                "orderId": order,
                "amount": amount.minor(),
                "currency": amount.currency().code(),
                "expiresAt": crate::rfc3339(expires_at),
            }));
        let body: IntentBody = self
            .upstream
            .send(request, Repeat::Safe)
            .await
            .map_err(|f| self.error(f))?;
        Ok(PaymentIntent {
            id: PaymentIntentId::new(body.id),
            client_secret: body.client_secret,
        })
    }

    async fn confirm_intent(&self, intent: &PaymentIntentId) -> Result<(), PaymentError> {
        let request = self
            .upstream
            .request(Method::POST, &format!("/payments/intents/{intent}/confirm"));
        self.upstream
            .send::<serde_json::Value>(request, Repeat::Once)
            .await
            .map(|_| ())
            .map_err(|f| self.error(f))
    }

    async fn cancel_intent(&self, intent: &PaymentIntentId) -> Result<(), PaymentError> {
        let request = self
            .upstream
            .request(Method::POST, &format!("/payments/intents/{intent}/cancel"));
        self.upstream
            .send::<serde_json::Value>(request, Repeat::Safe)
            .await
            .map(|_| ())
            .map_err(|f| self.error(f))
    }

    async fn refund(
        &self,
        intent: &PaymentIntentId,
        refund: RefundId,
        amount: Money,
    ) -> Result<String, PaymentError> {
        let request = self
            .upstream
            .request(Method::POST, &format!("/payments/intents/{intent}/refunds"))
            .header("idempotency-key", refund.to_string())
            .json(&json!({ "refundId": refund, "amount": amount.minor() }));
        let body: RefundBody = self
            .upstream
            .send(request, Repeat::Safe)
            .await
            .map_err(|f| self.error(f))?;
        Ok(body.reference)
    }

    async fn payment(
        &self,
        intent: &PaymentIntentId,
    ) -> Result<Option<PaymentRecord>, PaymentError> {
        let request = self
            .upstream
            .request(Method::GET, &format!("/payments/intents/{intent}"));
        match self
            .upstream
            .send::<PaymentBody>(request, Repeat::Safe)
            .await
        {
            Ok(body) => Ok(Some(PaymentRecord {
                captured: body.captured,
                payouts: body
                    .refunds
                    .into_iter()
                    .map(|p| Payout {
                        refund_id: p.refund_id,
                        amount: p.amount,
                        reference: p.reference,
                    })
                    .collect(),
            })),
            Err(failure) => match self.upstream.error(failure) {
                UpstreamError::NotFound { .. } => Ok(None),
                other => Err(PaymentError::Upstream(other)),
            },
        }
    }
}
