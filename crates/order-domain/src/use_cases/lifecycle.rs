//! Reservation, confirmation, cancellation and expiry of existing orders.

use time::Duration;

use super::{Extras, OrderService, UseCaseError};
use crate::actor::RequestContext;
use crate::ids::{OrderId, PaymentIntentId, RefundId, TicketId};
use crate::order::{InvalidTransition, Order, OrderKind, OrderStatus, check_transition};
use crate::policy::RefundReason;
use crate::ports::{ExpiringOrder, InboxMessage, StockLine, TicketLine, UpstreamError};

/// How long the per-order lock lives (the ticketing API's 30 s).
const ORDER_LOCK_TTL: Duration = Duration::seconds(30);

/// A cancelled order and the refund it started, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelOutcome {
    /// The order, CANCELLED.
    pub order: Order,
    /// The refund started for a paid order.
    pub refund_id: Option<RefundId>,
}

impl OrderService {
    /// `POST /orders/{id}/reserve`: holds a PENDING order's tickets or stock, or extends a
    /// RESERVED order's hold, under the order's distributed lock.
    ///
    /// # Ports
    /// `incidents`, `inventory`, `locks`, `orders`, `tickets`, `unit_of_work`.
    ///
    /// # Errors
    /// [`UseCaseError::Locked`] when another request holds the lock; [`UseCaseError::NotFound`],
    /// [`UseCaseError::InvalidTransition`], [`UseCaseError::SoldOut`] or upstream/storage errors.
    pub async fn reserve(&self, ctx: &RequestContext, id: OrderId) -> Result<Order, UseCaseError> {
        let lock_key = format!("order:lock:{id}");
        let guard = self
            .ports
            .locks
            .acquire(&lock_key, ORDER_LOCK_TTL)
            .await?
            .ok_or(UseCaseError::Locked)?;
        let result = self.reserve_locked(ctx, id).await;
        // The lock expires by itself if this fails.
        self.report_dropped(
            &[id],
            "release the order lock",
            self.ports.locks.release(&guard).await,
        );
        result
    }

    async fn reserve_locked(
        &self,
        ctx: &RequestContext,
        id: OrderId,
    ) -> Result<Order, UseCaseError> {
        let mut order = self.load_visible(ctx, id).await?;
        check_transition(order.kind(), order.status(), OrderStatus::Reserved)?;
        let now = self.now();
        let vip = ctx.actor.is_vip();
        let running = (order.status() == OrderStatus::Reserved)
            .then(|| (order.expires_at(), order.hold_extensions()));
        let expires_at = self.config.reservation.hold_until(
            order.kind(),
            vip,
            order.created_at(),
            running,
            now,
        )?;
        // Upstream holds outlive the reservation by the grace period (decision 0012).
        let hold_until = expires_at + self.config.reservation.grace;
        let was_pending = order.status() == OrderStatus::Pending;
        let hold = match (order.kind(), order.hold_id().cloned()) {
            (OrderKind::Ticket, Some(hold)) if !was_pending => {
                self.ports.tickets.extend(&hold, hold_until).await?
            }
            (OrderKind::Ticket, _) => {
                let event = order
                    .event_id()
                    .ok_or(UseCaseError::NotFound { what: "event" })?;
                let lines = ticket_lines(&order);
                self.ports
                    .tickets
                    .hold(ctx.tenant_id, order.id(), event, &lines, hold_until)
                    .await?
            }
            (OrderKind::Goods, _) => {
                let lines = stock_lines(&order);
                self.ports
                    .inventory
                    .reserve(ctx.tenant_id, order.id(), &lines, hold_until)
                    .await?
            }
        };
        let events = order.reserve(hold.hold_id, hold.expires_at.min(expires_at), now)?;
        if let Err(error) = self
            .persist(ctx, &mut order, events, Extras::default())
            .await
        {
            if was_pending {
                self.release_hold(&order).await;
            }
            return Err(error);
        }
        Ok(order)
    }

    /// Payment succeeded (internal confirm, `payment.succeeded`, confirm-payment): the hold is
    /// committed upstream, then the order is CONFIRMED with its tickets.
    ///
    /// # Ports
    /// `inventory`, `orders`, `payments`, `tickets`, `unit_of_work`.
    ///
    /// # Errors
    /// [`UseCaseError::InvalidTransition`] unless PENDING/RESERVED; [`UseCaseError::Order`]
    /// when the intent is not the order's; upstream/storage errors (the order is unchanged and
    /// the caller may retry).
    pub async fn confirm(
        &self,
        ctx: &RequestContext,
        id: OrderId,
        intent: PaymentIntentId,
        inbox: Option<InboxMessage>,
    ) -> Result<Order, UseCaseError> {
        let order = self.load_visible(ctx, id).await?;
        if Self::pays_pending_edit(&order, &intent) {
            return self.settle_edit(ctx, order, &intent, inbox).await;
        }
        self.confirm_loaded(ctx, order, intent, inbox).await
    }

    /// confirm-payment (the shop): the owner confirms the order's intent with the payment
    /// service. Success → CONFIRMED, as [`Self::confirm`]; a decline → the order is cancelled
    /// (its holds or stock released) and the answer is [`UseCaseError::PaymentDeclined`].
    /// Confirming a CONFIRMED order with its own intent answers it again.
    ///
    /// # Ports
    /// `events`, `incidents`, `inventory`, `orders`, `payments`, `tickets`, `unit_of_work`.
    ///
    /// # Errors
    /// [`UseCaseError::Forbidden`] for anyone but the owner; [`UseCaseError::Order`] when the
    /// intent is not the order's; [`UseCaseError::InvalidTransition`] unless PENDING/RESERVED;
    /// [`UseCaseError::PaymentDeclined`]; upstream and storage errors.
    pub async fn confirm_payment(
        &self,
        ctx: &RequestContext,
        id: OrderId,
        intent: PaymentIntentId,
    ) -> Result<Order, UseCaseError> {
        let order = self.load_visible(ctx, id).await?;
        if ctx.actor.user_id() != Some(order.user_id()) {
            return Err(UseCaseError::Forbidden);
        }
        if Self::pays_pending_edit(&order, &intent) {
            // The difference of an edit: a decline leaves the edit waiting until it lapses.
            return match self.ports.payments.confirm_intent(&intent).await {
                Ok(()) => self.settle_edit(ctx, order, &intent, None).await,
                Err(crate::ports::PaymentError::Declined(reason)) => {
                    Err(UseCaseError::PaymentDeclined(reason))
                }
                Err(crate::ports::PaymentError::Upstream(error)) => Err(error.into()),
            };
        }
        let own_intent = order.payment_intent_id() == Some(&intent);
        if order.status() == OrderStatus::Confirmed && own_intent {
            return Ok(order);
        }
        // Decided before the payment service is asked: the state and the intent.
        check_transition(order.kind(), order.status(), OrderStatus::Confirmed)?;
        if !own_intent {
            return Err(
                crate::order::OrderError::PaymentIntentMismatch { received: intent }.into(),
            );
        }
        match self.ports.payments.confirm_intent(&intent).await {
            Ok(()) => self.confirm_loaded(ctx, order, intent, None).await,
            Err(crate::ports::PaymentError::Declined(reason)) => {
                self.cancel_loaded(
                    ctx,
                    order,
                    &format!("payment declined: {reason}"),
                    None,
                    None,
                )
                .await?;
                Err(UseCaseError::PaymentDeclined(reason))
            }
            Err(crate::ports::PaymentError::Upstream(error)) => Err(error.into()),
        }
    }

    /// [`Self::confirm`] of an order already loaded.
    pub(super) async fn confirm_loaded(
        &self,
        ctx: &RequestContext,
        mut order: Order,
        intent: PaymentIntentId,
        inbox: Option<InboxMessage>,
    ) -> Result<Order, UseCaseError> {
        let now = self.now();
        // The aggregate decides first (status, intent), so upstream is only called for a valid
        // confirmation; nothing is stored unless upstream agreed.
        let mut events = order.confirm(&intent, now)?;
        let line_refund = self.refund_lines_cancelled_unpaid(&mut order, &mut events);
        let committed = self.commit_upstream(&order, order.hold_id()).await;
        let tickets: Vec<TicketId> = match committed {
            Ok(tickets) => tickets,
            Err(error) => {
                // A concurrent expiry or cancellation may have released the hold meanwhile:
                // then the answer is that transition's conflict, not an upstream failure.
                let current = self.load_visible(ctx, order.id()).await?;
                if !current.status().is_unpaid() {
                    return Err(UseCaseError::InvalidTransition(InvalidTransition {
                        kind: current.kind(),
                        from: current.status(),
                        to: OrderStatus::Confirmed,
                    }));
                }
                return Err(error.into());
            }
        };
        if !tickets.is_empty() {
            events.extend(order.attach_tickets(tickets, now)?);
        }
        self.persist(ctx, &mut order, events, Extras::inbox(inbox))
            .await?;
        Ok(self.pay_after_confirmation(ctx, order, line_refund).await)
    }

    /// `ticket.allocated`: records the issued tickets on a CONFIRMED ticket order.
    ///
    /// # Ports
    /// `orders`, `unit_of_work`.
    ///
    /// # Errors
    /// [`UseCaseError::InvalidTransition`] unless CONFIRMED; storage errors.
    pub async fn attach_tickets(
        &self,
        ctx: &RequestContext,
        id: OrderId,
        tickets: Vec<TicketId>,
        inbox: Option<InboxMessage>,
    ) -> Result<Order, UseCaseError> {
        let order = self.load_visible(ctx, id).await?;
        self.attach_tickets_loaded(ctx, order, tickets, inbox).await
    }

    /// [`Self::attach_tickets`] of an order already loaded.
    pub(super) async fn attach_tickets_loaded(
        &self,
        ctx: &RequestContext,
        mut order: Order,
        tickets: Vec<TicketId>,
        inbox: Option<InboxMessage>,
    ) -> Result<Order, UseCaseError> {
        let events = order.attach_tickets(tickets, self.now())?;
        self.persist(ctx, &mut order, events, Extras::inbox(inbox))
            .await?;
        Ok(order)
    }

    /// Turns the order's hold into sold tickets (or deducted stock) upstream.
    pub(super) async fn commit_upstream(
        &self,
        order: &Order,
        hold: Option<&crate::ids::HoldId>,
    ) -> Result<Vec<TicketId>, UpstreamError> {
        match (order.kind(), hold) {
            (OrderKind::Ticket, Some(hold)) => self.ports.tickets.commit(hold).await,
            (OrderKind::Ticket, None) => Ok(Vec::new()),
            (OrderKind::Goods, _) => self
                .ports
                .inventory
                .commit(order.tenant_id(), order.id())
                .await
                .map(|()| Vec::new()),
        }
    }

    /// `POST /orders/{id}/cancel` by its owner or an admin, or `payment.failed`. Unpaid orders
    /// cancel freely; paid ticket orders follow the refund policy (cutoff, retention); paid goods
    /// orders are refunded in full. Holds are released and refunds paid after the commit.
    ///
    /// # Ports
    /// `events`, `incidents`, `inventory`, `orders`, `payments`, `tickets`, `unit_of_work`.
    ///
    /// # Errors
    /// [`UseCaseError::RefundDenied`] past the cutoff; [`UseCaseError::InvalidTransition`];
    /// [`UseCaseError::NotFound`]; upstream/storage errors.
    pub async fn cancel(
        &self,
        ctx: &RequestContext,
        id: OrderId,
        reason: &str,
    ) -> Result<CancelOutcome, UseCaseError> {
        let order = self.load_visible(ctx, id).await?;
        // Warehouse staff see orders but only owners and admins (or services) cancel them.
        if !ctx.actor.is_privileged() && ctx.actor.user_id() != Some(order.user_id()) {
            return Err(UseCaseError::Forbidden);
        }
        self.cancel_loaded(ctx, order, reason, None, None).await
    }

    pub(super) async fn cancel_loaded(
        &self,
        ctx: &RequestContext,
        mut order: Order,
        reason: &str,
        forced: Option<RefundReason>,
        inbox: Option<InboxMessage>,
    ) -> Result<CancelOutcome, UseCaseError> {
        check_transition(order.kind(), order.status(), OrderStatus::Cancelled)?;
        let now = self.now();
        let was_unpaid = order.status().is_unpaid();
        let terms = if was_unpaid {
            None
        } else {
            let starts_at = self.event_start(&order).await?;
            match forced {
                Some(reason) => Some(self.config.refund.terms(&order, reason, starts_at, now)?),
                None => self.config.refund.cancellation_terms(
                    &order,
                    ctx.actor.is_privileged(),
                    starts_at,
                    now,
                )?,
            }
        };
        let refund_id = terms.map(|_| RefundId::from_uuid(self.ports.ids.uuid()));
        let requester = Self::actor_label(ctx);
        let events = order.cancel(
            reason,
            refund_id
                .zip(terms)
                .map(|(id, terms)| (id, terms, requester.as_str())),
            now,
        )?;
        let started = refund_id.filter(|id| order.refund(*id).is_some());
        self.persist(ctx, &mut order, events, Extras::inbox(inbox))
            .await?;
        if was_unpaid {
            self.release_hold(&order).await;
            if let Some(intent) = order.payment_intent_id() {
                self.report_dropped(
                    &[order.id()],
                    "cancel the payment intent of a cancelled order",
                    self.ports.payments.cancel_intent(intent).await,
                );
            }
        }
        if let Some(refund) = started {
            order = self.pay_refund(ctx, order, refund).await?;
        }
        Ok(CancelOutcome {
            order,
            refund_id: started,
        })
    }

    /// Expires one PENDING/RESERVED order whose window has ended, and releases its hold.
    ///
    /// # Ports
    /// `incidents`, `inventory`, `orders`, `payments`, `tickets`, `unit_of_work`.
    ///
    /// # Errors
    /// [`UseCaseError::Order`] (`NotYetExpired`) before the window ends;
    /// [`UseCaseError::InvalidTransition`] from other statuses; storage errors.
    pub async fn expire(&self, ctx: &RequestContext, id: OrderId) -> Result<Order, UseCaseError> {
        self.expire_with(ctx, id, None).await
    }

    /// Expires one PENDING/RESERVED order; with `forced` (an operator's reason) also while its
    /// window is still running (docs/product/reservations-and-refunds.md's `"force": true`). Only
    /// services and admins may force.
    ///
    /// # Ports
    /// `incidents`, `inventory`, `orders`, `payments`, `tickets`, `unit_of_work`.
    ///
    /// # Errors
    /// As [`Self::expire`]; [`UseCaseError::Forbidden`] when a buyer forces.
    pub async fn expire_with(
        &self,
        ctx: &RequestContext,
        id: OrderId,
        forced: Option<&str>,
    ) -> Result<Order, UseCaseError> {
        if forced.is_some() && !ctx.actor.is_privileged() {
            return Err(UseCaseError::Forbidden);
        }
        let mut order = self.load_visible(ctx, id).await?;
        let events = match forced {
            Some(reason) => order.force_expire(reason, self.now())?,
            None => order.expire(self.now())?,
        };
        self.persist(ctx, &mut order, events, Extras::default())
            .await?;
        self.release_hold(&order).await;
        if let Some(intent) = order.payment_intent_id() {
            self.report_dropped(
                &[order.id()],
                "cancel the payment intent of an expired order",
                self.ports.payments.cancel_intent(intent).await,
            );
        }
        Ok(order)
    }

    /// `GET /internal/v1/orders/expiring`: orders whose window ends within `within`.
    ///
    /// # Ports
    /// `scans`.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn list_expiring(
        &self,
        within: Duration,
        limit: u32,
    ) -> Result<Vec<ExpiringOrder>, UseCaseError> {
        Ok(self
            .ports
            .scans
            .expiring(self.now() + within, limit)
            .await?)
    }

    pub(super) async fn event_start(
        &self,
        order: &Order,
    ) -> Result<Option<time::OffsetDateTime>, UseCaseError> {
        match order.event_id() {
            Some(event) => Ok(self
                .ports
                .events
                .event(order.tenant_id(), event)
                .await?
                .map(|e| e.starts_at)),
            None => Ok(None),
        }
    }
}

/// The tickets of the lines still ordered.
pub(super) fn ticket_lines(order: &Order) -> Vec<TicketLine> {
    order
        .active_items()
        .filter_map(|item| match &item.product {
            crate::order::ItemProduct::Ticket {
                ticket_type_id,
                ticket_pricing_id,
            } => Some(TicketLine {
                ticket_type_id: *ticket_type_id,
                ticket_pricing_id: *ticket_pricing_id,
                quantity: item.quantity,
            }),
            crate::order::ItemProduct::Goods { .. } => None,
        })
        .collect()
}

/// The stock of the lines still ordered.
pub(super) fn stock_lines(order: &Order) -> Vec<StockLine> {
    order
        .active_items()
        .filter_map(|item| match &item.product {
            crate::order::ItemProduct::Goods { product_id, .. } => Some(StockLine {
                product_id: *product_id,
                quantity: item.quantity,
            }),
            crate::order::ItemProduct::Ticket { .. } => None,
        })
        .collect()
}
