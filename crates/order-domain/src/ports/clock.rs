//! Time and identity: the clock and the id generator (tests fix both).

use time::OffsetDateTime;
use uuid::Uuid;

/// The current time (tests fix it).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now, UTC.
    fn now(&self) -> OffsetDateTime;
}

/// Fresh identifiers (UUID v7 in production, fixed sequences in tests).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait IdGenerator: Send + Sync {
    /// A new unique id.
    fn uuid(&self) -> Uuid;
    /// 30 random bits for an order number.
    fn order_number_entropy(&self) -> u32;
}
