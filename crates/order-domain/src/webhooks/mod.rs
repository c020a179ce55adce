//! Webhooks (docs/product/events.md): a tenant's subscriptions, one delivery per committed order
//! event a subscription wants, and the rules of its attempts — retries with backoff and jitter over
//! about a day, 2xx delivered, 410 Gone disabling the subscription, a per-endpoint circuit breaker.
//!
//! Signing (Standard Webhooks) and the network belong to the [`WebhookTransport`] adapter: the
//! domain hands it the `webhook-id`, the timestamp, the body and the secrets that sign.
//!
//! [`WebhookTransport`]: crate::ports::WebhookTransport

mod delivery;
mod subscription;

pub use self::delivery::{
    AttemptOutcome, AttemptRecord, BreakerPolicy, DeliveryStatus, RETRY_DELAYS, WebhookDelivery,
    retry_at,
};
pub use self::subscription::{
    NewSubscription, ROTATION_OVERLAP, SigningSecret, SubscriptionChanges, WebhookSecret,
    WebhookSubscription,
};
