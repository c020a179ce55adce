//! [`NotWired`]: every port a service does not wire, answering each call with an error that
//! names the port, so that a use case reaching a port nobody provided fails loudly and clearly
//! instead of doing half its work. [`Ports::builder`](crate::use_cases::Ports::builder) fills
//! the ports it is not given with it.
//!
//! Storage ports answer [`RepositoryError::Unavailable`], upstream ports
//! [`UpstreamError::Unavailable`] (inside their own error type), the order lock
//! [`GuardError::Unavailable`]; each with the cause "`<Port>` is not wired".

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use crate::audit::AuditEntry;
use crate::cart::{Cart, CartOwner};
use crate::cause::Cause;
use crate::ids::*;
use crate::money::Money;
use crate::order::{Address, Order, RefundStatus};
use crate::ports::*;
use crate::pricing::goods::{PromoCode, Promotion};

/// Stands in for every port nobody wired.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotWired;

/// Why a call to an unwired port failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not wired: give it to Ports::builder")]
pub struct NotWiredError(pub &'static str);

fn storage(port: &'static str) -> RepositoryError {
    RepositoryError::Unavailable(Cause::new(NotWiredError(port)))
}

fn upstream(port: &'static str) -> UpstreamError {
    UpstreamError::Unavailable {
        service: port,
        cause: Cause::new(NotWiredError(port)),
    }
}

fn guard(port: &'static str) -> GuardError {
    GuardError::Unavailable(Cause::new(NotWiredError(port)))
}

#[async_trait]
impl OrderRepository for NotWired {
    async fn find(
        &self,
        _tenant: TenantId,
        _id: OrderId,
    ) -> Result<Option<Order>, RepositoryError> {
        Err(storage("OrderRepository"))
    }

    async fn list(
        &self,
        _tenant: TenantId,
        _filter: &OrderFilter,
        _page: OrderPageRequest,
    ) -> Result<OrderPage, RepositoryError> {
        Err(storage("OrderRepository"))
    }

    async fn find_many(
        &self,
        _tenant: TenantId,
        _ids: &[OrderId],
    ) -> Result<Vec<Order>, RepositoryError> {
        Err(storage("OrderRepository"))
    }

    async fn ledger(
        &self,
        _tenant: TenantId,
        _order: OrderId,
    ) -> Result<Vec<crate::ledger::LedgerEntry>, RepositoryError> {
        Err(storage("OrderRepository"))
    }

    async fn documents(
        &self,
        _tenant: TenantId,
        _order: OrderId,
    ) -> Result<Vec<crate::documents::Document>, RepositoryError> {
        Err(storage("OrderRepository"))
    }

    async fn find_by_idempotency_key(
        &self,
        _tenant: TenantId,
        _user: UserId,
        _key: &str,
        _since: OffsetDateTime,
    ) -> Result<Option<(String, Order)>, RepositoryError> {
        Err(storage("OrderRepository"))
    }
}

#[async_trait]
impl RefundRepository for NotWired {
    async fn list_by_status(
        &self,
        _tenant: TenantId,
        _status: RefundStatus,
        _page: PageRequest,
    ) -> Result<Vec<RefundView>, RepositoryError> {
        Err(storage("RefundRepository"))
    }

    async fn order_of(
        &self,
        _tenant: TenantId,
        _refund: RefundId,
    ) -> Result<Option<OrderId>, RepositoryError> {
        Err(storage("RefundRepository"))
    }

    async fn find_by_request_key(
        &self,
        _tenant: TenantId,
        _caller: &str,
        _key: &str,
        _since: OffsetDateTime,
    ) -> Result<Option<KeyedRefund>, RepositoryError> {
        Err(storage("RefundRepository"))
    }
}

#[async_trait]
impl CartRepository for NotWired {
    async fn find_by_owner(
        &self,
        _tenant: TenantId,
        _owner: &CartOwner,
    ) -> Result<Option<Cart>, RepositoryError> {
        Err(storage("CartRepository"))
    }

    async fn save(&self, _cart: &Cart) -> Result<(), RepositoryError> {
        Err(storage("CartRepository"))
    }

    async fn delete(&self, _tenant: TenantId, _id: CartId) -> Result<(), RepositoryError> {
        Err(storage("CartRepository"))
    }

    async fn save_merged(&self, _merged: &Cart, _absorbed: CartId) -> Result<(), RepositoryError> {
        Err(storage("CartRepository"))
    }
}

#[async_trait]
impl PromotionRepository for NotWired {
    async fn active_promotions(
        &self,
        _tenant: TenantId,
        _now: OffsetDateTime,
    ) -> Result<Vec<Promotion>, RepositoryError> {
        Err(storage("PromotionRepository"))
    }

    async fn find_code(
        &self,
        _tenant: TenantId,
        _code: &str,
        _user: UserId,
    ) -> Result<Option<(PromoCode, u32)>, RepositoryError> {
        Err(storage("PromotionRepository"))
    }

    async fn list_codes(&self, _tenant: TenantId) -> Result<Vec<PromoCode>, RepositoryError> {
        Err(storage("PromotionRepository"))
    }

    async fn create_code(
        &self,
        _tenant: TenantId,
        _code: &PromoCode,
    ) -> Result<(), RepositoryError> {
        Err(storage("PromotionRepository"))
    }

    async fn retire_code(
        &self,
        _tenant: TenantId,
        _code: &str,
        _at: OffsetDateTime,
    ) -> Result<bool, RepositoryError> {
        Err(storage("PromotionRepository"))
    }
}

#[async_trait]
impl UnitOfWork for NotWired {
    async fn commit(&self, _change: &OrderChange) -> Result<(), RepositoryError> {
        Err(storage("UnitOfWork"))
    }

    async fn commit_batch(&self, _changes: &[OrderChange]) -> Result<Vec<bool>, RepositoryError> {
        Err(storage("UnitOfWork"))
    }
}

#[async_trait]
impl Inbox for NotWired {
    async fn contains(
        &self,
        _tenant: TenantId,
        _consumer: &str,
        _message_id: &str,
    ) -> Result<bool, RepositoryError> {
        Err(storage("Inbox"))
    }

    async fn record(
        &self,
        _tenant: TenantId,
        _consumer: &str,
        _message_id: &str,
    ) -> Result<(), RepositoryError> {
        Err(storage("Inbox"))
    }
}

#[async_trait]
impl AnalyticsStore for NotWired {
    async fn tenants_with_orders(
        &self,
        _since: OffsetDateTime,
    ) -> Result<Vec<TenantId>, RepositoryError> {
        Err(storage("AnalyticsStore"))
    }

    async fn order_stats(
        &self,
        _tenant: TenantId,
        _since: OffsetDateTime,
    ) -> Result<crate::analytics::OrderStats, RepositoryError> {
        Err(storage("AnalyticsStore"))
    }

    async fn save_snapshot(
        &self,
        _tenant: TenantId,
        _analytics: &crate::analytics::Analytics,
    ) -> Result<(), RepositoryError> {
        Err(storage("AnalyticsStore"))
    }

    async fn latest_snapshot(
        &self,
        _tenant: TenantId,
    ) -> Result<Option<crate::analytics::Analytics>, RepositoryError> {
        Err(storage("AnalyticsStore"))
    }
}

#[async_trait]
impl OrderScans for NotWired {
    async fn expiring(
        &self,
        _before: OffsetDateTime,
        _limit: u32,
    ) -> Result<Vec<ExpiringOrder>, RepositoryError> {
        Err(storage("OrderScans"))
    }

    async fn active_for_event(
        &self,
        _tenant: TenantId,
        _event: EventId,
        _after: Option<OrderId>,
        _limit: u32,
    ) -> Result<Vec<OrderId>, RepositoryError> {
        Err(storage("OrderScans"))
    }

    async fn edits_due(
        &self,
        _before: OffsetDateTime,
        _limit: u32,
    ) -> Result<Vec<crate::ports::DueEdit>, RepositoryError> {
        Err(storage("OrderScans"))
    }

    async fn payments_changed(
        &self,
        _tenant: Option<TenantId>,
        _from: OffsetDateTime,
        _to: OffsetDateTime,
        _limit: u32,
    ) -> Result<Vec<ChangedPayment>, RepositoryError> {
        Err(storage("OrderScans"))
    }

    async fn due_for_retry(
        &self,
        _before: OffsetDateTime,
        _approved_before: OffsetDateTime,
        _limit: u32,
    ) -> Result<Vec<DueRefund>, RepositoryError> {
        Err(storage("OrderScans"))
    }
}

#[async_trait]
impl AuditLog for NotWired {
    async fn audit_trail(
        &self,
        _tenant: TenantId,
        _order: OrderId,
    ) -> Result<Vec<AuditEntry>, RepositoryError> {
        Err(storage("AuditLog"))
    }
}

#[async_trait]
impl DistributedLock for NotWired {
    async fn acquire(&self, _key: &str, _ttl: Duration) -> Result<Option<LockGuard>, GuardError> {
        Err(guard("DistributedLock"))
    }

    async fn release(&self, _guard: &LockGuard) -> Result<bool, GuardError> {
        Err(guard("DistributedLock"))
    }
}

#[async_trait]
impl TicketService for NotWired {
    async fn prices(
        &self,
        _tenant: TenantId,
        _event: EventId,
        _lines: &[TicketLine],
    ) -> Result<Vec<TicketPrice>, UpstreamError> {
        Err(upstream("TicketService"))
    }

    async fn hold(
        &self,
        _tenant: TenantId,
        _order: OrderId,
        _event: EventId,
        _lines: &[TicketLine],
        _expires_at: OffsetDateTime,
    ) -> Result<Hold, HoldError> {
        Err(upstream("TicketService").into())
    }

    async fn extend(
        &self,
        _hold: &HoldId,
        _expires_at: OffsetDateTime,
    ) -> Result<Hold, UpstreamError> {
        Err(upstream("TicketService"))
    }

    async fn release(&self, _hold: &HoldId) -> Result<(), UpstreamError> {
        Err(upstream("TicketService"))
    }

    async fn release_line(
        &self,
        _hold: &HoldId,
        _line: OrderItemId,
        _tickets: &TicketLine,
    ) -> Result<(), UpstreamError> {
        Err(upstream("TicketService"))
    }

    async fn adjust_hold(
        &self,
        _hold: &HoldId,
        _key: uuid::Uuid,
        _added: &[TicketLine],
        _released: &[TicketLine],
    ) -> Result<(), HoldError> {
        Err(HoldError::Upstream(upstream("TicketService")))
    }

    async fn hold_for_edit(
        &self,
        _tenant: TenantId,
        _edit: crate::ids::OrderEditId,
        _event: EventId,
        _lines: &[TicketLine],
        _expires_at: OffsetDateTime,
    ) -> Result<Hold, HoldError> {
        Err(HoldError::Upstream(upstream("TicketService")))
    }

    async fn release_all(&self, _holds: &[HoldId]) -> Result<(), UpstreamError> {
        Err(upstream("TicketService"))
    }

    async fn commit(&self, _hold: &HoldId) -> Result<Vec<TicketId>, UpstreamError> {
        Err(upstream("TicketService"))
    }
}

#[async_trait]
impl InventoryService for NotWired {
    async fn availability(
        &self,
        _tenant: TenantId,
        _lines: &[StockLine],
    ) -> Result<Vec<Availability>, UpstreamError> {
        Err(upstream("InventoryService"))
    }

    async fn reserve(
        &self,
        _tenant: TenantId,
        _order: OrderId,
        _lines: &[StockLine],
        _expires_at: OffsetDateTime,
    ) -> Result<Hold, StockError> {
        Err(upstream("InventoryService").into())
    }

    async fn release(&self, _tenant: TenantId, _order: OrderId) -> Result<(), UpstreamError> {
        Err(upstream("InventoryService"))
    }

    async fn release_line(
        &self,
        _tenant: TenantId,
        _order: OrderId,
        _line: OrderItemId,
        _stock: StockLine,
    ) -> Result<(), UpstreamError> {
        Err(upstream("InventoryService"))
    }

    async fn adjust(
        &self,
        _tenant: TenantId,
        _order: OrderId,
        _key: uuid::Uuid,
        _added: &[StockLine],
        _released: &[StockLine],
    ) -> Result<(), StockError> {
        Err(StockError::Upstream(upstream("InventoryService")))
    }

    async fn commit(&self, _tenant: TenantId, _order: OrderId) -> Result<(), UpstreamError> {
        Err(upstream("InventoryService"))
    }

    async fn allocate(
        &self,
        _tenant: TenantId,
        _order: OrderId,
    ) -> Result<Allocation, UpstreamError> {
        Err(upstream("InventoryService"))
    }
}

#[async_trait]
impl ProductCatalog for NotWired {
    async fn products(
        &self,
        _tenant: TenantId,
        _ids: &[ProductId],
    ) -> Result<Vec<Product>, UpstreamError> {
        Err(upstream("ProductCatalog"))
    }
}

#[async_trait]
impl PaymentGateway for NotWired {
    async fn create_intent(
        &self,
        _tenant: TenantId,
        _order: OrderId,
        _amount: Money,
        _expires_at: OffsetDateTime,
        _idempotency_key: &str,
    ) -> Result<PaymentIntent, PaymentError> {
        Err(upstream("PaymentGateway").into())
    }

    async fn confirm_intent(&self, _intent: &PaymentIntentId) -> Result<(), PaymentError> {
        Err(upstream("PaymentGateway").into())
    }

    async fn cancel_intent(&self, _intent: &PaymentIntentId) -> Result<(), PaymentError> {
        Err(upstream("PaymentGateway").into())
    }

    async fn refund(
        &self,
        _intent: &PaymentIntentId,
        _refund: RefundId,
        _amount: Money,
    ) -> Result<String, PaymentError> {
        Err(upstream("PaymentGateway").into())
    }

    async fn payment(
        &self,
        _intent: &PaymentIntentId,
    ) -> Result<Option<PaymentRecord>, PaymentError> {
        Err(upstream("PaymentGateway").into())
    }
}

#[async_trait]
impl EventCatalog for NotWired {
    async fn event(
        &self,
        _tenant: TenantId,
        _event: EventId,
    ) -> Result<Option<EventInfo>, UpstreamError> {
        Err(upstream("EventCatalog"))
    }

    async fn recent_event(
        &self,
        _tenant: TenantId,
        _event: EventId,
    ) -> Result<Option<EventInfo>, UpstreamError> {
        Err(upstream("EventCatalog"))
    }
}

#[async_trait]
impl ShippingService for NotWired {
    async fn rates(
        &self,
        _tenant: TenantId,
        _destination: &Address,
    ) -> Result<Vec<ShippingRate>, UpstreamError> {
        Err(upstream("ShippingService"))
    }

    async fn create_label(
        &self,
        _tenant: TenantId,
        _order: OrderId,
        _destination: &Address,
        _method: &str,
    ) -> Result<ShippingLabel, UpstreamError> {
        Err(upstream("ShippingService"))
    }
}

impl Incidents for NotWired {
    /// Nobody listens: dropped failures go unreported until an `Incidents` is wired.
    fn dropped(&self, _orders: &[OrderId], _action: &'static str, _error: &dyn std::error::Error) {}
}

#[async_trait]
impl Reconciliations for NotWired {
    async fn save_run(
        &self,
        _run: &crate::reconciliation::ReconciliationRun,
    ) -> Result<(), RepositoryError> {
        Err(storage("Reconciliations"))
    }

    async fn run(
        &self,
        _tenant: TenantId,
        _id: ReconciliationRunId,
    ) -> Result<Option<crate::reconciliation::ReconciliationRun>, RepositoryError> {
        Err(storage("Reconciliations"))
    }

    async fn recent_runs(
        &self,
        _tenant: TenantId,
        _limit: u32,
    ) -> Result<Vec<crate::reconciliation::RunSummary>, RepositoryError> {
        Err(storage("Reconciliations"))
    }
}

#[async_trait]
impl BulkJobs for NotWired {
    async fn start(
        &self,
        _job: &crate::bulk_cancel::BulkCancelJob,
    ) -> Result<crate::bulk_cancel::BulkCancelJob, RepositoryError> {
        Err(storage("BulkJobs"))
    }

    async fn job(
        &self,
        _tenant: TenantId,
        _id: BulkJobId,
    ) -> Result<Option<crate::bulk_cancel::BulkCancelJob>, RepositoryError> {
        Err(storage("BulkJobs"))
    }

    async fn lease(
        &self,
        _now: OffsetDateTime,
        _until: OffsetDateTime,
    ) -> Result<Option<LeasedJob>, RepositoryError> {
        Err(storage("BulkJobs"))
    }

    async fn save(
        &self,
        _job: &crate::bulk_cancel::BulkCancelJob,
        _token: uuid::Uuid,
        _until: OffsetDateTime,
    ) -> Result<bool, RepositoryError> {
        Err(storage("BulkJobs"))
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[tokio::test]
    async fn an_unwired_port_answers_an_error_naming_it() {
        let tenant = TenantId::from_uuid(Uuid::from_u128(1));
        let order = OrderId::from_uuid(Uuid::from_u128(2));
        let stored = OrderRepository::find(&NotWired, tenant, order)
            .await
            .expect_err("not wired");
        assert!(
            crate::cause::Chain(&stored)
                .to_string()
                .contains("OrderRepository is not wired"),
            "{stored}"
        );
        let paid = NotWired
            .confirm_intent(&PaymentIntentId::new("pi"))
            .await
            .expect_err("not wired");
        assert!(
            crate::cause::Chain(&paid)
                .to_string()
                .contains("PaymentGateway is not wired"),
            "{paid}"
        );
    }
}

mod history;
