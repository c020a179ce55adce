//! Storage ports: orders, refunds, carts, promotions, the unit of work, outbox, inbox and
//! analytics, with the errors and page types they share.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::OrderSummary;
use crate::audit::AuditEntry;
use crate::cart::{Cart, CartOwner};
use crate::cause::Cause;
use crate::documents::{Document, DocumentContent};
use crate::events::EventEnvelope;
use crate::ids::{CartId, DomainEventId, EventId, OrderId, RefundId, TenantId, UserId};
use crate::ledger::LedgerEntry;
use crate::money::Currency;
use crate::order::{Order, OrderKind, OrderStatus, Refund, RefundStatus};
use crate::pricing::goods::{PromoCode, Promotion};

/// Why a storage operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepositoryError {
    /// Someone else saved first: the stored version is not the one this change was based on.
    #[error("the record was changed concurrently (expected version {expected})")]
    Conflict {
        /// The version the change expected.
        expected: u64,
    },
    /// A unique key is taken (order number, idempotent insert).
    #[error("duplicate {what}")]
    Duplicate {
        /// Which key.
        what: String,
    },
    /// A quota of the buyer is used up (decided with the write, never by a read before it).
    #[error(transparent)]
    QuotaExceeded(#[from] crate::policy::QuotaExceeded),
    /// The new order's number is taken in its tenant (numbers are random): draw another.
    #[error("the order number is taken")]
    OrderNumberTaken,
    /// The order's promo code reached its usage limit before this order could count it
    /// (decided in the order's own insert, so concurrent orders never exceed it).
    #[error("the promo code is used up")]
    PromoCodeUsedUp,
    /// Another order was already created with this idempotency key.
    #[error("an order with this idempotency key exists")]
    IdempotencyKeyTaken,
    /// The change breaks a rule of the schema (a check, a foreign key, a required column): the
    /// domain let through what the database refuses. Retrying cannot help.
    #[error("the change breaks the constraint {constraint}")]
    Rejected {
        /// The constraint's name (for the log; never shown to clients).
        constraint: String,
    },
    /// A stored record breaks a domain invariant.
    #[error("stored data is inconsistent")]
    Corrupt(#[source] Cause),
    /// The database could not be reached or failed; retrying may help.
    #[error("storage unavailable")]
    Unavailable(#[source] Cause),
    /// The connection failed while the transaction was committing: the change may or may not
    /// be stored. Read it back before undoing anything.
    #[error("the commit's outcome is unknown")]
    CommitOutcomeUnknown(#[source] Cause),
}

/// Limit and offset of a list query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    /// At most this many rows (1..=100).
    pub limit: u32,
    /// Rows to skip.
    pub offset: u32,
}

/// Where a keyset page of orders starts: after this order, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderCursor {
    /// Creation time of the last order of the previous page.
    pub created_at: OffsetDateTime,
    /// Its id (orders created in the same instant are ordered by id).
    pub id: OrderId,
}

impl OrderCursor {
    /// The cursor that continues after `order`.
    pub fn after(order: &Order) -> Self {
        Self {
            created_at: order.milestones().created_at,
            id: order.id(),
        }
    }
}

/// One page of an order list: `limit` orders after `after` (keyset) or after skipping `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderPageRequest {
    /// At most this many orders (1..=100).
    pub limit: u32,
    /// Orders to skip (the ticketing API's pagination; deep pages should use `after`).
    pub offset: u32,
    /// Start after this order instead of at the newest.
    pub after: Option<OrderCursor>,
}

/// Above this many matching orders a list's total is not counted exactly (docs/product/routes.md).
pub const EXACT_TOTAL_UP_TO: u64 = 1_000;

/// Filters of `GET /orders`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrderFilter {
    /// Only this user's orders (owners); `None` for the whole tenant (admins).
    pub user_id: Option<UserId>,
    /// Only this status.
    pub status: Option<OrderStatus>,
    /// Only this kind of order.
    pub kind: Option<OrderKind>,
    /// Only this event's orders.
    pub event_id: Option<EventId>,
    /// Created at or after.
    pub created_from: Option<OffsetDateTime>,
    /// Created before.
    pub created_to: Option<OffsetDateTime>,
    /// Only the order with this number (`ORD-…`).
    pub order_number: Option<String>,
}

/// One page of orders and how many match in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPage {
    /// Newest first.
    pub orders: Vec<Order>,
    /// Matching orders in all (ignoring the page), exact up to [`EXACT_TOTAL_UP_TO`].
    pub total: u64,
    /// More than [`EXACT_TOTAL_UP_TO`] match: `total` is that bound, not the count.
    pub total_is_estimate: bool,
    /// Whether orders follow this page (always exact).
    pub has_more: bool,
    /// What the matching orders add up to, over the same orders `total` counts.
    pub summary: OrderSummary,
}

/// Reads of orders. Writes go through [`UnitOfWork`].
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OrderRepository: Send + Sync {
    /// The order with `id` in `tenant`.
    ///
    /// # Errors
    /// MUST return `Ok(None)`, not an error, when no such order exists in this tenant (including
    /// when it exists in another one).
    async fn find(&self, tenant: TenantId, id: OrderId) -> Result<Option<Order>, RepositoryError>;

    /// One page of the tenant's orders matching `filter`, newest first (by creation time, then
    /// id). `total` counts only matching rows and MUST stop counting past
    /// [`EXACT_TOTAL_UP_TO`]: a list never walks every order of a tenant.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn list(
        &self,
        tenant: TenantId,
        filter: &OrderFilter,
        page: OrderPageRequest,
    ) -> Result<OrderPage, RepositoryError>;

    /// The tenant's orders among `ids` (missing ones are left out), in one read.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn find_many(
        &self,
        tenant: TenantId,
        ids: &[OrderId],
    ) -> Result<Vec<Order>, RepositoryError>;

    /// The order's ledger entries, oldest first (docs/product/after-the-sale.md).
    ///
    /// # Errors
    /// MUST return an empty list for an order of another tenant.
    async fn ledger(
        &self,
        tenant: TenantId,
        order: OrderId,
    ) -> Result<Vec<LedgerEntry>, RepositoryError>;

    /// The order's invoices and credit notes, invoices first, each kind in number order.
    ///
    /// # Errors
    /// MUST return an empty list for an order of another tenant.
    async fn documents(
        &self,
        tenant: TenantId,
        order: OrderId,
    ) -> Result<Vec<Document>, RepositoryError>;

    /// The order `user` created with idempotency `key`, with the fingerprint of the request
    /// that created it; only keys younger than `since` count.
    ///
    /// # Errors
    /// MUST return `Ok(None)` when no order of this tenant and user carries the key.
    async fn find_by_idempotency_key(
        &self,
        tenant: TenantId,
        user: UserId,
        key: &str,
        since: OffsetDateTime,
    ) -> Result<Option<(String, Order)>, RepositoryError>;
}

/// A refund together with its order, for the admin review queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundView {
    /// The order it belongs to.
    pub order_id: OrderId,
    /// The order's owner.
    pub user_id: UserId,
    /// Currency of the amount.
    pub currency: Currency,
    /// The refund.
    pub refund: Refund,
}

/// Refund queries across orders.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RefundRepository: Send + Sync {
    /// The tenant's refunds in `status`, oldest first.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn list_by_status(
        &self,
        tenant: TenantId,
        status: RefundStatus,
        page: PageRequest,
    ) -> Result<Vec<RefundView>, RepositoryError>;

    /// The order a refund belongs to.
    ///
    /// # Errors
    /// MUST return `Ok(None)` when the refund does not exist in this tenant.
    async fn order_of(
        &self,
        tenant: TenantId,
        refund: RefundId,
    ) -> Result<Option<OrderId>, RepositoryError>;

    /// The refund `caller` requested with idempotency `key`; only keys stored at or after
    /// `since` count.
    ///
    /// # Errors
    /// MUST return `Ok(None)` when no refund of this tenant and caller carries the key.
    async fn find_by_request_key(
        &self,
        tenant: TenantId,
        caller: &str,
        key: &str,
        since: OffsetDateTime,
    ) -> Result<Option<KeyedRefund>, RepositoryError>;
}

/// Carts.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CartRepository: Send + Sync {
    /// The owner's cart, if any (expired carts included; the caller decides).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn find_by_owner(
        &self,
        tenant: TenantId,
        owner: &CartOwner,
    ) -> Result<Option<Cart>, RepositoryError>;

    /// Inserts (version 0) or updates the cart.
    ///
    /// # Errors
    /// MUST return [`RepositoryError::Conflict`] when the stored version differs from
    /// `cart.version()`.
    async fn save(&self, cart: &Cart) -> Result<(), RepositoryError>;

    /// Deletes a cart.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn delete(&self, tenant: TenantId, id: CartId) -> Result<(), RepositoryError>;

    /// Stores `merged` (as [`CartRepository::save`]) and deletes the cart `absorbed` that was
    /// merged into it, in one transaction: a merge is never half applied, so retrying it never
    /// adds the session's lines twice.
    ///
    /// # Errors
    /// MUST return [`RepositoryError::Conflict`] when `merged`'s stored version differs, or
    /// when `absorbed` is already gone (another merge took it); nothing is written then.
    async fn save_merged(&self, merged: &Cart, absorbed: CartId) -> Result<(), RepositoryError>;
}

/// Promotions and promo codes of a tenant.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PromotionRepository: Send + Sync {
    /// Promotions that run at `now`.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn active_promotions(
        &self,
        tenant: TenantId,
        now: OffsetDateTime,
    ) -> Result<Vec<Promotion>, RepositoryError>;

    /// The code (already normalised) and how often `user` has used it.
    ///
    /// # Errors
    /// MUST return `Ok(None)` when the code does not exist.
    async fn find_code(
        &self,
        tenant: TenantId,
        code: &str,
        user: UserId,
    ) -> Result<Option<(PromoCode, u32)>, RepositoryError>;

    /// The tenant's promo codes, by code.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn list_codes(&self, tenant: TenantId) -> Result<Vec<PromoCode>, RepositoryError>;

    /// Stores a new code (its `code` already normalised, `times_used` 0).
    ///
    /// # Errors
    /// MUST return [`RepositoryError::Duplicate`] when the tenant has the code already.
    async fn create_code(&self, tenant: TenantId, code: &PromoCode) -> Result<(), RepositoryError>;

    /// Ends a code's validity at `at` (its redemptions stay on record); `false` when the tenant
    /// has no such code.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn retire_code(
        &self,
        tenant: TenantId,
        code: &str,
        at: OffsetDateTime,
    ) -> Result<bool, RepositoryError>;
}

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

/// A stored outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRecord {
    /// Monotonic position (publish order).
    pub position: i64,
    /// The event.
    pub envelope: EventEnvelope,
    /// The W3C `traceparent` of the trace the change was committed in, when traces are
    /// recorded: the relay passes it on with the message, so one trace follows the order.
    /// Opaque to the domain.
    pub traceparent: Option<String>,
}

/// The transactional outbox, read by the relay.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Leases up to `limit` unpublished rows, in position order, for `lease`: other relays skip
    /// them until [`Outbox::mark_published`] or until the lease runs out. Rows of an order whose
    /// earlier events are leased to another relay are not returned, so one order's events are
    /// never published out of order.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn claim_unpublished(
        &self,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<OutboxRecord>, RepositoryError>;

    /// Marks rows as published (after the broker confirmed them).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn mark_published(&self, ids: &[DomainEventId]) -> Result<(), RepositoryError>;
}

/// Message ids already consumed.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Inbox: Send + Sync {
    /// Whether `consumer` already applied `message_id` for `tenant`.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn contains(
        &self,
        tenant: TenantId,
        consumer: &str,
        message_id: &str,
    ) -> Result<bool, RepositoryError>;

    /// Records that `consumer` applied `message_id` for `tenant`, for consumers whose effect is
    /// not a database change (a notification sent); recording a known message again is a no-op.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn record(
        &self,
        tenant: TenantId,
        consumer: &str,
        message_id: &str,
    ) -> Result<(), RepositoryError>;
}

/// Analytics snapshots (the metrics job writes, admins read).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AnalyticsStore: Send + Sync {
    /// Tenants with orders created since `since`.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn tenants_with_orders(
        &self,
        since: OffsetDateTime,
    ) -> Result<Vec<TenantId>, RepositoryError>;

    /// Counts and sums over `tenant`'s orders created since `since`.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn order_stats(
        &self,
        tenant: TenantId,
        since: OffsetDateTime,
    ) -> Result<crate::analytics::OrderStats, RepositoryError>;

    /// Stores `analytics` as `tenant`'s latest snapshot.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn save_snapshot(
        &self,
        tenant: TenantId,
        analytics: &crate::analytics::Analytics,
    ) -> Result<(), RepositoryError>;

    /// `tenant`'s latest snapshot.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn latest_snapshot(
        &self,
        tenant: TenantId,
    ) -> Result<Option<crate::analytics::Analytics>, RepositoryError>;
}
