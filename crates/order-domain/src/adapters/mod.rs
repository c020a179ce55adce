//! Ready-made implementations of the ports that need no I/O, for services that build on the
//! domain and for their tests.
//!
//! | type | port | feature |
//! |---|---|---|
//! | `SystemClock` | [`Clock`](crate::ports::Clock): the machine's UTC time, in microseconds | `system` |
//! | `UuidV7Ids` | [`IdGenerator`](crate::ports::IdGenerator): time-ordered UUID v7, random order-number entropy | `system` |
//! | `MemoryStore` | every storage port of the order path (orders, scans, audit, unit of work, refunds, carts, promotions, outbox, inbox) in memory, under the same contract tests as PostgreSQL | `memory` |
//! | `InMemoryTickets`, `InMemoryPayments`, `InMemoryEvents`, `RecordingNotifier` | the upstream ports of a ticket order ([`TicketService`](crate::ports::TicketService), [`PaymentGateway`](crate::ports::PaymentGateway), [`EventCatalog`](crate::ports::EventCatalog), [`Notifier`](crate::ports::Notifier)) in memory: quotas and holds, intents and refunds paid once | `memory` |
//! | [`ManualClock`] | [`Clock`](crate::ports::Clock): a time the test sets and moves | — |
//! | [`NotWired`] | every storage and upstream port: each call fails naming the port (what [`Ports::builder`](crate::use_cases::Ports::builder) fills in) | — |
//! | [`SequentialIds`] | [`IdGenerator`](crate::ports::IdGenerator): 1, 2, 3, … as UUIDs, fixed entropy | — |
//!
//! The `system` feature reads the operating system's clock and random numbers; without it the
//! crate touches nothing outside the process.

mod clock;
mod ids;
#[cfg(any(test, feature = "memory"))]
mod memory;
mod not_wired;
#[cfg(any(test, feature = "memory"))]
mod upstream_fakes;

pub use self::clock::ManualClock;
#[cfg(feature = "system")]
pub use self::clock::SystemClock;
pub use self::ids::SequentialIds;
#[cfg(feature = "system")]
pub use self::ids::UuidV7Ids;
#[cfg(any(test, feature = "memory"))]
pub use self::memory::MemoryStore;
pub use self::not_wired::{NotWired, NotWiredError};
#[cfg(any(test, feature = "memory"))]
pub use self::upstream_fakes::{
    InMemoryEvents, InMemoryPayments, InMemoryTickets, RecordingNotifier,
};
