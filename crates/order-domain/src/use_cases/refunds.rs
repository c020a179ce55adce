//! Refund requests, admin review and payout.

use super::{Extras, IdempotencyKey, OrderService, UseCaseError};
use crate::actor::RequestContext;
use crate::ids::{OrderId, RefundId};
use crate::money::Money;
use crate::order::{Order, OrderKind, RefundRequest, RefundScope, RefundStatus};
use crate::policy::RefundReason;
use crate::ports::{PageRequest, PaymentError, RefundKey, RefundView, RepositoryError};

impl OrderService {
    /// `POST /orders/{id}/refund` without an idempotency key: see
    /// [`OrderService::request_refund_with_key`].
    ///
    /// # Ports
    /// `events`, `orders`, `payments`, `refunds`, `unit_of_work`.
    ///
    /// # Errors
    /// As [`OrderService::request_refund_with_key`].
    pub async fn request_refund(
        &self,
        ctx: &RequestContext,
        id: OrderId,
        scope: RefundScope,
        reason: &str,
    ) -> Result<(Order, RefundId), UseCaseError> {
        let requested = self
            .request_refund_with_key(ctx, id, scope, reason, None)
            .await?;
        Ok((requested.order, requested.refund_id))
    }

    /// `POST /orders/{id}/refund`: a partial or full refund of a CONFIRMED ticket order under
    /// the refund policy. Below the auto-approval threshold it is paid at once; otherwise it waits
    /// for an admin.
    ///
    /// With `key`, the request's `Idempotency-Key` is stored with the refund in the same
    /// transaction: a repeat of the request — after a 5xx, a lost answer, or with the answer
    /// gone from the guard store — finds that refund and answers it (`replayed`), and never
    /// creates or pays a second one.
    ///
    /// # Ports
    /// `events`, `orders`, `payments`, `refunds`, `unit_of_work`.
    ///
    /// # Errors
    /// [`UseCaseError::RefundDenied`] past the cutoff, [`UseCaseError::Order`] when the amount
    /// exceeds what is left, [`UseCaseError::InvalidTransition`] in other statuses,
    /// [`UseCaseError::IdempotencyKeyReused`] when the key came with another request.
    pub async fn request_refund_with_key(
        &self,
        ctx: &RequestContext,
        id: OrderId,
        scope: RefundScope,
        reason: &str,
        key: Option<&IdempotencyKey>,
    ) -> Result<RequestedRefund, UseCaseError> {
        if let Some(key) = key
            && let Some(earlier) = self.refund_under_key(ctx, key).await?
        {
            return Ok(earlier);
        }
        let mut order = self.load_visible(ctx, id).await?;
        if !ctx.actor.is_privileged() && ctx.actor.user_id() != Some(order.user_id()) {
            return Err(UseCaseError::Forbidden);
        }
        let now = self.now();
        let starts_at = match order.event_id() {
            Some(event) => self
                .ports
                .events
                .event(ctx.tenant_id, event)
                .await?
                .map(|e| e.starts_at),
            None => None,
        };
        let reason_kind = if ctx.actor.is_privileged() {
            RefundReason::Admin
        } else {
            RefundReason::Customer
        };
        let terms = self
            .config
            .refund
            .terms(&order, reason_kind, starts_at, now)?;
        let refund_id = RefundId::from_uuid(self.ports.ids.uuid());
        let events = order.request_refund(
            RefundRequest {
                id: refund_id,
                scope,
                reason: reason.to_owned(),
                requested_by: Self::actor_label(ctx),
                auto_approve_below: self.config.refund.auto_approve_below,
            },
            terms,
            now,
        )?;
        let extras = Extras {
            refund_key: key.map(|key| RefundKey {
                refund_id,
                caller: Self::actor_label(ctx),
                record: key.record(now),
            }),
            ..Extras::default()
        };
        match self.persist(ctx, &mut order, events, extras).await {
            Ok(()) => {}
            // A request with the same key committed meanwhile: that refund is the answer.
            Err(UseCaseError::Storage(RepositoryError::IdempotencyKeyTaken)) => {
                let key = key.ok_or(UseCaseError::Conflict)?;
                return self
                    .refund_under_key(ctx, key)
                    .await?
                    .ok_or(UseCaseError::Conflict);
            }
            Err(error) => return Err(error),
        }
        if order
            .refund(refund_id)
            .is_some_and(|r| r.status == RefundStatus::Approved)
        {
            order = self.pay_refund(ctx, order, refund_id).await?;
        }
        Ok(RequestedRefund {
            order,
            refund_id,
            replayed: false,
        })
    }

    /// The refund the caller requested earlier with `key`, with its order as it is now.
    async fn refund_under_key(
        &self,
        ctx: &RequestContext,
        key: &IdempotencyKey,
    ) -> Result<Option<RequestedRefund>, UseCaseError> {
        let Some(found) = self
            .ports
            .refunds
            .find_by_request_key(
                ctx.tenant_id,
                &Self::actor_label(ctx),
                &key.key,
                self.now() - key.ttl,
            )
            .await?
        else {
            return Ok(None);
        };
        if found.fingerprint != key.fingerprint {
            return Err(UseCaseError::IdempotencyKeyReused);
        }
        let order = self.load_visible(ctx, found.order_id).await?;
        Ok(Some(RequestedRefund {
            order,
            refund_id: found.refund_id,
            replayed: true,
        }))
    }

    /// `POST /admin/refunds/{id}/approve`: approves a PENDING refund and pays it.
    ///
    /// # Ports
    /// `orders`, `payments`, `refunds`, `unit_of_work`.
    ///
    /// # Errors
    /// [`UseCaseError::Forbidden`] for non-admins; [`UseCaseError::NotFound`];
    /// [`UseCaseError::Order`] when the refund is not PENDING.
    pub async fn approve_refund(
        &self,
        ctx: &RequestContext,
        refund: RefundId,
    ) -> Result<Order, UseCaseError> {
        let mut order = self.load_refund_order(ctx, refund).await?;
        let events = order.approve_refund(refund, &Self::actor_label(ctx), self.now())?;
        self.persist(ctx, &mut order, events, Extras::default())
            .await?;
        self.pay_refund(ctx, order, refund).await
    }

    /// `POST /admin/refunds/{id}/reject`.
    ///
    /// # Ports
    /// `orders`, `refunds`, `unit_of_work`.
    ///
    /// # Errors
    /// As [`OrderService::approve_refund`].
    pub async fn reject_refund(
        &self,
        ctx: &RequestContext,
        refund: RefundId,
        reason: &str,
    ) -> Result<Order, UseCaseError> {
        let mut order = self.load_refund_order(ctx, refund).await?;
        let events = order.reject_refund(refund, &Self::actor_label(ctx), reason, self.now())?;
        self.persist(ctx, &mut order, events, Extras::default())
            .await?;
        Ok(order)
    }

    /// Pays a FAILED refund out again, or an APPROVED one whose payout never recorded a result
    /// (admin or the refund job). The refund id is the payment's idempotency key, so a payout
    /// that did happen is answered again by the payment service, never made twice.
    ///
    /// # Ports
    /// `orders`, `payments`, `refunds`, `unit_of_work`.
    ///
    /// # Errors
    /// As [`OrderService::approve_refund`].
    pub async fn retry_refund(
        &self,
        ctx: &RequestContext,
        refund: RefundId,
    ) -> Result<Order, UseCaseError> {
        let order = self.load_refund_order(ctx, refund).await?;
        if !order
            .refund(refund)
            .is_some_and(|r| r.status.awaits_payout())
        {
            return Err(crate::order::OrderError::Refund(
                crate::order::RefundError::InvalidState {
                    from: order
                        .refund(refund)
                        .map_or(RefundStatus::Pending, |r| r.status),
                    to: RefundStatus::Completed,
                },
            )
            .into());
        }
        self.pay_refund(ctx, order, refund).await
    }

    /// The refund job: pays out, as the system actor `refund-retry`, every FAILED refund whose
    /// retry is due at `before` and every APPROVED refund whose payout lease (approval +
    /// `payout_lease`) ran out without a recorded result — the process died after the approval,
    /// or its result could not be stored (at most `limit`). A refund that fails again gets its
    /// next retry from the schedule; one whose order moved on is counted and left.
    ///
    /// # Ports
    /// `orders`, `payments`, `refunds`, `scans`, `unit_of_work`.
    ///
    /// # Errors
    /// Storage errors of the due-list query; a refund's own failure is counted, not returned.
    pub async fn retry_due_refunds(
        &self,
        before: time::OffsetDateTime,
        limit: u32,
    ) -> Result<RefundRetryReport, UseCaseError> {
        let approved_before = before - self.config.refund.payout_lease;
        let due = self
            .ports
            .scans
            .due_for_retry(before, approved_before, limit)
            .await?;
        let mut report = RefundRetryReport::default();
        for refund in due {
            let ctx = RequestContext {
                tenant_id: refund.tenant_id,
                actor: crate::actor::Actor::System {
                    name: "refund-retry".to_owned(),
                },
                ip: None,
            };
            report.attempted += 1;
            match self.retry_refund(&ctx, refund.refund_id).await {
                Ok(order) => match order.refund(refund.refund_id).map(|r| r.status) {
                    Some(RefundStatus::Completed) => report.completed += 1,
                    _ => report.failed_again += 1,
                },
                Err(_) => report.skipped += 1,
            }
        }
        Ok(report)
    }

    /// `GET /admin/refunds?status=…`.
    ///
    /// # Ports
    /// `refunds`.
    ///
    /// # Errors
    /// [`UseCaseError::Forbidden`] for non-admins; storage errors.
    pub async fn list_refunds(
        &self,
        ctx: &RequestContext,
        status: RefundStatus,
        page: PageRequest,
    ) -> Result<Vec<RefundView>, UseCaseError> {
        if !ctx.actor.is_privileged() {
            return Err(UseCaseError::Forbidden);
        }
        Ok(self
            .ports
            .refunds
            .list_by_status(ctx.tenant_id, status, page)
            .await?)
    }

    /// `POST /orders/{id}/returns/receive` (warehouse received the goods): refunds what a
    /// RETURNED goods order sent back — the whole order except shipping, or the returned lines'
    /// shares less their share of shipping — which makes it REFUNDED.
    ///
    /// # Ports
    /// `orders`, `payments`, `unit_of_work`.
    ///
    /// # Errors
    /// [`UseCaseError::Forbidden`] unless warehouse or admin; [`UseCaseError::InvalidTransition`]
    /// unless RETURNED.
    pub async fn complete_return_refund(
        &self,
        ctx: &RequestContext,
        id: OrderId,
    ) -> Result<Order, UseCaseError> {
        let mut order = self.load_for_fulfillment(ctx, id).await?;
        if order.kind() != OrderKind::Goods {
            return Err(crate::order::OrderError::WrongKind {
                expected: OrderKind::Goods,
            }
            .into());
        }
        let now = self.now();
        let terms = self
            .config
            .refund
            .terms(&order, RefundReason::Return, None, now)?;
        let refund_id = RefundId::from_uuid(self.ports.ids.uuid());
        let events = order.request_refund(
            RefundRequest {
                id: refund_id,
                scope: if order.return_items().is_empty() {
                    RefundScope::Remaining
                } else {
                    RefundScope::Items(order.return_items().to_vec())
                },
                reason: order
                    .return_reason()
                    .map(str::to_owned)
                    .unwrap_or_else(|| "return".to_owned()),
                requested_by: Self::actor_label(ctx),
                // Receiving the goods is the approval.
                auto_approve_below: i64::MAX,
            },
            terms,
            now,
        )?;
        self.persist(ctx, &mut order, events, Extras::default())
            .await?;
        self.pay_refund(ctx, order, refund_id).await
    }

    async fn load_refund_order(
        &self,
        ctx: &RequestContext,
        refund: RefundId,
    ) -> Result<Order, UseCaseError> {
        if !ctx.actor.is_privileged() {
            return Err(UseCaseError::Forbidden);
        }
        let order_id = self
            .ports
            .refunds
            .order_of(ctx.tenant_id, refund)
            .await?
            .ok_or(UseCaseError::NotFound { what: "refund" })?;
        Ok(self.load_visible(ctx, order_id).await?)
    }

    /// Pays an APPROVED or FAILED refund out and records the result (COMPLETED, or FAILED to be
    /// retried). The payment call happens outside any transaction; the refund id is its
    /// idempotency key, so a retry after a crash cannot pay twice. A result whose write loses a
    /// version race (a consumed message, a line cancellation, fulfillment changed the order
    /// meanwhile) is applied again to the fresh order, never dropped: money that moved is always
    /// recorded.
    pub(super) async fn pay_refund(
        &self,
        ctx: &RequestContext,
        order: Order,
        refund: RefundId,
    ) -> Result<Order, UseCaseError> {
        let amount = order
            .refund(refund)
            .map(|r| r.amount)
            .ok_or(UseCaseError::NotFound { what: "refund" })?;
        let outcome = match order.payment_intent_id() {
            Some(_) if !order.edit_payments().is_empty() => {
                self.pay_across_intents(&order, refund, amount).await
            }
            Some(intent) => self
                .ports
                .payments
                .refund(intent, refund, Money::new(amount, order.currency()))
                .await
                .map_err(|error| match error {
                    PaymentError::Declined(reason) => reason,
                    PaymentError::Upstream(error) => error.to_string(),
                }),
            None => Err("the order has no payment to refund".to_owned()),
        };
        self.record_payout(ctx, order, refund, &outcome).await
    }

    /// A refund of an order paid by several intents (its own and its edits'): paid from the
    /// newest intent first, each at most what it still holds, every part under the refund's id
    /// as its key, so a payout repeated after a crash finds its earlier parts and pays only the
    /// rest. The references of the parts, joined by `+`, are the payout's reference.
    async fn pay_across_intents(
        &self,
        order: &Order,
        refund: RefundId,
        amount: i64,
    ) -> Result<String, String> {
        let failure = |error: PaymentError| match error {
            PaymentError::Declined(reason) => reason,
            PaymentError::Upstream(error) => error.to_string(),
        };
        let mut left = amount;
        let mut references = Vec::new();
        for intent in order.paying_intents().into_iter().rev() {
            if left == 0 {
                break;
            }
            let record = self
                .ports
                .payments
                .payment(&intent)
                .await
                .map_err(failure)?
                .unwrap_or_default();
            if let Some(earlier) = record.payouts.iter().find(|p| p.refund_id == refund) {
                left -= earlier.amount;
                references.push(earlier.reference.clone());
                continue;
            }
            let holds = record.captured - record.payouts.iter().map(|p| p.amount).sum::<i64>();
            let part = left.min(holds);
            if part <= 0 {
                continue;
            }
            let reference = self
                .ports
                .payments
                .refund(&intent, refund, Money::new(part, order.currency()))
                .await
                .map_err(failure)?;
            left -= part;
            references.push(reference);
        }
        if left > 0 {
            return Err(format!(
                "the order's payments hold {left} minor units less than the refund"
            ));
        }
        Ok(references.join("+"))
    }

    /// Stores a payout's `outcome` on the refund, reloading the order and applying it again
    /// while other writers win the version check (a few rounds).
    pub(super) async fn record_payout(
        &self,
        ctx: &RequestContext,
        mut order: Order,
        refund: RefundId,
        outcome: &Result<String, String>,
    ) -> Result<Order, UseCaseError> {
        const ROUNDS: usize = 5;
        let retries = &self.config.refund.retry;
        for round in 1..=ROUNDS {
            if !order
                .refund(refund)
                .is_some_and(|r| r.status.awaits_payout())
            {
                // Recorded meanwhile by another payout of the same refund (same idempotency key).
                return Ok(order);
            }
            let now = self.now();
            let events = match outcome {
                Ok(reference) => order.complete_refund(refund, reference, now)?,
                Err(reason) => order.fail_refund(refund, reason, retries, now)?,
            };
            match self
                .persist(ctx, &mut order, events, Extras::default())
                .await
            {
                Ok(()) => return Ok(order),
                Err(UseCaseError::Conflict) if round < ROUNDS => {
                    order = self
                        .ports
                        .orders
                        .find(ctx.tenant_id, order.id())
                        .await?
                        .ok_or(UseCaseError::NotFound { what: "order" })?;
                }
                Err(error) => return Err(error),
            }
        }
        Err(UseCaseError::Conflict)
    }
}

/// A refund request's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedRefund {
    /// The order as it is now.
    pub order: Order,
    /// The refund the request created.
    pub refund_id: RefundId,
    /// The refund was created earlier under the same idempotency key and is answered again.
    pub replayed: bool,
}

/// What one pass of the refund retry job did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefundRetryReport {
    /// Due refunds it tried.
    pub attempted: u32,
    /// Paid out this time.
    pub completed: u32,
    /// Refused again (retried later, or left for an admin once the attempts are used up).
    pub failed_again: u32,
    /// Not retried: the refund or its order changed meanwhile, or storage failed for it.
    pub skipped: u32,
}
