//! The outbox as the relay reads it: leases in position order, never past an order's leased
//! earlier event.

use std::collections::HashSet;

use async_trait::async_trait;
use time::Duration;

use super::MemoryStore;
use crate::ids::{DomainEventId, OrderId};
use crate::ports::{Outbox, OutboxRecord, RepositoryError};

#[async_trait]
impl Outbox for MemoryStore {
    async fn claim_unpublished(
        &self,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<OutboxRecord>, RepositoryError> {
        let now = self.clock.now();
        let mut state = self.state();
        // Orders with an unpublished event leased to another relay: their later events wait.
        let mut blocked: HashSet<OrderId> = HashSet::new();
        let mut claimed = Vec::new();
        for (index, row) in state.outbox.iter_mut().enumerate() {
            if claimed.len() >= usize::try_from(limit).unwrap_or(usize::MAX) {
                break;
            }
            if row.published {
                continue;
            }
            let order = row.envelope.order_id;
            let leased = row.claimed_until.is_some_and(|until| until >= now);
            if leased {
                blocked.insert(order);
                continue;
            }
            if blocked.contains(&order) {
                continue;
            }
            row.claimed_until = Some(now + lease);
            claimed.push(OutboxRecord {
                position: i64::try_from(index + 1).unwrap_or(i64::MAX),
                envelope: row.envelope.clone(),
                traceparent: None,
            });
        }
        Ok(claimed)
    }

    async fn mark_published(&self, ids: &[DomainEventId]) -> Result<(), RepositoryError> {
        let ids: HashSet<&DomainEventId> = ids.iter().collect();
        for row in &mut self.state().outbox {
            if ids.contains(&row.envelope.id) {
                row.published = true;
            }
        }
        Ok(())
    }
}
