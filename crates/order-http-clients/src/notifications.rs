//! The notification service. Each notification carries the id of the event it announces, so a
//! retry after an outage is not sent twice.

use async_trait::async_trait;
use order_domain::ports::{Notification, Notifier, UpstreamError};
use reqwest::Method;
use serde_json::json;

use crate::{Repeat, Upstream, UpstreamConfig};

/// [`Notifier`] over HTTP.
#[derive(Debug, Clone)]
pub struct HttpNotifier {
    upstream: Upstream,
}

impl HttpNotifier {
    /// A client for the notification service.
    ///
    /// # Errors
    /// When the HTTP client cannot be built (TLS setup).
    pub fn new(config: UpstreamConfig) -> Result<Self, reqwest::Error> {
        Ok(Self {
            upstream: Upstream::new("notifications", config)?,
        })
    }

    /// The state of this upstream's circuit breaker.
    pub fn breaker_state(&self) -> crate::BreakerState {
        self.upstream.breaker_state()
    }
}

#[async_trait]
impl Notifier for HttpNotifier {
    async fn notify(&self, notification: &Notification) -> Result<(), UpstreamError> {
        let request = self
            .upstream
            .request(Method::POST, "/notifications")
            .json(&json!({
                "id": notification.id,
                "tenantId": notification.tenant_id,
                "userId": notification.user_id,
                "email": notification.email.as_ref().map(|e| e.as_str()),
                "orderId": notification.order_id,
                "orderNumber": notification.order_number.as_str(),
                "template": notification.template,
                "status": notification.status.as_str(),
                "trackingNumber": notification.tracking_number,
                "invoiceNumber": notification.invoice_number,
            }));
        self.upstream
            .send::<serde_json::Value>(request, Repeat::Safe)
            .await
            .map(|_| ())
            .map_err(|f| self.upstream.error(f))
    }
}
