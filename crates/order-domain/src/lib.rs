#![doc = include_str!("../README.md")]
// Every public item is documented: docs.rs is the manual of the services that build on us.
#![warn(missing_docs)]
//!
//! ## Modules
//!
//! | module | owns |
//! |---|---|
//! | [`money`] | [`Money`](money::Money) in minor units, currencies, integer [`Rate`](money::Rate)s, rounding modes |
//! | [`ids`] | one newtype per identifier, [`OrderNumber`](ids::OrderNumber) `ORD-YYYYMMDD-XXXXXX` |
//! | [`pricing`] | the ticket fee formula, line allocation, goods promotions, codes, tax and shipping |
//! | [`order`] | the order aggregate, its and its refunds' transition tables ([`order::status`]), refunds, returns, line cancellation |
//! | [`cart`] | the cart aggregate and the login merge |
//! | [`policy`] | limits, reservation durations, cancellation/refund/return terms, [`DomainConfig`](policy::DomainConfig) |
//! | [`events`] | domain events with stable names and the outbox envelope |
//! | [`audit`] | audit entries |
//! | [`audit_chain`] | the audit's hash chains and daily anchors: what a check found |
//! | [`personal_data`] | a customer's data across orders: export records, erasure reports |
//! | [`analytics`] | the figures of the admin analytics, computed from orders |
//! | [`bulk_cancel`] | the durable job that cancels an event's orders, its position and counts |
//! | [`cause`] | error causes kept as chains, for logs (never for clients) |
//! | [`messages`] | messages other services send us (payment, tickets) and what they do |
//! | [`webhooks`] | webhook subscriptions, their deliveries and signing |
//! | [`documents`] | invoices and credit notes: what each says, from the change's events |
//! | [`ledger`] | the money trail: entries derived from each change's events, the balance |
//! | [`reconciliation`] | an order's ledger compared with the payment service, differences by kind |
//! | [`rebuild`] | an order folded from its stored events, and where the stored order disagrees |
//! | [`replay`] | event replay: its scope, target, cursor and progress |
//! | [`backoff`] | the pauses between attempts every adapter retries with |
//! | [`actor`] | who calls: users with roles, services, the system |
//! | [`ports`] | the traits adapters implement, each with its error type |
//! | [`adapters`] | ready implementations that need no I/O: clocks, id generators, the in-memory store (`memory`), `NotWired` |
//! | [`use_cases`] | [`OrderService`](use_cases::OrderService): every use case, over the ports as trait objects ([`Ports`](use_cases::Ports)) |
//! | `testing` (feature `mocks`) | `MockPorts`: a mock of every port in one value |
//! | `storage_contract` (feature `contract-tests`) | the tests every storage adapter passes |
//!

/// An enum of the money trail whose variants have stable wire and storage names: `ALL`,
/// `as_str`, `Display` and `FromStr` from one list, so that a name is written once.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $($(#[$variant_meta:meta])* $variant:ident = $wire:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $($(#[$variant_meta])* $variant),+
        }

        impl $name {
            /// Every value.
            pub const ALL: [Self; [$($wire),+].len()] = [$(Self::$variant),+];

            /// The wire and storage name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .into_iter()
                    .find(|value| value.as_str() == s)
                    .ok_or_else(|| format!(concat!("unknown ", $what, " {:?}"), s))
            }
        }
    };
}

pub mod actor;
pub mod adapters;
pub mod analytics;
pub mod audit;
pub mod audit_chain;
pub mod backoff;
pub mod bulk_cancel;
pub mod cart;
pub mod cause;
pub mod documents;
pub mod events;
pub mod ids;
pub mod ledger;
pub mod messages;
pub mod money;
pub mod order;
pub mod personal_data;
pub mod policy;
pub mod ports;
pub mod pricing;
pub mod rebuild;
pub mod reconciliation;
pub mod replay;
#[cfg(any(test, feature = "contract-tests"))]
pub mod storage_contract;
#[cfg(any(test, feature = "mocks"))]
pub mod testing;
pub mod use_cases;
pub mod webhooks;

// What a port implementation needs, at the versions the ports are written against.
pub use async_trait::async_trait;
#[cfg(feature = "mocks")]
pub use mockall;
pub use time;
pub use uuid;
