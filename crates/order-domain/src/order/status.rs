//! Order and refund statuses and their transition tables (docs/product/orders.md) — the only place
//! that decides which status may follow which.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    /// Created; nothing held yet.
    Pending,
    /// Tickets or stock held until the reservation expires.
    Reserved,
    /// Paid.
    Confirmed,
    /// Being picked and packed (goods).
    Processing,
    /// Handed to the carrier (goods).
    Shipped,
    /// Arrived (goods).
    Delivered,
    /// Cancelled by the customer, an admin, a failed payment or a cancelled event.
    Cancelled,
    /// The hold or payment window ran out.
    Expired,
    /// Sent back by the customer (goods).
    Returned,
    /// Paid back in full.
    Refunded,
}

impl OrderStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [OrderStatus; 10] = [
        Self::Pending,
        Self::Reserved,
        Self::Confirmed,
        Self::Processing,
        Self::Shipped,
        Self::Delivered,
        Self::Cancelled,
        Self::Expired,
        Self::Returned,
        Self::Refunded,
    ];

    /// The wire name (`PENDING`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Reserved => "RESERVED",
            Self::Confirmed => "CONFIRMED",
            Self::Processing => "PROCESSING",
            Self::Shipped => "SHIPPED",
            Self::Delivered => "DELIVERED",
            Self::Cancelled => "CANCELLED",
            Self::Expired => "EXPIRED",
            Self::Returned => "RETURNED",
            Self::Refunded => "REFUNDED",
        }
    }

    /// Not yet paid: the hold or payment window is still running.
    pub fn is_unpaid(self) -> bool {
        matches!(self, Self::Pending | Self::Reserved)
    }

    /// A goods order in this status waits for the warehouse: to be started, shipped, delivered
    /// or taken back.
    pub fn awaits_warehouse(self) -> bool {
        matches!(
            self,
            Self::Confirmed | Self::Processing | Self::Shipped | Self::Returned
        )
    }

    /// Counts toward the per-user, per-event active order limit (docs/product/limits.md).
    pub fn is_active(self) -> bool {
        matches!(self, Self::Pending | Self::Reserved | Self::Confirmed)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OrderStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

/// Text that names no [`OrderStatus`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown order status {0:?}")]
pub struct UnknownStatus(pub String);

/// The two kinds of order (docs/product/orders.md); some transitions exist for one kind only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderKind {
    /// Event tickets held by a time-limited reservation.
    Ticket,
    /// Physical goods from a cart, fulfilled by shipping.
    Goods,
}

impl OrderKind {
    /// Both kinds.
    pub const ALL: [OrderKind; 2] = [Self::Ticket, Self::Goods];

    /// The wire name (`TICKET`, `GOODS`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ticket => "TICKET",
            Self::Goods => "GOODS",
        }
    }
}

impl std::str::FromStr for OrderKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Ticket, Self::Goods]
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

/// Text that names no [`OrderKind`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown order kind {0:?}")]
pub struct UnknownKind(pub String);

/// A transition the table does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {} order cannot go from {from} to {to}", kind.as_str())]
pub struct InvalidTransition {
    /// The order's kind.
    pub kind: OrderKind,
    /// Its current status.
    pub from: OrderStatus,
    /// The status that was asked for.
    pub to: OrderStatus,
}

/// docs/product/orders.md's transition table.
///
/// Ticket orders end at CONFIRMED, CANCELLED, EXPIRED or REFUNDED; fulfillment and returns are
/// goods-only, and CONFIRMED → REFUNDED is tickets-only (goods are refunded through a return).
/// EXPIRED/CANCELLED → CONFIRMED is the late-payment recovery of decision 0015.
#[allow(clippy::match_like_matches_macro)] // a table reads better as match arms than as one `matches!`
pub fn transition_allowed(kind: OrderKind, from: OrderStatus, to: OrderStatus) -> bool {
    use OrderKind::{Goods, Ticket};
    use OrderStatus::*;
    match (kind, from, to) {
        (_, Pending, Reserved) | (_, Reserved, Reserved) => true,
        (_, Pending | Reserved, Confirmed | Cancelled | Expired) => true,
        // A payment that arrives after the window closed: the order is held again and confirmed
        // (`Order::recover_late_payment`, which also refuses orders cancelled after payment).
        (_, Expired | Cancelled, Confirmed) => true,
        (_, Confirmed, Cancelled) => true,
        (Ticket, Confirmed, Refunded) => true,
        (Goods, Confirmed, Processing) => true,
        (Goods, Processing, Cancelled | Shipped) => true,
        (Goods, Shipped, Delivered) => true,
        (Goods, Shipped | Delivered, Returned) => true,
        (Goods, Returned, Refunded) => true,
        _ => false,
    }
}

/// Checks one transition.
///
/// # Errors
/// [`InvalidTransition`] naming both statuses when the table does not allow it.
pub fn check_transition(
    kind: OrderKind,
    from: OrderStatus,
    to: OrderStatus,
) -> Result<(), InvalidTransition> {
    if transition_allowed(kind, from, to) {
        Ok(())
    } else {
        Err(InvalidTransition { kind, from, to })
    }
}

/// Where a refund is (docs/product/reservations-and-refunds.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RefundStatus {
    /// Waiting for an admin.
    Pending,
    /// Approved; the payment service has not paid it out yet.
    Approved,
    /// Turned down by an admin; does not count toward the refundable maximum.
    Rejected,
    /// Paid out.
    Completed,
    /// The payment service refused it; retried until it completes.
    Failed,
}

impl RefundStatus {
    /// Every status, in the order a refund can reach them.
    pub const ALL: [RefundStatus; 5] = [
        Self::Pending,
        Self::Approved,
        Self::Rejected,
        Self::Completed,
        Self::Failed,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Approved => "APPROVED",
            Self::Rejected => "REJECTED",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
        }
    }

    /// Whether the refund is approved and its money not yet paid out (APPROVED, or FAILED and
    /// to be retried): what a payout may complete.
    pub fn awaits_payout(self) -> bool {
        matches!(self, Self::Approved | Self::Failed)
    }

    /// Whether money is (or will be) paid out under this refund.
    pub fn counts_toward_maximum(self) -> bool {
        !matches!(self, Self::Rejected)
    }

    /// The refund state machine: PENDING → APPROVED | REJECTED; APPROVED → COMPLETED | FAILED;
    /// FAILED → COMPLETED | FAILED (a retry).
    pub fn can_become(self, to: RefundStatus) -> bool {
        use RefundStatus::*;
        matches!(
            (self, to),
            (Pending, Approved | Rejected)
                | (Approved, Completed | Failed)
                | (Failed, Completed | Failed)
        )
    }
}

impl fmt::Display for RefundStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RefundStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Self::Pending,
            Self::Approved,
            Self::Rejected,
            Self::Completed,
            Self::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str().eq_ignore_ascii_case(s))
        .ok_or_else(|| format!("unknown refund status {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_transition_names_kind_and_statuses_by_their_wire_names() {
        let refused = InvalidTransition {
            kind: OrderKind::Ticket,
            from: OrderStatus::Confirmed,
            to: OrderStatus::Reserved,
        };
        assert_eq!(
            refused.to_string(),
            "a TICKET order cannot go from CONFIRMED to RESERVED"
        );
    }

    #[test]
    fn the_table_allows_exactly_the_spec_transitions() {
        use OrderStatus::*;
        let ticket: &[(OrderStatus, OrderStatus)] = &[
            (Pending, Reserved),
            (Reserved, Reserved),
            (Pending, Confirmed),
            (Reserved, Confirmed),
            (Pending, Cancelled),
            (Reserved, Cancelled),
            (Pending, Expired),
            (Reserved, Expired),
            (Confirmed, Cancelled),
            (Confirmed, Refunded),
            (Expired, Confirmed),
            (Cancelled, Confirmed),
        ];
        let goods: &[(OrderStatus, OrderStatus)] = &[
            (Pending, Reserved),
            (Reserved, Reserved),
            (Pending, Confirmed),
            (Reserved, Confirmed),
            (Pending, Cancelled),
            (Reserved, Cancelled),
            (Pending, Expired),
            (Reserved, Expired),
            (Expired, Confirmed),
            (Cancelled, Confirmed),
            (Confirmed, Processing),
            (Confirmed, Cancelled),
            (Processing, Cancelled),
            (Processing, Shipped),
            (Shipped, Delivered),
            (Shipped, Returned),
            (Delivered, Returned),
            (Returned, Refunded),
        ];
        for (kind, allowed) in [(OrderKind::Ticket, ticket), (OrderKind::Goods, goods)] {
            for from in OrderStatus::ALL {
                for to in OrderStatus::ALL {
                    let expected = allowed.contains(&(from, to));
                    assert_eq!(
                        transition_allowed(kind, from, to),
                        expected,
                        "{kind:?} {from} → {to}"
                    );
                    let checked = check_transition(kind, from, to);
                    if expected {
                        assert_eq!(checked, Ok(()));
                    } else {
                        assert_eq!(checked, Err(InvalidTransition { kind, from, to }));
                    }
                }
            }
        }
    }

    #[test]
    fn statuses_parse_from_their_wire_names() {
        for status in OrderStatus::ALL {
            assert_eq!(status.as_str().parse::<OrderStatus>(), Ok(status));
        }
        assert!("SHIPPING".parse::<OrderStatus>().is_err());
    }
}
