//! Checks of the tamper-evident audit trail (docs/audit.md): an order's hash chain, or a
//! tenant's range of chains and daily anchors; the anchors' export and the job that writes them.

use time::{Date, Duration, OffsetDateTime};

use super::create::field;
use super::{OrderService, ReadError, UseCaseError};
use crate::actor::RequestContext;
use crate::audit_chain::{AuditAnchor, AuditScope, AuditVerification, MAX_RANGE};
use crate::ids::OrderId;

/// Chains recomputed per storage round trip.
const CHAINS_PER_BATCH: u32 = 500;
/// How long after a UTC day ends before it is anchored: writes stamped just before midnight have
/// committed by then.
pub const ANCHOR_GRACE: Duration = Duration::hours(1);
/// Days one pass of the anchor job anchors at the most (a new deployment catches up in passes).
const DAYS_PER_PASS: u32 = 31;

impl OrderService {
    /// `GET /admin/audit/verify` and `order-api audit verify`: recomputes the chains and anchors
    /// in `scope` and reports the first link that does not hold.
    ///
    /// # Ports
    /// `audit_chain`, `orders`.
    ///
    /// # Errors
    /// [`UseCaseError::Forbidden`] for non-admins; [`UseCaseError::NotFound`] for an order not
    /// in the tenant; [`UseCaseError::Validation`] for an empty, reversed or longer than 31 days
    /// range; storage errors.
    pub async fn verify_audit(
        &self,
        ctx: &RequestContext,
        scope: AuditScope,
    ) -> Result<AuditVerification, UseCaseError> {
        if !ctx.actor.is_privileged() {
            return Err(UseCaseError::Forbidden);
        }
        let chain = &self.ports.audit_chain;
        match scope {
            AuditScope::Order(id) => {
                if self.ports.orders.find(ctx.tenant_id, id).await?.is_none() {
                    return Err(UseCaseError::NotFound { what: "order" });
                }
                Ok(AuditVerification {
                    orders_checked: 1,
                    anchors_checked: 0,
                    first_break: chain.chain_break(ctx.tenant_id, &[id]).await?,
                })
            }
            AuditScope::Range { from, to } => {
                let (first_day, last_day) = range_days(from, to)?;
                let mut report = AuditVerification::default();
                let mut after: Option<OrderId> = None;
                loop {
                    let batch = chain
                        .orders_with_entries(ctx.tenant_id, from, to, after, CHAINS_PER_BATCH)
                        .await?;
                    let Some(last) = batch.last().copied() else {
                        break;
                    };
                    report.orders_checked += batch.len() as u64;
                    if let Some(found) = chain.chain_break(ctx.tenant_id, &batch).await? {
                        report.first_break = Some(found);
                        return Ok(report);
                    }
                    after = Some(last);
                }
                let (anchors, found) = chain
                    .anchor_break(ctx.tenant_id, first_day, last_day)
                    .await?;
                report.anchors_checked = anchors;
                report.first_break = found;
                Ok(report)
            }
        }
    }

    /// `GET /admin/audit/anchors`: the tenant's daily anchors of `from..=to` (at most 31 days),
    /// for keeping a copy outside the service.
    ///
    /// # Ports
    /// `audit_chain`.
    ///
    /// # Errors
    /// [`UseCaseError::Forbidden`] for non-admins; [`UseCaseError::Validation`] for a reversed
    /// or longer than 31 days range; storage errors.
    pub async fn audit_anchors(
        &self,
        ctx: &RequestContext,
        from: Date,
        to: Date,
    ) -> Result<Vec<AuditAnchor>, UseCaseError> {
        if !ctx.actor.is_privileged() {
            return Err(ReadError::Forbidden.into());
        }
        if from > to {
            return Err(field(
                "to",
                "out_of_range",
                "the range must not end before it starts",
            )
            .into());
        }
        if to - from >= MAX_RANGE {
            return Err(field("from", "out_of_range", "a range spans 31 days at the most").into());
        }
        Ok(self
            .ports
            .audit_chain
            .anchors(ctx.tenant_id, from, to)
            .await?)
    }

    /// The anchor job: anchors every tenant's UTC days that ended more than [`ANCHOR_GRACE`]
    /// ago, a bounded number of days per pass; answers how many anchors it wrote.
    ///
    /// # Ports
    /// `audit_chain`.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn anchor_audit_days(&self) -> Result<u32, UseCaseError> {
        let before = (self.ports.clock.now() - ANCHOR_GRACE).date();
        Ok(self
            .ports
            .audit_chain
            .anchor_days(before, DAYS_PER_PASS)
            .await?)
    }
}

/// The UTC days a range touches, after checking it.
fn range_days(from: OffsetDateTime, to: OffsetDateTime) -> Result<(Date, Date), UseCaseError> {
    if from >= to {
        return Err(field("to", "out_of_range", "the range must end after it starts").into());
    }
    if to - from > MAX_RANGE {
        return Err(field("from", "out_of_range", "a range spans 31 days at the most").into());
    }
    let utc = time::UtcOffset::UTC;
    let last = to.to_offset(utc) - Duration::nanoseconds(1);
    Ok((from.to_offset(utc).date(), last.date()))
}
