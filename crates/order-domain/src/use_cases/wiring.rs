//! [`Ports::builder`]: wire the ports a service's use cases call, and every other one answers
//! "not wired" ([`NotWired`]) instead of having to be written.
//!
//! ```
//! use std::sync::Arc;
//!
//! use order_domain::actor::{Actor, RequestContext, Role};
//! use order_domain::adapters::{ManualClock, SequentialIds};
//! use order_domain::async_trait;
//! use order_domain::ids::{OrderId, TenantId, UserId};
//! use order_domain::documents::Document;
//! use order_domain::ledger::LedgerEntry;
//! use order_domain::order::Order;
//! use order_domain::policy::DomainConfig;
//! use order_domain::ports::{OrderFilter, OrderPage, OrderPageRequest, OrderRepository, OrderSummary, RepositoryError};
//! use order_domain::time::OffsetDateTime;
//! use order_domain::use_cases::{GoodsCatalogConfig, OrderService, Ports, ReadError};
//! use order_domain::uuid::Uuid;
//!
//! /// A read side with no orders yet.
//! struct NoOrders;
//!
//! #[async_trait]
//! impl OrderRepository for NoOrders {
//!     async fn find(&self, _: TenantId, _: OrderId) -> Result<Option<Order>, RepositoryError> {
//!         Ok(None)
//!     }
//!     async fn list(&self, _: TenantId, _: &OrderFilter, _: OrderPageRequest) -> Result<OrderPage, RepositoryError> {
//!         Ok(OrderPage { orders: vec![], total: 0, total_is_estimate: false, has_more: false, summary: OrderSummary::EMPTY })
//!     }
//!     async fn find_many(&self, _: TenantId, _: &[OrderId]) -> Result<Vec<Order>, RepositoryError> {
//!         Ok(Vec::new())
//!     }
//!     async fn ledger(&self, _: TenantId, _: OrderId) -> Result<Vec<LedgerEntry>, RepositoryError> {
//!         Ok(Vec::new())
//!     }
//!     async fn documents(&self, _: TenantId, _: OrderId) -> Result<Vec<Document>, RepositoryError> {
//!         Ok(Vec::new())
//!     }
//!     async fn find_by_idempotency_key(
//!         &self, _: TenantId, _: UserId, _: &str, _: OffsetDateTime,
//!     ) -> Result<Option<(String, Order)>, RepositoryError> {
//!         Ok(None)
//!     }
//! }
//!
//! let ports = Ports::builder(
//!     Arc::new(ManualClock::at(OffsetDateTime::UNIX_EPOCH)),
//!     Arc::new(SequentialIds::default()),
//! )
//! .orders(Arc::new(NoOrders))
//! .build();
//! let service = OrderService::new(ports, DomainConfig::default(), GoodsCatalogConfig::default());
//! let runtime = tokio::runtime::Builder::new_current_thread().build()?;
//!
//! // `get_order` reads orders only: it works.
//! let buyer = RequestContext {
//!     tenant_id: TenantId::from_uuid(Uuid::from_u128(1)),
//!     actor: Actor::User { id: UserId::from_uuid(Uuid::from_u128(2)), roles: vec![Role::Customer], vip: false },
//!     ip: None,
//! };
//! let answer = runtime.block_on(service.get_order(&buyer, OrderId::from_uuid(Uuid::from_u128(3))));
//! assert!(matches!(answer, Err(ReadError::NotFound { what: "order" })));
//!
//! // The expiry job's query goes to `OrderScans`, which nobody wired.
//! let unwired = runtime.block_on(service.due_for_expiry(10)).unwrap_err();
//! assert!(order_domain::cause::Chain(&unwired).to_string().contains("OrderScans is not wired"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::Arc;

use super::Ports;
use crate::adapters::NotWired;
use crate::ports::{
    AnalyticsStore, AuditChain, AuditLog, BulkJobs, CartRepository, Clock, DistributedLock,
    EventCatalog, EventReplays, IdGenerator, Inbox, Incidents, InventoryService, OrderRepository,
    OrderScans, PaymentGateway, PersonalData, ProductCatalog, PromotionRepository, Reconciliations,
    RefundRepository, ShippingService, StoredEvents, TicketService, UnitOfWork,
};

impl Ports {
    /// Ports with `clock` and `ids`, and every other port [`NotWired`] until it is given: a
    /// use case that reaches an unwired port fails with an error naming it.
    pub fn builder(clock: Arc<dyn Clock>, ids: Arc<dyn IdGenerator>) -> PortsBuilder {
        let none = Arc::new(NotWired);
        PortsBuilder(Ports {
            orders: none.clone(),
            scans: none.clone(),
            audit: none.clone(),
            audit_chain: none.clone(),
            personal_data: none.clone(),
            event_replays: none.clone(),
            stored_events: none.clone(),
            refunds: none.clone(),
            carts: none.clone(),
            promotions: none.clone(),
            unit_of_work: none.clone(),
            inbox: none.clone(),
            analytics: none.clone(),
            locks: none.clone(),
            tickets: none.clone(),
            inventory: none.clone(),
            products: none.clone(),
            payments: none.clone(),
            events: none.clone(),
            shipping: none.clone(),
            clock,
            ids,
            incidents: none.clone(),
            reconciliations: none.clone(),
            bulk_jobs: none,
        })
    }
}

/// [`Ports`] being wired; [`PortsBuilder::build`] ends it.
#[derive(Debug, Clone)]
#[must_use]
pub struct PortsBuilder(Ports);

macro_rules! wiring {
    ($($field:ident: $port:ident),* $(,)?) => {
        impl PortsBuilder {
            $(
                #[doc = concat!("Wires [`", stringify!($port), "`].")]
                pub fn $field(mut self, port: Arc<dyn $port>) -> Self {
                    self.0.$field = port;
                    self
                }
            )*
        }
    };
}

wiring!(
    orders: OrderRepository,
    scans: OrderScans,
    audit: AuditLog,
    audit_chain: AuditChain,
    personal_data: PersonalData,
    event_replays: EventReplays,
    stored_events: StoredEvents,
    refunds: RefundRepository,
    carts: CartRepository,
    promotions: PromotionRepository,
    unit_of_work: UnitOfWork,
    inbox: Inbox,
    analytics: AnalyticsStore,
    locks: DistributedLock,
    tickets: TicketService,
    inventory: InventoryService,
    products: ProductCatalog,
    payments: PaymentGateway,
    events: EventCatalog,
    shipping: ShippingService,
    incidents: Incidents,
    reconciliations: Reconciliations,
    bulk_jobs: BulkJobs,
);

impl PortsBuilder {
    /// Wires one store as every storage port of the order path — orders, scans, audit,
    /// refunds, carts, promotions, the unit of work and the inbox — as a
    /// `adapters::MemoryStore` (feature `memory`) or the PostgreSQL adapter implements them
    /// all. Analytics stays as it was.
    pub fn storage<S>(mut self, store: Arc<S>) -> Self
    where
        S: OrderRepository
            + OrderScans
            + AuditLog
            + RefundRepository
            + CartRepository
            + PromotionRepository
            + UnitOfWork
            + Inbox
            + 'static,
    {
        self.0.orders = store.clone();
        self.0.scans = store.clone();
        self.0.audit = store.clone();
        self.0.refunds = store.clone();
        self.0.carts = store.clone();
        self.0.promotions = store.clone();
        self.0.unit_of_work = store.clone();
        self.0.inbox = store;
        self
    }

    /// The ports.
    pub fn build(self) -> Ports {
        self.0
    }
}
