//! Reads: one order, a page of orders, an order's history.

use super::{OrderService, ReadError};
use crate::actor::RequestContext;
use crate::audit::AuditEntry;
use crate::documents::Document;
use crate::ids::OrderId;
use crate::ledger::{LedgerBalance, LedgerEntry};
use crate::order::Order;
use crate::ports::{OrderFilter, OrderPage, OrderPageRequest};

impl OrderService {
    /// When a goods order arrives: its shipping method's transit days in business days from the
    /// day it was placed; `None` for ticket orders or a method no longer offered.
    pub fn estimated_delivery(&self, order: &crate::order::Order) -> Option<time::Date> {
        let code = order.goods().shipping_method.as_deref()?;
        self.goods
            .for_tenant(order.tenant_id())
            .shipping_method(Some(code))
            .map(|m| m.estimated_delivery(order.milestones().created_at.date()))
    }

    /// `GET /orders/{id}`: the owner's order, or any order of the tenant for admins.
    ///
    /// # Ports
    /// `orders`.
    ///
    /// # Errors
    /// [`ReadError::NotFound`] when absent or not visible.
    pub async fn get_order(&self, ctx: &RequestContext, id: OrderId) -> Result<Order, ReadError> {
        self.load_visible(ctx, id).await
    }

    /// `GET /orders/{id}/ledger`: the order's money trail and its balance, for the owner and
    /// admins (docs/product/after-the-sale.md).
    ///
    /// # Ports
    /// `orders`.
    ///
    /// # Errors
    /// [`ReadError::NotFound`] when absent or not the caller's (warehouse staff included: the
    /// money of an order is not theirs to read).
    pub async fn order_ledger(
        &self,
        ctx: &RequestContext,
        id: OrderId,
    ) -> Result<OrderLedger, ReadError> {
        let order = self.load_visible(ctx, id).await?;
        if !ctx.actor.is_privileged() && ctx.actor.user_id() != Some(order.user_id()) {
            return Err(ReadError::NotFound { what: "order" });
        }
        let entries = self.ports.orders.ledger(ctx.tenant_id, id).await?;
        let balance = LedgerBalance::of(&order, &entries);
        Ok(OrderLedger {
            order,
            entries,
            balance,
        })
    }

    /// `GET /orders/{id}/documents`: the order's invoices and credit notes, for the owner and
    /// admins (docs/product/after-the-sale.md).
    ///
    /// # Ports
    /// `orders`.
    ///
    /// # Errors
    /// [`ReadError::NotFound`] when the order is absent or not the caller's.
    pub async fn order_documents(
        &self,
        ctx: &RequestContext,
        id: OrderId,
    ) -> Result<Vec<Document>, ReadError> {
        let order = self.load_visible(ctx, id).await?;
        if !ctx.actor.is_privileged() && ctx.actor.user_id() != Some(order.user_id()) {
            return Err(ReadError::NotFound { what: "order" });
        }
        Ok(self.ports.orders.documents(ctx.tenant_id, id).await?)
    }

    /// `GET /orders/{id}/documents/{number}`.
    ///
    /// # Ports
    /// `orders`.
    ///
    /// # Errors
    /// As [`OrderService::order_documents`]; [`ReadError::NotFound`] for a number the order
    /// does not have.
    pub async fn order_document(
        &self,
        ctx: &RequestContext,
        id: OrderId,
        number: &str,
    ) -> Result<Document, ReadError> {
        self.order_documents(ctx, id)
            .await?
            .into_iter()
            .find(|d| d.number == number)
            .ok_or(ReadError::NotFound { what: "document" })
    }

    /// `GET /orders`: customers (and warehouse staff, who reach paid goods orders through
    /// [`OrderService::fulfillment_queue`]) see their own orders whatever the filter says; admins
    /// the tenant's.
    ///
    /// # Ports
    /// `orders`.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn list_orders(
        &self,
        ctx: &RequestContext,
        mut filter: OrderFilter,
        page: OrderPageRequest,
    ) -> Result<OrderPage, ReadError> {
        if !ctx.actor.is_privileged() {
            filter.user_id = Some(ctx.actor.user_id().ok_or(ReadError::Forbidden)?);
        }
        Ok(self.ports.orders.list(ctx.tenant_id, &filter, page).await?)
    }

    /// `GET /admin/orders`: the tenant-wide search, for admins only.
    ///
    /// # Ports
    /// `orders`.
    ///
    /// # Errors
    /// [`ReadError::Forbidden`] for anyone but an admin; storage errors.
    pub async fn search_orders(
        &self,
        ctx: &RequestContext,
        filter: OrderFilter,
        page: OrderPageRequest,
    ) -> Result<OrderPage, ReadError> {
        if !ctx.actor.is_privileged() {
            return Err(ReadError::Forbidden);
        }
        Ok(self.ports.orders.list(ctx.tenant_id, &filter, page).await?)
    }

    /// `GET /orders/{id}/events`: the audit trail.
    ///
    /// # Ports
    /// `audit`, `orders`.
    ///
    /// # Errors
    /// [`ReadError::NotFound`] when the order is absent or not visible.
    pub async fn order_history(
        &self,
        ctx: &RequestContext,
        id: OrderId,
    ) -> Result<Vec<AuditEntry>, ReadError> {
        let order = self.load_visible(ctx, id).await?;
        Ok(self
            .ports
            .audit
            .audit_trail(ctx.tenant_id, order.id())
            .await?)
    }
}

/// An order's ledger: its entries, oldest first, and the balance they give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLedger {
    /// The order.
    pub order: Order,
    /// Its entries, oldest first.
    pub entries: Vec<LedgerEntry>,
    /// Captured, refunded, net and outstanding.
    pub balance: LedgerBalance,
}
