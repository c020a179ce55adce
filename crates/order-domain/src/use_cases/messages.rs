//! Applying the messages other services send (docs/product/events.md), each exactly once: the inbox
//! row is written in the same transaction as the effect, so a redelivered message finds its id
//! taken.

use super::lifecycle::{stock_lines, ticket_lines};
use super::{Extras, OrderService, UseCaseError};
use crate::actor::{Actor, RequestContext};
use crate::ids::{PaymentIntentId, RefundId, TicketId};
use crate::messages::{InboundEvent, InboundMessage, MessageOutcome};
use crate::order::{Order, OrderError, OrderKind, OrderStatus};
use crate::ports::{HoldError, InboxMessage, RepositoryError, StockError, UpstreamError};

impl OrderService {
    /// Applies one consumed message for `consumer` (the queue's name, part of the inbox key).
    ///
    /// # Ports
    /// `events`, `inbox`, `incidents`, `inventory`, `orders`, `payments`, `tickets`,
    /// `unit_of_work`.
    ///
    /// # Errors
    /// Errors worth retrying ([`UseCaseError::is_retryable`]) and permanent ones (an unknown
    /// order, a foreign payment intent) that belong in the dead-letter queue.
    pub async fn apply_message(
        &self,
        consumer: &str,
        message: &InboundMessage,
    ) -> Result<MessageOutcome, UseCaseError> {
        let ctx = RequestContext {
            tenant_id: message.tenant_id,
            actor: Actor::System {
                name: consumer.to_owned(),
            },
            ip: None,
        };
        let inbox = InboxMessage {
            consumer: consumer.to_owned(),
            message_id: message.id.clone(),
        };
        if self
            .ports
            .inbox
            .contains(message.tenant_id, consumer, &message.id)
            .await?
        {
            return Ok(MessageOutcome::Duplicate);
        }
        let applied = match &message.event {
            InboundEvent::PaymentSucceeded(paid) => {
                self.payment_succeeded(&ctx, message, &paid.payment_intent_id, inbox)
                    .await
            }
            InboundEvent::PaymentFailed(failed) => {
                let reason = failed.reason.as_deref().unwrap_or("declined");
                self.payment_failed(&ctx, message, &failed.payment_intent_id, reason, inbox)
                    .await
            }
            InboundEvent::TicketAllocated(allocated) => {
                self.tickets_allocated(&ctx, message, allocated.ticket_ids.clone(), inbox)
                    .await
            }
        };
        match applied {
            // A concurrent delivery of the same message committed first.
            Err(UseCaseError::Storage(RepositoryError::Duplicate { .. })) => {
                Ok(MessageOutcome::Duplicate)
            }
            other => other,
        }
    }

    async fn payment_succeeded(
        &self,
        ctx: &RequestContext,
        message: &InboundMessage,
        intent: &PaymentIntentId,
        inbox: InboxMessage,
    ) -> Result<MessageOutcome, UseCaseError> {
        let order = self.load_visible(ctx, message.order_id).await?;
        if Self::pays_pending_edit(&order, intent) {
            self.settle_edit(ctx, order, intent, Some(inbox)).await?;
            return Ok(MessageOutcome::Applied);
        }
        if order.status().is_unpaid() {
            match self
                .confirm_loaded(ctx, order, intent.clone(), Some(inbox.clone()))
                .await
            {
                Ok(_) => return Ok(MessageOutcome::Applied),
                // The window closed while we were confirming: take the late-payment path.
                Err(UseCaseError::InvalidTransition(_)) => {}
                Err(error) => return Err(error),
            }
            let order = self.load_visible(ctx, message.order_id).await?;
            return self.late_payment(ctx, order, intent, inbox).await;
        }
        if order.closed_unpaid() {
            return self.late_payment(ctx, order, intent, inbox).await;
        }
        if order.payment_intent_id().is_some_and(|own| own != intent) {
            // Intents are created once per order (the order id is their idempotency key), so a
            // second, different one is not ours to settle: an operator looks at it.
            return Err(OrderError::PaymentIntentMismatch {
                received: intent.clone(),
            }
            .into());
        }
        Ok(MessageOutcome::Ignored("the order is already paid"))
    }

    /// A payment for an EXPIRED or unpaid-CANCELLED order never leaves money without tickets:
    /// hold again and confirm, or refund the payment in full (decision 0015).
    async fn late_payment(
        &self,
        ctx: &RequestContext,
        mut order: Order,
        intent: &PaymentIntentId,
        inbox: InboxMessage,
    ) -> Result<MessageOutcome, UseCaseError> {
        if !order.refunds().is_empty() {
            // This payment is already being returned (an earlier message with another id).
            return Ok(MessageOutcome::Ignored(
                "the late payment is already refunded",
            ));
        }
        let now = self.now();
        let hold_until = self.config.reservation.expires_at(order.kind(), false, now)
            + self.config.reservation.grace;
        match self.hold_again(&order, hold_until).await? {
            Some(hold) => {
                let tickets = match self.commit_upstream(&order, Some(&hold)).await {
                    Ok(tickets) => tickets,
                    Err(error) => {
                        self.release_hold_id(&order, &hold).await;
                        return Err(error.into());
                    }
                };
                let mut events = order.recover_late_payment(intent, hold, now)?;
                let line_refund = self.refund_lines_cancelled_unpaid(&mut order, &mut events);
                if !tickets.is_empty() {
                    events.extend(order.attach_tickets(tickets, now)?);
                }
                self.persist(ctx, &mut order, events, Extras::inbox(Some(inbox)))
                    .await?;
                self.pay_after_confirmation(ctx, order, line_refund).await;
                Ok(MessageOutcome::LatePaymentRecovered)
            }
            None => {
                let refund = RefundId::from_uuid(self.ports.ids.uuid());
                let events = order.refund_late_payment(refund, intent, now)?;
                self.persist(ctx, &mut order, events, Extras::inbox(Some(inbox)))
                    .await?;
                // Paid after the commit: a refused payout is stored as FAILED and retried like any
                // refund; if even that cannot be stored, the refund stays APPROVED and the refund
                // job pays it once its payout lease runs out.
                let order_id = order.id();
                self.report_dropped(
                    &[order_id],
                    "pay the refund of a late payment",
                    self.pay_refund(ctx, order, refund).await,
                );
                Ok(MessageOutcome::LatePaymentRefunded)
            }
        }
    }

    /// Holds the order's tickets or stock again; `None` when they are gone.
    async fn hold_again(
        &self,
        order: &Order,
        until: time::OffsetDateTime,
    ) -> Result<Option<crate::ids::HoldId>, UseCaseError> {
        let held = match order.kind() {
            OrderKind::Ticket => {
                let event = order
                    .event_id()
                    .ok_or(UseCaseError::NotFound { what: "event" })?;
                match self
                    .ports
                    .tickets
                    .hold(
                        order.tenant_id(),
                        order.id(),
                        event,
                        &ticket_lines(order),
                        until,
                    )
                    .await
                {
                    Ok(hold) => Ok(hold),
                    Err(HoldError::SoldOut { .. } | HoldError::NotOnSale) => return Ok(None),
                    Err(HoldError::Upstream(error)) => Err(error),
                }
            }
            OrderKind::Goods => {
                match self
                    .ports
                    .inventory
                    .reserve(order.tenant_id(), order.id(), &stock_lines(order), until)
                    .await
                {
                    Ok(hold) => Ok(hold),
                    Err(StockError::Insufficient { .. }) => return Ok(None),
                    Err(StockError::Upstream(error)) => Err(error),
                }
            }
        };
        match held {
            Ok(hold) => Ok(Some(hold.hold_id)),
            // The event or product is gone for good: nothing can be held.
            Err(UpstreamError::NotFound { .. } | UpstreamError::Rejected { .. }) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    async fn payment_failed(
        &self,
        ctx: &RequestContext,
        message: &InboundMessage,
        intent: &PaymentIntentId,
        reason: &str,
        inbox: InboxMessage,
    ) -> Result<MessageOutcome, UseCaseError> {
        let order = self.load_visible(ctx, message.order_id).await?;
        if !order.status().is_unpaid() {
            return Ok(MessageOutcome::Ignored(
                "the order is no longer awaiting payment",
            ));
        }
        if order.payment_intent_id().is_some_and(|own| own != intent) {
            // A failed attempt with an intent the order does not use changes nothing.
            return Ok(MessageOutcome::Ignored("the intent is not the order's"));
        }
        self.cancel_loaded(
            ctx,
            order,
            &format!("payment failed: {reason}"),
            None,
            Some(inbox),
        )
        .await?;
        Ok(MessageOutcome::Applied)
    }

    async fn tickets_allocated(
        &self,
        ctx: &RequestContext,
        message: &InboundMessage,
        tickets: Vec<TicketId>,
        inbox: InboxMessage,
    ) -> Result<MessageOutcome, UseCaseError> {
        let order = self.load_visible(ctx, message.order_id).await?;
        match order.status() {
            OrderStatus::Confirmed => {
                self.attach_tickets_loaded(ctx, order, tickets, Some(inbox))
                    .await?;
                Ok(MessageOutcome::Applied)
            }
            OrderStatus::Pending | OrderStatus::Reserved => Ok(MessageOutcome::NotYet(
                "the order's payment has not arrived yet",
            )),
            _ => Ok(MessageOutcome::Ignored("the order is not confirmed")),
        }
    }
}
