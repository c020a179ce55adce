//! A tenant's webhook subscription: where to, which events, and the secrets that sign.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::ids::{TenantId, WebhookId};

/// How long the previous secret keeps signing after a rotation (docs/product/events.md).
pub const ROTATION_OVERLAP: Duration = Duration::hours(24);

/// A signing secret as Standard Webhooks writes it: `whsec_` + base64 of the key bytes. Its
/// `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    /// Wraps the `whsec_…` text.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The `whsec_…` text (to sign with, or to show once).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

/// One secret of a subscription and how long it signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningSecret {
    /// The key.
    pub secret: WebhookSecret,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it stops signing: set on the previous secret at a rotation.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

impl SigningSecret {
    fn signs_at(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_none_or(|end| now < end)
    }
}

/// A tenant's receiver of order events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSubscription {
    /// Id.
    pub id: WebhookId,
    /// Tenant.
    pub tenant_id: TenantId,
    /// Where deliveries are POSTed (checked by the transport at creation and at each delivery).
    pub url: String,
    /// The event types it wants (`order.confirmed`, …); empty for all.
    pub event_types: Vec<String>,
    /// Whether deliveries are made.
    pub enabled: bool,
    /// The admin's note.
    pub description: Option<String>,
    /// Newest first; all that still sign, plus expired ones until the next change drops them.
    pub secrets: Vec<SigningSecret>,
    /// Why it was disabled by the service (a 410 Gone), if it was.
    pub disabled_reason: Option<String>,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Last changed.
    pub updated_at: OffsetDateTime,
}

/// What an admin gives to subscribe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubscription {
    /// Receiver URL.
    pub url: String,
    /// Event types; empty for all.
    pub event_types: Vec<String>,
    /// Whether deliveries start at once.
    pub enabled: bool,
    /// Note.
    pub description: Option<String>,
}

/// A PATCH: only the fields given change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscriptionChanges {
    /// New receiver URL.
    pub url: Option<String>,
    /// New event types (empty: all).
    pub event_types: Option<Vec<String>>,
    /// Enable or disable; enabling clears a disabled reason.
    pub enabled: Option<bool>,
    /// New note.
    pub description: Option<String>,
}

impl WebhookSubscription {
    /// A new subscription signing with `secret`.
    pub fn new(
        id: WebhookId,
        tenant_id: TenantId,
        new: NewSubscription,
        secret: WebhookSecret,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            tenant_id,
            url: new.url,
            event_types: new.event_types,
            enabled: new.enabled,
            description: new.description,
            secrets: vec![SigningSecret {
                secret,
                created_at: now,
                expires_at: None,
            }],
            disabled_reason: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Whether it wants events of `event_type`.
    pub fn wants(&self, event_type: &str) -> bool {
        self.event_types.is_empty() || self.event_types.iter().any(|t| t == event_type)
    }

    /// The secrets that sign at `now`, newest first.
    pub fn signing_secrets(&self, now: OffsetDateTime) -> Vec<WebhookSecret> {
        self.secrets
            .iter()
            .filter(|s| s.signs_at(now))
            .map(|s| s.secret.clone())
            .collect()
    }

    /// Applies `changes`.
    pub fn change(&mut self, changes: SubscriptionChanges, now: OffsetDateTime) {
        if let Some(url) = changes.url {
            self.url = url;
        }
        if let Some(types) = changes.event_types {
            self.event_types = types;
        }
        if let Some(enabled) = changes.enabled {
            self.enabled = enabled;
            if enabled {
                self.disabled_reason = None;
            }
        }
        if let Some(description) = changes.description {
            self.description = Some(description);
        }
        self.updated_at = now;
    }

    /// Makes `secret` the signing secret; the current one keeps signing for
    /// [`ROTATION_OVERLAP`], older ones stop now.
    pub fn rotate(&mut self, secret: WebhookSecret, now: OffsetDateTime) {
        self.secrets
            .retain(|s| s.signs_at(now) && s.expires_at.is_none());
        for previous in &mut self.secrets {
            previous.expires_at = Some(now + ROTATION_OVERLAP);
        }
        self.secrets.insert(
            0,
            SigningSecret {
                secret,
                created_at: now,
                expires_at: None,
            },
        );
        self.updated_at = now;
    }

    /// The receiver answered 410 Gone: no more deliveries until an admin enables it again.
    pub fn disable_gone(&mut self, now: OffsetDateTime) {
        self.enabled = false;
        self.disabled_reason = Some("the receiver answered 410 Gone".to_owned());
        self.updated_at = now;
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;

    const T0: OffsetDateTime = datetime!(2026-12-01 12:00 UTC);

    fn subscription(types: &[&str]) -> WebhookSubscription {
        WebhookSubscription::new(
            WebhookId::from_uuid(Uuid::from_u128(1)),
            TenantId::from_uuid(Uuid::from_u128(2)),
            NewSubscription {
                url: "https://example.com/hooks".into(),
                event_types: types.iter().map(|t| (*t).to_owned()).collect(),
                enabled: true,
                description: None,
            },
            WebhookSecret::new("whsec_first"),
            T0,
        )
    }

    #[test]
    fn an_empty_selection_wants_every_event_and_a_list_only_its_own() {
        assert!(subscription(&[]).wants("order.shipped"));
        let some = subscription(&["order.confirmed"]);
        assert!(some.wants("order.confirmed"));
        assert!(!some.wants("order.shipped"));
    }

    #[test]
    fn both_secrets_sign_for_a_day_after_a_rotation_then_only_the_new_one() {
        let mut hook = subscription(&[]);
        hook.rotate(WebhookSecret::new("whsec_second"), T0);
        fn texts(hook: &WebhookSubscription, at: OffsetDateTime) -> Vec<String> {
            hook.signing_secrets(at)
                .iter()
                .map(|s| s.expose().to_owned())
                .collect()
        }
        assert_eq!(
            texts(&hook, T0 + Duration::hours(23)),
            ["whsec_second", "whsec_first"]
        );
        assert_eq!(texts(&hook, T0 + ROTATION_OVERLAP), ["whsec_second"]);
        // A second rotation inside the overlap retires the oldest at once.
        hook.rotate(WebhookSecret::new("whsec_third"), T0 + Duration::hours(1));
        assert_eq!(
            texts(&hook, T0 + Duration::hours(2)),
            ["whsec_third", "whsec_second"]
        );
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        assert!(!format!("{:?}", subscription(&[])).contains("whsec_first"));
    }
}
