//! One event for one subscription, its attempts, and when it is tried again.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::ids::{DomainEventId, OrderId, TenantId, WebhookDeliveryId, WebhookId};

/// The pause after each failed attempt (docs/product/events.md): 5 s, 5 min, 30 min, 2 h, 5 h, 10
/// h, 14 h — eight attempts over about 31 hours; then the delivery is FAILED (an admin can replay
/// it).
pub const RETRY_DELAYS: [Duration; 7] = [
    Duration::seconds(5),
    Duration::minutes(5),
    Duration::minutes(30),
    Duration::hours(2),
    Duration::hours(5),
    Duration::hours(10),
    Duration::hours(14),
];

/// When to try again after `attempts` failed attempts: the schedule's pause stretched or shrunk
/// by `jitter_permille` (−100 … 100, ±10 %) so that retries of many deliveries spread out; none
/// once the schedule is used up.
pub fn retry_at(
    attempts: u32,
    now: OffsetDateTime,
    jitter_permille: i64,
) -> Option<OffsetDateTime> {
    let index = usize::try_from(attempts.checked_sub(1)?).ok()?;
    let pause = RETRY_DELAYS.get(index)?;
    let jitter = jitter_permille.clamp(-100, 100);
    let millis = i64::try_from(pause.whole_milliseconds()).ok()?;
    Some(now + Duration::milliseconds(millis + millis * jitter / 1000))
}

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// A 2xx answer.
    Delivered,
    /// The retries are used up, or the subscription answered 410 Gone.
    Failed,
}

impl DeliveryStatus {
    /// Every status.
    pub const ALL: [DeliveryStatus; 3] = [Self::Pending, Self::Delivered, Self::Failed];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Delivered => "DELIVERED",
            Self::Failed => "FAILED",
        }
    }
}

impl std::str::FromStr for DeliveryStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown delivery status {s:?}"))
    }
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// 2xx.
    Delivered,
    /// 410 Gone: the receiver wants no more.
    Gone,
    /// Any other answer, a timeout, a refused connection or a refused address: tried again.
    Failed,
}

impl AttemptOutcome {
    /// The outcome of an HTTP answer `status`.
    pub fn of_status(status: u16) -> Self {
        match status {
            200..=299 => Self::Delivered,
            410 => Self::Gone,
            _ => Self::Failed,
        }
    }

    /// The wire name (`delivered`, `gone`, `failed`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Gone => "gone",
            Self::Failed => "failed",
        }
    }
}

/// One attempt, as the delivery log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    /// When it was sent.
    pub attempted_at: OffsetDateTime,
    /// The HTTP status, when an answer came.
    pub status_code: Option<u16>,
    /// How long it took, milliseconds.
    pub latency_ms: u32,
    /// The start of the answer's body (at most [`AttemptRecord::MAX_BODY_CHARS`] characters).
    pub response_body: Option<String>,
    /// Why no answer came (timeout, refused connection, refused address).
    pub error: Option<String>,
    /// What it came to.
    pub outcome: AttemptOutcome,
}

impl AttemptRecord {
    /// How much of a receiver's answer the log keeps.
    pub const MAX_BODY_CHARS: usize = 1024;

    /// `body` cut to [`Self::MAX_BODY_CHARS`] characters.
    pub fn truncate(body: &str) -> String {
        body.chars().take(Self::MAX_BODY_CHARS).collect()
    }
}

/// One event for one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// Id; the `webhook-id` header.
    pub id: WebhookDeliveryId,
    /// Tenant.
    pub tenant_id: TenantId,
    /// The subscription.
    pub subscription_id: WebhookId,
    /// The order event it carries.
    pub event_id: DomainEventId,
    /// Its type (`order.confirmed`).
    pub event_type: String,
    /// Its order.
    pub order_id: OrderId,
    /// The request body: the event envelope of docs/product/events.md, fixed at creation so every
    /// attempt sends the same bytes.
    pub body: String,
    /// Where it is.
    pub status: DeliveryStatus,
    /// Attempts so far.
    pub attempts: u32,
    /// When it is due (pending deliveries).
    pub next_attempt_at: Option<OffsetDateTime>,
    /// Created.
    pub created_at: OffsetDateTime,
    /// The 2xx answer's time.
    pub delivered_at: Option<OffsetDateTime>,
    /// The last answer's status.
    pub last_status: Option<u16>,
    /// The W3C `traceparent` of the trace the event was handled in (adapters record it when the
    /// delivery is stored, while traces are recorded), sent on with every attempt. Opaque to the
    /// domain.
    pub traceparent: Option<String>,
}

impl WebhookDelivery {
    /// Applies an attempt's outcome: DELIVERED, FAILED (410, or the schedule used up) or PENDING
    /// again at the schedule's next time.
    pub fn record(&mut self, attempt: &AttemptRecord, jitter_permille: i64) {
        self.attempts += 1;
        self.last_status = attempt.status_code;
        match attempt.outcome {
            AttemptOutcome::Delivered => {
                self.status = DeliveryStatus::Delivered;
                self.delivered_at = Some(attempt.attempted_at);
                self.next_attempt_at = None;
            }
            AttemptOutcome::Gone => {
                self.status = DeliveryStatus::Failed;
                self.next_attempt_at = None;
            }
            AttemptOutcome::Failed => {
                self.next_attempt_at =
                    retry_at(self.attempts, attempt.attempted_at, jitter_permille);
                self.status = if self.next_attempt_at.is_some() {
                    DeliveryStatus::Pending
                } else {
                    DeliveryStatus::Failed
                };
            }
        }
    }

    /// An admin's replay: due now, with the same id (receivers dedupe on it).
    pub fn replay(&mut self, now: OffsetDateTime) {
        self.status = DeliveryStatus::Pending;
        self.next_attempt_at = Some(now);
    }
}

/// The per-endpoint circuit breaker: after `threshold` failed attempts in a row the subscription
/// gets no attempts for `open_for` (doubling with every further failure, at most `longest`), so a
/// dead receiver is not hammered; a success closes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Failures in a row that open it.
    pub threshold: u32,
    /// First pause.
    pub open_for: Duration,
    /// Longest pause.
    pub longest: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        Self {
            threshold: 5,
            open_for: Duration::minutes(1),
            longest: Duration::hours(1),
        }
    }
}

impl BreakerPolicy {
    /// Until when the subscription rests after `streak` failures in a row; none below the
    /// threshold.
    pub fn open_until(&self, streak: u32, now: OffsetDateTime) -> Option<OffsetDateTime> {
        let beyond = streak.checked_sub(self.threshold)?;
        let pause = self
            .open_for
            .checked_mul(1 << beyond.min(20))
            .map_or(self.longest, |p| p.min(self.longest));
        Some(now + pause)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;

    const T0: OffsetDateTime = datetime!(2026-12-01 12:00 UTC);

    fn delivery() -> WebhookDelivery {
        WebhookDelivery {
            id: WebhookDeliveryId::from_uuid(Uuid::from_u128(1)),
            tenant_id: TenantId::from_uuid(Uuid::from_u128(2)),
            subscription_id: WebhookId::from_uuid(Uuid::from_u128(3)),
            event_id: DomainEventId::from_uuid(Uuid::from_u128(4)),
            event_type: "order.confirmed".into(),
            order_id: OrderId::from_uuid(Uuid::from_u128(5)),
            body: "{}".into(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: Some(T0),
            created_at: T0,
            delivered_at: None,
            last_status: None,
            traceparent: None,
        }
    }

    fn attempt(status: Option<u16>, at: OffsetDateTime) -> AttemptRecord {
        AttemptRecord {
            attempted_at: at,
            status_code: status,
            latency_ms: 3,
            response_body: None,
            error: status.is_none().then(|| "timed out".to_owned()),
            outcome: status.map_or(AttemptOutcome::Failed, AttemptOutcome::of_status),
        }
    }

    #[test]
    fn failures_follow_the_schedule_with_jitter_until_it_is_used_up() {
        let mut d = delivery();
        d.record(&attempt(Some(500), T0), 0);
        assert_eq!(d.next_attempt_at, Some(T0 + Duration::seconds(5)));
        d.record(&attempt(None, T0), 100);
        assert_eq!(
            d.next_attempt_at,
            Some(T0 + Duration::seconds(330)),
            "5 min + 10 %"
        );
        for _ in 2..RETRY_DELAYS.len() {
            d.record(&attempt(Some(503), T0), -100);
            assert_eq!(d.status, DeliveryStatus::Pending);
        }
        d.record(&attempt(Some(503), T0), 0);
        assert_eq!((d.status, d.attempts), (DeliveryStatus::Failed, 8));
        let total: Duration = RETRY_DELAYS.iter().copied().sum();
        assert!(
            total > Duration::hours(24) && total < Duration::hours(36),
            "about a day"
        );
    }

    #[test]
    fn a_2xx_delivers_a_410_fails_at_once_and_a_replay_is_due_now() {
        let mut ok = delivery();
        ok.record(&attempt(Some(204), T0), 0);
        assert_eq!(
            (ok.status, ok.delivered_at),
            (DeliveryStatus::Delivered, Some(T0))
        );
        let mut gone = delivery();
        gone.record(&attempt(Some(410), T0), 0);
        assert_eq!(gone.status, DeliveryStatus::Failed);
        gone.replay(T0 + Duration::hours(1));
        assert_eq!(gone.status, DeliveryStatus::Pending);
        assert_eq!(gone.next_attempt_at, Some(T0 + Duration::hours(1)));
        assert_eq!(gone.id, delivery().id, "the same webhook-id");
    }

    #[test]
    fn the_breaker_opens_at_the_threshold_and_rests_longer_with_each_failure() {
        let breaker = BreakerPolicy::default();
        assert_eq!(breaker.open_until(4, T0), None);
        assert_eq!(breaker.open_until(5, T0), Some(T0 + Duration::minutes(1)));
        assert_eq!(breaker.open_until(7, T0), Some(T0 + Duration::minutes(4)));
        assert_eq!(breaker.open_until(40, T0), Some(T0 + Duration::hours(1)));
    }
}
