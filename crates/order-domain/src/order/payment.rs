//! Holding and paying: the reservation, the payment intent, confirmation (also of a payment that
//! arrived late) and the tickets the ticket service issues once paid.

use time::OffsetDateTime;

use super::{
    Order, OrderError, OrderKind, OrderStatus, Refund, RefundError, RefundStatus, check_transition,
};
use crate::events::{
    OrderConfirmed, OrderEvent, OrderReserved, RefundDecided, RefundRequested, TicketsAllocated,
};
use crate::ids::{HoldId, PaymentIntentId, RefundId, TicketId};

impl Order {
    /// Attaches the payment intent created for this order (before it is first stored).
    ///
    /// # Errors
    /// [`InvalidTransition`](super::InvalidTransition) once the order is past PENDING/RESERVED.
    pub fn attach_payment_intent(&mut self, intent: PaymentIntentId) -> Result<(), OrderError> {
        if !self.status().is_unpaid() {
            return Err(self.invalid(OrderStatus::Confirmed).into());
        }
        self.record.payment_intent_id = Some(intent);
        Ok(())
    }

    /// PENDING → RESERVED (held), or RESERVED → RESERVED (extended).
    ///
    /// # Errors
    /// [`OrderError::InvalidTransition`] from any other status.
    pub fn reserve(
        &mut self,
        hold_id: HoldId,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let extended = self.status() == OrderStatus::Reserved;
        let change = self.transition(OrderStatus::Reserved, now)?;
        self.record.hold_id = Some(hold_id.clone());
        self.record.expires_at = expires_at;
        if extended {
            self.record.hold_extensions += 1;
        }
        Ok(vec![OrderEvent::Reserved(OrderReserved {
            change,
            hold_id,
            expires_at,
            extended,
        })])
    }

    /// PENDING/RESERVED → CONFIRMED: the payment succeeded.
    ///
    /// # Errors
    /// [`OrderError::PaymentIntentMismatch`] when the intent is not this order's;
    /// [`OrderError::InvalidTransition`] from any other status.
    pub fn confirm(
        &mut self,
        intent: &PaymentIntentId,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        // Closed orders take the late-payment path instead (`recover_late_payment`).
        if !self.status().is_unpaid() {
            return Err(self.invalid(OrderStatus::Confirmed).into());
        }
        self.confirm_paid(intent, now)
    }

    /// Whether a payment for this order would arrive too late: the order EXPIRED, or was
    /// CANCELLED before anything was paid (decision 0015).
    pub fn closed_unpaid(&self) -> bool {
        match self.status() {
            OrderStatus::Expired => true,
            OrderStatus::Cancelled => self.record.milestones.confirmed_at.is_none(),
            _ => false,
        }
    }

    /// EXPIRED, or CANCELLED before payment → CONFIRMED: the payment arrived after the window
    /// closed and the tickets or stock were held again under `hold_id` (decision 0015).
    ///
    /// # Errors
    /// [`OrderError::InvalidTransition`] unless [`Order::closed_unpaid`];
    /// [`OrderError::PaymentIntentMismatch`] when the intent is not this order's.
    pub fn recover_late_payment(
        &mut self,
        intent: &PaymentIntentId,
        hold_id: HoldId,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        if !self.closed_unpaid() {
            return Err(self.invalid(OrderStatus::Confirmed).into());
        }
        let events = self.confirm_paid(intent, now)?;
        self.record.hold_id = Some(hold_id);
        Ok(events)
    }

    /// A payment that arrived after the order closed and cannot be honoured (nothing left to
    /// hold): an APPROVED refund of the whole payment, to be paid out at once (decision 0015).
    /// The order keeps its status.
    ///
    /// # Errors
    /// [`OrderError::InvalidTransition`] unless [`Order::closed_unpaid`];
    /// [`OrderError::PaymentIntentMismatch`] when the intent is not this order's;
    /// [`RefundError::NothingToRefund`] when this payment is already being refunded.
    pub fn refund_late_payment(
        &mut self,
        refund_id: RefundId,
        intent: &PaymentIntentId,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        if !self.closed_unpaid() {
            return Err(self.invalid(OrderStatus::Refunded).into());
        }
        self.check_intent(intent)?;
        if self.committed_refunds() > 0 {
            return Err(RefundError::NothingToRefund.into());
        }
        let amount = self.total().minor();
        let reason = format!("late payment for a {} order", self.status());
        self.record.payment_intent_id = Some(intent.clone());
        self.record.refundable_max = Some(amount);
        self.record.refunds.push(Refund {
            id: refund_id,
            amount,
            status: RefundStatus::Approved,
            items: Vec::new(),
            reason: reason.clone(),
            requested_by: "system".to_owned(),
            requested_at: now,
            decided_by: Some("late-payment policy".to_owned()),
            decided_at: Some(now),
            decision_note: Some("nothing left to hold; the payment is returned".to_owned()),
            payment_reference: None,
            failure_reason: None,
            attempts: 0,
            completed_at: None,
            retry_at: None,
            edit_id: None,
        });
        self.record.milestones.updated_at = now;
        Ok(vec![
            OrderEvent::RefundRequested(RefundRequested {
                refund_id,
                amount,
                status: RefundStatus::Approved,
                items: Vec::new(),
                reason,
            }),
            OrderEvent::RefundApproved(RefundDecided {
                refund_id,
                amount,
                note: Some("late payment refunded in full".to_owned()),
            }),
        ])
    }

    /// Only the intent attached at creation pays for the order.
    fn check_intent(&self, intent: &PaymentIntentId) -> Result<(), OrderError> {
        match &self.record.payment_intent_id {
            None => Err(OrderError::NoPaymentIntent),
            Some(own) if own != intent => Err(OrderError::PaymentIntentMismatch {
                received: intent.clone(),
            }),
            Some(_) => Ok(()),
        }
    }

    fn confirm_paid(
        &mut self,
        intent: &PaymentIntentId,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        check_transition(self.kind(), self.status(), OrderStatus::Confirmed)?;
        self.check_intent(intent)?;
        let change = self.transition(OrderStatus::Confirmed, now)?;
        self.record.payment_intent_id = Some(intent.clone());
        Ok(vec![OrderEvent::Confirmed(OrderConfirmed {
            change,
            payment_intent_id: intent.clone(),
            total: self.total().minor(),
        })])
    }

    /// Records the tickets the ticket service issued (ticket orders, CONFIRMED); tickets it
    /// already has produce no event.
    ///
    /// # Errors
    /// [`OrderError::WrongKind`] for goods; [`OrderError::InvalidTransition`] unless CONFIRMED.
    pub fn attach_tickets(
        &mut self,
        ticket_ids: Vec<TicketId>,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        self.require_kind(OrderKind::Ticket)?;
        if self.status() != OrderStatus::Confirmed {
            return Err(self.invalid(OrderStatus::Confirmed).into());
        }
        let mut new_ids: Vec<TicketId> = Vec::new();
        for id in ticket_ids {
            if !self.record.ticket_ids.contains(&id) && !new_ids.contains(&id) {
                new_ids.push(id);
            }
        }
        if new_ids.is_empty() {
            // Already known (the confirmation attached them): nothing happened.
            return Ok(Vec::new());
        }
        self.record.ticket_ids.extend(new_ids.iter().cloned());
        self.record.milestones.updated_at = now;
        Ok(vec![OrderEvent::TicketsAllocated(TicketsAllocated {
            ticket_ids: new_ids,
        })])
    }
}
