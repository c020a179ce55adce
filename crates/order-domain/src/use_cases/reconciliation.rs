//! Reconciliation runs (docs/product/after-the-sale.md): each order with a payment that changed in
//! a window is compared with what the payment service holds for it; every difference is stored with
//! the run, and the ones that can be repaired safely are repaired on the spot.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};

use super::create::field;
use super::{Extras, OrderService, UseCaseError};
use crate::actor::{Actor, RequestContext};
use crate::ids::{OrderId, ReconciliationRunId, RefundId, TenantId};
use crate::order::Order;
use crate::ports::{PaymentRecord, Payout};
use crate::reconciliation::{Difference, DifferenceKind, ReconciliationRun, RunSummary, compare};

/// Orders one run compares at the most; a later run takes the rest of a busier window.
pub const MAX_ORDERS_PER_RUN: u32 = 10_000;
/// The longest window one run covers.
pub const MAX_WINDOW: Duration = Duration::days(31);
/// The most runs one list shows.
pub const MAX_RUNS_LISTED: u32 = 100;
/// Orders loaded per storage round trip.
const BATCH: usize = 100;

impl OrderService {
    /// `POST /admin/reconciliation/runs`: reconciles the caller's tenant over `from..to`.
    ///
    /// # Ports
    /// `orders`, `payments`, `reconciliations`, `scans`, `unit_of_work`.
    ///
    /// # Errors
    /// [`UseCaseError::Forbidden`] for non-admins; [`UseCaseError::Validation`] for an empty,
    /// reversed or too long window; storage errors.
    pub async fn reconcile(
        &self,
        ctx: &RequestContext,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<ReconciliationRun, UseCaseError> {
        if !ctx.actor.is_privileged() {
            return Err(UseCaseError::Forbidden);
        }
        if from >= to {
            return Err(field("to", "out_of_range", "the window must end after it starts").into());
        }
        if to - from > MAX_WINDOW {
            return Err(field("from", "out_of_range", "a window spans 31 days at the most").into());
        }
        let (from, to) = (whole_micros(from), whole_micros(to));
        let changed = self
            .ports
            .scans
            .payments_changed(Some(ctx.tenant_id), from, to, MAX_ORDERS_PER_RUN)
            .await?;
        let orders = changed.into_iter().map(|c| c.order_id).collect();
        self.run_reconciliation(ctx.tenant_id, from, to, orders)
            .await
    }

    /// The reconciliation job: one run per tenant with payments changed in `from..to`.
    ///
    /// # Ports
    /// `orders`, `payments`, `reconciliations`, `scans`, `unit_of_work`.
    ///
    /// # Errors
    /// Storage errors of the scan or of saving a run.
    pub async fn reconcile_all(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<ReconciliationRun>, UseCaseError> {
        let (from, to) = (whole_micros(from), whole_micros(to));
        let changed = self
            .ports
            .scans
            .payments_changed(None, from, to, MAX_ORDERS_PER_RUN)
            .await?;
        let mut by_tenant: BTreeMap<TenantId, Vec<OrderId>> = BTreeMap::new();
        for order in changed {
            by_tenant
                .entry(order.tenant_id)
                .or_default()
                .push(order.order_id);
        }
        let mut runs = Vec::with_capacity(by_tenant.len());
        for (tenant, orders) in by_tenant {
            runs.push(self.run_reconciliation(tenant, from, to, orders).await?);
        }
        Ok(runs)
    }

    /// `GET /admin/reconciliation/runs/{id}`.
    ///
    /// # Ports
    /// `reconciliations`.
    ///
    /// # Errors
    /// [`UseCaseError::Forbidden`] for non-admins; [`UseCaseError::NotFound`] for a run of
    /// another tenant or none.
    pub async fn reconciliation_run(
        &self,
        ctx: &RequestContext,
        id: ReconciliationRunId,
    ) -> Result<ReconciliationRun, UseCaseError> {
        if !ctx.actor.is_privileged() {
            return Err(UseCaseError::Forbidden);
        }
        self.ports
            .reconciliations
            .run(ctx.tenant_id, id)
            .await?
            .ok_or(UseCaseError::NotFound {
                what: "reconciliation run",
            })
    }

    /// `GET /admin/reconciliation/runs`: the tenant's latest runs, newest first.
    ///
    /// # Ports
    /// `reconciliations`.
    ///
    /// # Errors
    /// [`UseCaseError::Forbidden`] for non-admins; storage errors.
    pub async fn reconciliation_runs(
        &self,
        ctx: &RequestContext,
        limit: u32,
    ) -> Result<Vec<RunSummary>, UseCaseError> {
        if !ctx.actor.is_privileged() {
            return Err(UseCaseError::Forbidden);
        }
        Ok(self
            .ports
            .reconciliations
            .recent_runs(ctx.tenant_id, limit.clamp(1, MAX_RUNS_LISTED))
            .await?)
    }

    async fn run_reconciliation(
        &self,
        tenant: TenantId,
        from: OffsetDateTime,
        to: OffsetDateTime,
        orders: Vec<OrderId>,
    ) -> Result<ReconciliationRun, UseCaseError> {
        let ctx = RequestContext {
            tenant_id: tenant,
            actor: Actor::System {
                name: "reconciliation".to_owned(),
            },
            ip: None,
        };
        let mut run = ReconciliationRun {
            id: ReconciliationRunId::from_uuid(self.ports.ids.uuid()),
            tenant_id: tenant,
            window_from: from,
            window_to: to,
            orders_checked: 0,
            orders_unchecked: 0,
            differences: Vec::new(),
            started_at: self.now(),
            finished_at: self.now(),
        };
        for ids in orders.chunks(BATCH) {
            for order in self.ports.orders.find_many(tenant, ids).await? {
                match self.reconcile_order(&ctx, order).await {
                    Ok(differences) => {
                        run.orders_checked += 1;
                        run.differences.extend(differences);
                    }
                    Err(_) => run.orders_unchecked += 1,
                }
            }
        }
        run.finished_at = self.now();
        self.ports.reconciliations.save_run(&run).await?;
        Ok(run)
    }

    /// The differences of one order, repaired where that is safe.
    async fn reconcile_order(
        &self,
        ctx: &RequestContext,
        mut order: Order,
    ) -> Result<Vec<Difference>, UseCaseError> {
        if order.payment_intent_id().is_none() {
            return Ok(Vec::new());
        }
        // The order's own intent and its paid edits' intents, as one payment: captures add up,
        // and a refund paid in parts from several intents is one payout.
        let mut theirs = PaymentRecord::default();
        for intent in order.paying_intents() {
            let Some(record) = self.ports.payments.payment(&intent).await? else {
                continue;
            };
            theirs.captured += record.captured;
            for payout in record.payouts {
                match theirs
                    .payouts
                    .iter_mut()
                    .find(|p| p.refund_id == payout.refund_id)
                {
                    Some(merged) => {
                        merged.amount += payout.amount;
                        merged.reference = format!("{}+{}", merged.reference, payout.reference);
                    }
                    None => theirs.payouts.push(payout),
                }
            }
        }
        let ledger = self.ports.orders.ledger(ctx.tenant_id, order.id()).await?;
        let mut differences = compare(&order, &ledger, &theirs);
        for difference in &mut differences {
            if let Some(repaired) = self.repair(ctx, &order, difference, &theirs).await {
                difference.repaired = true;
                order = repaired;
            }
        }
        Ok(differences)
    }

    /// Repairs what can be repaired without a person: a payout the payment service made for a
    /// refund still awaiting it is recorded; a payment captured for an order closed unpaid is
    /// refunded in full, as a late payment. Returns the order after the repair.
    async fn repair(
        &self,
        ctx: &RequestContext,
        order: &Order,
        difference: &Difference,
        theirs: &PaymentRecord,
    ) -> Option<Order> {
        match difference.kind {
            DifferenceKind::PayoutMissingHere => {
                let refund = difference.refund_id?;
                let payout = theirs.payouts.iter().find(|p| p.refund_id == refund)?;
                self.record_missing_payout(ctx, order, payout).await
            }
            DifferenceKind::CaptureOnClosedOrder => {
                let mut order = order.clone();
                let intent = order.payment_intent_id()?.clone();
                let refund = RefundId::from_uuid(self.ports.ids.uuid());
                let events = order
                    .refund_late_payment(refund, &intent, self.now())
                    .ok()?;
                self.persist(ctx, &mut order, events, Extras::default())
                    .await
                    .ok()?;
                // A refused payout stays FAILED for the refund job; the repair is the refund.
                Some(
                    self.pay_refund(ctx, order.clone(), refund)
                        .await
                        .unwrap_or(order),
                )
            }
            DifferenceKind::PayoutUnknownUpstream | DifferenceKind::AmountMismatch => None,
        }
    }

    async fn record_missing_payout(
        &self,
        ctx: &RequestContext,
        order: &Order,
        payout: &Payout,
    ) -> Option<Order> {
        let awaiting = order
            .refund(payout.refund_id)
            .is_some_and(|r| r.status.awaits_payout() && r.amount == payout.amount);
        if !awaiting {
            return None;
        }
        self.record_payout(
            ctx,
            order.clone(),
            payout.refund_id,
            &Ok(payout.reference.clone()),
        )
        .await
        .ok()
    }
}

/// `at` in whole microseconds, as every stored instant (and the system clock), so that a run
/// reads back exactly as it was answered.
fn whole_micros(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_microsecond(at.microsecond()).unwrap_or(at)
}
