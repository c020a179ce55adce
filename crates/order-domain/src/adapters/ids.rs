//! Id generators: UUID v7 for production, a counter for tests.

use std::sync::atomic::{AtomicU64, Ordering};

use uuid::Uuid;

use crate::ports::IdGenerator;

/// Time-ordered UUID v7 ids and random order-number entropy.
#[cfg(feature = "system")]
#[derive(Debug, Clone, Copy, Default)]
pub struct UuidV7Ids;

#[cfg(feature = "system")]
impl IdGenerator for UuidV7Ids {
    fn uuid(&self) -> Uuid {
        Uuid::now_v7()
    }

    fn order_number_entropy(&self) -> u32 {
        // The random bits of a v4 UUID.
        let bytes = Uuid::new_v4().into_bytes();
        u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
    }
}

/// Ids 1, 2, 3, … (as `Uuid::from_u128`) and order-number entropy `entropy`, `entropy + 1`, …:
/// predictable values for tests and examples, and every order of a day gets its own number.
/// Never for production: a restart numbers from the start again.
///
/// ```
/// use order_domain::adapters::SequentialIds;
/// use order_domain::ports::IdGenerator;
///
/// let ids = SequentialIds::default();
/// assert_eq!(*ids.uuid().as_bytes(), 1u128.to_be_bytes());
/// assert_eq!(*ids.uuid().as_bytes(), 2u128.to_be_bytes());
/// assert_ne!(ids.order_number_entropy(), ids.order_number_entropy());
/// ```
#[derive(Debug, Default)]
pub struct SequentialIds {
    issued: AtomicU64,
    entropy: u32,
    numbered: std::sync::atomic::AtomicU32,
}

impl SequentialIds {
    /// A counter whose order numbers start from `entropy`.
    pub fn with_entropy(entropy: u32) -> Self {
        Self {
            issued: AtomicU64::new(0),
            entropy,
            numbered: std::sync::atomic::AtomicU32::new(0),
        }
    }
}

impl IdGenerator for SequentialIds {
    fn uuid(&self) -> Uuid {
        Uuid::from_u128(u128::from(self.issued.fetch_add(1, Ordering::Relaxed) + 1))
    }

    fn order_number_entropy(&self) -> u32 {
        // Distinct for 2^32 orders; the order number keeps 30 bits of it.
        self.entropy
            .wrapping_add(self.numbered.fetch_add(1, Ordering::Relaxed))
    }
}

#[cfg(all(test, feature = "system"))]
mod tests {
    use super::*;

    #[test]
    fn uuid_v7_ids_are_time_ordered_version_7() {
        let (a, b) = (UuidV7Ids.uuid(), UuidV7Ids.uuid());
        assert_eq!(a.get_version_num(), 7);
        assert!(a < b);
    }
}
