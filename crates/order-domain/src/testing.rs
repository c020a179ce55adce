//! Unit tests of the use cases against mocks of every port (feature `mocks`).
//!
//! [`MockPorts`] holds one mockall mock per storage and upstream port, a [`ManualClock`], a
//! [`SequentialIds`] and a [`RecordedIncidents`]; set the expectations the test needs on its
//! fields, then [`MockPorts::into_ports`] gives the [`Ports`] for [`OrderService::new`](crate::use_cases::OrderService::new). A mock
//! without an expectation panics when it is called, so "nothing was stored" and "no upstream was
//! called" are asserted by leaving those mocks alone.
//!
//! ```
//! use order_domain::actor::{Actor, RequestContext, Role};
//! use order_domain::ids::{OrderId, TenantId, UserId};
//! use order_domain::policy::DomainConfig;
//! use order_domain::testing::MockPorts;
//! use order_domain::time::macros::datetime;
//! use order_domain::use_cases::{GoodsCatalogConfig, OrderService, ReadError};
//! use order_domain::uuid::Uuid;
//!
//! let mut mocks = MockPorts::new(datetime!(2026-12-01 12:00 UTC));
//! // The only port `get_order` calls: the order is not there.
//! mocks.orders.expect_find().times(1).returning(|_, _| Ok(None));
//! let service = OrderService::new(
//!     mocks.into_ports(),
//!     DomainConfig::default(),
//!     GoodsCatalogConfig::default(),
//! );
//! let buyer = RequestContext {
//!     tenant_id: TenantId::from_uuid(Uuid::from_u128(1)),
//!     actor: Actor::User { id: UserId::from_uuid(Uuid::from_u128(2)), roles: vec![Role::Customer], vip: false },
//!     ip: None,
//! };
//! let runtime = tokio::runtime::Builder::new_current_thread().build()?;
//! let answer = runtime.block_on(service.get_order(&buyer, OrderId::from_uuid(Uuid::from_u128(3))));
//! assert!(matches!(answer, Err(ReadError::NotFound { what: "order" })));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use crate::adapters::{ManualClock, SequentialIds};
use crate::ids::OrderId;
use crate::ports::{
    Incidents, MockAnalyticsStore, MockAuditChain, MockAuditLog, MockBulkJobs, MockCartRepository,
    MockDistributedLock, MockEventCatalog, MockEventReplays, MockInbox, MockInventoryService,
    MockOrderRepository, MockOrderScans, MockPaymentGateway, MockPersonalData, MockProductCatalog,
    MockPromotionRepository, MockReconciliations, MockRefundRepository, MockShippingService,
    MockStoredEvents, MockTicketService, MockUnitOfWork,
};
use crate::use_cases::Ports;

/// A mock of every port [`Ports`] holds, with a clock and ids a test controls.
#[allow(missing_docs)]
pub struct MockPorts {
    pub orders: MockOrderRepository,
    pub scans: MockOrderScans,
    pub audit: MockAuditLog,
    pub audit_chain: MockAuditChain,
    pub personal_data: MockPersonalData,
    pub event_replays: MockEventReplays,
    pub stored_events: MockStoredEvents,
    pub refunds: MockRefundRepository,
    pub carts: MockCartRepository,
    pub promotions: MockPromotionRepository,
    pub unit_of_work: MockUnitOfWork,
    pub inbox: MockInbox,
    pub analytics: MockAnalyticsStore,
    pub locks: MockDistributedLock,
    pub tickets: MockTicketService,
    pub inventory: MockInventoryService,
    pub products: MockProductCatalog,
    pub payments: MockPaymentGateway,
    pub events: MockEventCatalog,
    pub shipping: MockShippingService,
    pub reconciliations: MockReconciliations,
    pub bulk_jobs: MockBulkJobs,
    /// Shared with the ports: move it during the test.
    pub clock: Arc<ManualClock>,
    pub ids: Arc<SequentialIds>,
    /// Shared with the ports: what the use cases reported as dropped.
    pub incidents: Arc<RecordedIncidents>,
}

impl std::fmt::Debug for MockPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockPorts").finish_non_exhaustive()
    }
}

impl MockPorts {
    /// Mocks without expectations, a clock standing at `now`, ids 1, 2, 3, ….
    pub fn new(now: OffsetDateTime) -> Self {
        Self {
            orders: MockOrderRepository::new(),
            scans: MockOrderScans::new(),
            audit: MockAuditLog::new(),
            audit_chain: MockAuditChain::new(),
            personal_data: MockPersonalData::new(),
            event_replays: MockEventReplays::new(),
            stored_events: MockStoredEvents::new(),
            refunds: MockRefundRepository::new(),
            carts: MockCartRepository::new(),
            promotions: MockPromotionRepository::new(),
            unit_of_work: MockUnitOfWork::new(),
            inbox: MockInbox::new(),
            analytics: MockAnalyticsStore::new(),
            locks: MockDistributedLock::new(),
            tickets: MockTicketService::new(),
            inventory: MockInventoryService::new(),
            products: MockProductCatalog::new(),
            payments: MockPaymentGateway::new(),
            events: MockEventCatalog::new(),
            shipping: MockShippingService::new(),
            reconciliations: MockReconciliations::new(),
            bulk_jobs: MockBulkJobs::new(),
            clock: Arc::new(ManualClock::at(now)),
            ids: Arc::new(SequentialIds::default()),
            incidents: Arc::new(RecordedIncidents::default()),
        }
    }

    /// The ports a use case service takes.
    pub fn into_ports(self) -> Ports {
        Ports {
            orders: Arc::new(self.orders),
            scans: Arc::new(self.scans),
            audit: Arc::new(self.audit),
            audit_chain: Arc::new(self.audit_chain),
            personal_data: Arc::new(self.personal_data),
            event_replays: Arc::new(self.event_replays),
            stored_events: Arc::new(self.stored_events),
            refunds: Arc::new(self.refunds),
            carts: Arc::new(self.carts),
            promotions: Arc::new(self.promotions),
            unit_of_work: Arc::new(self.unit_of_work),
            inbox: Arc::new(self.inbox),
            analytics: Arc::new(self.analytics),
            locks: Arc::new(self.locks),
            tickets: Arc::new(self.tickets),
            inventory: Arc::new(self.inventory),
            products: Arc::new(self.products),
            payments: Arc::new(self.payments),
            events: Arc::new(self.events),
            shipping: Arc::new(self.shipping),
            clock: self.clock,
            ids: self.ids,
            incidents: self.incidents,
            reconciliations: Arc::new(self.reconciliations),
            bulk_jobs: Arc::new(self.bulk_jobs),
        }
    }
}

/// One failure a use case dropped: the orders, the action, the error's cause chain.
pub type RecordedIncident = (Vec<OrderId>, &'static str, String);

/// Keeps the dropped failures (failed compensations, unreleased locks) for the test to read.
#[derive(Debug, Default)]
pub struct RecordedIncidents(Mutex<Vec<RecordedIncident>>);

impl RecordedIncidents {
    /// Everything reported so far, oldest first.
    pub fn recorded(&self) -> Vec<RecordedIncident> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Incidents for RecordedIncidents {
    fn dropped(&self, orders: &[OrderId], action: &'static str, error: &dyn std::error::Error) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((
                orders.to_vec(),
                action,
                crate::cause::Chain(error).to_string(),
            ));
    }
}
