//! Edits that raise a paid order's total (docs/edits.md): the added units are held and a payment
//! intent for the difference is created; paid (confirm-payment, the payment service's confirm or
//! `payment.succeeded` for that intent), the edit becomes the order's; unpaid by its deadline, the
//! lapse job gives the units back and the order stays as it was.

use time::OffsetDateTime;

use super::edits::{Difference, EditOutcome, PaymentDue, difference_of, stock_lines, ticket_lines};
use super::{Extras, OrderService, UseCaseError};
use crate::actor::{Actor, RequestContext};
use crate::events::OrderEvent;
use crate::ids::{OrderEditId, PaymentIntentId};
use crate::order::{DifferenceDue, NewOrderItem, Order, OrderKind};
use crate::ports::InboxMessage;
use crate::pricing::PricedOrder;

/// How many overdue edits one pass of the lapse job takes.
pub const EDITS_PER_PASS: u32 = 100;

impl OrderService {
    /// A paid order's edit that raises its total: the added units held, an intent for the
    /// difference created, the edit kept aside on the order until it is paid.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn await_difference(
        &self,
        ctx: &RequestContext,
        mut order: Order,
        edited: &Order,
        edit_id: OrderEditId,
        lines: Vec<NewOrderItem>,
        priced: PricedOrder,
        reason: &str,
    ) -> Result<EditOutcome, UseCaseError> {
        let now = self.now();
        let expires_at = self
            .config
            .reservation
            .expires_at(order.kind(), ctx.actor.is_vip(), now);
        let difference = difference_of(order.items(), edited.items());
        let hold_id = self
            .hold_added(&order, edit_id, &difference, expires_at)
            .await?;
        let amount = edited.total().minor() - order.total().minor();
        let intent = match self
            .ports
            .payments
            .create_intent(
                order.tenant_id(),
                order.id(),
                crate::money::Money::new(amount, order.currency()),
                expires_at,
                &format!("edit:{edit_id}"),
            )
            .await
        {
            Ok(intent) => intent,
            Err(error) => {
                self.give_back_added(&order, edit_id, &difference, hold_id.as_ref())
                    .await;
                return Err(error.into());
            }
        };
        let due = DifferenceDue {
            payment_intent_id: intent.id.clone(),
            hold_id: hold_id.clone(),
            expires_at,
        };
        let (balance, events) =
            order.await_edit_payment(edit_id, lines, priced, reason, due, now)?;
        if let Err(error) = self
            .persist(ctx, &mut order, events, Extras::default())
            .await
        {
            self.give_back_added(&order, edit_id, &difference, hold_id.as_ref())
                .await;
            let cancelled = self.ports.payments.cancel_intent(&intent.id).await;
            self.report_dropped(&[order.id()], "cancel an unstored edit's intent", cancelled);
            return Err(error);
        }
        Ok(EditOutcome {
            edit_id,
            order,
            balance,
            applied: false,
            refund_id: None,
            client_secret: None,
            payment_due: Some(PaymentDue {
                payment_intent_id: intent.id,
                client_secret: intent.client_secret,
                amount,
                expires_at,
            }),
        })
    }

    /// Whether `intent` pays the edit `order` keeps aside.
    pub(super) fn pays_pending_edit(order: &Order, intent: &PaymentIntentId) -> bool {
        order
            .pending_edit()
            .is_some_and(|pending| &pending.payment_intent_id == intent)
    }

    /// The kept-aside edit's difference was paid with `intent`: its tickets are sold (or its
    /// stock already taken), the lines it removes given back, and the edit becomes the order's.
    pub(super) async fn settle_edit(
        &self,
        ctx: &RequestContext,
        mut order: Order,
        intent: &PaymentIntentId,
        inbox: Option<InboxMessage>,
    ) -> Result<Order, UseCaseError> {
        let pending = order
            .pending_edit()
            .filter(|pending| &pending.payment_intent_id == intent)
            .cloned()
            .ok_or_else(|| crate::order::OrderError::PaymentIntentMismatch {
                received: intent.clone(),
            })?;
        let difference = difference_of(order.items(), &pending.items);
        let tickets = match &pending.hold_id {
            Some(hold) => self.ports.tickets.commit(hold).await?,
            None => Vec::new(),
        };
        let release_key = uuid::Uuid::new_v5(pending.id.as_uuid(), b"release");
        self.claim(&order, release_key, &[], &difference.released)
            .await?;
        let events = order.settle_edit_payment(intent, tickets, self.now())?;
        self.persist(ctx, &mut order, events, Extras::inbox(inbox))
            .await?;
        Ok(order)
    }

    /// The lapse job: edits whose difference was not paid by their deadline (and the grace
    /// period after it, for a payment made at the last moment) give their units back and are
    /// dropped; their intents are cancelled. Answers how many lapsed.
    ///
    /// # Ports
    /// `incidents`, `inventory`, `orders`, `payments`, `scans`, `tickets`, `unit_of_work`.
    ///
    /// # Errors
    /// Storage errors of the scan; an edit that cannot lapse now is left for the next pass.
    pub async fn lapse_due_edits(&self) -> Result<u32, UseCaseError> {
        let now = self.now();
        let overdue = now - self.config.reservation.grace;
        let mut lapsed = 0;
        for due in self.ports.scans.edits_due(overdue, EDITS_PER_PASS).await? {
            let ctx = RequestContext {
                tenant_id: due.tenant_id,
                actor: Actor::System {
                    name: "edit-lapse".to_owned(),
                },
                ip: None,
            };
            let outcome = self.lapse_one(&ctx, due.order_id, now).await;
            if outcome.is_ok() {
                lapsed += 1;
            }
            self.report_dropped(&[due.order_id], "let an unpaid edit lapse", outcome);
        }
        Ok(lapsed)
    }

    async fn lapse_one(
        &self,
        ctx: &RequestContext,
        id: crate::ids::OrderId,
        now: OffsetDateTime,
    ) -> Result<(), UseCaseError> {
        let Some(mut order) = self.ports.orders.find(ctx.tenant_id, id).await? else {
            return Ok(());
        };
        let Some(pending) = order.pending_edit().cloned() else {
            return Ok(());
        };
        let difference = difference_of(order.items(), &pending.items);
        self.give_back_added(&order, pending.id, &difference, pending.hold_id.as_ref())
            .await;
        let cancelled = self
            .ports
            .payments
            .cancel_intent(&pending.payment_intent_id)
            .await;
        self.report_dropped(&[order.id()], "cancel a lapsed edit's intent", cancelled);
        let events: Vec<OrderEvent> = order.lapse_edit(now)?;
        self.persist(ctx, &mut order, events, Extras::default())
            .await
    }

    /// For a paid ticket order's edit that adds tickets but lowers the total: the added tickets
    /// held under the edit's own hold and sold at once (nothing is left to pay); `None` for any
    /// other edit.
    pub(super) async fn sell_added_tickets(
        &self,
        order: &Order,
        edit_id: OrderEditId,
        difference: &Difference,
    ) -> Result<Option<(crate::ids::HoldId, Vec<crate::ids::TicketId>)>, UseCaseError> {
        let (OrderKind::Ticket, Some(event)) = (order.kind(), order.event_id()) else {
            return Ok(None);
        };
        if order.status().is_unpaid() || difference.added.is_empty() {
            return Ok(None);
        }
        let until = self.now() + self.config.reservation.grace;
        let hold = self
            .ports
            .tickets
            .hold_for_edit(
                order.tenant_id(),
                edit_id,
                event,
                &ticket_lines(&difference.added),
                until,
            )
            .await?;
        match self.ports.tickets.commit(&hold.hold_id).await {
            Ok(tickets) => Ok(Some((hold.hold_id, tickets))),
            Err(error) => {
                let released = self.ports.tickets.release(&hold.hold_id).await;
                self.report_dropped(&[order.id()], "release an edit's unsold hold", released);
                Err(error.into())
            }
        }
    }

    /// Voids what [`Self::sell_added_tickets`] sold for an edit that was not stored; a failure
    /// is reported.
    pub(super) async fn unsell(
        &self,
        order: &Order,
        edit_id: OrderEditId,
        difference: &Difference,
        sold: Option<&(crate::ids::HoldId, Vec<crate::ids::TicketId>)>,
    ) {
        let Some((hold, _)) = sold else {
            return;
        };
        let voided = self
            .ports
            .tickets
            .adjust_hold(
                hold,
                uuid::Uuid::new_v5(edit_id.as_uuid(), b"void"),
                &[],
                &ticket_lines(&difference.added),
            )
            .await;
        self.report_dropped(&[order.id()], "void an unstored edit's tickets", voided);
    }

    /// Holds what an edit of a paid order adds: tickets in a hold of the edit's own, units
    /// taken from the order's committed stock.
    async fn hold_added(
        &self,
        order: &Order,
        edit_id: OrderEditId,
        difference: &Difference,
        expires_at: OffsetDateTime,
    ) -> Result<Option<crate::ids::HoldId>, UseCaseError> {
        if difference.added.is_empty() {
            return Ok(None);
        }
        match (order.kind(), order.event_id()) {
            (OrderKind::Ticket, Some(event)) => {
                let hold = self
                    .ports
                    .tickets
                    .hold_for_edit(
                        order.tenant_id(),
                        edit_id,
                        event,
                        &ticket_lines(&difference.added),
                        // As an order's: the hold outlives the intent by the grace period, so a
                        // payment made at the last moment still finds its tickets.
                        expires_at + self.config.reservation.grace,
                    )
                    .await?;
                Ok(Some(hold.hold_id))
            }
            _ => {
                self.ports
                    .inventory
                    .adjust(
                        order.tenant_id(),
                        order.id(),
                        *edit_id.as_uuid(),
                        &stock_lines(&difference.added),
                        &[],
                    )
                    .await?;
                Ok(None)
            }
        }
    }

    /// Gives back what [`Self::hold_added`] took; a failure is reported (a ticket hold also
    /// lapses by itself).
    async fn give_back_added(
        &self,
        order: &Order,
        edit_id: OrderEditId,
        difference: &Difference,
        hold: Option<&crate::ids::HoldId>,
    ) {
        let given_back = match hold {
            Some(hold) => self.ports.tickets.release(hold).await,
            None if difference.added.is_empty() => Ok(()),
            None => self
                .ports
                .inventory
                .adjust(
                    order.tenant_id(),
                    order.id(),
                    uuid::Uuid::new_v5(edit_id.as_uuid(), b"give back"),
                    &[],
                    &stock_lines(&difference.added),
                )
                .await
                .map_err(|error| match error {
                    crate::ports::StockError::Upstream(error) => error,
                    crate::ports::StockError::Insufficient { .. } => {
                        crate::ports::UpstreamError::Rejected {
                            service: "inventory",
                            detail: "units given back were refused".to_owned(),
                        }
                    }
                }),
        };
        self.report_dropped(&[order.id()], "give back an edit's added units", given_back);
    }
}
