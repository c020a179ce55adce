//! Event replay (docs/events.md): stored events published again with their original ids, as a
//! durable job that walks the outbox in order and remembers where it is.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::ids::{OrderId, ReplayId, TenantId};

wire_enum! {
    /// Where a replay sends the events.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum ReplayTarget ("replay target") {
        /// The broker's exchange, as the relay published them: consumers dedupe by message id.
        Broker = "broker",
        /// The tenant's webhook subscriptions: deliveries sent again with the same
        /// `webhook-id`, receivers dedupe on it.
        Webhooks = "webhooks",
    }
}

wire_enum! {
    /// Where a replay is.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    pub enum ReplayStatus ("replay status") {
        /// Being worked (or waiting for a worker).
        Running = "RUNNING",
        /// Every event in scope was sent.
        Done = "DONE",
    }
}

/// Which stored events a replay sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayScope {
    /// Every event of one order.
    Order(OrderId),
    /// Every event of the tenant that occurred in `from..to` (at most [`MAX_REPLAY_RANGE`]).
    Range {
        /// Start, inclusive.
        from: OffsetDateTime,
        /// End, exclusive.
        to: OffsetDateTime,
    },
}

/// The longest range one replay covers.
pub const MAX_REPLAY_RANGE: Duration = Duration::days(31);
/// How much of the outbox's time one batch of a range replay looks at: each batch reads a
/// bounded slice, however many events the whole range holds.
pub const REPLAY_WINDOW: Duration = Duration::hours(1);

/// Where a replay has got to: the last event sent, by time and outbox position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReplayCursor {
    /// The time the walk has reached (range replays).
    pub at: Option<OffsetDateTime>,
    /// The outbox position of the last event sent at that time (0 before any).
    pub position: i64,
}

/// A replay and its progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventReplay {
    /// Its id.
    pub id: ReplayId,
    /// The tenant whose events it sends (never another's).
    pub tenant_id: TenantId,
    /// Which events.
    pub scope: ReplayScope,
    /// Only these event types (all when empty).
    pub types: Vec<String>,
    /// Where to.
    pub target: ReplayTarget,
    /// Running or done.
    pub status: ReplayStatus,
    /// Events sent so far.
    pub replayed: u64,
    /// Where it is.
    pub cursor: ReplayCursor,
    /// Who asked (a user id, or a service's name).
    pub requested_by: String,
    /// When it was asked for.
    pub created_at: OffsetDateTime,
    /// Its last progress.
    pub updated_at: OffsetDateTime,
    /// When it finished.
    pub finished_at: Option<OffsetDateTime>,
}

impl EventReplay {
    /// The slice of time the next batch reads: from the cursor, one [`REPLAY_WINDOW`] at most,
    /// never past the range's end. `None` for order replays (they read the order's events).
    pub fn window(&self) -> Option<(OffsetDateTime, OffsetDateTime)> {
        match self.scope {
            ReplayScope::Order(_) => None,
            ReplayScope::Range { from, to } => {
                let start = self.cursor.at.unwrap_or(from).max(from);
                Some((start, (start + REPLAY_WINDOW).min(to)))
            }
        }
    }

    /// Records a batch of `sent` events whose last one was at `last` (time, position), read
    /// with `limit`; `now` is the clock. A short batch moves a range replay to the end of its
    /// window, or ends an order replay; reaching the range's end ends it.
    pub fn advance(
        &mut self,
        sent: usize,
        last: Option<(OffsetDateTime, i64)>,
        limit: usize,
        now: OffsetDateTime,
    ) {
        // The window the batch was read from, before the cursor moves.
        let window = self.window();
        self.replayed += sent as u64;
        self.updated_at = now;
        if let Some((at, position)) = last {
            self.cursor = ReplayCursor {
                at: Some(at),
                position,
            };
        }
        if sent >= limit {
            return;
        }
        match (self.scope, window) {
            (ReplayScope::Range { to, .. }, Some((_, end))) if end < to => {
                self.cursor = ReplayCursor {
                    at: Some(end),
                    position: 0,
                };
            }
            _ => {
                self.status = ReplayStatus::Done;
                self.finished_at = Some(now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;

    fn replay(scope: ReplayScope) -> EventReplay {
        let at = datetime!(2026-12-01 00:00 UTC);
        EventReplay {
            id: ReplayId::from_uuid(Uuid::from_u128(1)),
            tenant_id: TenantId::from_uuid(Uuid::from_u128(2)),
            scope,
            types: Vec::new(),
            target: ReplayTarget::Broker,
            status: ReplayStatus::Running,
            replayed: 0,
            cursor: ReplayCursor::default(),
            requested_by: "admin".into(),
            created_at: at,
            updated_at: at,
            finished_at: None,
        }
    }

    #[test]
    fn a_range_replay_walks_its_range_window_by_window_and_ends_at_its_end() {
        let from = datetime!(2026-12-01 00:00 UTC);
        let to = from + Duration::minutes(150);
        let mut walk = replay(ReplayScope::Range { from, to });
        assert_eq!(walk.window(), Some((from, from + REPLAY_WINDOW)));
        // A full batch stays in its window, after the last event sent.
        walk.advance(2, Some((from + Duration::minutes(5), 42)), 2, to);
        assert_eq!(walk.cursor.position, 42);
        assert_eq!(
            walk.window().map(|w| w.0),
            Some(from + Duration::minutes(5))
        );
        // A short batch: the window it was read from is done, the next starts where it ended.
        let read_until = from + Duration::minutes(5) + REPLAY_WINDOW;
        walk.advance(1, Some((from + Duration::minutes(9), 50)), 2, to);
        assert_eq!(
            walk.cursor,
            ReplayCursor {
                at: Some(read_until),
                position: 0
            }
        );
        walk.advance(0, None, 2, to);
        assert_eq!(
            walk.window(),
            Some((read_until + REPLAY_WINDOW, to)),
            "never past the end"
        );
        walk.advance(0, None, 2, to);
        assert_eq!(walk.status, ReplayStatus::Done);
        assert_eq!(walk.replayed, 3);
    }

    #[test]
    fn an_order_replay_ends_with_its_first_short_batch() {
        let mut walk = replay(ReplayScope::Order(OrderId::from_uuid(Uuid::from_u128(3))));
        assert_eq!(walk.window(), None);
        walk.advance(
            2,
            Some((datetime!(2026-12-01 00:00 UTC), 7)),
            2,
            datetime!(2026-12-01 00:01 UTC),
        );
        assert_eq!(walk.status, ReplayStatus::Running);
        walk.advance(
            1,
            Some((datetime!(2026-12-01 00:00 UTC), 9)),
            2,
            datetime!(2026-12-01 00:01 UTC),
        );
        assert_eq!(walk.status, ReplayStatus::Done);
        assert_eq!((walk.replayed, walk.cursor.position), (3, 9));
    }
}
