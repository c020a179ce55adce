//! A customer's personal data (docs/personal-data.md): the export (the customer themselves, or an
//! admin), erasure (admins) and the retention job that archives finished orders.

use time::Duration;

use super::{OrderService, UseCaseError};
use crate::actor::{Actor, RequestContext};
use crate::cart::{Cart, CartOwner};
use crate::ids::{OrderId, UserId};
use crate::order::Order;
use crate::personal_data::{ErasureReport, OrderRecords, StoredErasure};

/// Orders one export page holds: what an export keeps in memory at once.
pub const EXPORT_PAGE: u32 = 50;
/// Orders one retention pass archives at the most.
pub const ARCHIVE_BATCH: u32 = 500;

/// One page of a customer's export.
#[derive(Debug, Clone)]
pub struct ExportPage {
    /// Orders by id, each with its records.
    pub orders: Vec<(Order, OrderRecords)>,
    /// Where the next page starts; `None` after the last.
    pub next: Option<OrderId>,
}

impl OrderService {
    /// Starts `user`'s export: checks the caller (the customer themselves, or an admin) and
    /// that the tenant knows the customer; answers their cart.
    ///
    /// # Ports
    /// `personal_data`, `carts`.
    ///
    /// # Errors
    /// [`UseCaseError::Forbidden`] for anyone else; [`UseCaseError::NotFound`] when the tenant
    /// holds nothing about `user`; storage errors.
    pub async fn customer_export(
        &self,
        ctx: &RequestContext,
        user: UserId,
    ) -> Result<Option<Cart>, UseCaseError> {
        may_read_customer(ctx, user)?;
        if !self
            .ports
            .personal_data
            .knows_customer(ctx.tenant_id, user)
            .await?
        {
            return Err(UseCaseError::NotFound { what: "customer" });
        }
        Ok(self
            .ports
            .carts
            .find_by_owner(ctx.tenant_id, &CartOwner::User(user))
            .await?)
    }

    /// The page of `user`'s export after `after`: up to [`EXPORT_PAGE`] orders, addresses opened,
    /// each with its audit trail, ledger, documents and notifications.
    ///
    /// # Ports
    /// `personal_data`.
    ///
    /// # Errors
    /// [`UseCaseError::Forbidden`] for anyone but the customer and admins; storage errors.
    pub async fn customer_export_page(
        &self,
        ctx: &RequestContext,
        user: UserId,
        after: Option<OrderId>,
    ) -> Result<ExportPage, UseCaseError> {
        may_read_customer(ctx, user)?;
        let data = &self.ports.personal_data;
        let orders = data
            .customer_orders(ctx.tenant_id, user, after, EXPORT_PAGE)
            .await?;
        let ids: Vec<OrderId> = orders.iter().map(Order::id).collect();
        let records = data.order_records(ctx.tenant_id, &ids).await?;
        let next = if orders.len() == EXPORT_PAGE as usize {
            ids.last().copied()
        } else {
            None
        };
        Ok(ExportPage {
            orders: orders.into_iter().zip(records).collect(),
            next,
        })
    }

    /// `POST /admin/customers/{userId}/erase`: overwrites the customer's personal data in every
    /// order, document and audit entry, deletes their carts; amounts, the ledger and document
    /// numbers stay. Idempotent: erasing again erases what came since and answers the first
    /// erasure's time. (The guard store's stored answers are the caller's to delete.)
    ///
    /// # Ports
    /// `personal_data`.
    ///
    /// # Errors
    /// [`UseCaseError::Forbidden`] for non-admins; [`UseCaseError::NotFound`] when the tenant
    /// holds nothing about `user`; [`UseCaseError::OpenOrders`] while an order is unpaid,
    /// unshipped or owed a refund; storage errors.
    pub async fn erase_customer(
        &self,
        ctx: &RequestContext,
        user: UserId,
    ) -> Result<ErasureReport, UseCaseError> {
        if !ctx.actor.is_privileged() {
            return Err(UseCaseError::Forbidden);
        }
        let data = &self.ports.personal_data;
        if !data.knows_customer(ctx.tenant_id, user).await? {
            return Err(UseCaseError::NotFound { what: "customer" });
        }
        let now = self.ports.clock.now();
        match data
            .erase_customer(ctx.tenant_id, user, &ctx.actor, now)
            .await?
        {
            StoredErasure::Erased(report) => Ok(report),
            StoredErasure::OpenOrders(orders) => Err(UseCaseError::OpenOrders { orders }),
        }
    }

    /// One pass of the retention job: archives up to [`ARCHIVE_BATCH`] orders of any tenant that
    /// finished more than `retention` ago; answers how many (call again while it is a full
    /// batch).
    ///
    /// # Ports
    /// `personal_data`.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn archive_finished_orders(&self, retention: Duration) -> Result<u32, UseCaseError> {
        let now = self.ports.clock.now();
        let days = u32::try_from(retention.whole_days()).unwrap_or(u32::MAX);
        Ok(self
            .ports
            .personal_data
            .archive_finished(now - retention, now, ARCHIVE_BATCH, days)
            .await?)
    }
}

/// The customer themselves, or an admin (or a service acting for the shop).
fn may_read_customer(ctx: &RequestContext, user: UserId) -> Result<(), UseCaseError> {
    match &ctx.actor {
        Actor::User { id, .. } if *id == user => Ok(()),
        actor if actor.is_privileged() => Ok(()),
        _ => Err(UseCaseError::Forbidden),
    }
}
