//! How long a reservation holds tickets or stock (docs/product/reservations-and-refunds.md).

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::order::OrderKind;

/// Hold durations; [`Default`] gives the values of docs/product/reservations-and-refunds.md.
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
    /// How long a hold may last in all, from the order's creation, in lengths of one hold
    /// (`RESERVATION_MAX_HOLD_MULTIPLE`, 2): extending never holds stock past it.
    pub max_hold_multiple: u32,
    /// How often a reservation may be extended (`RESERVATION_MAX_EXTENSIONS`, 3).
    pub max_extensions: u32,
}

/// A reservation that may not be extended any further.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "this reservation cannot be extended: it may last until {until} at the latest, and has been extended {extensions} times of {max_extensions}"
)]
pub struct HoldLimitReached {
    /// The latest a hold of this order may last.
    pub until: OffsetDateTime,
    /// Extensions so far.
    pub extensions: u32,
    /// Extensions allowed.
    pub max_extensions: u32,
}

impl Default for ReservationPolicy {
    fn default() -> Self {
        Self {
            ticket_hold: Duration::minutes(15),
            vip_ticket_hold: Duration::minutes(30),
            grace: Duration::minutes(2),
            goods_payment_window: Duration::minutes(30),
            max_hold_multiple: 2,
            max_extensions: 3,
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

    /// The latest a hold of an order created at `created_at` may last.
    pub fn hold_limit(
        &self,
        kind: OrderKind,
        vip: bool,
        created_at: OffsetDateTime,
    ) -> OffsetDateTime {
        created_at + self.hold_duration(kind, vip) * self.max_hold_multiple
    }

    /// When a hold placed or extended `now` runs out: a full hold, but never past the order's
    /// [hold limit](Self::hold_limit).
    ///
    /// # Errors
    /// [`HoldLimitReached`] when `extensions` (so far) is the most allowed, or the hold already
    /// ends at the limit (`current`, when one runs) or the limit has passed.
    pub fn hold_until(
        &self,
        kind: OrderKind,
        vip: bool,
        created_at: OffsetDateTime,
        current: Option<(OffsetDateTime, u32)>,
        now: OffsetDateTime,
    ) -> Result<OffsetDateTime, HoldLimitReached> {
        let until = self.hold_limit(kind, vip, created_at);
        let extensions = current.map_or(0, |(_, n)| n);
        let refused = HoldLimitReached {
            until,
            extensions,
            max_extensions: self.max_extensions,
        };
        let ends = current.map_or(now, |(ends, _)| ends.max(now));
        // A running hold may be extended while extensions are left and the limit lies ahead.
        let extensions_used_up = current.is_some() && extensions >= self.max_extensions;
        if extensions_used_up || until <= ends {
            return Err(refused);
        }
        Ok(self.expires_at(kind, vip, now).min(until))
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
    fn a_hold_is_extended_at_most_max_extensions_times_and_never_past_twice_its_length() {
        let policy = ReservationPolicy::default();
        let created = datetime!(2026-11-22 12:00 UTC);
        let hold =
            |current, now| policy.hold_until(OrderKind::Ticket, false, created, current, now);
        assert_eq!(hold(None, created), Ok(created + Duration::minutes(15)));
        // Extended after 14 minutes: to the limit of 30, not to 29 + 15.
        let minute = |m| created + Duration::minutes(m);
        assert_eq!(hold(Some((minute(15), 0)), minute(14)), Ok(minute(29)));
        assert_eq!(hold(Some((minute(29), 1)), minute(20)), Ok(minute(30)));
        let at_limit = hold(Some((minute(30), 2)), minute(25));
        assert_eq!(at_limit.map_err(|e| e.until), Err(minute(30)));
        // Short extensions run out by count before the time does.
        let policy = ReservationPolicy {
            max_hold_multiple: 10,
            ..policy
        };
        let refused = policy
            .hold_until(
                OrderKind::Ticket,
                false,
                created,
                Some((minute(16), 3)),
                minute(1),
            )
            .expect_err("three extensions");
        assert_eq!((refused.extensions, refused.max_extensions), (3, 3));
    }

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
