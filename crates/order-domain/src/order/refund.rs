//! Refunds of one order: their state machine, the refundable-maximum arithmetic, and the
//! aggregate's refund commands (request, approve, reject, complete, fail).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::status::RefundStatus;
use super::{Order, OrderError, OrderKind, OrderStatus, transition_allowed};
use crate::events::{
    OrderEvent, OrderRefunded, RefundCompleted, RefundDecided, RefundFailed, RefundRequested,
};
use crate::ids::{OrderItemId, RefundId};
use crate::pricing::allocation::allocate;

/// One refund of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refund {
    /// Unique id; also the idempotency key of the payment refund.
    pub id: RefundId,
    /// Amount in the order's currency, minor units, > 0.
    pub amount: i64,
    /// Where it is.
    pub status: RefundStatus,
    /// The lines it covers; empty for an amount or whole-order refund.
    pub items: Vec<OrderItemId>,
    /// Why it was asked for.
    pub reason: String,
    /// Who asked (user id or service name).
    pub requested_by: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    /// Who approved or rejected it.
    pub decided_by: Option<String>,
    /// When it was approved or rejected.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub decided_at: Option<OffsetDateTime>,
    /// The admin's note; the reason for a rejection.
    pub decision_note: Option<String>,
    /// The payment service's refund reference.
    pub payment_reference: Option<String>,
    /// The last payment failure.
    pub failure_reason: Option<String>,
    /// Payment attempts so far.
    pub attempts: u32,
    /// When it was paid out.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
    /// When the retry job pays a FAILED refund out again; none when it is not FAILED or its
    /// retries are used up (an admin retries it then).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub retry_at: Option<OffsetDateTime>,
    /// The edit whose negative balance this refund pays back: money the edited total no longer
    /// asks for, so it does not count toward the refund policy's maximum of that total.
    #[serde(default)]
    pub edit_id: Option<crate::ids::OrderEditId>,
}

impl Refund {
    /// A refund approved when it is recorded (a cancellation's, a late payment's): `decided_by`
    /// is who asked, with `note` as the decision.
    pub(super) fn approved(
        id: RefundId,
        amount: i64,
        items: Vec<OrderItemId>,
        reason: &str,
        requested_by: &str,
        note: &str,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            amount,
            status: RefundStatus::Approved,
            items,
            reason: reason.to_owned(),
            requested_by: requested_by.to_owned(),
            requested_at: now,
            decided_by: Some(requested_by.to_owned()),
            decided_at: Some(now),
            decision_note: Some(note.to_owned()),
            payment_reference: None,
            failure_reason: None,
            attempts: 0,
            completed_at: None,
            retry_at: None,
            edit_id: None,
        }
    }
}

/// When a FAILED payout is tried again: `first` after the first failure, doubling with each
/// attempt up to `longest`, until `max_attempts` payouts were tried (then it waits for an admin).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetrySchedule {
    /// Pause after the first failure.
    pub first: time::Duration,
    /// The longest pause.
    pub longest: time::Duration,
    /// Payout attempts before the job gives up.
    pub max_attempts: u32,
}

impl Default for RetrySchedule {
    /// 1 min, 2, 4, … up to 1 h, eight attempts in all (about three hours).
    fn default() -> Self {
        Self {
            first: time::Duration::minutes(1),
            longest: time::Duration::hours(1),
            max_attempts: 8,
        }
    }
}

impl RetrySchedule {
    /// When to try again after `attempts` payouts failed; none once they are used up.
    pub fn next_attempt(&self, attempts: u32, now: OffsetDateTime) -> Option<OffsetDateTime> {
        if attempts == 0 || attempts >= self.max_attempts {
            return None;
        }
        let doublings = (attempts - 1).min(30);
        let pause = self
            .first
            .checked_mul(1 << doublings)
            .map_or(self.longest, |pause| pause.min(self.longest));
        Some(now + pause)
    }
}

/// What the policy allows to be refunded on an order right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundTerms {
    /// The most all refunds together may reach, minor units.
    pub refundable_max: i64,
    /// What the order keeps (total − refundable maximum), minor units.
    pub retained: i64,
}

/// What a refund request covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundScope {
    /// Everything still refundable.
    Remaining,
    /// A given amount, minor units.
    Amount(i64),
    /// Whole lines: each line's share of the total, less its share of what is retained.
    Items(Vec<OrderItemId>),
}

/// Why a refund operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefundError {
    /// No refund with that id on this order.
    #[error("refund {0} not found on this order")]
    NotFound(RefundId),
    /// The refund state machine does not allow it.
    #[error("a refund cannot go from {from} to {to}")]
    InvalidState {
        /// Current refund status.
        from: RefundStatus,
        /// Requested refund status.
        to: RefundStatus,
    },
    /// The amount is zero or negative.
    #[error("a refund amount must be positive")]
    InvalidAmount,
    /// Nothing is left to refund.
    #[error("nothing is left to refund on this order")]
    NothingToRefund,
    /// More than what is left was asked for.
    #[error("{requested} exceeds the {remaining} still refundable")]
    ExceedsRefundable {
        /// Asked for, minor units.
        requested: i64,
        /// Still refundable, minor units.
        remaining: i64,
    },
    /// A line id that is not on the order.
    #[error("order item {0} is not on this order")]
    UnknownItem(OrderItemId),
    /// A line already covered by another refund.
    #[error("order item {0} has already been refunded")]
    ItemAlreadyRefunded(OrderItemId),
}

/// A refund to record: its new id, what it covers, and the policy's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// New refund id.
    pub id: RefundId,
    /// What it covers.
    pub scope: RefundScope,
    /// Why.
    pub reason: String,
    /// Who asks.
    pub requested_by: String,
    /// Refunds below this amount (minor units) are approved at once.
    pub auto_approve_below: i64,
}

// The refund commands of the order aggregate.
impl Order {
    /// Asks for a refund under `terms`. Ticket orders refund while CONFIRMED; goods orders once
    /// RETURNED (before that, goods are cancelled instead). Below the auto-approval threshold
    /// the refund is APPROVED at once, otherwise it waits for an admin.
    ///
    /// # Errors
    /// [`OrderError::InvalidTransition`] (to REFUNDED) when the order's status allows no refund;
    /// [`RefundError`] when the amount is invalid, a line is unknown or already refunded, or the
    /// request exceeds what is left.
    pub fn request_refund(
        &mut self,
        request: RefundRequest,
        terms: RefundTerms,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let allowed = match self.kind() {
            OrderKind::Ticket => self.status() == OrderStatus::Confirmed,
            OrderKind::Goods => self.status() == OrderStatus::Returned,
        };
        if !allowed {
            return Err(self.invalid(OrderStatus::Refunded).into());
        }
        self.no_edit_waiting()?;
        self.record.refundable_max = Some(terms.refundable_max);
        let remaining = self.remaining_refundable();
        let (amount, items) = match request.scope {
            RefundScope::Remaining => (remaining, Vec::new()),
            RefundScope::Amount(amount) if amount <= 0 => {
                return Err(RefundError::InvalidAmount.into());
            }
            RefundScope::Amount(amount) => (amount, Vec::new()),
            RefundScope::Items(items) => (self.items_refund_amount(&items, terms)?, items),
        };
        if remaining <= 0 {
            return Err(RefundError::NothingToRefund.into());
        }
        if amount <= 0 {
            return Err(RefundError::NothingToRefund.into());
        }
        if amount > remaining {
            return Err(RefundError::ExceedsRefundable {
                requested: amount,
                remaining,
            }
            .into());
        }
        let auto = amount < request.auto_approve_below;
        let status = if auto {
            RefundStatus::Approved
        } else {
            RefundStatus::Pending
        };
        self.record.refunds.push(Refund {
            id: request.id,
            amount,
            status,
            items: items.clone(),
            reason: request.reason.clone(),
            requested_by: request.requested_by.clone(),
            requested_at: now,
            decided_by: auto.then(|| "auto-approval".to_owned()),
            decided_at: auto.then_some(now),
            decision_note: None,
            payment_reference: None,
            failure_reason: None,
            attempts: 0,
            completed_at: None,
            retry_at: None,
            edit_id: None,
        });
        self.record.milestones.updated_at = now;
        let mut events = vec![OrderEvent::RefundRequested(RefundRequested {
            refund_id: request.id,
            amount,
            status,
            items,
            reason: request.reason,
        })];
        if auto {
            events.push(OrderEvent::RefundApproved(RefundDecided {
                refund_id: request.id,
                amount,
                note: Some("auto-approved below the threshold".to_owned()),
            }));
        }
        Ok(events)
    }

    /// A PENDING refund approved by an admin.
    ///
    /// # Errors
    /// [`RefundError::NotFound`] or [`RefundError::InvalidState`].
    pub fn approve_refund(
        &mut self,
        id: RefundId,
        admin: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let refund = self.refund_in(id, RefundStatus::Approved)?;
        refund.status = RefundStatus::Approved;
        refund.decided_by = Some(admin.to_owned());
        refund.decided_at = Some(now);
        let event = RefundDecided {
            refund_id: id,
            amount: refund.amount,
            note: None,
        };
        self.record.milestones.updated_at = now;
        Ok(vec![OrderEvent::RefundApproved(event)])
    }

    /// A PENDING refund rejected by an admin; it no longer counts toward the maximum.
    ///
    /// # Errors
    /// [`RefundError::NotFound`] or [`RefundError::InvalidState`].
    pub fn reject_refund(
        &mut self,
        id: RefundId,
        admin: &str,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let refund = self.refund_in(id, RefundStatus::Rejected)?;
        refund.status = RefundStatus::Rejected;
        refund.decided_by = Some(admin.to_owned());
        refund.decided_at = Some(now);
        refund.decision_note = Some(reason.to_owned());
        let event = RefundDecided {
            refund_id: id,
            amount: refund.amount,
            note: Some(reason.to_owned()),
        };
        self.record.milestones.updated_at = now;
        Ok(vec![OrderEvent::RefundRejected(event)])
    }

    /// The payment service paid an APPROVED (or previously FAILED) refund. When completed refunds
    /// reach the refundable maximum, a CONFIRMED ticket order or RETURNED goods order becomes
    /// REFUNDED; so does a partly returned order once every returned line is refunded.
    ///
    /// # Errors
    /// [`RefundError::NotFound`] or [`RefundError::InvalidState`].
    pub fn complete_refund(
        &mut self,
        id: RefundId,
        payment_reference: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let refund = self.refund_in(id, RefundStatus::Completed)?;
        refund.status = RefundStatus::Completed;
        refund.payment_reference = Some(payment_reference.to_owned());
        refund.attempts += 1;
        refund.completed_at = Some(now);
        refund.failure_reason = None;
        refund.retry_at = None;
        let mut events = vec![OrderEvent::RefundCompleted(RefundCompleted {
            refund_id: id,
            amount: refund.amount,
            payment_reference: payment_reference.to_owned(),
        })];
        self.record.milestones.updated_at = now;
        let completed = self
            .record
            .refunds
            .iter()
            .filter(|r| r.status == RefundStatus::Completed && r.edit_id.is_none())
            .map(|r| r.amount)
            .sum::<i64>();
        let fully_refunded = self
            .record
            .refundable_max
            .is_some_and(|max| completed >= max);
        let returned_lines_refunded = self.status() == OrderStatus::Returned
            && !self.record.return_items.is_empty()
            && self.record.return_items.iter().all(|line| {
                self.record
                    .refunds
                    .iter()
                    .any(|r| r.status == RefundStatus::Completed && r.items.contains(line))
            });
        if (fully_refunded || returned_lines_refunded)
            && transition_allowed(self.kind(), self.status(), OrderStatus::Refunded)
        {
            let change = self.transition(OrderStatus::Refunded, now)?;
            events.push(OrderEvent::Refunded(OrderRefunded {
                change,
                refunded_total: completed,
            }));
        }
        Ok(events)
    }

    /// The payment service refused a refund; it stays FAILED until retried, by the retry job at
    /// the time `schedule` gives for its attempts so far, or by an admin.
    ///
    /// # Errors
    /// [`RefundError::NotFound`] or [`RefundError::InvalidState`].
    pub fn fail_refund(
        &mut self,
        id: RefundId,
        reason: &str,
        schedule: &RetrySchedule,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let refund = self.refund_in(id, RefundStatus::Failed)?;
        refund.status = RefundStatus::Failed;
        refund.failure_reason = Some(reason.to_owned());
        refund.attempts += 1;
        refund.retry_at = schedule.next_attempt(refund.attempts, now);
        let event = RefundFailed {
            refund_id: id,
            reason: reason.to_owned(),
            attempts: refund.attempts,
        };
        self.record.milestones.updated_at = now;
        Ok(vec![OrderEvent::RefundFailed(event)])
    }

    /// The refund with `id`.
    pub fn refund(&self, id: RefundId) -> Option<&Refund> {
        self.record.refunds.iter().find(|r| r.id == id)
    }

    /// Refunds against the order's total that are or will be paid out (all but REJECTED, and
    /// not an edit's settlement), minor units.
    pub fn committed_refunds(&self) -> i64 {
        self.record
            .refunds
            .iter()
            .filter(|r| r.status.counts_toward_maximum() && r.edit_id.is_none())
            .map(|r| r.amount)
            .sum()
    }

    /// Refunds paid out (an edit's settlement too), minor units.
    pub fn completed_refunds(&self) -> i64 {
        self.record
            .refunds
            .iter()
            .filter(|r| r.status == RefundStatus::Completed)
            .map(|r| r.amount)
            .sum()
    }

    /// What the latest terms still allow, minor units (the total when no terms were given yet).
    pub fn remaining_refundable(&self) -> i64 {
        let max = self.record.refundable_max.unwrap_or(self.total().minor());
        (max - self.committed_refunds()).max(0)
    }

    /// Each line's refundable amount under `terms`: the retained amount is spread over the lines
    /// by their totals, so refunding every line one by one refunds exactly the maximum.
    pub fn line_refund_amounts(&self, terms: RefundTerms) -> Vec<(OrderItemId, i64)> {
        let totals: Vec<i64> = self
            .record
            .items
            .iter()
            .map(|i| i.pricing.total().minor())
            .collect();
        let retained = allocate(terms.retained.clamp(0, self.total().minor()), &totals);
        self.record
            .items
            .iter()
            .zip(totals.iter().zip(retained))
            .map(|(item, (total, kept))| (item.id, total - kept))
            .collect()
    }

    fn items_refund_amount(
        &self,
        items: &[OrderItemId],
        terms: RefundTerms,
    ) -> Result<i64, RefundError> {
        if items.is_empty() {
            return Err(RefundError::NothingToRefund);
        }
        let amounts = self.line_refund_amounts(terms);
        let mut sum = 0i64;
        for (index, id) in items.iter().enumerate() {
            if items[..index].contains(id) {
                return Err(RefundError::ItemAlreadyRefunded(*id));
            }
            let (_, amount) = amounts
                .iter()
                .find(|(item, _)| item == id)
                .ok_or(RefundError::UnknownItem(*id))?;
            let already = self
                .record
                .refunds
                .iter()
                .any(|r| r.status.counts_toward_maximum() && r.items.contains(id));
            if already {
                return Err(RefundError::ItemAlreadyRefunded(*id));
            }
            sum += amount;
        }
        Ok(sum)
    }

    fn refund_in(&mut self, id: RefundId, to: RefundStatus) -> Result<&mut Refund, RefundError> {
        let refund = self
            .record
            .refunds
            .iter_mut()
            .find(|r| r.id == id)
            .ok_or(RefundError::NotFound(id))?;
        if !refund.status.can_become(to) {
            return Err(RefundError::InvalidState {
                from: refund.status,
                to,
            });
        }
        Ok(refund)
    }
}
