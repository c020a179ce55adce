//! Storage ports: orders, refunds, carts, promotions and analytics, with the errors and page
//! types they share. The unit of work is in `unit_of_work`, the outbox and inbox in `outbox`.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{KeyedRefund, OrderSummary};
use crate::cart::{Cart, CartOwner};
use crate::cause::Cause;
use crate::documents::Document;
use crate::ids::{CartId, EventId, OrderId, RefundId, TenantId, UserId};
use crate::ledger::LedgerEntry;
use crate::money::Currency;
use crate::order::{ContactEmail, Order, OrderKind, OrderStatus, Refund, RefundStatus};
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
    /// Only orders whose contact e-mail is this address, in any letter case. Addresses are sealed
    /// at rest: an adapter finds them through a keyed hash (a blind index), never by comparing
    /// them in clear.
    pub contact_email: Option<ContactEmail>,
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

/// Reads of orders. Writes go through [`UnitOfWork`](super::UnitOfWork).
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
