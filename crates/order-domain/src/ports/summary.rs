//! the shop's list `summary`, the figures a list shows above its pages.

use crate::money::Money;

/// the shop's list `summary`: how many orders match and what the paid ones came to.
///
/// Computed over the rows the capped count walks (every match up to
/// [`EXACT_TOTAL_UP_TO`](super::EXACT_TOTAL_UP_TO); past it, the newest `EXACT_TOTAL_UP_TO + 1`,
/// the last of which only tells that the count is capped), so it costs the same at any size
/// (decision 0045).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderSummary {
    /// Matching orders (as [`OrderPage::total`](super::OrderPage::total)).
    pub orders: u64,
    /// Σ total of the matching orders that were paid and not refunded in full, in the currency of
    /// the newest matching order (orders in another currency are left out); `None` when nothing
    /// matches.
    pub spent: Option<Money>,
    /// `spent` divided by the matching orders of its currency, rounded half up.
    pub average: Option<Money>,
}

impl OrderSummary {
    /// The summary of no orders.
    pub const EMPTY: Self = Self {
        orders: 0,
        spent: None,
        average: None,
    };

    /// The summary of `orders` matches of which `in_currency` are in `spent`'s currency.
    pub fn new(orders: u64, in_currency: u64, spent: Option<Money>) -> Self {
        let average = spent.map(|spent| {
            let count = i128::from(in_currency.max(1));
            let minor = (i128::from(spent.minor()) * 2 + count) / (count * 2);
            Money::new(i64::try_from(minor).unwrap_or(i64::MAX), spent.currency())
        });
        Self {
            orders,
            spent,
            average,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency::Usd;

    #[test]
    fn the_average_is_the_spent_amount_per_order_of_its_currency_rounded_half_up() {
        let summary = OrderSummary::new(4, 3, Some(Money::new(1001, Usd)));
        assert_eq!(summary.orders, 4);
        assert_eq!(summary.average, Some(Money::new(334, Usd)));
        let half = OrderSummary::new(2, 2, Some(Money::new(3, Usd)));
        assert_eq!(half.average, Some(Money::new(2, Usd)));
    }

    #[test]
    fn nothing_matching_has_no_amounts() {
        assert_eq!(OrderSummary::new(0, 0, None), OrderSummary::EMPTY);
    }
}
