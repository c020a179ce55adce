//! Identifier newtypes and order numbers.
//!
//! Every id is its own type so that an `EventId` can never be passed where an `OrderId` is
//! expected. New rows get UUID v7 (time-ordered, so B-tree inserts stay at the right edge); the
//! [`IdGenerator`](crate::ports::IdGenerator) port decides, which keeps tests deterministic.
//! Order numbers read `ORD-YYYYMMDD-XXXXXX` with six Crockford base32 characters.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps an existing UUID.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The wrapped UUID.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// A tenant: every row and every query is scoped to one.
    TenantId
);
uuid_id!(
    /// An order.
    OrderId
);
uuid_id!(
    /// One line of an order.
    OrderItemId
);
uuid_id!(
    /// A user (the JWT `sub`).
    UserId
);
uuid_id!(
    /// An event that tickets are sold for.
    EventId
);
uuid_id!(
    /// A ticket type of an event (e.g. "VIP").
    TicketTypeId
);
uuid_id!(
    /// A price point of a ticket type.
    TicketPricingId
);
uuid_id!(
    /// A product of the goods catalog.
    ProductId
);
uuid_id!(
    /// A shopping cart.
    CartId
);
uuid_id!(
    /// One line of a cart.
    CartLineId
);
uuid_id!(
    /// A refund of an order.
    RefundId
);
uuid_id!(
    /// One edit of an order (lines added, changed or removed after it was placed).
    OrderEditId
);
uuid_id!(
    /// An audit entry.
    AuditEntryId
);
uuid_id!(
    /// An entry of an order's ledger.
    LedgerEntryId
);
uuid_id!(
    /// One reconciliation run with the payment service.
    ReconciliationRunId
);
uuid_id!(
    /// A durable background job a service asked for (a bulk cancellation).
    BulkJobId
);
uuid_id!(
    /// A replay of stored events (docs/events.md).
    ReplayId
);
uuid_id!(
    /// A domain event; also the AMQP `message-id` of its outbox message.
    DomainEventId
);

uuid_id!(
    /// A webhook subscription of a tenant.
    WebhookId
);
uuid_id!(
    /// One event for one subscription: its `webhook-id`, stable across retries and replays.
    WebhookDeliveryId
);

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an identifier issued by another system.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(
    /// A payment intent of the payment service (`pi_…`).
    PaymentIntentId
);
string_id!(
    /// An anonymous shopper's session (cookie value).
    SessionId
);
string_id!(
    /// A ticket issued by the ticket service once an order is confirmed.
    TicketId
);
string_id!(
    /// A hold (reservation) placed with the ticket or inventory service.
    HoldId
);

/// Crockford's base32 alphabet: no I, L, O or U, so numbers read aloud survive.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A human-facing order number, `ORD-YYYYMMDD-XXXXXX`; unique per tenant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrderNumber(String);

/// Text that is not an order number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an order number of the form ORD-YYYYMMDD-XXXXXX")]
pub struct InvalidOrderNumber(pub String);

impl OrderNumber {
    /// The number for `date` whose suffix encodes the low 30 bits of `entropy` in Crockford
    /// base32 (2³⁰ ≈ 10⁹ numbers a day; the database's unique index catches the rare collision
    /// and the caller draws again).
    pub fn new(date: Date, entropy: u32) -> Self {
        let mut suffix = [0u8; 6];
        for (i, slot) in suffix.iter_mut().enumerate() {
            let shift = 5 * (5 - i);
            *slot = CROCKFORD[((entropy >> shift) & 0x1f) as usize];
        }
        let suffix = String::from_utf8_lossy(&suffix).into_owned();
        Self(format!(
            "ORD-{:04}{:02}{:02}-{suffix}",
            date.year(),
            u8::from(date.month()),
            date.day()
        ))
    }

    /// The number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for OrderNumber {
    type Err = InvalidOrderNumber;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = s.as_bytes();
        let well_formed = bytes.len() == 19
            && s.starts_with("ORD-")
            && bytes[12] == b'-'
            && bytes[4..12].iter().all(u8::is_ascii_digit)
            && bytes[13..].iter().all(|b| CROCKFORD.contains(b));
        if well_formed {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidOrderNumber(s.to_owned()))
        }
    }
}

impl TryFrom<String> for OrderNumber {
    type Error = InvalidOrderNumber;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<OrderNumber> for String {
    fn from(number: OrderNumber) -> Self {
        number.0
    }
}

impl fmt::Display for OrderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn order_numbers_carry_the_date_and_six_crockford_characters() {
        let number = OrderNumber::new(date!(2025 - 11 - 22), 0x3FFF_FFFF);
        assert_eq!(number.as_str(), "ORD-20251122-ZZZZZZ");
        let number = OrderNumber::new(date!(2026 - 01 - 05), 0);
        assert_eq!(number.as_str(), "ORD-20260105-000000");
        let number = OrderNumber::new(date!(2026 - 01 - 05), 1 << 25 | 31);
        assert_eq!(number.as_str(), "ORD-20260105-10000Z");
    }

    #[test]
    fn order_numbers_parse_back_and_reject_other_shapes() {
        let number = OrderNumber::new(date!(2025 - 11 - 22), 123_456_789);
        assert_eq!(number.as_str().parse::<OrderNumber>(), Ok(number.clone()));
        for bad in [
            "ORD-2025112-ABCDEF",
            "ORD-20251122-ABCDEU",
            "XYZ-20251122-ABCDEF",
            "",
        ] {
            assert!(bad.parse::<OrderNumber>().is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_round_trip_through_text() {
        let id = OrderId::from_uuid(Uuid::now_v7());
        assert_eq!(id.to_string().parse::<OrderId>().ok(), Some(id));
    }
}
