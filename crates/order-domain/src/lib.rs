//! The pure core of the order service: money, pricing and fees, the order and cart aggregates,
//! business policies, domain events, the port traits adapters implement, and the use cases.
//!
//! No I/O happens here — no database, broker, HTTP or async runtime. Adapters (`order-postgres`,
//! `order-redis`, `order-amqp`, `order-http-clients`) implement [`ports`]; the `order-api` binary
//! wires them into a [`use_cases::OrderService`].
//!
//! | module | owns |
//! |---|---|
//! | [`money`] | [`Money`](money::Money) in minor units, currencies, integer [`Rate`](money::Rate)s, rounding modes |
//! | [`ids`] | one newtype per identifier, [`OrderNumber`](ids::OrderNumber) `ORD-YYYYMMDD-XXXXXX` |
//! | [`pricing`] | the fee formula of SPEC §6, line allocation, goods promotions, codes, tax and shipping |
//! | [`order`] | the order aggregate, its transition table ([`order::status`]) and refunds |
//! | [`cart`] | the cart aggregate and the login merge |
//! | [`policy`] | limits, reservation durations, cancellation/refund/return terms, [`DomainConfig`](policy::DomainConfig) |
//! | [`events`] | domain events with stable names and the outbox envelope |
//! | [`audit`] | audit entries |
//! | [`backoff`] | the pauses between attempts every adapter retries with |
//! | [`actor`] | who calls: users with roles, services, the system |
//! | [`ports`] | the traits adapters implement, each with its error type |
//! | [`adapters`] | ready implementations that need no I/O: clocks, id generators |
//! | [`use_cases`] | [`OrderService`](use_cases::OrderService): every use case, generic over the ports |
//!
//! # Implementing a port in another service
//!
//! Any service can reuse the domain by implementing the ports it needs. Here a service that
//! keeps its events in memory implements [`ports::EventCatalog`]:
//!
//! ```
//! use std::collections::HashMap;
//!
//! use async_trait::async_trait;
//! use order_domain::ids::{EventId, TenantId};
//! use order_domain::money::Currency;
//! use order_domain::ports::{EventCatalog, EventInfo, EventStatus, UpstreamError};
//! use time::macros::datetime;
//!
//! struct InMemoryEvents(HashMap<(TenantId, EventId), EventInfo>);
//!
//! #[async_trait]
//! impl EventCatalog for InMemoryEvents {
//!     async fn event(&self, tenant: TenantId, event: EventId) -> Result<Option<EventInfo>, UpstreamError> {
//!         Ok(self.0.get(&(tenant, event)).cloned())
//!     }
//!     // Nothing to cache in memory: the recent answer is the current one.
//!     async fn recent_event(&self, tenant: TenantId, event: EventId) -> Result<Option<EventInfo>, UpstreamError> {
//!         self.event(tenant, event).await
//!     }
//! }
//!
//! let tenant = TenantId::from_uuid(uuid::Uuid::from_u128(1));
//! let id = EventId::from_uuid(uuid::Uuid::from_u128(2));
//! let concert = EventInfo {
//!     id,
//!     starts_at: datetime!(2027-06-01 20:00 UTC),
//!     status: EventStatus::Scheduled,
//!     currency: Currency::Eur,
//! };
//! let catalog = InMemoryEvents(HashMap::from([((tenant, id), concert.clone())]));
//!
//! // The port is object-safe: use cases hold it as `Arc<dyn EventCatalog>`.
//! let port: std::sync::Arc<dyn EventCatalog> = std::sync::Arc::new(catalog);
//! let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! assert_eq!(runtime.block_on(port.event(tenant, id)).unwrap(), Some(concert));
//! let unknown = EventId::from_uuid(uuid::Uuid::from_u128(3));
//! assert_eq!(runtime.block_on(port.event(tenant, unknown)).unwrap(), None);
//! ```
//!
//! With the `mocks` feature every port also has a mockall mock (`MockEventCatalog`, …) for
//! unit tests of code that uses the ports.

pub mod actor;
pub mod adapters;
pub mod analytics;
pub mod audit;
pub mod backoff;
pub mod cart;
pub mod cause;
pub mod events;
pub mod ids;
pub mod messages;
pub mod money;
pub mod order;
pub mod policy;
pub mod ports;
pub mod pricing;
pub mod use_cases;
pub mod webhooks;
