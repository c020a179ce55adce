//! A customer's personal data across their orders: the export's reads, erasure and the
//! retention job's archiving (docs/personal-data.md).

use async_trait::async_trait;
use time::OffsetDateTime;

use super::RepositoryError;
use crate::actor::Actor;
use crate::ids::{OrderId, TenantId, UserId};
use crate::order::Order;
use crate::personal_data::{OrderRecords, StoredErasure};

/// Personal data by customer.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PersonalData: Send + Sync {
    /// Whether the tenant holds anything about `user`: an order, a cart or an erasure.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn knows_customer(&self, tenant: TenantId, user: UserId)
    -> Result<bool, RepositoryError>;

    /// Up to `limit` of the customer's orders by id after `after`, whole (addresses opened).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn customer_orders(
        &self,
        tenant: TenantId,
        user: UserId,
        after: Option<OrderId>,
        limit: u32,
    ) -> Result<Vec<Order>, RepositoryError>;

    /// The records of each of `orders`, in the same order.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn order_records(
        &self,
        tenant: TenantId,
        orders: &[OrderId],
    ) -> Result<Vec<OrderRecords>, RepositoryError>;

    /// Erases the customer's personal data in one transaction: every order's personal columns,
    /// their documents' buyer and their audit entries' addresses overwritten, one
    /// `customer.erased` audit entry per order, carts and idempotency keys deleted, the erasure
    /// recorded. MUST refuse, changing nothing, while an order is open.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn erase_customer(
        &self,
        tenant: TenantId,
        user: UserId,
        by: &Actor,
        at: OffsetDateTime,
    ) -> Result<StoredErasure, RepositoryError>;

    /// The retention job: archives up to `limit` orders of any tenant finished before `before`
    /// (personal data erased as above, `order.archived` audited); answers how many. Safe on
    /// several replicas at once.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when storage fails.
    async fn archive_finished(
        &self,
        before: OffsetDateTime,
        now: OffsetDateTime,
        limit: u32,
        retention_days: u32,
    ) -> Result<u32, RepositoryError>;
}
