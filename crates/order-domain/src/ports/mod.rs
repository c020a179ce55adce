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
//! | `audit_log` | [`AuditLog`]: the audit trail's reads |
//! | `guards` | [`IdempotencyStore`], [`RateLimiter`], [`DistributedLock`] |
//! | `upstream` | [`TicketService`], [`InventoryService`], [`ProductCatalog`], [`PaymentGateway`], [`EventCatalog`], [`Notifier`], [`ShippingService`] |
//! | `webhooks` | [`WebhookRepository`], [`WebhookTransport`] |
//! | `summary` | [`OrderSummary`] (the figures of [`OrderPage`]) |
//! | `clock` | [`Clock`], [`IdGenerator`] |
//! | `incidents` | [`Incidents`] |
//! | `reconciliations` | [`Reconciliations`]: runs against the payment service and their differences |
//! | `bulk_jobs` | [`BulkJobs`]: durable bulk cancellations and their leases |

mod audit_log;
mod bulk_jobs;
mod clock;
mod guards;
mod incidents;
mod outbox;
mod reconciliations;
mod scans;
mod storage;
mod summary;
mod unit_of_work;
mod upstream;
mod webhooks;

pub use self::audit_log::*;
pub use self::bulk_jobs::*;
pub use self::clock::*;
pub use self::guards::*;
pub use self::incidents::*;
pub use self::outbox::*;
pub use self::reconciliations::*;
pub use self::scans::*;
pub use self::storage::*;
pub use self::summary::*;
pub use self::unit_of_work::*;
pub use self::upstream::*;
pub use self::webhooks::*;
