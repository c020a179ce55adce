//! Pauses between attempts: exponential backoff with optional jitter, one rule for every place
//! that waits to try again — upstream calls (`order-http-clients`), broker reconnects and
//! consumer pauses (`order-amqp`), lock retries (`order-redis`). Pure arithmetic: the caller
//! sleeps, and draws the jitter from its own random source.

use std::time::Duration;

/// `first`, then doubling per attempt up to `longest`, each pause moved by up to
/// ±`jitter_percent` % of itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The pause before the first retry.
    pub first: Duration,
    /// The longest pause.
    pub longest: Duration,
    /// How far a pause may move either way, in percent of it (0: not at all).
    pub jitter_percent: u32,
}

impl Backoff {
    /// Doubling from `first` up to `longest`, without jitter.
    pub const fn new(first: Duration, longest: Duration) -> Self {
        Self {
            first,
            longest,
            jitter_percent: 0,
        }
    }

    /// The same pauses, each moved by up to ±`percent` % (at most 100).
    #[must_use]
    pub const fn with_jitter(mut self, percent: u32) -> Self {
        self.jitter_percent = if percent > 100 { 100 } else { percent };
        self
    }

    /// The pause before retry `retry` (0-based) without jitter: `first` × 2^`retry`, at most
    /// `longest`.
    pub fn nominal(&self, retry: u32) -> Duration {
        self.first
            .saturating_mul(2u32.saturating_pow(retry.min(31)))
            .min(self.longest)
    }

    /// The pause before retry `retry` with jitter: `draw`, a uniformly random `u32`, picks the
    /// point between nominal − jitter and nominal + jitter (0 the lowest, `u32::MAX` the highest).
    pub fn pause(&self, retry: u32, draw: u32) -> Duration {
        let nominal = self.nominal(retry);
        let spread = nominal.saturating_mul(self.jitter_percent) / 100;
        let width = spread.saturating_mul(2).as_nanos();
        let offset = width * u128::from(draw) / u128::from(u32::MAX);
        nominal.saturating_sub(spread)
            + Duration::from_nanos(u64::try_from(offset).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn pauses_double_from_the_first_up_to_the_longest() {
        let backoff = Backoff::new(100 * MS, 500 * MS);
        let pauses: Vec<Duration> = (0..5).map(|retry| backoff.nominal(retry)).collect();
        assert_eq!(pauses, [100 * MS, 200 * MS, 400 * MS, 500 * MS, 500 * MS]);
        assert_eq!(backoff.nominal(u32::MAX), 500 * MS, "no overflow");
    }

    #[test]
    fn jitter_moves_a_pause_at_most_its_share_either_way() {
        let backoff = Backoff::new(100 * MS, Duration::from_secs(10)).with_jitter(25);
        assert_eq!(backoff.pause(2, 0), 300 * MS);
        assert_eq!(backoff.pause(2, u32::MAX), 500 * MS);
        assert_eq!(
            backoff.pause(2, u32::MAX / 2),
            400 * MS - Duration::from_nanos(1)
        );
        let without = Backoff::new(100 * MS, Duration::from_secs(10));
        assert_eq!(without.pause(2, u32::MAX), 400 * MS);
    }
}
