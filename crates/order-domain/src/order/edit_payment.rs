//! An edit that raises a paid order's total: kept aside, its added units held, until the buyer
//! pays the difference with an intent of its own; then it becomes the order's lines and price.
//! Unpaid by its deadline, it lapses and the order stays as it was (docs/edits.md).

use time::OffsetDateTime;

use super::edit::edited_event;
use super::{EditBalance, NewOrderItem, Order, OrderError, OrderItem, OrderStatus};
use crate::events::{EditAwaitingPayment, EditLapsed, EditPaid, OrderEvent};
use crate::ids::{HoldId, OrderEditId, PaymentIntentId, TicketId};
use crate::pricing::{PriceBreakdown, PricedOrder};

/// An edit of a paid order waiting for its difference to be paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEdit {
    /// The edit.
    pub id: OrderEditId,
    /// Why.
    pub reason: String,
    /// The order's lines once the edit is paid, priced.
    pub items: Vec<OrderItem>,
    /// The order's breakdown once the edit is paid.
    pub pricing: PriceBreakdown,
    /// The difference to pay, minor units (> 0).
    pub amount: i64,
    /// The intent that pays it.
    pub payment_intent_id: PaymentIntentId,
    /// The ticket service's hold of the added tickets (ticket orders).
    pub hold_id: Option<HoldId>,
    /// When the edit lapses unpaid (and its hold with it).
    pub expires_at: OffsetDateTime,
}

/// A difference an edit's own intent captured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditPayment {
    /// The edit.
    pub edit_id: OrderEditId,
    /// The intent that paid it.
    pub payment_intent_id: PaymentIntentId,
    /// Captured, minor units.
    pub amount: i64,
}

/// How the difference of a kept-aside edit is to be paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DifferenceDue {
    /// The intent created for it.
    pub payment_intent_id: PaymentIntentId,
    /// The ticket service's hold of the added tickets.
    pub hold_id: Option<HoldId>,
    /// When the edit lapses unpaid.
    pub expires_at: OffsetDateTime,
}

impl Order {
    /// The edit waiting for its difference to be paid, if any.
    pub fn pending_edit(&self) -> Option<&PendingEdit> {
        self.record.pending_edit.as_ref()
    }

    /// The differences edits' own intents captured, oldest first.
    pub fn edit_payments(&self) -> &[EditPayment] {
        &self.record.edit_payments
    }

    /// Every intent that captured money for this order: the order's own, then each paid edit's.
    pub fn paying_intents(&self) -> Vec<PaymentIntentId> {
        self.payment_intent_id()
            .into_iter()
            .chain(
                self.record
                    .edit_payments
                    .iter()
                    .map(|p| &p.payment_intent_id),
            )
            .cloned()
            .collect()
    }

    /// Refuses what would change the lines or the money an edit waiting for its payment was
    /// priced against (a cancellation, a line's, a refund) until it is paid or lapses.
    pub(super) fn no_edit_waiting(&self) -> Result<(), OrderError> {
        match self.record.pending_edit {
            Some(_) => Err(OrderError::NotEditable {
                status: self.status(),
                why: "an edit is waiting for its payment; pay it or let it lapse first",
            }),
            None => Ok(()),
        }
    }

    /// Keeps an edit that raises a paid order's total aside until `due` is paid: the order's
    /// lines and price do not change yet. `lines` and `priced` are as for
    /// [`Order::apply_edit`].
    ///
    /// # Errors
    /// [`OrderError::NotEditable`] unless the order is CONFIRMED and the edit raises its total;
    /// [`OrderError::PricingMismatch`] as for [`Order::apply_edit`].
    pub fn await_edit_payment(
        &mut self,
        edit: OrderEditId,
        lines: Vec<NewOrderItem>,
        priced: PricedOrder,
        reason: &str,
        due: DifferenceDue,
        now: OffsetDateTime,
    ) -> Result<(EditBalance, Vec<OrderEvent>), OrderError> {
        let mut after = self.clone();
        let (balance, _) = after.apply_edit(edit, lines, priced, reason, now)?;
        let amount = balance.difference.total;
        if self.status() != OrderStatus::Confirmed || amount <= 0 {
            return Err(OrderError::NotEditable {
                status: self.status(),
                why: "only a paid order's edit that raises its total waits for a payment",
            });
        }
        self.record.pending_edit = Some(PendingEdit {
            id: edit,
            reason: reason.to_owned(),
            items: after.record.items,
            pricing: after.record.pricing,
            amount,
            payment_intent_id: due.payment_intent_id.clone(),
            hold_id: due.hold_id,
            expires_at: due.expires_at,
        });
        self.record.milestones.updated_at = now;
        let event = OrderEvent::EditAwaitingPayment(EditAwaitingPayment {
            edit_id: edit,
            amount,
            payment_intent_id: due.payment_intent_id,
            expires_at: due.expires_at,
        });
        Ok((balance, vec![event]))
    }

    /// The kept-aside edit's difference was paid with `intent`: the edit becomes the order's
    /// lines and price, the tickets sold for it join the order's, and `order.edited` carries the
    /// payment (the ledger's capture).
    ///
    /// # Errors
    /// [`OrderError::PaymentIntentMismatch`] when no pending edit is paid by `intent`;
    /// [`OrderError::NotEditable`] once the order left CONFIRMED.
    pub fn settle_edit_payment(
        &mut self,
        intent: &PaymentIntentId,
        tickets: Vec<TicketId>,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let pending = self
            .record
            .pending_edit
            .clone()
            .filter(|p| &p.payment_intent_id == intent)
            .ok_or_else(|| OrderError::PaymentIntentMismatch {
                received: intent.clone(),
            })?;
        if self.status() != OrderStatus::Confirmed {
            return Err(OrderError::NotEditable {
                status: self.status(),
                why: "the order changed while its edit waited for the payment",
            });
        }
        let mut edited = edited_event(
            pending.id,
            &pending.reason,
            &self.record.items,
            &pending.items,
            self.record.pricing,
            pending.pricing,
        );
        edited.paid = Some(EditPaid {
            payment_intent_id: pending.payment_intent_id.clone(),
            amount: pending.amount,
        });
        self.record.items = pending.items;
        self.record.pricing = pending.pricing;
        self.record.edits.push(pending.id);
        self.record.ticket_ids.extend(tickets);
        self.record.edit_payments.push(EditPayment {
            edit_id: pending.id,
            payment_intent_id: pending.payment_intent_id,
            amount: pending.amount,
        });
        self.record.pending_edit = None;
        self.record.milestones.updated_at = now;
        Ok(vec![OrderEvent::Edited(edited)])
    }

    /// The kept-aside edit was not paid by its deadline: it is dropped and the order stays as
    /// it was.
    ///
    /// # Errors
    /// [`OrderError::NotYetExpired`] before its deadline; [`OrderError::NotEditable`] when no edit
    /// is waiting.
    pub fn lapse_edit(&mut self, now: OffsetDateTime) -> Result<Vec<OrderEvent>, OrderError> {
        let Some(pending) = self.record.pending_edit.as_ref() else {
            return Err(OrderError::NotEditable {
                status: self.status(),
                why: "no edit is waiting for a payment",
            });
        };
        if now < pending.expires_at {
            return Err(OrderError::NotYetExpired {
                expires_at: pending.expires_at,
            });
        }
        let event = OrderEvent::EditLapsed(EditLapsed {
            edit_id: pending.id,
            payment_intent_id: pending.payment_intent_id.clone(),
        });
        self.record.pending_edit = None;
        self.record.milestones.updated_at = now;
        Ok(vec![event])
    }
}
