//! Pricing: the fee formula of docs/product/pricing.md as pure functions over integer minor units.
//!
//! ```text
//! subtotal       = Σ unit_price × quantity
//! discount       = min(subtotal, promotions + promo code)
//! net            = subtotal − discount
//! platform_fee   = R(net × platform_rate)
//! processing_fee = R((net + platform_fee) × processing_rate) + processing_fixed
//! shipping       = price of the shipping method (0 for tickets)
//! tax            = R((net + platform_fee + processing_fee [+ shipping]) × tax_rate)
//! total          = net + platform_fee + processing_fee + shipping + tax
//! ```
//!
//! [`price_order`] computes the order's [`PriceBreakdown`] and one breakdown per line; every
//! order-level component is split over the lines by [`allocation::allocate`], so the lines add up
//! to the order exactly. Goods-specific inputs (promotions, promo codes, tax table, shipping
//! methods) live in [`goods`].

pub mod allocation;
pub mod goods;

use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money, MoneyError, Rate, RoundingMode};

/// The rates of one fee schedule (docs/product/pricing.md); configurable per deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeSchedule {
    /// Share of the net amount kept by the platform.
    pub platform_rate: Rate,
    /// Card processing rate, applied to net + platform fee.
    pub processing_rate: Rate,
    /// Fixed processing fee in minor units, charged once per order with something to charge.
    pub processing_fixed: i64,
    /// Tax rate used when no tax table entry applies.
    pub default_tax_rate: Rate,
    /// Whether shipping is part of the taxable base.
    pub tax_shipping: bool,
    /// How fractional minor units are resolved.
    pub rounding: RoundingMode,
}

impl FeeSchedule {
    /// The ticketing API's ticket schedule: 5 % platform, 2.9 % + 30 processing, 8 % tax,
    /// `half_up`.
    pub fn tickets() -> Self {
        Self {
            platform_rate: Rate::from_basis_points(500),
            processing_rate: Rate::from_basis_points(290),
            processing_fixed: 30,
            default_tax_rate: Rate::from_basis_points(800),
            tax_shipping: false,
            rounding: RoundingMode::HalfUp,
        }
    }

    /// The shop's goods schedule: no platform or processing fee; tax by destination (the tax
    /// table supplies the rate, 8 % when no entry matches); shipping taxed.
    pub fn goods() -> Self {
        Self {
            platform_rate: Rate::ZERO,
            processing_rate: Rate::ZERO,
            processing_fixed: 0,
            default_tax_rate: Rate::from_basis_points(800),
            tax_shipping: true,
            rounding: RoundingMode::HalfUp,
        }
    }
}

/// The components of a price, for a whole order or for one of its lines.
///
/// Invariant: every component is ≥ 0, `discount ≤ subtotal`, and
/// `total = subtotal − discount + platform_fee + processing_fee + shipping + tax`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceBreakdown {
    currency: Currency,
    subtotal: i64,
    discount: i64,
    platform_fee: i64,
    processing_fee: i64,
    shipping: i64,
    tax: i64,
    total: i64,
}

/// Components that break the [`PriceBreakdown`] invariant (e.g. a corrupted stored row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidBreakdown {
    /// A component is negative, or the discount exceeds the subtotal.
    #[error("price components must be non-negative and the discount at most the subtotal")]
    OutOfRange,
    /// The total is not the sum of the components.
    #[error("total {stated} is not the sum of the components ({computed})")]
    TotalMismatch {
        /// The total given.
        stated: i64,
        /// The sum of the components.
        computed: i64,
    },
    /// The sum overflowed.
    #[error("price components overflow")]
    Overflow,
}

/// The order-level inputs of one breakdown, before the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Components {
    /// Σ unit price × quantity.
    pub subtotal: i64,
    /// Promotions and promo code.
    pub discount: i64,
    /// Platform fee.
    pub platform_fee: i64,
    /// Processing fee.
    pub processing_fee: i64,
    /// Shipping.
    pub shipping: i64,
    /// Tax.
    pub tax: i64,
}

impl PriceBreakdown {
    /// A breakdown from stored components, checked against the invariant.
    ///
    /// # Errors
    /// [`InvalidBreakdown`] when a component is out of range or `total` is not their sum.
    pub fn from_parts(
        currency: Currency,
        parts: Components,
        total: i64,
    ) -> Result<Self, InvalidBreakdown> {
        let breakdown = Self::from_components(currency, parts)?;
        if breakdown.total == total {
            Ok(breakdown)
        } else {
            Err(InvalidBreakdown::TotalMismatch {
                stated: total,
                computed: breakdown.total,
            })
        }
    }

    /// A breakdown whose total is computed from `parts`.
    ///
    /// # Errors
    /// [`InvalidBreakdown`] when a component is out of range or the sum overflows.
    pub fn from_components(
        currency: Currency,
        parts: Components,
    ) -> Result<Self, InvalidBreakdown> {
        let Components {
            subtotal,
            discount,
            platform_fee,
            processing_fee,
            shipping,
            tax,
        } = parts;
        let all = [
            subtotal,
            discount,
            platform_fee,
            processing_fee,
            shipping,
            tax,
        ];
        if all.iter().any(|c| *c < 0) || discount > subtotal {
            return Err(InvalidBreakdown::OutOfRange);
        }
        let total = [platform_fee, processing_fee, shipping, tax]
            .into_iter()
            .try_fold(subtotal - discount, i64::checked_add)
            .ok_or(InvalidBreakdown::Overflow)?;
        Ok(Self {
            currency,
            subtotal,
            discount,
            platform_fee,
            processing_fee,
            shipping,
            tax,
            total,
        })
    }

    /// All zero in `currency`.
    pub fn zero(currency: Currency) -> Self {
        Self {
            currency,
            subtotal: 0,
            discount: 0,
            platform_fee: 0,
            processing_fee: 0,
            shipping: 0,
            tax: 0,
            total: 0,
        }
    }

    /// The currency of every component.
    pub fn currency(&self) -> Currency {
        self.currency
    }
    /// Σ unit price × quantity.
    pub fn subtotal(&self) -> Money {
        Money::new(self.subtotal, self.currency)
    }
    /// Promotions and promo code, at most the subtotal.
    pub fn discount(&self) -> Money {
        Money::new(self.discount, self.currency)
    }
    /// Subtotal − discount.
    pub fn net(&self) -> Money {
        Money::new(self.subtotal - self.discount, self.currency)
    }
    /// Platform fee.
    pub fn platform_fee(&self) -> Money {
        Money::new(self.platform_fee, self.currency)
    }
    /// Processing fee, fixed part included.
    pub fn processing_fee(&self) -> Money {
        Money::new(self.processing_fee, self.currency)
    }
    /// Shipping.
    pub fn shipping(&self) -> Money {
        Money::new(self.shipping, self.currency)
    }
    /// Tax.
    pub fn tax(&self) -> Money {
        Money::new(self.tax, self.currency)
    }
    /// What the customer pays.
    pub fn total(&self) -> Money {
        Money::new(self.total, self.currency)
    }
    /// The components as plain minor units.
    pub fn components(&self) -> Components {
        Components {
            subtotal: self.subtotal,
            discount: self.discount,
            platform_fee: self.platform_fee,
            processing_fee: self.processing_fee,
            shipping: self.shipping,
            tax: self.tax,
        }
    }
}

/// One line to price: a unit price in minor units and a quantity — all the fee formula needs,
/// so pricing stays a pure function with no ids or products in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PricingLine {
    /// Price of one unit in minor units.
    pub unit_price: i64,
    /// Units on the line.
    pub quantity: u32,
}

/// Everything [`price_order`] needs besides the schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricingRequest {
    /// Currency of every amount.
    pub currency: Currency,
    /// The lines, in order.
    pub lines: Vec<PricingLine>,
    /// Requested discount in minor units; capped at the subtotal.
    pub discount: i64,
    /// Shipping in minor units (0 for tickets).
    pub shipping: i64,
    /// Tax rate for this order; `None` uses the schedule's default.
    pub tax_rate: Option<Rate>,
}

/// The order's breakdown and one per line; the lines add up to the order component by component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedOrder {
    /// The whole order.
    pub order: PriceBreakdown,
    /// One per requested line, in the same order.
    pub lines: Vec<PriceBreakdown>,
}

/// Why a price could not be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    /// There is nothing to price.
    #[error("an order needs at least one line")]
    NoLines,
    /// A line has a negative unit price.
    #[error("line {line}: unit price must not be negative")]
    NegativeAmount {
        /// Index of the offending line.
        line: usize,
    },
    /// A negative order-level amount was requested.
    #[error("{field} must not be negative")]
    NegativeOrderAmount {
        /// `discount` or `shipping`.
        field: &'static str,
    },
    /// Amounts overflowed an `i64`.
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// Prices an order with `schedule` (docs/product/pricing.md).
///
/// # Errors
/// [`PricingError::NoLines`], [`PricingError::NegativeAmount`] (a line),
/// [`PricingError::NegativeOrderAmount`] (discount or shipping) or an overflow.
pub fn price_order(
    schedule: &FeeSchedule,
    request: &PricingRequest,
) -> Result<PricedOrder, PricingError> {
    if request.lines.is_empty() {
        return Err(PricingError::NoLines);
    }
    if request.discount < 0 {
        return Err(PricingError::NegativeOrderAmount { field: "discount" });
    }
    if request.shipping < 0 {
        return Err(PricingError::NegativeOrderAmount { field: "shipping" });
    }
    let mode = schedule.rounding;
    let line_subtotals = request
        .lines
        .iter()
        .enumerate()
        .map(|(line, l)| {
            if l.unit_price < 0 {
                return Err(PricingError::NegativeAmount { line });
            }
            l.unit_price
                .checked_mul(i64::from(l.quantity))
                .ok_or(PricingError::Money(MoneyError::Overflow))
        })
        .collect::<Result<Vec<i64>, PricingError>>()?;
    let subtotal = checked_sum(&line_subtotals)?;
    let discount = request.discount.min(subtotal);
    let net = subtotal - discount;
    let platform_fee = schedule.platform_rate.apply(net, mode)?;
    let chargeable = add(net, platform_fee)?;
    // The fixed processing fee pays for a card charge; a fully discounted order has none.
    let processing_fixed = if chargeable > 0 {
        schedule.processing_fixed
    } else {
        0
    };
    let processing_fee = add(
        schedule.processing_rate.apply(chargeable, mode)?,
        processing_fixed,
    )?;
    let shipping = request.shipping;
    let mut taxable = add(chargeable, processing_fee)?;
    if schedule.tax_shipping {
        taxable = add(taxable, shipping)?;
    }
    let tax_rate = request.tax_rate.unwrap_or(schedule.default_tax_rate);
    let tax = tax_rate.apply(taxable, mode)?;
    let order = PriceBreakdown::from_components(
        request.currency,
        Components {
            subtotal,
            discount,
            platform_fee,
            processing_fee,
            shipping,
            tax,
        },
    )
    .map_err(|_| PricingError::Money(MoneyError::Overflow))?;

    // Each component is spread over the lines by the base it was computed from.
    let line_discounts = allocation::allocate(discount, &line_subtotals);
    let line_nets: Vec<i64> = line_subtotals
        .iter()
        .zip(&line_discounts)
        .map(|(s, d)| s - d)
        .collect();
    let line_platform = allocation::allocate(platform_fee, &line_nets);
    let line_chargeable: Vec<i64> = line_nets
        .iter()
        .zip(&line_platform)
        .map(|(n, p)| n + p)
        .collect();
    let line_processing = allocation::allocate(processing_fee, &line_chargeable);
    let line_shipping = allocation::allocate(shipping, &line_nets);
    let line_taxable: Vec<i64> = (0..line_nets.len())
        .map(|i| {
            let base = line_chargeable[i] + line_processing[i];
            if schedule.tax_shipping {
                base + line_shipping[i]
            } else {
                base
            }
        })
        .collect();
    let line_tax = allocation::allocate(tax, &line_taxable);
    let lines = (0..line_subtotals.len())
        .map(|i| {
            PriceBreakdown::from_components(
                request.currency,
                Components {
                    subtotal: line_subtotals[i],
                    discount: line_discounts[i],
                    platform_fee: line_platform[i],
                    processing_fee: line_processing[i],
                    shipping: line_shipping[i],
                    tax: line_tax[i],
                },
            )
            .map_err(|_| PricingError::Money(MoneyError::Overflow))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PricedOrder { order, lines })
}

fn add(a: i64, b: i64) -> Result<i64, PricingError> {
    a.checked_add(b)
        .ok_or(PricingError::Money(MoneyError::Overflow))
}

fn checked_sum(values: &[i64]) -> Result<i64, PricingError> {
    values.iter().try_fold(0i64, |acc, v| add(acc, *v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_line(subtotal: i64) -> PricingRequest {
        PricingRequest {
            currency: Currency::Usd,
            lines: vec![PricingLine {
                unit_price: subtotal / 2,
                quantity: 2,
            }],
            discount: 0,
            shipping: 0,
            tax_rate: None,
        }
    }

    #[test]
    fn negative_order_amounts_are_named_errors_not_a_line() {
        let discount = PricingRequest {
            discount: -1,
            ..one_line(20_000)
        };
        assert_eq!(
            price_order(&FeeSchedule::tickets(), &discount),
            Err(PricingError::NegativeOrderAmount { field: "discount" })
        );
        let shipping = PricingRequest {
            shipping: -1,
            ..one_line(20_000)
        };
        assert_eq!(
            price_order(&FeeSchedule::tickets(), &shipping),
            Err(PricingError::NegativeOrderAmount { field: "shipping" })
        );
    }

    #[test]
    fn the_ticket_schedule_reproduces_the_spec_worked_example() {
        let priced = price_order(&FeeSchedule::tickets(), &one_line(20000)).expect("priced");
        let c = priced.order.components();
        assert_eq!(
            (c.subtotal, c.platform_fee, c.processing_fee, c.tax),
            (20000, 1000, 639, 1731)
        );
        assert_eq!(priced.order.total().minor(), 23370);
    }

    #[test]
    fn floor_rounding_without_the_fixed_fee_reproduces_the_seed_example() {
        let schedule = FeeSchedule {
            processing_fixed: 0,
            rounding: RoundingMode::Floor,
            ..FeeSchedule::tickets()
        };
        let priced = price_order(&schedule, &one_line(20000)).expect("priced");
        let c = priced.order.components();
        assert_eq!((c.platform_fee, c.processing_fee, c.tax), (1000, 609, 1728));
        assert_eq!(priced.order.total().minor(), 23337);
    }

    #[test]
    fn half_even_rounds_a_half_cent_of_tax_to_even() {
        // net 1000, no fees, tax 0.25 % → 2.5 cents.
        let schedule = FeeSchedule {
            platform_rate: Rate::ZERO,
            processing_rate: Rate::ZERO,
            processing_fixed: 0,
            default_tax_rate: Rate::from_basis_points(25),
            tax_shipping: false,
            rounding: RoundingMode::HalfEven,
        };
        let priced = price_order(&schedule, &one_line(1000)).expect("priced");
        assert_eq!(priced.order.tax().minor(), 2);
        let half_up = FeeSchedule {
            rounding: RoundingMode::HalfUp,
            ..schedule
        };
        assert_eq!(
            price_order(&half_up, &one_line(1000))
                .expect("priced")
                .order
                .tax()
                .minor(),
            3
        );
    }

    #[test]
    fn the_discount_is_capped_at_the_subtotal_and_a_free_order_pays_no_fixed_fee() {
        let mut request = one_line(1000);
        request.discount = 5000;
        let priced = price_order(&FeeSchedule::tickets(), &request).expect("priced");
        assert_eq!(priced.order.discount().minor(), 1000);
        assert_eq!(priced.order.total().minor(), 0);
    }

    #[test]
    fn lines_add_up_to_the_order_component_by_component() {
        let request = PricingRequest {
            currency: Currency::Eur,
            lines: vec![
                PricingLine {
                    unit_price: 3333,
                    quantity: 1,
                },
                PricingLine {
                    unit_price: 1001,
                    quantity: 3,
                },
                PricingLine {
                    unit_price: 7,
                    quantity: 10,
                },
            ],
            discount: 999,
            shipping: 595,
            tax_rate: Some(Rate::from_ppm(88_750)),
        };
        let priced = price_order(&FeeSchedule::goods(), &request).expect("priced");
        let sum = |f: fn(&PriceBreakdown) -> Money| {
            priced.lines.iter().map(|l| f(l).minor()).sum::<i64>()
        };
        assert_eq!(
            sum(PriceBreakdown::subtotal),
            priced.order.subtotal().minor()
        );
        assert_eq!(sum(PriceBreakdown::discount), 999);
        assert_eq!(sum(PriceBreakdown::shipping), 595);
        assert_eq!(sum(PriceBreakdown::tax), priced.order.tax().minor());
        assert_eq!(sum(PriceBreakdown::total), priced.order.total().minor());
    }

    #[test]
    fn overflowing_prices_are_errors() {
        let request = PricingRequest {
            currency: Currency::Usd,
            lines: vec![PricingLine {
                unit_price: i64::MAX / 2,
                quantity: 3,
            }],
            discount: 0,
            shipping: 0,
            tax_rate: None,
        };
        assert_eq!(
            price_order(&FeeSchedule::tickets(), &request),
            Err(PricingError::Money(MoneyError::Overflow))
        );
        let request = PricingRequest {
            lines: vec![PricingLine {
                unit_price: i64::MAX - 10,
                quantity: 1,
            }],
            ..request
        };
        assert!(price_order(&FeeSchedule::tickets(), &request).is_err());
    }

    #[test]
    fn stored_breakdowns_are_checked() {
        let parts = Components {
            subtotal: 100,
            discount: 10,
            tax: 5,
            ..Components::default()
        };
        assert!(PriceBreakdown::from_parts(Currency::Usd, parts, 95).is_ok());
        assert_eq!(
            PriceBreakdown::from_parts(Currency::Usd, parts, 96),
            Err(InvalidBreakdown::TotalMismatch {
                stated: 96,
                computed: 95
            })
        );
        let too_much_discount = Components {
            discount: 101,
            ..parts
        };
        assert_eq!(
            PriceBreakdown::from_components(Currency::Usd, too_much_discount),
            Err(InvalidBreakdown::OutOfRange)
        );
    }
}
