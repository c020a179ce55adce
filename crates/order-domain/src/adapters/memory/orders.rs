//! Reads of orders, refunds, the audit trail, the jobs' scans and the inbox.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{MemoryStore, corrupt};
use crate::audit::AuditEntry;
use crate::ids::{EventId, OrderId, RefundId, TenantId, UserId};
use crate::money::Money;
use crate::order::{Order, OrderStatus, RefundStatus};
use crate::ports::{
    AuditLog, ChangedPayment, DueRefund, EXACT_TOTAL_UP_TO, ExpiringOrder, Inbox, KeyedRefund,
    OrderFilter, OrderPage, OrderPageRequest, OrderRepository, OrderScans, OrderSummary,
    PageRequest, RefundRepository, RefundView, RepositoryError,
};

fn matches(order: &Order, tenant: TenantId, filter: &OrderFilter) -> bool {
    order.tenant_id() == tenant
        && filter.user_id.is_none_or(|user| order.user_id() == user)
        && filter.status.is_none_or(|status| order.status() == status)
        && filter.kind.is_none_or(|kind| order.kind() == kind)
        && filter
            .event_id
            .is_none_or(|event| order.event_id() == Some(event))
        && filter
            .created_from
            .is_none_or(|from| order.created_at() >= from)
        && filter.created_to.is_none_or(|to| order.created_at() < to)
        && filter
            .order_number
            .as_deref()
            .is_none_or(|number| order.number().as_str() == number)
        && filter.contact_email.as_ref().is_none_or(|wanted| {
            order
                .contact_email()
                .is_some_and(|email| email.search_key() == wanted.search_key())
        })
}

/// Newest first, as the lists sort.
fn newest_first(order: &Order) -> std::cmp::Reverse<(OffsetDateTime, OrderId)> {
    std::cmp::Reverse((order.created_at(), order.id()))
}

/// The figures of [`OrderSummary`] over `counted` (newest first), as the PostgreSQL list
/// computes them over the orders its total counts.
fn summary_of(counted: &[&Order]) -> OrderSummary {
    let Some(newest) = counted.first() else {
        return OrderSummary::EMPTY;
    };
    let currency = newest.currency();
    let in_currency: Vec<&&Order> = counted
        .iter()
        .filter(|order| order.currency() == currency)
        .collect();
    let spent = in_currency
        .iter()
        .filter(|order| {
            order.record().milestones.confirmed_at.is_some()
                && order.status() != OrderStatus::Refunded
        })
        .map(|order| order.total().minor())
        .fold(0_i64, i64::saturating_add);
    OrderSummary::new(
        u64::try_from(counted.len()).unwrap_or(u64::MAX),
        u64::try_from(in_currency.len()).unwrap_or(u64::MAX),
        Some(Money::new(spent, currency)),
    )
}

fn to_usize(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

#[async_trait]
impl OrderRepository for MemoryStore {
    async fn find(&self, tenant: TenantId, id: OrderId) -> Result<Option<Order>, RepositoryError> {
        Ok(self
            .state()
            .orders
            .get(&id)
            .filter(|order| order.tenant_id() == tenant)
            .cloned())
    }

    async fn list(
        &self,
        tenant: TenantId,
        filter: &OrderFilter,
        page: OrderPageRequest,
    ) -> Result<OrderPage, RepositoryError> {
        let state = self.state();
        let mut matching: Vec<&Order> = state
            .orders
            .values()
            .filter(|order| matches(order, tenant, filter))
            .collect();
        matching.sort_by_key(|order| newest_first(order));
        let counted_up_to = usize::try_from(EXACT_TOTAL_UP_TO + 1).unwrap_or(usize::MAX);
        let counted = &matching[..matching.len().min(counted_up_to)];
        let summary = summary_of(counted);
        let mut orders: Vec<Order> = matching
            .iter()
            .filter(|order| {
                page.after.is_none_or(|after| {
                    (order.created_at(), order.id()) < (after.created_at, after.id)
                })
            })
            .skip(to_usize(page.offset))
            .take(to_usize(page.limit).saturating_add(1))
            .map(|order| (*order).clone())
            .collect();
        let has_more = orders.len() > to_usize(page.limit);
        orders.truncate(to_usize(page.limit));
        Ok(OrderPage {
            orders,
            total: summary.orders.min(EXACT_TOTAL_UP_TO),
            total_is_estimate: summary.orders > EXACT_TOTAL_UP_TO,
            has_more,
            summary: OrderSummary {
                orders: summary.orders.min(EXACT_TOTAL_UP_TO),
                ..summary
            },
        })
    }

    async fn find_many(
        &self,
        tenant: TenantId,
        ids: &[OrderId],
    ) -> Result<Vec<Order>, RepositoryError> {
        let state = self.state();
        Ok(ids
            .iter()
            .filter_map(|id| state.orders.get(id))
            .filter(|order| order.tenant_id() == tenant)
            .cloned()
            .collect())
    }

    async fn ledger(
        &self,
        tenant: TenantId,
        order: OrderId,
    ) -> Result<Vec<crate::ledger::LedgerEntry>, RepositoryError> {
        let state = self.state();
        let visible = state
            .orders
            .get(&order)
            .is_some_and(|o| o.tenant_id() == tenant);
        Ok(if visible {
            state.ledger.get(&order).cloned().unwrap_or_default()
        } else {
            Vec::new()
        })
    }

    async fn documents(
        &self,
        tenant: TenantId,
        order: OrderId,
    ) -> Result<Vec<crate::documents::Document>, RepositoryError> {
        let state = self.state();
        let visible = state
            .orders
            .get(&order)
            .is_some_and(|o| o.tenant_id() == tenant);
        let mut documents = if visible {
            state.documents.get(&order).cloned().unwrap_or_default()
        } else {
            Vec::new()
        };
        documents.sort_by_key(|d| {
            (
                d.content.kind != crate::documents::DocumentKind::Invoice,
                d.number.clone(),
            )
        });
        Ok(documents)
    }

    async fn find_by_idempotency_key(
        &self,
        tenant: TenantId,
        user: UserId,
        key: &str,
        since: OffsetDateTime,
    ) -> Result<Option<(String, Order)>, RepositoryError> {
        let state = self.state();
        let Some(stored) = state
            .idempotency
            .get(&(tenant, user, key.to_owned()))
            .filter(|stored| stored.created_at >= since)
        else {
            return Ok(None);
        };
        let order = state
            .orders
            .get(&stored.order_id)
            .cloned()
            .ok_or_else(|| corrupt("an idempotency key names a missing order"))?;
        Ok(Some((stored.fingerprint.clone(), order)))
    }
}

#[async_trait]
impl OrderScans for MemoryStore {
    async fn expiring(
        &self,
        before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<ExpiringOrder>, RepositoryError> {
        let state = self.state();
        let mut due: Vec<ExpiringOrder> = state
            .orders
            .values()
            .filter(|order| {
                matches!(order.status(), OrderStatus::Pending | OrderStatus::Reserved)
                    && order.expires_at() < before
            })
            .map(|order| ExpiringOrder {
                tenant_id: order.tenant_id(),
                order_id: order.id(),
                status: order.status(),
                expires_at: order.expires_at(),
            })
            .collect();
        due.sort_by_key(|order| (order.expires_at, order.order_id));
        due.truncate(to_usize(limit));
        Ok(due)
    }

    async fn active_for_event(
        &self,
        tenant: TenantId,
        event: EventId,
        after: Option<OrderId>,
        limit: u32,
    ) -> Result<Vec<OrderId>, RepositoryError> {
        let state = self.state();
        let mut active: Vec<&Order> = state
            .orders
            .values()
            .filter(|order| {
                order.tenant_id() == tenant
                    && order.event_id() == Some(event)
                    && order.status().is_active()
                    && after.is_none_or(|after| order.id() > after)
            })
            .collect();
        active.sort_by_key(|order| order.id());
        Ok(active
            .into_iter()
            .take(to_usize(limit))
            .map(Order::id)
            .collect())
    }

    async fn edits_due(
        &self,
        before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<crate::ports::DueEdit>, RepositoryError> {
        let state = self.state();
        let mut due: Vec<(OffsetDateTime, &Order)> = state
            .orders
            .values()
            .filter_map(|order| Some((order.pending_edit()?.expires_at, order)))
            .filter(|(deadline, _)| *deadline <= before)
            .collect();
        due.sort_by_key(|(deadline, order)| (*deadline, order.id()));
        Ok(due
            .into_iter()
            .take(to_usize(limit))
            .map(|(_, order)| crate::ports::DueEdit {
                tenant_id: order.tenant_id(),
                order_id: order.id(),
            })
            .collect())
    }

    async fn payments_changed(
        &self,
        tenant: Option<TenantId>,
        from: OffsetDateTime,
        to: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<ChangedPayment>, RepositoryError> {
        let state = self.state();
        let mut changed: Vec<&Order> = state
            .orders
            .values()
            .filter(|order| {
                let at = order.record().milestones.updated_at;
                tenant.is_none_or(|t| order.tenant_id() == t)
                    && !order.status().is_unpaid()
                    && order.payment_intent_id().is_some()
                    && from <= at
                    && at < to
            })
            .collect();
        changed.sort_by_key(|order| (order.record().milestones.updated_at, order.id()));
        Ok(changed
            .into_iter()
            .take(to_usize(limit))
            .map(|order| ChangedPayment {
                tenant_id: order.tenant_id(),
                order_id: order.id(),
            })
            .collect())
    }

    async fn due_for_retry(
        &self,
        before: OffsetDateTime,
        approved_before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<DueRefund>, RepositoryError> {
        let state = self.state();
        // (FAILED sorts after APPROVED, then by when it became due)
        let mut due: Vec<((bool, OffsetDateTime), DueRefund)> = state
            .orders
            .values()
            .flat_map(|order| {
                order.refunds().iter().filter_map(move |refund| {
                    let due_at = match refund.status {
                        RefundStatus::Failed => {
                            Some((true, refund.retry_at?)).filter(|(_, at)| *at < before)
                        }
                        RefundStatus::Approved => Some((false, refund.decided_at?))
                            .filter(|(_, at)| *at < approved_before),
                        _ => None,
                    }?;
                    Some((
                        due_at,
                        DueRefund {
                            tenant_id: order.tenant_id(),
                            refund_id: refund.id,
                        },
                    ))
                })
            })
            .collect();
        due.sort_by_key(|(due_at, refund)| (*due_at, refund.refund_id));
        Ok(due
            .into_iter()
            .take(to_usize(limit))
            .map(|(_, refund)| refund)
            .collect())
    }
}

#[async_trait]
impl AuditLog for MemoryStore {
    async fn audit_trail(
        &self,
        tenant: TenantId,
        order: OrderId,
    ) -> Result<Vec<AuditEntry>, RepositoryError> {
        let state = self.state();
        let mut trail: Vec<AuditEntry> = state
            .audit
            .get(&order)
            .into_iter()
            .flatten()
            .filter(|entry| entry.tenant_id == tenant)
            .cloned()
            .collect();
        trail.sort_by_key(|entry| (entry.occurred_at, entry.id));
        Ok(trail)
    }
}

#[async_trait]
impl RefundRepository for MemoryStore {
    async fn list_by_status(
        &self,
        tenant: TenantId,
        status: RefundStatus,
        page: PageRequest,
    ) -> Result<Vec<RefundView>, RepositoryError> {
        let state = self.state();
        let mut views: Vec<RefundView> = state
            .orders
            .values()
            .filter(|order| order.tenant_id() == tenant)
            .flat_map(|order| {
                order
                    .refunds()
                    .iter()
                    .filter(|refund| refund.status == status)
                    .map(|refund| RefundView {
                        order_id: order.id(),
                        user_id: order.user_id(),
                        currency: order.currency(),
                        refund: refund.clone(),
                    })
            })
            .collect();
        views.sort_by_key(|view| (view.refund.requested_at, view.refund.id));
        Ok(views
            .into_iter()
            .skip(to_usize(page.offset))
            .take(to_usize(page.limit))
            .collect())
    }

    async fn order_of(
        &self,
        tenant: TenantId,
        refund: RefundId,
    ) -> Result<Option<OrderId>, RepositoryError> {
        Ok(self
            .state()
            .orders
            .values()
            .find(|order| {
                order.tenant_id() == tenant && order.refunds().iter().any(|r| r.id == refund)
            })
            .map(Order::id))
    }

    async fn find_by_request_key(
        &self,
        tenant: TenantId,
        caller: &str,
        key: &str,
        since: OffsetDateTime,
    ) -> Result<Option<KeyedRefund>, RepositoryError> {
        Ok(self
            .state()
            .refund_keys
            .get(&(tenant, caller.to_owned(), key.to_owned()))
            .filter(|stored| stored.created_at >= since)
            .map(|stored| stored.refund.clone()))
    }
}

#[async_trait]
impl Inbox for MemoryStore {
    async fn contains(
        &self,
        tenant: TenantId,
        consumer: &str,
        message_id: &str,
    ) -> Result<bool, RepositoryError> {
        // A message id is unique within its tenant (as the PostgreSQL inbox's key).
        Ok(self
            .state()
            .inbox
            .contains(&(tenant, consumer.to_owned(), message_id.to_owned())))
    }

    async fn record(
        &self,
        tenant: TenantId,
        consumer: &str,
        message_id: &str,
    ) -> Result<(), RepositoryError> {
        self.state()
            .inbox
            .insert((tenant, consumer.to_owned(), message_id.to_owned()));
        Ok(())
    }
}
