//! How long a reservation holds tickets or stock (SPEC §8).

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::order::OrderKind;

/// Hold durations; [`Default`] gives the SPEC values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservationPolicy {
    /// Ticket hold for regular users (`RESERVATION_DURATION_MINUTES`, 15).
    pub ticket_hold: Duration,
    /// Ticket hold for VIP users (`VIP_RESERVATION_DURATION_MINUTES`, 30).
    pub vip_ticket_hold: Duration,
    /// Extra time before the expiry job acts (`RESERVATION_GRACE_PERIOD_MINUTES`, 2).
    pub grace: Duration,
    /// How long a goods order may stay unpaid (`ORDER_TIMEOUT_MINUTES`, 30).
    pub goods_payment_window: Duration,
}

impl Default for ReservationPolicy {
    fn default() -> Self {
        Self {
            ticket_hold: Duration::minutes(15),
            vip_ticket_hold: Duration::minutes(30),
            grace: Duration::minutes(2),
            goods_payment_window: Duration::minutes(30),
        }
    }
}

impl ReservationPolicy {
    /// How long a new hold of this kind lasts.
    pub fn hold_duration(&self, kind: OrderKind, vip: bool) -> Duration {
        match (kind, vip) {
            (OrderKind::Goods, _) => self.goods_payment_window,
            (OrderKind::Ticket, true) => self.vip_ticket_hold,
            (OrderKind::Ticket, false) => self.ticket_hold,
        }
    }

    /// When a hold placed `now` runs out.
    pub fn expires_at(&self, kind: OrderKind, vip: bool, now: OffsetDateTime) -> OffsetDateTime {
        now + self.hold_duration(kind, vip)
    }

    /// Whether the expiry job should act on an order whose window ends at `expires_at`.
    pub fn is_due(&self, expires_at: OffsetDateTime, now: OffsetDateTime) -> bool {
        expires_at + self.grace <= now
    }

    /// The cut-off the expiry job queries with: windows that ended before it are due.
    pub fn due_before(&self, now: OffsetDateTime) -> OffsetDateTime {
        now - self.grace
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn vip_users_hold_longer_and_the_job_waits_for_the_grace_period() {
        let policy = ReservationPolicy::default();
        let now = datetime!(2026-11-22 12:00 UTC);
        assert_eq!(
            policy.expires_at(OrderKind::Ticket, false, now),
            now + Duration::minutes(15)
        );
        assert_eq!(
            policy.expires_at(OrderKind::Ticket, true, now),
            now + Duration::minutes(30)
        );
        assert_eq!(
            policy.expires_at(OrderKind::Goods, true, now),
            now + Duration::minutes(30)
        );
        let expires = now + Duration::minutes(15);
        assert!(!policy.is_due(expires, expires + Duration::minutes(1)));
        assert!(policy.is_due(expires, expires + Duration::minutes(2)));
        assert_eq!(policy.due_before(now), now - Duration::minutes(2));
    }
}
