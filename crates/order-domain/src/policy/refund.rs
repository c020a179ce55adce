//! Cancellation, refund and return rules (docs/product/reservations-and-refunds.md): who may
//! cancel, what a refund keeps back, when an admin must approve.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::money::{Rate, RoundingMode};
use crate::order::{Order, OrderKind, OrderStatus, RefundTerms};

/// Refund rules; [`Default`] gives the values of docs/product/reservations-and-refunds.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundPolicy {
    /// Customers may cancel paid ticket orders until this long before the event
    /// (`REFUND_CUTOFF_HOURS`, 24).
    pub cutoff: Duration,
    /// Share of the subtotal kept on a customer refund (2.5 %).
    pub retention_rate: Rate,
    /// Fixed amount kept on a customer refund, minor units (30).
    pub retention_fixed: i64,
    /// Rounding of the retained share.
    pub rounding: RoundingMode,
    /// Refunds below this are approved at once (`REFUND_AUTO_APPROVE_THRESHOLD_CENTS`, 50 000).
    pub auto_approve_below: i64,
    /// Goods may be returned this long after delivery (30 days).
    pub return_window: Duration,
    /// When the retry job pays a FAILED refund out again.
    #[serde(default)]
    pub retry: crate::order::RetrySchedule,
    /// How long the payout that follows an approval may take to record its result before the
    /// refund job takes the refund over and pays it (with the same idempotency key)
    /// (`REFUND_PAYOUT_LEASE_SECONDS`, 300).
    #[serde(default = "default_payout_lease")]
    pub payout_lease: Duration,
}

fn default_payout_lease() -> Duration {
    Duration::minutes(5)
}

impl Default for RefundPolicy {
    fn default() -> Self {
        Self {
            cutoff: Duration::hours(24),
            retention_rate: Rate::from_basis_points(250),
            retention_fixed: 30,
            rounding: RoundingMode::HalfUp,
            auto_approve_below: 50_000,
            return_window: Duration::days(30),
            retry: crate::order::RetrySchedule::default(),
            payout_lease: default_payout_lease(),
        }
    }
}

/// Why the policy refuses a cancellation or refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RefundDenied {
    /// Too close to the event.
    #[error("refunds close {cutoff_hours} hours before the event starts ({deadline})")]
    CutoffPassed {
        /// The cutoff in hours.
        cutoff_hours: i64,
        /// The last moment a refund was possible.
        deadline: OffsetDateTime,
    },
}

/// Why an order is refunded; decides what is kept back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundReason {
    /// The customer asked (cancellation or refund request).
    Customer,
    /// An admin decided; same terms as the customer's, without the cutoff.
    Admin,
    /// The organiser cancelled the event: everything back.
    EventCancelled,
    /// Goods came back: everything but shipping.
    Return,
    /// A paid goods order was cancelled before it shipped: everything back.
    GoodsCancelled,
}

impl RefundPolicy {
    /// What the customer-initiated refund of a ticket order keeps: R(subtotal × 2.5 %) + 30,
    /// at most the total.
    pub fn retention(&self, order: &Order) -> i64 {
        let subtotal = order.pricing().subtotal().minor();
        let share = self
            .retention_rate
            .apply(subtotal, self.rounding)
            .unwrap_or(subtotal);
        share
            .saturating_add(self.retention_fixed)
            .clamp(0, order.total().minor())
    }

    /// The refund terms for `order` now.
    ///
    /// # Errors
    /// [`RefundDenied::CutoffPassed`] for a customer refund of a ticket order within the cutoff
    /// (or after the event started).
    pub fn terms(
        &self,
        order: &Order,
        reason: RefundReason,
        event_starts_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<RefundTerms, RefundDenied> {
        let total = order.total().minor();
        let retained = match (order.kind(), reason) {
            (_, RefundReason::EventCancelled | RefundReason::GoodsCancelled) => 0,
            (_, RefundReason::Return) => order.pricing().shipping().minor(),
            (OrderKind::Ticket, RefundReason::Customer) => {
                if let Some(starts_at) = event_starts_at {
                    let deadline = starts_at - self.cutoff;
                    if now >= deadline {
                        return Err(RefundDenied::CutoffPassed {
                            cutoff_hours: self.cutoff.whole_hours(),
                            deadline,
                        });
                    }
                }
                self.retention(order)
            }
            (OrderKind::Ticket, RefundReason::Admin) => self.retention(order),
            (OrderKind::Goods, RefundReason::Customer | RefundReason::Admin) => 0,
        };
        let retained = retained.clamp(0, total);
        Ok(RefundTerms {
            refundable_max: total - retained,
            retained,
        })
    }

    /// The terms of cancelling `order`: `None` when it is unpaid (nothing to refund).
    ///
    /// # Errors
    /// [`RefundDenied`] when a customer is past the ticket cutoff.
    pub fn cancellation_terms(
        &self,
        order: &Order,
        by_admin: bool,
        event_starts_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<Option<RefundTerms>, RefundDenied> {
        if order.status().is_unpaid() {
            return Ok(None);
        }
        let reason = match (order.kind(), by_admin) {
            (OrderKind::Goods, _) => RefundReason::GoodsCancelled,
            (OrderKind::Ticket, true) => RefundReason::Admin,
            (OrderKind::Ticket, false) => RefundReason::Customer,
        };
        self.terms(order, reason, event_starts_at, now).map(Some)
    }

    /// Whether the goods order may still be returned.
    pub fn return_open(&self, order: &Order, now: OffsetDateTime) -> bool {
        match (order.status(), order.milestones().delivered_at) {
            (OrderStatus::Shipped, _) => true,
            (OrderStatus::Delivered, Some(at)) => now <= at + self.return_window,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::order::tests::pending;

    #[test]
    fn customer_ticket_refunds_keep_two_and_a_half_percent_plus_thirty() {
        let order = pending(OrderKind::Ticket);
        let policy = RefundPolicy::default();
        let now = datetime!(2026-11-22 12:00 UTC);
        let event = Some(now + Duration::hours(25));
        let terms = policy
            .terms(&order, RefundReason::Customer, event, now)
            .expect("before cutoff");
        // subtotal 22 500 → 562.5 rounds half up to 563, + 30.
        assert_eq!(terms.retained, 593);
        assert_eq!(terms.refundable_max, order.total().minor() - 593);
    }

    #[test]
    fn the_cutoff_closes_customer_refunds_but_not_event_cancellations() {
        let order = pending(OrderKind::Ticket);
        let policy = RefundPolicy::default();
        let now = datetime!(2026-11-22 12:00 UTC);
        let event = Some(now + Duration::hours(24));
        assert!(matches!(
            policy.terms(&order, RefundReason::Customer, event, now),
            Err(RefundDenied::CutoffPassed {
                cutoff_hours: 24,
                ..
            })
        ));
        let full = policy
            .terms(&order, RefundReason::EventCancelled, event, now)
            .expect("full");
        assert_eq!(full.refundable_max, order.total().minor());
        assert_eq!(full.retained, 0);
    }

    #[test]
    fn unpaid_orders_cancel_without_refund_terms() {
        let order = pending(OrderKind::Ticket);
        let policy = RefundPolicy::default();
        let now = datetime!(2026-11-22 12:00 UTC);
        assert_eq!(
            policy.cancellation_terms(&order, false, Some(now), now),
            Ok(None)
        );
    }
}
