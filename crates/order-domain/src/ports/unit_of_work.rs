//! The unit of work: one order change stored at once with everything that belongs to it — audit
//! entries, outbox events, ledger entries, documents, and the extras of a creation (the consumed
//! cart, the promo code's redemption, the quota places, the idempotency record) or of a consumed
//! message (its inbox row).

use async_trait::async_trait;
use time::OffsetDateTime;

use super::RepositoryError;
use crate::audit::AuditEntry;
use crate::cause::Cause;
use crate::documents::DocumentContent;
use crate::events::EventEnvelope;
use crate::ids::{CartId, EventId, OrderId, RefundId, UserId};
use crate::ledger::LedgerEntry;
use crate::order::Order;

/// A promo code use to record with the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromoRedemption {
    /// The code, normalised.
    pub code: String,
    /// Who used it.
    pub user_id: UserId,
}

/// The places a new order takes in its buyer's quotas (docs/product/limits.md), claimed by the unit
/// of work atomically with the order's insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaClaim {
    /// The UTC day whose order count the order joins (decision 0011).
    pub day: time::Date,
    /// At most this many orders per buyer and day.
    pub max_orders_per_day: u32,
    /// The event whose active orders the order joins, and at most how many may be active.
    pub active_for_event: Option<(EventId, u32)>,
}

/// The `Idempotency-Key` a new order is created under, stored with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The key as the client sent it (scoped to the order's tenant and buyer).
    pub key: String,
    /// Hash of the request it came with: the same key with another request is refused.
    pub fingerprint: String,
    /// A key stored before this instant has outlived its TTL and may be taken over.
    pub reusable_before: OffsetDateTime,
}

/// A consumed message to record with its effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxMessage {
    /// The consumer (queue) that handled it.
    pub consumer: String,
    /// The message id.
    pub message_id: String,
}

/// One atomic change: the order's new state, its audit entries and outbox events, and whatever
/// else must be written with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderChange {
    /// The order after the command. Its `version()` is the version it was loaded with (0 for a
    /// new order).
    pub order: Order,
    /// One entry per domain event.
    pub audit: Vec<AuditEntry>,
    /// One envelope per domain event.
    pub outbox: Vec<EventEnvelope>,
    /// The cart the order was created from, emptied in the same transaction.
    pub consumed_cart: Option<(CartId, u64)>,
    /// A promo code use to count.
    pub promo_redemption: Option<PromoRedemption>,
    /// The message whose effect this is (exactly-once consumption).
    pub inbox: Option<InboxMessage>,
    /// Quota places a new order claims; the commit fails with
    /// [`RepositoryError::QuotaExceeded`] when one is used up.
    pub quota: Option<QuotaClaim>,
    /// The idempotency key a new order is created under.
    pub idempotency: Option<IdempotencyRecord>,
    /// The ledger entries the change's money movements cause (docs/product/after-the-sale.md),
    /// stored with it.
    pub ledger: Vec<LedgerEntry>,
    /// The invoices and credit notes the change issues (docs/product/after-the-sale.md); the store
    /// numbers them in the same transaction, gap-free per tenant, kind and year.
    pub documents: Vec<DocumentContent>,
    /// The idempotency key a refund request is made under, stored with the refund; the commit
    /// fails with [`RepositoryError::IdempotencyKeyTaken`] when the caller used it already.
    pub refund_key: Option<RefundKey>,
}

/// The `Idempotency-Key` of a refund request, stored with the refund it created, so that a repeat
/// of the request after any failure answers that refund instead of paying a second one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundKey {
    /// The refund the request created.
    pub refund_id: RefundId,
    /// Who asked (a user id or a service name): keys are scoped to tenant and caller.
    pub caller: String,
    /// The key, the request's fingerprint and when an old key may be taken over.
    pub record: IdempotencyRecord,
}

/// A refund found by the idempotency key of the request that created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedRefund {
    /// Hash of the request that used the key first.
    pub fingerprint: String,
    /// The order of the refund.
    pub order_id: OrderId,
    /// The refund.
    pub refund_id: RefundId,
}

impl OrderChange {
    /// Whether the change carries what only a new order's commit may: a cart to empty, a promo
    /// code, quota places or an idempotency key.
    pub fn claims_creation_extras(&self) -> bool {
        self.consumed_cart.is_some()
            || self.promo_redemption.is_some()
            || self.quota.is_some()
            || self.idempotency.is_some()
    }

    /// Whether the change is an edit's (applied, waiting for its payment, or lapsed): the store
    /// writes the order's lines, price and edits again with the order, in the same transaction.
    pub fn rewrites_lines(&self) -> bool {
        use crate::events::OrderEvent as E;
        self.outbox.iter().any(|e| {
            matches!(
                e.event,
                E::Edited(_) | E::EditAwaitingPayment(_) | E::EditLapsed(_)
            )
        })
    }

    /// Whether the change is a status change of a stored, unpaid order with nothing but its
    /// audit entries and outbox events: what [`UnitOfWork::commit_batch`] accepts.
    pub fn is_plain_status_change(&self) -> bool {
        let order = &self.order;
        order.version() > 0
            && order.refunds().is_empty()
            && order.ticket_ids().is_empty()
            && order.shipment().is_none()
            && self.inbox.is_none()
            && self.refund_key.is_none()
            && self.ledger.is_empty()
            && self.documents.is_empty()
            && !self.rewrites_lines()
            && !self.claims_creation_extras()
    }
}

/// Refuses a batch [`UnitOfWork::commit_batch`] must not store: changes of several tenants, or
/// any change that is not [`OrderChange::is_plain_status_change`].
///
/// # Errors
/// [`RepositoryError::Corrupt`] naming the rule broken.
pub fn check_batch(changes: &[OrderChange]) -> Result<(), RepositoryError> {
    let Some(first) = changes.first() else {
        return Ok(());
    };
    let tenant = first.order.tenant_id();
    if changes.iter().any(|c| c.order.tenant_id() != tenant) {
        return Err(RepositoryError::Corrupt(Cause::from(
            "a batch stores one tenant's orders",
        )));
    }
    if !changes.iter().all(OrderChange::is_plain_status_change) {
        return Err(RepositoryError::Corrupt(Cause::from(
            "a batch stores status changes of stored, unpaid orders without extras only",
        )));
    }
    Ok(())
}

/// Writes an [`OrderChange`] in one database transaction.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UnitOfWork: Send + Sync {
    /// Stores everything in `change` or nothing.
    ///
    /// # Errors
    /// MUST return [`RepositoryError::Conflict`] when the stored order's version is not
    /// `change.order.version()` (or, for version 0, when the order already exists) and
    /// [`RepositoryError::Duplicate`] when the inbox message was already recorded,
    /// [`RepositoryError::QuotaExceeded`] when `change.quota` cannot be claimed (decided
    /// atomically: however many commits race, no quota is ever exceeded), and
    /// [`RepositoryError::OrderNumberTaken`] when a new order's number exists in its tenant,
    /// [`RepositoryError::IdempotencyKeyTaken`] when another live order holds
    /// `change.idempotency`'s key, [`RepositoryError::PromoCodeUsedUp`] when the redeemed code
    /// reached its usage limit (overall or the buyer's) and [`RepositoryError::Rejected`] when the
    /// tenant has no such code; nothing is written then. A failure while committing MUST be
    /// [`RepositoryError::CommitOutcomeUnknown`], never `Unavailable`. An order leaving the active statuses
    /// MUST give its place in the per-event quota back in the same transaction.
    async fn commit(&self, change: &OrderChange) -> Result<(), RepositoryError>;

    /// Stores many changes of stored orders of one tenant in one transaction, each under its
    /// own version check: the answer says, per change, whether it was stored (`false`: the
    /// order changed meanwhile, and nothing of that change was written). Only order state,
    /// audit and outbox are written (the expiry job's batches): a change carrying a cart, promo
    /// code, message, quota or idempotency key MUST be refused ([`check_batch`] decides it).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] (nothing stored) or [`RepositoryError::Corrupt`].
    async fn commit_batch(&self, changes: &[OrderChange]) -> Result<Vec<bool>, RepositoryError>;
}
