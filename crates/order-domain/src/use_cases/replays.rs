//! Event replay (docs/events.md): an admin asks for a tenant's stored events to be published
//! again with their original ids; a durable job walks them in batches and records its progress.

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::create::field;
use super::{OrderService, UseCaseError};
use crate::actor::{Actor, RequestContext};
use crate::events::EVENT_TYPES;
use crate::ids::ReplayId;
use crate::policy::Violations;
use crate::ports::OutboxRecord;
use crate::replay::{
    EventReplay, MAX_REPLAY_RANGE, ReplayCursor, ReplayScope, ReplayStatus, ReplayTarget,
};

/// Events one batch sends at the most.
pub const REPLAY_BATCH: u32 = 500;
/// How long a worker holds a replay without saving progress before another may take it over.
pub const REPLAY_LEASE: Duration = Duration::seconds(60);

/// What an admin asks to replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayRequest {
    /// One order's events, or a range of the tenant's.
    pub scope: ReplayScope,
    /// Only these event types (all when empty).
    pub types: Vec<String>,
    /// Where to.
    pub target: ReplayTarget,
}

impl OrderService {
    /// `POST /admin/events/replay`: stores a replay of the caller's tenant for the replay job;
    /// answers it (status RUNNING, nothing sent yet).
    ///
    /// # Ports
    /// `event_replays`, `orders`.
    ///
    /// # Errors
    /// [`UseCaseError::Forbidden`] for non-admins; [`UseCaseError::Validation`] for an unknown
    /// event type, or an empty, reversed or longer than 31 days range;
    /// [`UseCaseError::NotFound`] for an order not in the tenant;
    /// [`UseCaseError::ReplayRunning`] while another replay of the tenant runs; storage errors.
    pub async fn start_replay(
        &self,
        ctx: &RequestContext,
        request: ReplayRequest,
    ) -> Result<EventReplay, UseCaseError> {
        if !ctx.actor.is_privileged() {
            return Err(UseCaseError::Forbidden);
        }
        check_types(&request.types)?;
        match request.scope {
            ReplayScope::Order(id) => {
                if self.ports.orders.find(ctx.tenant_id, id).await?.is_none() {
                    return Err(UseCaseError::NotFound { what: "order" });
                }
            }
            ReplayScope::Range { from, to } => {
                if from >= to {
                    return Err(
                        field("to", "out_of_range", "the range must end after it starts").into(),
                    );
                }
                if to - from > MAX_REPLAY_RANGE {
                    return Err(
                        field("from", "out_of_range", "a range spans 31 days at the most").into(),
                    );
                }
            }
        }
        let now = self.ports.clock.now();
        let replay = EventReplay {
            id: ReplayId::from_uuid(self.ports.ids.uuid()),
            tenant_id: ctx.tenant_id,
            scope: request.scope,
            types: request.types,
            target: request.target,
            status: ReplayStatus::Running,
            replayed: 0,
            cursor: ReplayCursor::default(),
            requested_by: requester(&ctx.actor),
            created_at: now,
            updated_at: now,
            finished_at: None,
        };
        if !self.ports.event_replays.begin_replay(&replay).await? {
            return Err(UseCaseError::ReplayRunning);
        }
        Ok(replay)
    }

    /// `GET /admin/events/replay/{id}`: the replay and its progress.
    ///
    /// # Ports
    /// `event_replays`.
    ///
    /// # Errors
    /// [`UseCaseError::Forbidden`] for non-admins; [`UseCaseError::NotFound`] for a replay not
    /// in the tenant; storage errors.
    pub async fn replay_progress(
        &self,
        ctx: &RequestContext,
        id: ReplayId,
    ) -> Result<EventReplay, UseCaseError> {
        if !ctx.actor.is_privileged() {
            return Err(UseCaseError::Forbidden);
        }
        self.ports
            .event_replays
            .replay(ctx.tenant_id, id)
            .await?
            .ok_or(UseCaseError::NotFound { what: "replay" })
    }

    /// The replay job: leases one running replay whose worker is gone (or that has none yet)
    /// under `token`.
    ///
    /// # Ports
    /// `event_replays`.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn lease_replay(&self, token: Uuid) -> Result<Option<EventReplay>, UseCaseError> {
        let now = self.ports.clock.now();
        Ok(self
            .ports
            .event_replays
            .lease_replay(now, now + REPLAY_LEASE, token)
            .await?)
    }

    /// The next batch of a leased replay's events (at most [`REPLAY_BATCH`]), each with the
    /// time it occurred.
    ///
    /// # Ports
    /// `event_replays`.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn replay_batch(
        &self,
        replay: &EventReplay,
    ) -> Result<Vec<(OffsetDateTime, OutboxRecord)>, UseCaseError> {
        Ok(self
            .ports
            .event_replays
            .replay_events(replay, REPLAY_BATCH)
            .await?)
    }

    /// Records that `batch` was sent and extends the lease; `false` when another worker took
    /// the replay over (this one stops; the events it sent go again, which receivers dedupe).
    ///
    /// # Ports
    /// `event_replays`.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn replay_sent(
        &self,
        replay: &mut EventReplay,
        batch: &[(OffsetDateTime, OutboxRecord)],
        token: Uuid,
    ) -> Result<bool, UseCaseError> {
        let now = self.ports.clock.now();
        let last = batch.last().map(|(at, record)| (*at, record.position));
        replay.advance(batch.len(), last, REPLAY_BATCH as usize, now);
        Ok(self
            .ports
            .event_replays
            .save_replay(replay, token, now + REPLAY_LEASE)
            .await?)
    }
}

fn check_types(types: &[String]) -> Result<(), UseCaseError> {
    let unknown: Vec<_> = types
        .iter()
        .enumerate()
        .filter(|(_, t)| !EVENT_TYPES.contains(&t.as_str()))
        .map(|(n, _)| {
            crate::policy::FieldError::new(
                format!("types[{n}]"),
                "unknown_event_type",
                "not an event this service publishes",
            )
        })
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(Violations(unknown).into())
    }
}

fn requester(actor: &Actor) -> String {
    match actor {
        Actor::User { id, .. } => id.to_string(),
        Actor::Service { name } | Actor::System { name } => name.clone(),
    }
}
