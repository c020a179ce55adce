//! Ports: the traits the adapters implement and the use cases call.
//!
//! Every port is `Send + Sync` and object-safe: the API holds each as an `Arc<dyn Port>` shared
//! by all request handlers and workers, so implementations keep their own interior mutability
//! (a connection pool, a client). Async methods use `#[async_trait]` so that mockall can mock
//! them (`MockOrderRepository`, … behind the `mocks` feature) and trait objects stay possible.
//!
//! Each port has its own error type. Contracts are written as "MUST": adapters are tested
//! against them, and use cases rely on them.
//!
//! | module | ports |
//! |---|---|
//! | `storage` | [`OrderRepository`] (what requests read), [`RefundRepository`], [`CartRepository`], [`PromotionRepository`], [`UnitOfWork`], [`Outbox`], [`Inbox`], [`AnalyticsStore`] |
//! | `scans` | [`OrderScans`]: the background jobs' cross-tenant and batch queries |
//! | `audit_log` | [`AuditLog`]: the audit trail's reads; [`AuditChain`]: its hash chains and anchors |
//! | `guards` | [`IdempotencyStore`], [`RateLimiter`], [`DistributedLock`] |
//! | `tickets` | [`TicketService`] |
//! | `upstream` | [`InventoryService`], [`ProductCatalog`], [`PaymentGateway`], [`EventCatalog`], [`Notifier`], [`ShippingService`] |
//! | `webhooks` | [`WebhookRepository`], [`WebhookTransport`] |
//! | `summary` | [`OrderSummary`] (the figures of [`OrderPage`]) |
//! | `clock` | [`Clock`], [`IdGenerator`] |
//! | `incidents` | [`Incidents`] |
//! | `reconciliations` | [`Reconciliations`]: runs against the payment service and their differences |
//! | `personal_data` | [`PersonalData`]: a customer's data across orders, erasure, retention |
//! | `event_replays` | [`EventReplays`]: durable replays of stored events; [`StoredEvents`]: one order's, for rebuilding it |
//! | `bulk_jobs` | [`BulkJobs`]: durable bulk cancellations and their leases |

mod audit_log;
mod bulk_jobs;
mod clock;
mod event_replays;
mod guards;
mod incidents;
mod outbox;
mod personal_data;
mod reconciliations;
mod scans;
mod storage;
mod summary;
mod tickets;
mod unit_of_work;
mod upstream;
mod webhooks;

pub use self::audit_log::{AuditChain, AuditLog};
pub use self::bulk_jobs::{BulkJobs, LeasedJob};
pub use self::clock::{Clock, IdGenerator};
pub use self::event_replays::{EventReplays, StoredEvents};
pub use self::guards::{
    DistributedLock, GuardError, IdempotencyBegin, IdempotencyStore, LockGuard, RateCheck,
    RateDecision, RateLimiter, StoredResponse,
};
pub use self::incidents::Incidents;
pub use self::outbox::{Inbox, Outbox, OutboxRecord};
pub use self::personal_data::PersonalData;
pub use self::reconciliations::Reconciliations;
pub use self::scans::{ChangedPayment, DueEdit, DueRefund, ExpiringOrder, OrderScans};
pub use self::storage::{
    AnalyticsStore, CartRepository, EXACT_TOTAL_UP_TO, OrderCursor, OrderFilter, OrderPage,
    OrderPageRequest, OrderRepository, PageRequest, PromotionRepository, RefundRepository,
    RefundView, RepositoryError,
};
pub use self::summary::OrderSummary;
pub use self::tickets::{Hold, HoldError, TicketLine, TicketPrice, TicketService};
pub use self::unit_of_work::{
    IdempotencyRecord, InboxMessage, KeyedRefund, OrderChange, PromoRedemption, QuotaClaim,
    RefundKey, UnitOfWork, check_batch,
};
pub use self::upstream::{
    Allocation, Availability, EventCatalog, EventInfo, EventStatus, InventoryService, Notification,
    Notifier, PaymentError, PaymentGateway, PaymentIntent, PaymentRecord, Payout, Pick, Product,
    ProductCatalog, ProductVariant, ShippingLabel, ShippingRate, ShippingService, StockError,
    StockLine, UpstreamError,
};
pub use self::webhooks::{
    AttemptResult, ClaimedDelivery, DeliveryLog, DeliveryStats, UrlRefused, WebhookRepository,
    WebhookRequest, WebhookResponse, WebhookTransport,
};

// The mocks one by one: a glob would also re-export the helper modules mockall generates beside
// each (`__mock_Mock…`), which would crowd the documentation's index.
#[cfg(any(test, feature = "mocks"))]
pub use self::audit_log::{MockAuditChain, MockAuditLog};
#[cfg(any(test, feature = "mocks"))]
pub use self::bulk_jobs::MockBulkJobs;
#[cfg(any(test, feature = "mocks"))]
pub use self::clock::{MockClock, MockIdGenerator};
#[cfg(any(test, feature = "mocks"))]
pub use self::event_replays::{MockEventReplays, MockStoredEvents};
#[cfg(any(test, feature = "mocks"))]
pub use self::guards::{MockDistributedLock, MockIdempotencyStore, MockRateLimiter};
#[cfg(any(test, feature = "mocks"))]
pub use self::incidents::MockIncidents;
#[cfg(any(test, feature = "mocks"))]
pub use self::outbox::{MockInbox, MockOutbox};
#[cfg(any(test, feature = "mocks"))]
pub use self::personal_data::MockPersonalData;
#[cfg(any(test, feature = "mocks"))]
pub use self::reconciliations::MockReconciliations;
#[cfg(any(test, feature = "mocks"))]
pub use self::scans::MockOrderScans;
#[cfg(any(test, feature = "mocks"))]
pub use self::storage::{
    MockAnalyticsStore, MockCartRepository, MockOrderRepository, MockPromotionRepository,
    MockRefundRepository,
};
#[cfg(any(test, feature = "mocks"))]
pub use self::tickets::MockTicketService;
#[cfg(any(test, feature = "mocks"))]
pub use self::unit_of_work::MockUnitOfWork;
#[cfg(any(test, feature = "mocks"))]
pub use self::upstream::{
    MockEventCatalog, MockInventoryService, MockNotifier, MockPaymentGateway, MockProductCatalog,
    MockShippingService,
};
#[cfg(any(test, feature = "mocks"))]
pub use self::webhooks::{MockWebhookRepository, MockWebhookTransport};
