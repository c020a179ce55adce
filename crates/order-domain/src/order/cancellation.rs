//! Ending an order before it is fulfilled: cancellation (refunded under the terms when paid) and
//! expiry of an unpaid order, on time or forced by an operator.

use time::OffsetDateTime;

use super::{Order, OrderError, OrderStatus, Refund, RefundStatus, RefundTerms, check_transition};
use crate::events::{OrderCancelled, OrderEvent, OrderExpired, RefundRequested};
use crate::ids::RefundId;

impl Order {
    /// → CANCELLED. An unpaid order needs no refund terms; a paid one gets an APPROVED refund of
    /// everything the terms still allow.
    ///
    /// # Errors
    /// [`OrderError::InvalidTransition`] when the table does not allow CANCELLED.
    pub fn cancel(
        &mut self,
        reason: &str,
        refund: Option<(RefundId, RefundTerms, &str)>,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        check_transition(self.kind(), self.status(), OrderStatus::Cancelled)?;
        self.no_edit_waiting()?;
        let paid = !self.status().is_unpaid();
        let mut events = Vec::new();
        let mut started = None;
        if let (true, Some((id, terms, requested_by))) = (paid, refund) {
            self.record.refundable_max = Some(terms.refundable_max);
            let remaining = self.remaining_refundable();
            if remaining > 0 {
                self.record.refunds.push(Refund::approved(
                    id,
                    remaining,
                    Vec::new(),
                    reason,
                    requested_by,
                    "cancellation",
                    now,
                ));
                started = Some((id, remaining));
            }
        }
        let change = self.transition(OrderStatus::Cancelled, now)?;
        self.record.cancellation_reason = Some(reason.to_owned());
        events.push(OrderEvent::Cancelled(OrderCancelled {
            change,
            reason: reason.to_owned(),
            refund_id: started.map(|(id, _)| id),
            refund_amount: started.map(|(_, amount)| amount),
            hold_id: if change.from.is_unpaid() {
                self.record.hold_id.clone()
            } else {
                None
            },
        }));
        if let Some((id, amount)) = started {
            events.push(OrderEvent::RefundRequested(RefundRequested {
                refund_id: id,
                amount,
                status: RefundStatus::Approved,
                items: Vec::new(),
                reason: reason.to_owned(),
            }));
        }
        Ok(events)
    }

    /// PENDING/RESERVED → EXPIRED once the window has ended.
    ///
    /// # Errors
    /// [`OrderError::NotYetExpired`] before `expires_at`; [`OrderError::InvalidTransition`] from
    /// any other status.
    pub fn expire(&mut self, now: OffsetDateTime) -> Result<Vec<OrderEvent>, OrderError> {
        check_transition(self.kind(), self.status(), OrderStatus::Expired)?;
        if now < self.record.expires_at {
            return Err(OrderError::NotYetExpired {
                expires_at: self.record.expires_at,
            });
        }
        self.expire_now(None, now)
    }

    /// PENDING/RESERVED → EXPIRED now, whether or not the window has ended: an operator's
    /// decision (docs/product/reservations-and-refunds.md, `"force": true`), recorded with `reason`
    /// in the event.
    ///
    /// # Errors
    /// [`OrderError::InvalidTransition`] from any other status.
    pub fn force_expire(
        &mut self,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        check_transition(self.kind(), self.status(), OrderStatus::Expired)?;
        self.expire_now(Some(reason.to_owned()), now)
    }

    fn expire_now(
        &mut self,
        forced_reason: Option<String>,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let change = self.transition(OrderStatus::Expired, now)?;
        Ok(vec![OrderEvent::Expired(OrderExpired {
            change,
            hold_id: self.record.hold_id.clone(),
            forced_reason,
        })])
    }
}
