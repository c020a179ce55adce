//! `POST /orders/{id}/items/{itemId}/cancel` (decision 0050): one line cancelled before
//! shipping, its tickets or stock given back, and its share refunded when the order is paid.

use super::{Extras, OrderService, UseCaseError};
use crate::actor::RequestContext;
use crate::ids::{OrderId, OrderItemId, RefundId};
use crate::order::{ItemProduct, LineRefund, Order, OrderError};
use crate::ports::{StockLine, TicketLine};

/// The order after a line cancellation, and the refund it started, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineCancelOutcome {
    /// The order: the line cancelled, or the whole order CANCELLED when it was the last line.
    pub order: Order,
    /// The refund started for a paid order.
    pub refund_id: Option<RefundId>,
}

impl OrderService {
    /// Cancels line `item` of order `id` for its owner or an admin. Cancelling the last active
    /// line cancels the order ([`Self::cancel`]'s rules). A paid order's line is refunded under
    /// the cancellation policy (tickets: cutoff and retention, the line's share of it; goods: in
    /// full); an unpaid order's line is refunded once the payment arrives. The line's tickets or
    /// stock are released after the commit.
    ///
    /// # Ports
    /// `events`, `incidents`, `inventory`, `orders`, `payments`, `tickets`, `unit_of_work`.
    ///
    /// # Errors
    /// [`UseCaseError::Forbidden`] for anyone but the owner or an admin; [`UseCaseError::Order`]
    /// (`ItemNotFound`, `ItemAlreadyCancelled`, `LineCancellationClosed`);
    /// [`UseCaseError::RefundDenied`] past the ticket cutoff; [`UseCaseError::NotFound`];
    /// upstream/storage errors (nothing changed).
    pub async fn cancel_line(
        &self,
        ctx: &RequestContext,
        id: OrderId,
        item: OrderItemId,
        reason: &str,
    ) -> Result<LineCancelOutcome, UseCaseError> {
        let mut order = self.load_visible(ctx, id).await?;
        if !ctx.actor.is_privileged() && ctx.actor.user_id() != Some(order.user_id()) {
            return Err(UseCaseError::Forbidden);
        }
        if !order.lines_cancellable() {
            return Err(OrderError::LineCancellationClosed {
                status: order.status(),
            }
            .into());
        }
        let active: Vec<OrderItemId> = order.active_items().map(|line| line.id).collect();
        if active == [item] {
            let outcome = self.cancel_loaded(ctx, order, reason, None, None).await?;
            return Ok(LineCancelOutcome {
                order: outcome.order,
                refund_id: outcome.refund_id,
            });
        }
        let now = self.now();
        let terms = if order.status().is_unpaid() {
            None
        } else {
            let starts_at = self.event_start(&order).await?;
            self.config.refund.cancellation_terms(
                &order,
                ctx.actor.is_privileged(),
                starts_at,
                now,
            )?
        };
        let refund_id = terms.map(|_| RefundId::from_uuid(self.ports.ids.uuid()));
        let requested_by = Self::actor_label(ctx);
        let refund = refund_id.zip(terms).map(|(id, terms)| LineRefund {
            id,
            terms,
            requested_by: &requested_by,
        });
        let events = order.cancel_line(item, reason, refund, now)?;
        let started = refund_id.filter(|id| order.refund(*id).is_some());
        self.persist(ctx, &mut order, events, Extras::default())
            .await?;
        self.release_line(&order, item).await;
        if let Some(refund) = started {
            order = self.pay_refund(ctx, order, refund).await?;
        }
        Ok(LineCancelOutcome {
            order,
            refund_id: started,
        })
    }

    /// Gives a cancelled line's tickets or stock back upstream; a failure is reported (unpaid
    /// holds also lapse by themselves).
    async fn release_line(&self, order: &Order, item: OrderItemId) {
        let Some(line) = order.items().iter().find(|line| line.id == item) else {
            return;
        };
        let released = match &line.product {
            ItemProduct::Ticket {
                ticket_type_id,
                ticket_pricing_id,
            } => match order.hold_id() {
                Some(hold) => {
                    let tickets = TicketLine {
                        ticket_type_id: *ticket_type_id,
                        ticket_pricing_id: *ticket_pricing_id,
                        quantity: line.quantity,
                    };
                    self.ports.tickets.release_line(hold, item, &tickets).await
                }
                None => Ok(()),
            },
            ItemProduct::Goods { product_id, .. } => {
                let stock = StockLine {
                    product_id: *product_id,
                    quantity: line.quantity,
                };
                self.ports
                    .inventory
                    .release_line(order.tenant_id(), order.id(), item, stock)
                    .await
            }
        };
        self.report_dropped(&[order.id()], "release a cancelled line", released);
    }

    /// Right after a confirmation: the refund of the lines cancelled while the order was unpaid
    /// (their events join `events`), to be paid after the commit.
    pub(super) fn refund_lines_cancelled_unpaid(
        &self,
        order: &mut Order,
        events: &mut Vec<crate::events::OrderEvent>,
    ) -> Option<RefundId> {
        if order.cancelled_items().is_empty() {
            return None;
        }
        let id = RefundId::from_uuid(self.ports.ids.uuid());
        let started = order.refund_lines_cancelled_unpaid(id, self.now());
        let any = !started.is_empty();
        events.extend(started);
        any.then_some(id)
    }

    /// Pays a refund started by a confirmation; the confirmation stands whatever happens (a
    /// refused payout is stored as FAILED and retried; a storage failure is reported and the
    /// refund stays APPROVED and the refund job pays it once its payout lease runs out).
    pub(super) async fn pay_after_confirmation(
        &self,
        ctx: &RequestContext,
        order: Order,
        refund: Option<RefundId>,
    ) -> Order {
        let Some(refund) = refund else {
            return order;
        };
        match self.pay_refund(ctx, order.clone(), refund).await {
            Ok(paid) => paid,
            Err(error) => {
                self.report_dropped::<(), _>(
                    &[order.id()],
                    "pay the refund of lines cancelled before payment",
                    Err(error),
                );
                order
            }
        }
    }
}
