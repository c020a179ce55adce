//! Cancelling every active order of an event the organiser cancelled, as a durable job.
//!
//! An event can have thousands of orders: the request that asks for it only records the job
//! (one per tenant and event, however often it is sent), and a runner works through the orders
//! in bounded steps, saving where it is after each order. Orders are taken by a keyset over their
//! ids, so one that fails is passed, never tried again at the head of every page; a runner that
//! dies leaves a lease that runs out, and the next one resumes at the saved position — including
//! the order it was cancelling when it died, which counts as done once it is no longer active.

use time::OffsetDateTime;

use crate::ids::{BulkJobId, EventId, OrderId, TenantId};

/// How many failures a job lists (it counts all of them).
pub const LISTED_FAILURES: usize = 100;

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BulkJobStatus {
    /// Orders remain to be tried.
    Running,
    /// Every active order was tried.
    Done,
}

impl BulkJobStatus {
    /// Its stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "RUNNING",
            Self::Done => "DONE",
        }
    }
}

impl std::str::FromStr for BulkJobStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "RUNNING" => Ok(Self::Running),
            "DONE" => Ok(Self::Done),
            other => Err(format!("unknown job status {other:?}")),
        }
    }
}

/// An order the job could not cancel, as the API describes the failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedOrder {
    /// The order.
    pub order_id: OrderId,
    /// The HTTP status the failure would have answered.
    pub status: u16,
    /// Its stable problem code.
    pub code: String,
}

/// How the job ended, in the ticketing API's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkOutcome {
    /// Every order was cancelled (or there was none): 200.
    All,
    /// Some were: 207.
    Partial,
    /// None of several were: 500.
    None,
}

/// One bulk cancellation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkCancelJob {
    /// The job.
    pub id: BulkJobId,
    /// Its tenant.
    pub tenant_id: TenantId,
    /// The cancelled event.
    pub event_id: EventId,
    /// Why, as the organiser said (the orders' cancellation reason).
    pub reason: String,
    /// The service that asked for it (the only one that may read it).
    pub requested_by: String,
    /// Running or done.
    pub status: BulkJobStatus,
    /// The last order tried: the next page starts after it.
    pub after: Option<OrderId>,
    /// The order being cancelled when the job was last saved, if its outcome is unknown.
    pub current: Option<OrderId>,
    /// Orders tried.
    pub total: u32,
    /// Orders cancelled.
    pub succeeded: u32,
    /// Orders that could not be cancelled (they stay as they were).
    pub failed: u32,
    /// The first [`LISTED_FAILURES`] failures.
    pub errors: Vec<FailedOrder>,
    /// When it was asked for.
    pub created_at: OffsetDateTime,
    /// When it last moved.
    pub updated_at: OffsetDateTime,
    /// When every order had been tried.
    pub finished_at: Option<OffsetDateTime>,
}

impl BulkCancelJob {
    /// A job asked for `now`.
    pub fn new(
        id: BulkJobId,
        tenant_id: TenantId,
        event_id: EventId,
        reason: impl Into<String>,
        requested_by: impl Into<String>,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            tenant_id,
            event_id,
            reason: reason.into(),
            requested_by: requested_by.into(),
            status: BulkJobStatus::Running,
            after: None,
            current: None,
            total: 0,
            succeeded: 0,
            failed: 0,
            errors: Vec::new(),
            created_at: now,
            updated_at: now,
            finished_at: None,
        }
    }

    /// About to try `order`: saved first, so a crash meanwhile leaves it named.
    pub fn trying(&mut self, order: OrderId, now: OffsetDateTime) {
        self.current = Some(order);
        self.updated_at = now;
    }

    /// `order` was cancelled.
    pub fn cancelled(&mut self, order: OrderId, now: OffsetDateTime) {
        self.tried(order, now);
        self.succeeded += 1;
    }

    /// `order` could not be cancelled.
    pub fn not_cancelled(&mut self, failure: FailedOrder, now: OffsetDateTime) {
        self.tried(failure.order_id, now);
        self.failed += 1;
        if self.errors.len() < LISTED_FAILURES {
            self.errors.push(failure);
        }
    }

    fn tried(&mut self, order: OrderId, now: OffsetDateTime) {
        self.total += 1;
        self.after = Some(self.after.map_or(order, |after| after.max(order)));
        self.current = None;
        self.updated_at = now;
    }

    /// No active order is left after the position.
    pub fn finish(&mut self, now: OffsetDateTime) {
        self.status = BulkJobStatus::Done;
        self.current = None;
        self.updated_at = now;
        self.finished_at = Some(now);
    }

    /// How it ended, once done.
    pub fn outcome(&self) -> Option<BulkOutcome> {
        let outcome = match (self.succeeded, self.failed) {
            (_, 0) => BulkOutcome::All,
            (0, _) => BulkOutcome::None,
            _ => BulkOutcome::Partial,
        };
        (self.status == BulkJobStatus::Done).then_some(outcome)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-12-07 12:00 UTC);

    fn order(n: u128) -> OrderId {
        OrderId::from_uuid(Uuid::from_u128(n))
    }

    fn job() -> BulkCancelJob {
        BulkCancelJob::new(
            BulkJobId::from_uuid(Uuid::from_u128(1)),
            TenantId::from_uuid(Uuid::from_u128(2)),
            EventId::from_uuid(Uuid::from_u128(3)),
            "storm",
            "events",
            NOW,
        )
    }

    fn failure(n: u128) -> FailedOrder {
        FailedOrder {
            order_id: order(n),
            status: 503,
            code: "upstream_unavailable".into(),
        }
    }

    #[test]
    fn a_job_counts_every_order_lists_a_bounded_number_of_failures_and_moves_past_them() {
        let mut job = job();
        job.trying(order(5), NOW);
        assert_eq!(job.current, Some(order(5)));
        job.cancelled(order(5), NOW);
        let failures = 105_u32;
        for n in 10..(10 + u128::from(failures)) {
            job.not_cancelled(failure(n), NOW);
        }
        assert_eq!(job.total, 1 + failures);
        assert_eq!(job.failed, failures);
        assert_eq!(job.errors.len(), LISTED_FAILURES, "listed up to the bound");
        assert_eq!(job.after, Some(order(10 + u128::from(failures) - 1)));
        assert_eq!(job.current, None);
        assert_eq!(job.outcome(), None, "still running");
        job.finish(NOW);
        assert_eq!(job.outcome(), Some(BulkOutcome::Partial));
    }

    #[test]
    fn the_outcome_is_all_for_no_failure_and_none_when_nothing_was_cancelled() {
        let mut empty = job();
        empty.finish(NOW);
        assert_eq!(empty.outcome(), Some(BulkOutcome::All));
        let mut failing = job();
        failing.not_cancelled(failure(1), NOW);
        failing.finish(NOW);
        assert_eq!(failing.outcome(), Some(BulkOutcome::None));
    }
}
