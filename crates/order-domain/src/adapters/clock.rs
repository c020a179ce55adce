//! Clocks: the system's, and one a test moves by hand.

use std::sync::Mutex;

use time::{Duration, OffsetDateTime};

use crate::ports::Clock;

/// UTC now, truncated to microseconds (PostgreSQL's precision), so stored and in-memory times
/// compare equal.
#[cfg(feature = "system")]
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

#[cfg(feature = "system")]
impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        now.replace_microsecond(now.microsecond()).unwrap_or(now)
    }
}

/// A clock that stands still until it is told otherwise: tests of reservations, expiry and
/// retries move it instead of sleeping.
///
/// ```
/// use order_domain::adapters::ManualClock;
/// use order_domain::ports::Clock;
/// use time::{Duration, macros::datetime};
///
/// let clock = ManualClock::at(datetime!(2026-12-01 12:00 UTC));
/// clock.advance(Duration::minutes(17));
/// assert_eq!(clock.now(), datetime!(2026-12-01 12:17 UTC));
/// ```
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    /// A clock showing `at`.
    pub fn at(at: OffsetDateTime) -> Self {
        Self(Mutex::new(at))
    }

    /// Shows `at` from now on.
    pub fn set(&self, at: OffsetDateTime) {
        *self.lock() = at;
    }

    /// Moves the time by `by` (backwards when negative).
    pub fn advance(&self, by: Duration) {
        let mut now = self.lock();
        *now += by;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OffsetDateTime> {
        // The value is a plain time: a panic elsewhere cannot leave it half-written.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.lock()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn a_manual_clock_shows_what_it_was_set_to_and_moves_only_when_told() {
        let clock = ManualClock::at(datetime!(2026-12-01 12:00 UTC));
        assert_eq!(clock.now(), clock.now());
        clock.advance(Duration::seconds(-30));
        assert_eq!(clock.now(), datetime!(2026-12-01 11:59:30 UTC));
        clock.set(datetime!(2027-01-01 0:00 UTC));
        assert_eq!(clock.now(), datetime!(2027-01-01 0:00 UTC));
    }

    #[cfg(feature = "system")]
    #[test]
    fn the_system_clock_keeps_microseconds_only() {
        let now = SystemClock.now();
        assert_eq!(now.nanosecond() % 1_000, 0);
        assert!((OffsetDateTime::now_utc() - now).abs() < Duration::minutes(1));
    }
}
