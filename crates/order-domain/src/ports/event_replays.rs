//! Durable event replays: the jobs, their leases and the stored events they walk; and the
//! stored events of one order, for rebuilding it.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{OutboxRecord, RepositoryError};
use crate::events::EventEnvelope;
use crate::ids::{OrderId, ReplayId, TenantId};
use crate::replay::EventReplay;

/// Replays and the outbox as they read it.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventReplays: Send + Sync {
    /// Stores a new replay. MUST answer `false`, storing nothing, while another replay of the
    /// tenant is running.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn begin_replay(&self, replay: &EventReplay) -> Result<bool, RepositoryError>;

    /// The tenant's replay `id`.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn replay(
        &self,
        tenant: TenantId,
        id: ReplayId,
    ) -> Result<Option<EventReplay>, RepositoryError>;

    /// Leases one running replay of any tenant whose lease ran out (or never had one) until
    /// `until` under `token`; two workers never hold the same replay.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn lease_replay(
        &self,
        now: OffsetDateTime,
        until: OffsetDateTime,
        token: Uuid,
    ) -> Result<Option<EventReplay>, RepositoryError>;

    /// Up to `limit` published events of the replay's tenant and scope after its cursor, in
    /// time and outbox order (a range replay reads its current window only).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn replay_events(
        &self,
        replay: &EventReplay,
        limit: u32,
    ) -> Result<Vec<(OffsetDateTime, OutboxRecord)>, RepositoryError>;

    /// Saves the replay's progress while `token` holds its lease, extending it to `until`;
    /// `false` when the lease was lost (another worker has it now).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn save_replay(
        &self,
        replay: &EventReplay,
        token: Uuid,
        until: OffsetDateTime,
    ) -> Result<bool, RepositoryError>;
}

/// The stored events of orders, for rebuilding an order from them.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait StoredEvents: Send + Sync {
    /// The tenant that owns `order`, across tenants (the command line names only the order).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn tenant_of(&self, order: OrderId) -> Result<Option<TenantId>, RepositoryError>;

    /// Every stored event of the order, oldest first.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn events_of(
        &self,
        tenant: TenantId,
        order: OrderId,
    ) -> Result<Vec<EventEnvelope>, RepositoryError>;

    /// Up to `limit` orders of every tenant by id after `after`.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn every_order(
        &self,
        after: Option<OrderId>,
        limit: u32,
    ) -> Result<Vec<OrderId>, RepositoryError>;
}
