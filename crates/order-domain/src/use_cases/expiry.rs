//! The expiry job's use cases: find the orders whose window and grace ran out, and expire them
//! in batches — one read and one write per tenant and batch, one call to release their holds.

use std::collections::{BTreeMap, HashMap};

use super::{Extras, OrderService, UseCaseError};
use crate::actor::{Actor, RequestContext};
use crate::ids::{OrderId, TenantId};
use crate::order::OrderKind;
use crate::ports::ExpiringOrder;

impl OrderService {
    /// The expiry job's next batch: up to `limit` orders past their window plus grace, oldest
    /// first.
    ///
    /// # Ports
    /// `scans`.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn due_for_expiry(&self, limit: u32) -> Result<Vec<ExpiringOrder>, UseCaseError> {
        Ok(self
            .ports
            .scans
            .expiring(self.config.reservation.due_before(self.now()), limit)
            .await?)
    }

    /// Expires a batch of due orders as the job named `job`: per tenant, the orders are read in
    /// one statement, each is expired by the aggregate, all are stored in one transaction (each
    /// under its own version check), and their ticket holds are released in one call. One
    /// result per order: a concurrent confirm that won is [`UseCaseError::Conflict`] or
    /// [`UseCaseError::InvalidTransition`].
    ///
    /// Payment intents are not cancelled here: each lapses by itself at its order's window plus
    /// grace (decision 0016), which is over for every order the job takes (decision 0025).
    ///
    /// # Ports
    /// `incidents`, `inventory`, `orders`, `tickets`, `unit_of_work`.
    pub async fn expire_batch(
        &self,
        job: &str,
        due: &[ExpiringOrder],
    ) -> Vec<(OrderId, Result<(), UseCaseError>)> {
        let mut by_tenant: BTreeMap<TenantId, Vec<OrderId>> = BTreeMap::new();
        for order in due {
            by_tenant
                .entry(order.tenant_id)
                .or_default()
                .push(order.order_id);
        }
        let mut results = Vec::with_capacity(due.len());
        for (tenant, ids) in by_tenant {
            match self.expire_tenant_batch(job, tenant, &ids).await {
                Ok(mut done) => results.append(&mut done),
                Err(error) => results.extend(ids.into_iter().map(|id| (id, Err(error.clone())))),
            }
        }
        results
    }

    async fn expire_tenant_batch(
        &self,
        job: &str,
        tenant: TenantId,
        ids: &[OrderId],
    ) -> Result<Vec<(OrderId, Result<(), UseCaseError>)>, UseCaseError> {
        let ctx = job_context(job, tenant);
        let now = self.now();
        let mut loaded: HashMap<OrderId, _> = self
            .ports
            .orders
            .find_many(tenant, ids)
            .await?
            .into_iter()
            .map(|order| (order.id(), order))
            .collect();
        let mut results = Vec::with_capacity(ids.len());
        let mut expired = Vec::new();
        let mut changes = Vec::new();
        for id in ids {
            let Some(mut order) = loaded.remove(id) else {
                results.push((*id, Err(UseCaseError::NotFound { what: "order" })));
                continue;
            };
            match order.expire(now) {
                Ok(events) => {
                    changes.push(self.change_for(&ctx, &order, events, Extras::default()));
                    expired.push(order);
                }
                Err(error) => results.push((*id, Err(error.into()))),
            }
        }
        if changes.is_empty() {
            return Ok(results);
        }
        let stored = self.ports.unit_of_work.commit_batch(&changes).await?;
        let mut holds = Vec::new();
        let mut held = Vec::new();
        for (mut order, saved) in expired.into_iter().zip(stored) {
            if !saved {
                results.push((order.id(), Err(UseCaseError::Conflict)));
                continue;
            }
            order.mark_committed();
            match (order.kind(), order.hold_id()) {
                (OrderKind::Ticket, Some(hold)) => {
                    holds.push(hold.clone());
                    held.push(order.id());
                }
                (OrderKind::Goods, _) => self.release_stock(&order).await,
                (OrderKind::Ticket, None) => {}
            }
            results.push((order.id(), Ok(())));
        }
        // A failed release is left to the holds' own expiry, which has passed already.
        if !holds.is_empty() {
            self.report_dropped(
                &held,
                "release the ticket holds of expired orders",
                self.ports.tickets.release_all(&holds).await,
            );
        }
        Ok(results)
    }
}

fn job_context(job: &str, tenant: TenantId) -> RequestContext {
    RequestContext {
        tenant_id: tenant,
        actor: Actor::System {
            name: job.to_owned(),
        },
        ip: None,
    }
}
