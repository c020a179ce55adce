//! Reconciliation with the payment service (docs/product/after-the-sale.md): the ledger of an order
//! compared with what the payment service holds for its payment intent, and every difference named.
//!
//! | kind | ours | theirs | repaired |
//! |---|---|---|---|
//! | `PAYOUT_MISSING_HERE` | no `REFUND_PAID` for the refund | a payout | when the order has that refund awaiting its payout: it is completed with the payout's reference |
//! | `PAYOUT_UNKNOWN_UPSTREAM` | a `REFUND_PAID` | no payout | never (an operator looks) |
//! | `CAPTURE_ON_CLOSED_ORDER` | nothing captured, the order EXPIRED or CANCELLED unpaid | captured | refunded in full, as a late payment |
//! | `AMOUNT_MISMATCH` | the captured or paid-back amount | another amount | never |

use time::OffsetDateTime;

use crate::ids::{OrderId, ReconciliationRunId, RefundId, TenantId};
use crate::ledger::{LedgerEntry, LedgerEntryKind};
use crate::order::Order;
use crate::ports::PaymentRecord;

wire_enum! {
    /// What kind of difference.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum DifferenceKind ("difference kind") {
        /// The payment service paid a refund out that the ledger does not show.
        PayoutMissingHere = "PAYOUT_MISSING_HERE",
        /// The ledger shows a refund paid that the payment service does not know.
        PayoutUnknownUpstream = "PAYOUT_UNKNOWN_UPSTREAM",
        /// The payment service captured a payment for an order that closed unpaid here.
        CaptureOnClosedOrder = "CAPTURE_ON_CLOSED_ORDER",
        /// Both sides know the movement, with different amounts.
        AmountMismatch = "AMOUNT_MISMATCH",
    }
}

/// One difference between an order's ledger and the payment service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The order.
    pub order_id: OrderId,
    /// What differs.
    pub kind: DifferenceKind,
    /// The refund concerned, for payouts.
    pub refund_id: Option<RefundId>,
    /// Our amount, minor units.
    pub ours: i64,
    /// The payment service's amount, minor units.
    pub theirs: i64,
    /// The difference was repaired by this run.
    pub repaired: bool,
}

impl Difference {
    fn new(
        order: &Order,
        kind: DifferenceKind,
        refund: Option<RefundId>,
        ours: i64,
        theirs: i64,
    ) -> Self {
        Self {
            order_id: order.id(),
            kind,
            refund_id: refund,
            ours,
            theirs,
            repaired: false,
        }
    }
}

/// The differences between `order` with its `ledger` and what the payment service holds for its
/// intent. An order still waiting for its payment (PENDING, RESERVED) is left alone: a capture
/// may be on its way to us.
pub fn compare(order: &Order, ledger: &[LedgerEntry], theirs: &PaymentRecord) -> Vec<Difference> {
    let mut differences = Vec::new();
    let captured: i64 = ledger
        .iter()
        .filter(|e| e.kind == LedgerEntryKind::PaymentCaptured)
        .map(|e| e.amount)
        .sum();
    if captured != theirs.captured {
        if captured == 0 && order.closed_unpaid() {
            differences.push(Difference::new(
                order,
                DifferenceKind::CaptureOnClosedOrder,
                None,
                0,
                theirs.captured,
            ));
        } else if !order.status().is_unpaid() {
            differences.push(Difference::new(
                order,
                DifferenceKind::AmountMismatch,
                None,
                captured,
                theirs.captured,
            ));
        }
    }
    let paid_here = |refund: RefundId| {
        ledger
            .iter()
            .find(|e| e.kind == LedgerEntryKind::RefundPaid && e.refund_id == Some(refund))
    };
    for payout in &theirs.payouts {
        match paid_here(payout.refund_id) {
            None => differences.push(Difference::new(
                order,
                DifferenceKind::PayoutMissingHere,
                Some(payout.refund_id),
                0,
                payout.amount,
            )),
            Some(entry) if entry.amount != payout.amount => differences.push(Difference::new(
                order,
                DifferenceKind::AmountMismatch,
                Some(payout.refund_id),
                entry.amount,
                payout.amount,
            )),
            Some(_) => {}
        }
    }
    for entry in ledger
        .iter()
        .filter(|e| e.kind == LedgerEntryKind::RefundPaid)
    {
        let known = theirs
            .payouts
            .iter()
            .any(|p| Some(p.refund_id) == entry.refund_id);
        if !known {
            differences.push(Difference::new(
                order,
                DifferenceKind::PayoutUnknownUpstream,
                entry.refund_id,
                entry.amount,
                0,
            ));
        }
    }
    differences
}

/// One reconciliation of a tenant's orders changed in a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconciliationRun {
    /// Its id.
    pub id: ReconciliationRunId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// Orders changed from this instant…
    pub window_from: OffsetDateTime,
    /// …until before this one.
    pub window_to: OffsetDateTime,
    /// Orders compared.
    pub orders_checked: u32,
    /// Orders the payment service could not be asked about (compared again by a later run).
    pub orders_unchecked: u32,
    /// Every difference found, repaired ones included.
    pub differences: Vec<Difference>,
    /// When it ran.
    pub started_at: OffsetDateTime,
    /// When it was done.
    pub finished_at: OffsetDateTime,
}

/// A stored run without its differences, for the list of recent runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// Its id.
    pub id: ReconciliationRunId,
    /// Orders changed from this instant…
    pub window_from: OffsetDateTime,
    /// …until before this one.
    pub window_to: OffsetDateTime,
    /// Orders compared.
    pub orders_checked: u32,
    /// Orders the payment service could not be asked about.
    pub orders_unchecked: u32,
    /// Differences found.
    pub differences: u32,
    /// Of those, repaired on the spot.
    pub repaired: u32,
    /// When it ran.
    pub started_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::ids::{HoldId, LedgerEntryId, PaymentIntentId};
    use crate::order::OrderKind;
    use crate::order::tests::pending;
    use crate::ports::Payout;

    const NOW: OffsetDateTime = datetime!(2026-12-07 12:00 UTC);

    fn confirmed() -> Order {
        let mut order = pending(OrderKind::Ticket);
        order
            .reserve(HoldId::new("h"), NOW + time::Duration::minutes(15), NOW)
            .expect("reserved");
        order
            .confirm(&PaymentIntentId::new("pi-1"), NOW)
            .expect("confirmed");
        order
    }

    fn entry(kind: LedgerEntryKind, amount: i64, refund: Option<u128>) -> LedgerEntry {
        LedgerEntry {
            id: LedgerEntryId::from_uuid(uuid::Uuid::nil()),
            kind,
            amount,
            currency: crate::money::Currency::Usd,
            refund_id: refund.map(|n| RefundId::from_uuid(uuid::Uuid::from_u128(n))),
            reference: None,
            occurred_at: NOW,
        }
    }

    fn payout(refund: u128, amount: i64) -> Payout {
        Payout {
            refund_id: RefundId::from_uuid(uuid::Uuid::from_u128(refund)),
            amount,
            reference: format!("re_{refund}"),
        }
    }

    fn kinds(differences: &[Difference]) -> Vec<(DifferenceKind, i64, i64)> {
        differences
            .iter()
            .map(|d| (d.kind, d.ours, d.theirs))
            .collect()
    }

    #[test]
    fn a_ledger_that_matches_the_payment_service_has_no_difference() {
        let order = confirmed();
        let total = order.total().minor();
        let ledger = [
            entry(LedgerEntryKind::PaymentCaptured, total, None),
            entry(LedgerEntryKind::RefundPaid, 500, Some(1)),
            entry(LedgerEntryKind::FeeRetained, 30, Some(2)),
        ];
        let theirs = PaymentRecord {
            captured: total,
            payouts: vec![payout(1, 500)],
        };
        assert_eq!(compare(&order, &ledger, &theirs), []);
    }

    #[test]
    fn each_kind_of_difference_is_named_with_both_amounts() {
        let order = confirmed();
        let total = order.total().minor();
        let ledger = [
            entry(LedgerEntryKind::PaymentCaptured, total, None),
            entry(LedgerEntryKind::RefundPaid, 500, Some(1)),
            entry(LedgerEntryKind::RefundPaid, 700, Some(2)),
        ];
        let theirs = PaymentRecord {
            captured: total - 1,
            payouts: vec![payout(1, 400), payout(3, 900)],
        };
        assert_eq!(
            kinds(&compare(&order, &ledger, &theirs)),
            [
                (DifferenceKind::AmountMismatch, total, total - 1),
                (DifferenceKind::AmountMismatch, 500, 400),
                (DifferenceKind::PayoutMissingHere, 0, 900),
                (DifferenceKind::PayoutUnknownUpstream, 700, 0),
            ]
        );
    }

    #[test]
    fn a_capture_for_an_order_closed_unpaid_is_named_and_one_in_flight_is_not() {
        let mut order = pending(OrderKind::Ticket);
        let theirs = PaymentRecord {
            captured: order.total().minor(),
            payouts: Vec::new(),
        };
        assert_eq!(
            compare(&order, &[], &theirs),
            [],
            "its payment message may be on its way"
        );
        order
            .expire(NOW + time::Duration::hours(1))
            .expect("expired");
        assert_eq!(
            kinds(&compare(&order, &[], &theirs)),
            [(
                DifferenceKind::CaptureOnClosedOrder,
                0,
                order.total().minor()
            )]
        );
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in DifferenceKind::ALL {
            assert_eq!(kind.as_str().parse::<DifferenceKind>(), Ok(kind));
        }
    }
}
