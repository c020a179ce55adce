//! Per-upstream circuit breaker (failsafe) and retries with exponential backoff and jitter
//! (docs/product/upstreams.md, the ticketing API's thresholds).
//!
//! The breaker opens when, among the calls of the last `window`, at least `minimum_calls` were
//! made and at least `failure_percent` of them failed; it then rejects calls for `open_for`,
//! after which calls are let through as probes: a success closes it, a failure opens it again.
//! Only outages count as failures (transport errors, timeouts, 5xx, 429): a 4xx answer means the
//! upstream is healthy and said no.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use failsafe::Instrument;
use failsafe::StateMachine;
use failsafe::failure_policy::FailurePolicy;
use order_domain::backoff::Backoff;

/// Breaker and retry settings, shared by every upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resilience {
    /// Failure share that opens the breaker, percent (`CIRCUIT_BREAKER_FAILURE_RATE_PERCENT`, 50).
    pub failure_percent: u8,
    /// Calls in the window before the share counts (`CIRCUIT_BREAKER_REQUEST_VOLUME`, 10).
    pub minimum_calls: u32,
    /// How far back calls count (`CIRCUIT_BREAKER_WINDOW_MS`, 60 000).
    pub window: Duration,
    /// How long an open breaker rejects calls (`CIRCUIT_BREAKER_RESET_TIMEOUT_MS`, 30 000).
    pub open_for: Duration,
    /// Retries after the first attempt, for calls safe to repeat (`UPSTREAM_MAX_RETRIES`, 3).
    pub max_retries: u32,
    /// First backoff; doubles per retry, ±25 % jitter (`UPSTREAM_RETRY_BASE_MS`, 100).
    pub retry_base: Duration,
}

impl Default for Resilience {
    fn default() -> Self {
        Self {
            failure_percent: 50,
            minimum_calls: 10,
            window: Duration::from_secs(60),
            open_for: Duration::from_secs(30),
            max_retries: 3,
            retry_base: Duration::from_millis(100),
        }
    }
}

/// No retry pause of an upstream call grows past this, however high the attempt count.
const LONGEST_RETRY_PAUSE: Duration = Duration::from_secs(10);

impl Resilience {
    /// The pause before retry `retry` (0-based): base × 2^retry, ±25 % (the domain's
    /// [`Backoff`] rule, shared by every adapter that retries).
    pub fn backoff(&self, retry: u32) -> Duration {
        Backoff::new(self.retry_base, LONGEST_RETRY_PAUSE)
            .with_jitter(25)
            .pause(retry, rand::random())
    }
}

/// Whether a call may be repeated after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// Idempotent, or carries an idempotency key: retried with backoff.
    Safe,
    /// Repeating could do it twice: one attempt only.
    Once,
}

/// The breaker's state, for health reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls pass.
    Closed,
    /// Calls are rejected.
    Open,
    /// Calls pass as probes.
    HalfOpen,
}

impl BreakerState {
    /// `closed`, `open` or `half_open`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

/// Failure share over a sliding time window, exact (not a moving average), so that "≥ 50 % of
/// ≥ 10 calls" means exactly that.
#[derive(Debug, Clone)]
pub(crate) struct FailureRate {
    failure_percent: u8,
    minimum_calls: u32,
    window: Duration,
    open_for: Duration,
    /// (when, failed)
    calls: VecDeque<(Instant, bool)>,
}

impl FailureRate {
    fn new(config: &Resilience) -> Self {
        Self {
            failure_percent: config.failure_percent,
            minimum_calls: config.minimum_calls.max(1),
            window: config.window,
            open_for: config.open_for,
            calls: VecDeque::new(),
        }
    }

    fn record(&mut self, failed: bool) {
        let now = Instant::now();
        while self
            .calls
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) > self.window)
        {
            self.calls.pop_front();
        }
        self.calls.push_back((now, failed));
    }
}

impl FailurePolicy for FailureRate {
    fn record_success(&mut self) {
        self.record(false);
    }

    fn mark_dead_on_failure(&mut self) -> Option<Duration> {
        self.record(true);
        let total = self.calls.len();
        let failed = self.calls.iter().filter(|(_, failed)| *failed).count();
        let volume_reached = total >= self.minimum_calls as usize;
        let share_reached = failed * 100 >= usize::from(self.failure_percent) * total;
        if volume_reached && share_reached {
            self.calls.clear();
            Some(self.open_for)
        } else {
            None
        }
    }

    fn revived(&mut self) {
        self.calls.clear();
    }
}

/// Tracks the state and when the breaker opened, for `Retry-After`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tracker {
    state: Arc<AtomicU8>,
    opened_at: Arc<Mutex<Option<Instant>>>,
}

const CLOSED: u8 = 0;
const OPEN: u8 = 1;
const HALF_OPEN: u8 = 2;

impl Instrument for Tracker {
    fn on_call_rejected(&self) {}

    fn on_open(&self) {
        self.state.store(OPEN, Ordering::Relaxed);
        *self
            .opened_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now());
    }

    fn on_half_open(&self) {
        self.state.store(HALF_OPEN, Ordering::Relaxed);
    }

    fn on_closed(&self) {
        self.state.store(CLOSED, Ordering::Relaxed);
    }
}

/// One upstream's breaker.
#[derive(Clone)]
pub(crate) struct Breaker {
    machine: StateMachine<FailureRate, Tracker>,
    tracker: Tracker,
    open_for: Duration,
}

impl std::fmt::Debug for Breaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Breaker")
            .field("state", &self.state())
            .finish()
    }
}

impl Breaker {
    pub(crate) fn new(config: &Resilience) -> Self {
        let tracker = Tracker::default();
        let machine = failsafe::Config::new()
            .failure_policy(FailureRate::new(config))
            .instrument(tracker.clone())
            .build();
        Self {
            machine,
            tracker,
            open_for: config.open_for,
        }
    }

    /// `Ok` when a call may go out; otherwise how long until the breaker lets probes through.
    pub(crate) fn permit(&self) -> Result<(), Duration> {
        if self.machine.is_call_permitted() {
            return Ok(());
        }
        let opened_at = *self
            .tracker
            .opened_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let left = opened_at
            .map(|at| self.open_for.saturating_sub(at.elapsed()))
            .unwrap_or(self.open_for);
        Err(left)
    }

    pub(crate) fn record(&self, outage: bool) {
        if outage {
            self.machine.on_error();
        } else {
            self.machine.on_success();
        }
    }

    pub(crate) fn state(&self) -> BreakerState {
        match self.tracker.state.load(Ordering::Relaxed) {
            OPEN => BreakerState::Open,
            HALF_OPEN => BreakerState::HalfOpen,
            _ => BreakerState::Closed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(open_for: Duration) -> Resilience {
        Resilience {
            open_for,
            ..Resilience::default()
        }
    }

    #[test]
    fn the_breaker_opens_at_half_failures_once_ten_calls_were_made() {
        let breaker = Breaker::new(&config(Duration::from_secs(30)));
        for _ in 0..5 {
            breaker.record(false);
        }
        for _ in 0..4 {
            breaker.record(true);
        }
        assert_eq!(
            breaker.state(),
            BreakerState::Closed,
            "9 calls: below the volume"
        );
        breaker.record(true);
        assert_eq!(breaker.state(), BreakerState::Open, "5 of 10 failed");
        let left = breaker.permit().expect_err("rejected");
        assert!(left <= Duration::from_secs(30) && left > Duration::from_secs(29));
    }

    #[test]
    fn a_minority_of_failures_keeps_it_closed() {
        let breaker = Breaker::new(&config(Duration::from_secs(30)));
        for n in 0..40 {
            breaker.record(n % 3 == 0);
        }
        assert_eq!(breaker.state(), BreakerState::Closed);
        assert!(breaker.permit().is_ok());
    }

    #[test]
    fn after_the_reset_time_a_successful_probe_closes_it_and_a_failed_one_reopens_it() {
        let breaker = Breaker::new(&config(Duration::from_millis(20)));
        for _ in 0..10 {
            breaker.record(true);
        }
        assert!(breaker.permit().is_err());
        std::thread::sleep(Duration::from_millis(30));
        assert!(breaker.permit().is_ok(), "probe allowed");
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        breaker.record(true);
        assert_eq!(breaker.state(), BreakerState::Open, "failed probe");
        std::thread::sleep(Duration::from_millis(30));
        assert!(breaker.permit().is_ok());
        breaker.record(false);
        assert_eq!(breaker.state(), BreakerState::Closed, "successful probe");
    }

    #[test]
    fn backoff_doubles_with_a_quarter_of_jitter_either_way() {
        let config = Resilience::default();
        for (retry, nominal) in [(0, 100u64), (1, 200), (2, 400)] {
            for _ in 0..50 {
                let pause = u64::try_from(config.backoff(retry).as_millis()).expect("small");
                assert!(
                    (nominal * 3 / 4..=nominal * 5 / 4).contains(&pause),
                    "retry {retry}: {pause} ms"
                );
            }
        }
    }
}
