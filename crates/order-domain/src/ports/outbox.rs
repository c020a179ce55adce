//! The outbox the relay publishes from, and the inbox that makes each consumed message count
//! once.

use async_trait::async_trait;
use time::Duration;

use super::RepositoryError;
use crate::events::EventEnvelope;
use crate::ids::{DomainEventId, TenantId};

/// A stored outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRecord {
    /// Monotonic position (publish order).
    pub position: i64,
    /// The event.
    pub envelope: EventEnvelope,
    /// The W3C `traceparent` of the trace the change was committed in, when traces are
    /// recorded: the relay passes it on with the message, so one trace follows the order.
    /// Opaque to the domain.
    pub traceparent: Option<String>,
}

/// The transactional outbox, read by the relay.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Leases up to `limit` unpublished rows, in position order, for `lease`: other relays skip
    /// them until [`Outbox::mark_published`] or until the lease runs out. Rows of an order whose
    /// earlier events are leased to another relay are not returned, so one order's events are
    /// never published out of order.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn claim_unpublished(
        &self,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<OutboxRecord>, RepositoryError>;

    /// Marks rows as published (after the broker confirmed them).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn mark_published(&self, ids: &[DomainEventId]) -> Result<(), RepositoryError>;
}

/// Message ids already consumed.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Inbox: Send + Sync {
    /// Whether `consumer` already applied `message_id` for `tenant`.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn contains(
        &self,
        tenant: TenantId,
        consumer: &str,
        message_id: &str,
    ) -> Result<bool, RepositoryError>;

    /// Records that `consumer` applied `message_id` for `tenant`, for consumers whose effect is
    /// not a database change (a notification sent); recording a known message again is a no-op.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn record(
        &self,
        tenant: TenantId,
        consumer: &str,
        message_id: &str,
    ) -> Result<(), RepositoryError>;
}
