//! The money trail of an order (docs/product/after-the-sale.md): every movement of money is an
//! immutable entry in minor units, derived from the events of the change that causes it and stored
//! in the same transaction; the balance is computed from the entries, never kept beside them.
//!
//! | entry | when | amount |
//! |---|---|---|
//! | `PAYMENT_CAPTURED` | the order is confirmed (`order.confirmed`), or a payment arrived for a closed order and is being returned (the late payment's refund is requested) | what was paid |
//! | `REFUND_PAID` | a refund completes (`refund.completed`), once per refund | what was paid back |
//! | `FEE_RETAINED` | a paid order is cancelled and the refund keeps part of the payment | what is kept; informational, not a movement |

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::events::OrderEvent;
use crate::ids::{LedgerEntryId, RefundId};
use crate::money::Currency;
use crate::order::Order;

wire_enum! {
    /// What an entry records.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    pub enum LedgerEntryKind ("ledger entry kind") {
        /// The buyer's payment was captured.
        PaymentCaptured = "PAYMENT_CAPTURED",
        /// A refund was paid out to the buyer.
        RefundPaid = "REFUND_PAID",
        /// What a cancellation's refund kept of the payment (fees under the refund policy).
        FeeRetained = "FEE_RETAINED",
    }
}

/// One movement of money on an order; never changed once stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// Unique id.
    pub id: LedgerEntryId,
    /// What it records.
    pub kind: LedgerEntryKind,
    /// Minor units, > 0; the kind says the direction.
    pub amount: i64,
    /// The order's currency.
    pub currency: Currency,
    /// The refund a `REFUND_PAID` (or a cancellation's `FEE_RETAINED`) belongs to.
    pub refund_id: Option<RefundId>,
    /// The payment service's reference: the payment intent of a capture, the payout of a refund.
    pub reference: Option<String>,
    /// When it happened.
    pub occurred_at: OffsetDateTime,
}

/// The entries `events` of one change of `order` (already applied to it) cause, in event order;
/// `next_id` draws each entry's id.
pub fn entries_for(
    order: &Order,
    events: &[OrderEvent],
    now: OffsetDateTime,
    mut next_id: impl FnMut() -> LedgerEntryId,
) -> Vec<LedgerEntry> {
    let mut entries = Vec::new();
    let mut entry = |kind, amount: i64, refund_id, reference: Option<String>| {
        if amount > 0 {
            entries.push(LedgerEntry {
                id: next_id(),
                kind,
                amount,
                currency: order.currency(),
                refund_id,
                reference,
                occurred_at: now,
            });
        }
    };
    for event in events {
        match event {
            OrderEvent::Confirmed(confirmed) => entry(
                LedgerEntryKind::PaymentCaptured,
                confirmed.total,
                None,
                Some(confirmed.payment_intent_id.as_str().to_owned()),
            ),
            // A refund on an order that was never confirmed returns a payment that arrived after
            // the order closed: that payment was captured first.
            OrderEvent::RefundRequested(requested) if order.closed_unpaid() => entry(
                LedgerEntryKind::PaymentCaptured,
                requested.amount,
                None,
                order.payment_intent_id().map(|p| p.as_str().to_owned()),
            ),
            // A paid order's edit that raised its total, paid with its own intent.
            OrderEvent::Edited(edited) if edited.paid.is_some() => {
                if let Some(paid) = &edited.paid {
                    entry(
                        LedgerEntryKind::PaymentCaptured,
                        paid.amount,
                        None,
                        Some(paid.payment_intent_id.as_str().to_owned()),
                    );
                }
            }
            OrderEvent::RefundCompleted(completed) => entry(
                LedgerEntryKind::RefundPaid,
                completed.amount,
                Some(completed.refund_id),
                Some(completed.payment_reference.clone()),
            ),
            // What the cancellation's terms keep of the whole payment.
            OrderEvent::Cancelled(cancelled) if cancelled.refund_id.is_some() => entry(
                LedgerEntryKind::FeeRetained,
                order.total().minor() - order.refundable_max().unwrap_or(order.total().minor()),
                cancelled.refund_id,
                None,
            ),
            _ => {}
        }
    }
    entries
}

/// Where an order's money stands, from its ledger.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerBalance {
    /// Payments captured.
    pub captured: i64,
    /// Refunds paid out.
    pub refunded: i64,
    /// `captured − refunded`: what the seller holds.
    pub net: i64,
    /// Refunds approved and not yet paid out (APPROVED or FAILED): what the buyer is still owed.
    pub outstanding: i64,
}

impl LedgerBalance {
    /// The balance of `order` whose ledger is `entries`.
    pub fn of(order: &Order, entries: &[LedgerEntry]) -> Self {
        let sum = |kind| {
            entries
                .iter()
                .filter(|e| e.kind == kind)
                .map(|e| e.amount)
                .sum::<i64>()
        };
        let captured = sum(LedgerEntryKind::PaymentCaptured);
        let refunded = sum(LedgerEntryKind::RefundPaid);
        let outstanding = order
            .refunds()
            .iter()
            .filter(|r| r.status.awaits_payout())
            .map(|r| r.amount)
            .sum();
        Self {
            captured,
            refunded,
            net: captured - refunded,
            outstanding,
        }
    }
}

#[cfg(test)]
mod tests {
    //! The entries each money movement causes, and the invariants of docs/product/after-the-sale.md
    //! over random sequences of captures, partial refunds, payouts (refused or made), line
    //! cancellations and cancellations.

    use proptest::prelude::*;
    use time::macros::datetime;

    use super::*;
    use crate::ids::{HoldId, PaymentIntentId};
    use crate::order::tests::pending;
    use crate::order::{
        LineRefund, OrderKind, RefundRequest, RefundScope, RefundStatus, RefundTerms, RetrySchedule,
    };

    const NOW: OffsetDateTime = datetime!(2026-12-07 12:00 UTC);

    fn confirmed() -> (Order, Vec<LedgerEntry>) {
        let mut order = pending(OrderKind::Ticket);
        order
            .reserve(HoldId::new("h"), NOW + time::Duration::minutes(15), NOW)
            .expect("reserved");
        let events = order
            .confirm(&PaymentIntentId::new("pi-1"), NOW)
            .expect("confirmed");
        let mut ledger = Ledger::default();
        ledger.record(&order, &events);
        (order, ledger.entries)
    }

    /// Entries with ids drawn in sequence, as the use cases record them.
    #[derive(Default)]
    struct Ledger {
        entries: Vec<LedgerEntry>,
        next: u128,
    }

    impl Ledger {
        fn record(&mut self, order: &Order, events: &[OrderEvent]) {
            let next = &mut self.next;
            self.entries.extend(entries_for(order, events, NOW, || {
                *next += 1;
                LedgerEntryId::from_uuid(uuid::Uuid::from_u128(*next))
            }));
        }
    }

    fn terms(order: &Order, retained: i64) -> RefundTerms {
        RefundTerms {
            refundable_max: order.total().minor() - retained,
            retained,
        }
    }

    fn any_id() -> LedgerEntryId {
        LedgerEntryId::from_uuid(uuid::Uuid::nil())
    }

    fn kinds(entries: &[LedgerEntry]) -> Vec<(LedgerEntryKind, i64)> {
        entries.iter().map(|e| (e.kind, e.amount)).collect()
    }

    #[test]
    fn a_confirmation_captures_the_total_under_the_payment_intent() {
        let (order, entries) = confirmed();
        assert_eq!(
            kinds(&entries),
            [(LedgerEntryKind::PaymentCaptured, order.total().minor())]
        );
        assert_eq!(entries[0].reference.as_deref(), Some("pi-1"));
        assert_eq!(entries[0].currency, order.currency());
    }

    #[test]
    fn a_completed_refund_is_paid_once_and_a_failed_payout_moves_nothing() {
        let (mut order, mut entries) = confirmed();
        let refund = RefundId::from_uuid(uuid::Uuid::from_u128(9));
        let mut events = order
            .request_refund(
                RefundRequest {
                    id: refund,
                    scope: RefundScope::Amount(1_000),
                    reason: "one".into(),
                    requested_by: "buyer".into(),
                    auto_approve_below: i64::MAX,
                },
                terms(&order, 0),
                NOW,
            )
            .expect("requested");
        events.extend(
            order
                .fail_refund(refund, "declined", &RetrySchedule::default(), NOW)
                .expect("failed"),
        );
        assert!(entries_for(&order, &events, NOW, any_id).is_empty());
        let paid = order.complete_refund(refund, "re_1", NOW).expect("paid");
        entries.extend(entries_for(&order, &paid, NOW, any_id));
        assert_eq!(entries[1].kind, LedgerEntryKind::RefundPaid);
        assert_eq!(
            (
                entries[1].amount,
                entries[1].refund_id,
                entries[1].reference.as_deref()
            ),
            (1_000, Some(refund), Some("re_1"))
        );
        let balance = LedgerBalance::of(&order, &entries);
        assert_eq!(
            balance,
            LedgerBalance {
                captured: order.total().minor(),
                refunded: 1_000,
                net: order.total().minor() - 1_000,
                outstanding: 0,
            }
        );
    }

    #[test]
    fn a_paid_cancellation_records_what_its_terms_retain() {
        let (mut order, _) = confirmed();
        let refund = RefundId::from_uuid(uuid::Uuid::from_u128(9));
        let retained = 530;
        let events = order
            .cancel(
                "changed plans",
                Some((refund, terms(&order, retained), "buyer")),
                NOW,
            )
            .expect("cancelled");
        let entries = entries_for(&order, &events, NOW, any_id);
        assert_eq!(kinds(&entries), [(LedgerEntryKind::FeeRetained, retained)]);
        assert_eq!(entries[0].refund_id, Some(refund));
        assert_eq!(
            LedgerBalance::of(&order, &entries).outstanding,
            order.total().minor() - retained,
            "the cancellation's refund is owed until it is paid"
        );
    }

    #[test]
    fn a_late_payment_that_is_returned_was_captured_first() {
        let mut order = pending(OrderKind::Ticket);
        order
            .reserve(HoldId::new("h"), NOW + time::Duration::minutes(15), NOW)
            .expect("reserved");
        order
            .expire(NOW + time::Duration::hours(1))
            .expect("expired");
        let refund = RefundId::from_uuid(uuid::Uuid::from_u128(9));
        let events = order
            .refund_late_payment(refund, &PaymentIntentId::new("pi-1"), NOW)
            .expect("refund");
        let entries = entries_for(&order, &events, NOW, any_id);
        assert_eq!(
            kinds(&entries),
            [(LedgerEntryKind::PaymentCaptured, order.total().minor())]
        );
    }

    /// One step of a random history of a confirmed order.
    #[derive(Debug, Clone)]
    enum Step {
        /// Ask for this share (‰) of what is left, auto-approved or for review.
        Refund { permille: i64, auto: bool },
        /// Refund line `n`'s share.
        RefundLine(usize),
        /// Approve the `n`-th refund.
        Approve(usize),
        /// Pay the `n`-th refund out.
        Pay(usize),
        /// Refuse the `n`-th refund's payout.
        Refuse(usize),
        /// Cancel line `n`, refunding its share.
        CancelLine(usize),
        /// Cancel the order, keeping `retained`.
        Cancel { retained: i64 },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (1..=1_000i64, any::<bool>())
                .prop_map(|(permille, auto)| Step::Refund { permille, auto }),
            (0..3usize).prop_map(Step::RefundLine),
            (0..6usize).prop_map(Step::Approve),
            (0..6usize).prop_map(Step::Pay),
            (0..6usize).prop_map(Step::Refuse),
            (0..3usize).prop_map(Step::CancelLine),
            (0..2_000i64).prop_map(|retained| Step::Cancel { retained }),
        ]
    }

    fn apply(order: &mut Order, step: &Step, seq: u128) -> Option<Vec<OrderEvent>> {
        let id = RefundId::from_uuid(uuid::Uuid::from_u128(1_000 + seq));
        let nth = |order: &Order, n: usize| order.refunds().get(n).map(|r| r.id);
        match step {
            Step::Refund { permille, auto } => {
                let amount = order.remaining_refundable() * permille / 1_000;
                let terms = terms(order, 0);
                order
                    .request_refund(
                        RefundRequest {
                            id,
                            scope: RefundScope::Amount(amount),
                            reason: "part".into(),
                            requested_by: "buyer".into(),
                            auto_approve_below: if *auto { i64::MAX } else { 0 },
                        },
                        terms,
                        NOW,
                    )
                    .ok()
            }
            Step::RefundLine(n) => {
                let item = order.items().get(*n)?.id;
                let terms = terms(order, 0);
                order
                    .request_refund(
                        RefundRequest {
                            id,
                            scope: RefundScope::Items(vec![item]),
                            reason: "line".into(),
                            requested_by: "buyer".into(),
                            auto_approve_below: i64::MAX,
                        },
                        terms,
                        NOW,
                    )
                    .ok()
            }
            Step::Approve(n) => order.approve_refund(nth(order, *n)?, "admin", NOW).ok(),
            Step::Pay(n) => order
                .complete_refund(nth(order, *n)?, &format!("re_{n}"), NOW)
                .ok(),
            Step::Refuse(n) => order
                .fail_refund(nth(order, *n)?, "declined", &RetrySchedule::default(), NOW)
                .ok(),
            Step::CancelLine(n) => {
                let item = order.items().get(*n)?.id;
                let terms = terms(order, 0);
                order
                    .cancel_line(
                        item,
                        "not needed",
                        Some(LineRefund {
                            id,
                            terms,
                            requested_by: "buyer",
                        }),
                        NOW,
                    )
                    .ok()
            }
            Step::Cancel { retained } => {
                let terms = terms(order, (*retained).min(order.total().minor()));
                order.cancel("cancel", Some((id, terms, "buyer")), NOW).ok()
            }
        }
    }

    proptest! {
        #[test]
        fn the_ledger_of_any_history_reconciles_with_the_order(
            steps in proptest::collection::vec(step(), 0..24)
        ) {
            let (mut order, capture) = confirmed();
            let mut ledger = Ledger { entries: capture, next: 100 };
            for (seq, step) in steps.iter().enumerate() {
                let before = order.clone();
                match apply(&mut order, step, seq as u128) {
                    Some(events) => ledger.record(&order, &events),
                    None => order = before,
                }
            }
            let balance = LedgerBalance::of(&order, &ledger.entries);
            prop_assert!(balance.refunded <= balance.captured);
            prop_assert_eq!(balance.net, balance.captured - balance.refunded);
            prop_assert_eq!(balance.captured, order.total().minor());
            prop_assert_eq!(balance.refunded, order.completed_refunds());
            let captures = ledger
                .entries
                .iter()
                .filter(|e| e.kind == LedgerEntryKind::PaymentCaptured)
                .count();
            prop_assert_eq!(captures, 1, "one capture for a confirmed order");
            for refund in order.refunds() {
                let paid: Vec<_> = ledger
                    .entries
                    .iter()
                    .filter(|e| e.kind == LedgerEntryKind::RefundPaid && e.refund_id == Some(refund.id))
                    .collect();
                if refund.status == RefundStatus::Completed {
                    prop_assert_eq!(paid.len(), 1, "one entry per completed refund");
                    prop_assert_eq!(paid[0].amount, refund.amount);
                } else {
                    prop_assert!(paid.is_empty(), "no entry before the payout");
                }
            }
            prop_assert!(
                balance.outstanding + balance.refunded <= balance.captured,
                "what is owed and paid back never exceeds what was paid"
            );
        }
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in LedgerEntryKind::ALL {
            assert_eq!(kind.as_str().parse::<LedgerEntryKind>(), Ok(kind));
        }
        assert!("REFUND".parse::<LedgerEntryKind>().is_err());
    }
}
