//! The goods schedule's inputs (docs/product/pricing.md): promotions, promo codes, the tax table
//! and shipping methods, and [`price_goods`], which turns them into a [`PricingRequest`] and prices
//! it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime, Weekday};

use super::{FeeSchedule, PricedOrder, PricingError, PricingLine, PricingRequest, price_order};
use crate::money::{Currency, MoneyError, Rate, RoundingMode};

/// How a promotion or promo code reduces the subtotal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum DiscountRule {
    /// A share of the subtotal, rounded with the schedule's mode.
    Percentage(Rate),
    /// A fixed amount in minor units, at most the subtotal.
    Fixed(i64),
}

impl DiscountRule {
    /// The discount this rule gives on `subtotal`, never more than `subtotal` and never negative.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`] when the rate computation overflows.
    pub fn amount(self, subtotal: i64, mode: RoundingMode) -> Result<i64, MoneyError> {
        let raw = match self {
            Self::Percentage(rate) => rate.apply(subtotal, mode)?,
            Self::Fixed(amount) => amount,
        };
        Ok(raw.clamp(0, subtotal.max(0)))
    }
}

/// An automatic promotion: applies to every order whose subtotal reaches `min_subtotal` while it
/// runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Promotion {
    /// Shown to the shopper next to the discount.
    pub name: String,
    /// The discount it gives.
    pub rule: DiscountRule,
    /// Smallest subtotal (minor units) it applies to.
    pub min_subtotal: i64,
    /// First instant it applies; `None` for always.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub starts_at: Option<OffsetDateTime>,
    /// First instant it no longer applies; `None` for never.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub ends_at: Option<OffsetDateTime>,
}

impl Promotion {
    /// Whether the promotion applies to an order of `subtotal` placed at `now`.
    pub fn applies(&self, subtotal: i64, now: OffsetDateTime) -> bool {
        subtotal >= self.min_subtotal
            && self.starts_at.is_none_or(|s| now >= s)
            && self.ends_at.is_none_or(|e| now < e)
    }
}

/// A code a shopper types in, with its validity window and usage limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromoCode {
    /// The code as typed (matching is case-insensitive; stored upper-case).
    pub code: String,
    /// The discount it gives.
    pub rule: DiscountRule,
    /// Smallest subtotal (minor units) it applies to.
    pub min_subtotal: i64,
    /// First instant it is valid.
    #[serde(with = "time::serde::rfc3339")]
    pub valid_from: OffsetDateTime,
    /// First instant it is no longer valid; `None` for never.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub valid_until: Option<OffsetDateTime>,
    /// Redemptions allowed over all users; `None` for unlimited.
    pub usage_limit: Option<u32>,
    /// Redemptions so far over all users.
    pub times_used: u32,
    /// Redemptions allowed per user; `None` for unlimited.
    pub per_user_limit: Option<u32>,
}

/// Why a promo code cannot be used on this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PromoCodeError {
    /// The code does not exist.
    #[error("the promo code does not exist")]
    Unknown,
    /// Before `valid_from`.
    #[error("the promo code is not valid yet")]
    NotYetValid,
    /// At or after `valid_until`.
    #[error("the promo code has expired")]
    Expired,
    /// All redemptions are used.
    #[error("the promo code has been used up")]
    UsageLimitReached,
    /// This user has used it as often as allowed.
    #[error("you have already used this promo code as often as allowed")]
    PerUserLimitReached,
    /// The subtotal is below the code's minimum.
    #[error("the promo code needs a subtotal of at least {minimum} minor units")]
    MinimumNotMet {
        /// The code's minimum subtotal.
        minimum: i64,
    },
}

impl PromoCode {
    /// Checks that the code may be redeemed now by a user who has used it `uses_by_user` times.
    ///
    /// # Errors
    /// The first [`PromoCodeError`] that applies.
    pub fn check(
        &self,
        subtotal: i64,
        now: OffsetDateTime,
        uses_by_user: u32,
    ) -> Result<(), PromoCodeError> {
        if now < self.valid_from {
            return Err(PromoCodeError::NotYetValid);
        }
        if self.valid_until.is_some_and(|until| now >= until) {
            return Err(PromoCodeError::Expired);
        }
        if self
            .usage_limit
            .is_some_and(|limit| self.times_used >= limit)
        {
            return Err(PromoCodeError::UsageLimitReached);
        }
        if self
            .per_user_limit
            .is_some_and(|limit| uses_by_user >= limit)
        {
            return Err(PromoCodeError::PerUserLimitReached);
        }
        if subtotal < self.min_subtotal {
            return Err(PromoCodeError::MinimumNotMet {
                minimum: self.min_subtotal,
            });
        }
        Ok(())
    }

    /// The code normalised for lookups.
    pub fn normalize(code: &str) -> String {
        code.trim().to_ascii_uppercase()
    }
}

/// Tax rates by destination: an exact country + region entry wins, then the country alone. A
/// destination with neither is taxed at the fee schedule's `default_tax_rate` ([`price_goods`]),
/// never at zero by omission.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaxTable {
    // Key: (upper-case ISO country, upper-case region or "" for the whole country).
    rates: BTreeMap<(String, String), Rate>,
}

impl TaxTable {
    /// A table without entries: every destination pays the schedule's default rate.
    pub fn new() -> Self {
        Self::default()
    }

    /// The default table (decision 0041): combined state and local rates of the US states the
    /// shop's examples ship to (California 8.715 %, New York 8.875 %, Texas 8.25 %) and the
    /// standard VAT of the United Kingdom, Germany and France.
    pub fn standard() -> Self {
        Self::new()
            .with_rate("US", Some("CA"), Rate::from_ppm(87_150))
            .with_rate("US", Some("NY"), Rate::from_ppm(88_750))
            .with_rate("US", Some("TX"), Rate::from_ppm(82_500))
            .with_rate("GB", None, Rate::from_basis_points(2_000))
            .with_rate("DE", None, Rate::from_basis_points(1_900))
            .with_rate("FR", None, Rate::from_basis_points(2_000))
    }

    /// Adds (or replaces) the rate of `country`, or of one `region` of it.
    #[must_use]
    pub fn with_rate(mut self, country: &str, region: Option<&str>, rate: Rate) -> Self {
        let key = (
            country.trim().to_ascii_uppercase(),
            region.unwrap_or("").trim().to_ascii_uppercase(),
        );
        self.rates.insert(key, rate);
        self
    }

    /// The rate the table names for a destination, if any.
    pub fn rate_for(&self, country: &str, region: Option<&str>) -> Option<Rate> {
        let country = country.trim().to_ascii_uppercase();
        let region = region.unwrap_or("").trim().to_ascii_uppercase();
        self.rates
            .get(&(country.clone(), region))
            .or_else(|| self.rates.get(&(country, String::new())))
            .copied()
    }
}

/// A way to ship an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingMethod {
    /// Stable code the API uses (`standard`, `express`, `overnight`).
    pub code: String,
    /// Price in minor units.
    pub price: i64,
    /// Business days from dispatch to delivery.
    pub transit_days: u16,
    /// Orders whose net amount reaches this ship free; `None` for never.
    pub free_over: Option<i64>,
}

impl ShippingMethod {
    /// The three methods the shop names, with our default prices (decision 0006):
    ///
    /// | code | price | transit days | free from a net amount of |
    /// |---|---|---|---|
    /// | `standard` | 599 | 5 | 5 000 |
    /// | `express` | 1 499 | 2 | never |
    /// | `overnight` | 2 999 | 1 | never |
    pub fn defaults() -> Vec<ShippingMethod> {
        vec![
            ShippingMethod {
                code: "standard".into(),
                price: 599,
                transit_days: 5,
                free_over: Some(5000),
            },
            ShippingMethod {
                code: "express".into(),
                price: 1499,
                transit_days: 2,
                free_over: None,
            },
            ShippingMethod {
                code: "overnight".into(),
                price: 2999,
                transit_days: 1,
                free_over: None,
            },
        ]
    }

    /// What shipping costs for an order whose net amount (after discounts) is `net`.
    pub fn price_for(&self, net: i64) -> i64 {
        match self.free_over {
            Some(threshold) if net >= threshold => 0,
            _ => self.price,
        }
    }

    /// The delivery date when dispatched on `dispatch`: `transit_days` business days later
    /// (Saturdays and Sundays do not count).
    pub fn estimated_delivery(&self, dispatch: Date) -> Date {
        let mut date = dispatch;
        let mut remaining = self.transit_days;
        while remaining > 0 {
            date = date.saturating_add(Duration::days(1));
            if !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) {
                remaining -= 1;
            }
        }
        date
    }
}

/// A destination for tax purposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaxDestination<'a> {
    /// ISO 3166-1 alpha-2 country.
    pub country: &'a str,
    /// State, province or region code, when the country has them.
    pub region: Option<&'a str>,
}

/// A promo code to apply, with how often the ordering user has already used it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PromoCodeUse<'a> {
    /// The code's definition.
    pub code: &'a PromoCode,
    /// The ordering user's past redemptions.
    pub uses_by_user: u32,
}

/// Everything [`price_goods`] needs for one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoodsPricingInput<'a> {
    /// Currency of every amount.
    pub currency: Currency,
    /// Lines with the catalog's current prices.
    pub lines: Vec<PricingLine>,
    /// Running promotions; those that do not apply are skipped.
    pub promotions: &'a [Promotion],
    /// The shopper's promo code, when one was entered.
    pub promo_code: Option<PromoCodeUse<'a>>,
    /// The chosen shipping method.
    pub shipping: &'a ShippingMethod,
    /// Where the order ships to.
    pub destination: TaxDestination<'a>,
    /// When the order is placed.
    pub now: OffsetDateTime,
}

/// A priced goods order and what went into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoodsQuote {
    /// Order and line breakdowns.
    pub priced: PricedOrder,
    /// Names of the promotions that applied.
    pub applied_promotions: Vec<String>,
    /// The promo code that applied, normalised.
    pub promo_code: Option<String>,
    /// Delivery estimate when dispatched on the order date.
    pub estimated_delivery: Date,
}

/// Why a goods order could not be priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GoodsPricingError {
    /// The fee formula failed.
    #[error(transparent)]
    Pricing(#[from] PricingError),
    /// The promo code cannot be used.
    #[error(transparent)]
    PromoCode(#[from] PromoCodeError),
}

impl From<MoneyError> for GoodsPricingError {
    fn from(error: MoneyError) -> Self {
        Self::Pricing(PricingError::Money(error))
    }
}

/// Prices a goods order: promotions, then the promo code, capped together at the subtotal; free
/// shipping judged on the net amount; tax by destination (docs/product/pricing.md).
///
/// # Errors
/// [`GoodsPricingError`] when the promo code is not usable or the formula fails.
pub fn price_goods(
    schedule: &FeeSchedule,
    taxes: &TaxTable,
    input: &GoodsPricingInput<'_>,
) -> Result<GoodsQuote, GoodsPricingError> {
    let mode = schedule.rounding;
    let subtotal = input.lines.iter().try_fold(0i64, |acc, line| {
        line.unit_price
            .checked_mul(i64::from(line.quantity))
            .and_then(|amount| acc.checked_add(amount))
            .ok_or(MoneyError::Overflow)
    })?;
    let mut discount = 0i64;
    let mut applied_promotions = Vec::new();
    for promotion in input
        .promotions
        .iter()
        .filter(|p| p.applies(subtotal, input.now))
    {
        discount = discount
            .checked_add(promotion.rule.amount(subtotal, mode)?)
            .ok_or(MoneyError::Overflow)?;
        applied_promotions.push(promotion.name.clone());
    }
    let promo_code = match input.promo_code {
        Some(PromoCodeUse { code, uses_by_user }) => {
            code.check(subtotal, input.now, uses_by_user)?;
            discount = discount
                .checked_add(code.rule.amount(subtotal, mode)?)
                .ok_or(MoneyError::Overflow)?;
            Some(PromoCode::normalize(&code.code))
        }
        None => None,
    };
    let discount = discount.min(subtotal);
    let shipping = input.shipping.price_for(subtotal - discount);
    let tax_rate = taxes
        .rate_for(input.destination.country, input.destination.region)
        .unwrap_or(schedule.default_tax_rate);
    let priced = price_order(
        schedule,
        &PricingRequest {
            currency: input.currency,
            lines: input.lines.clone(),
            discount,
            shipping,
            tax_rate: Some(tax_rate),
        },
    )?;
    Ok(GoodsQuote {
        priced,
        applied_promotions,
        promo_code,
        estimated_delivery: input.shipping.estimated_delivery(input.now.date()),
    })
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-11-20 10:00 UTC);

    fn code(rule: DiscountRule) -> PromoCode {
        PromoCode {
            code: "SAVE10".into(),
            rule,
            min_subtotal: 0,
            valid_from: datetime!(2026-01-01 0:00 UTC),
            valid_until: Some(datetime!(2027-01-01 0:00 UTC)),
            usage_limit: Some(100),
            times_used: 0,
            per_user_limit: Some(1),
        }
    }

    fn standard() -> ShippingMethod {
        ShippingMethod::defaults().remove(0)
    }

    fn input<'a>(
        lines: Vec<PricingLine>,
        promotions: &'a [Promotion],
        shipping: &'a ShippingMethod,
    ) -> GoodsPricingInput<'a> {
        GoodsPricingInput {
            currency: Currency::Usd,
            lines,
            promotions,
            promo_code: None,
            shipping,
            destination: TaxDestination {
                country: "US",
                region: Some("CA"),
            },
            now: NOW,
        }
    }

    fn line(unit_price: i64, quantity: u32) -> PricingLine {
        PricingLine {
            unit_price,
            quantity,
        }
    }

    fn taxes() -> TaxTable {
        TaxTable::new()
            .with_rate("US", Some("CA"), Rate::from_basis_points(725))
            .with_rate("US", None, Rate::from_basis_points(500))
    }

    #[test]
    fn tax_table_prefers_region_then_country_and_names_nothing_else() {
        let t = taxes();
        assert_eq!(
            t.rate_for("us", Some("ca")),
            Some(Rate::from_basis_points(725))
        );
        assert_eq!(
            t.rate_for("US", Some("NY")),
            Some(Rate::from_basis_points(500))
        );
        assert_eq!(t.rate_for("US", None), Some(Rate::from_basis_points(500)));
        assert_eq!(t.rate_for("DE", None), None);
    }

    #[test]
    fn seed_000s_example_prices_to_38047_with_the_default_table() {
        // 2 × 99.99 + 1 × 149.99 to California by standard shipping (free above the threshold).
        let shipping = standard();
        let request = GoodsPricingInput {
            destination: TaxDestination {
                country: "US",
                region: Some("CA"),
            },
            ..input(vec![line(9_999, 2), line(14_999, 1)], &[], &shipping)
        };
        let quote =
            price_goods(&FeeSchedule::goods(), &TaxTable::standard(), &request).expect("priced");
        let c = quote.priced.order.components();
        assert_eq!((c.subtotal, c.tax, c.shipping), (34_997, 3_050, 0));
        assert_eq!(quote.priced.order.total().minor(), 38_047);
    }

    #[test]
    fn a_destination_the_table_does_not_name_pays_the_schedules_default_rate() {
        let shipping = standard();
        let request = GoodsPricingInput {
            destination: TaxDestination {
                country: "JP",
                region: None,
            },
            ..input(vec![line(10_000, 1)], &[], &shipping)
        };
        let quote = price_goods(&FeeSchedule::goods(), &TaxTable::new(), &request).expect("priced");
        // FeeSchedule::goods() taxes 8 %, shipping included: (10 000 + 0) × 8 %.
        assert_eq!(quote.priced.order.components().tax, 800);
    }

    #[test]
    fn goods_order_with_promotion_code_tax_and_paid_shipping() {
        let shipping = standard();
        let promotions = [Promotion {
            name: "autumn".into(),
            rule: DiscountRule::Fixed(300),
            min_subtotal: 2000,
            starts_at: None,
            ends_at: None,
        }];
        let promo = code(DiscountRule::Percentage(Rate::from_basis_points(1000)));
        let mut request = input(vec![line(1500, 2), line(500, 1)], &promotions, &shipping);
        request.promo_code = Some(PromoCodeUse {
            code: &promo,
            uses_by_user: 0,
        });
        let quote = price_goods(&FeeSchedule::goods(), &taxes(), &request).expect("priced");
        let c = quote.priced.order.components();
        // subtotal 3500; discount 300 + 350; net 2850 < 5000 → shipping 599; tax 7.25 % of 3449.
        assert_eq!((c.subtotal, c.discount, c.shipping), (3500, 650, 599));
        assert_eq!(c.tax, 250); // 3449 × 0.0725 = 250.05
        assert_eq!(quote.priced.order.total().minor(), 2850 + 599 + 250);
        assert_eq!(quote.applied_promotions, vec!["autumn".to_owned()]);
        assert_eq!(quote.promo_code.as_deref(), Some("SAVE10"));
        let line_sum: i64 = quote.priced.lines.iter().map(|l| l.total().minor()).sum();
        assert_eq!(line_sum, quote.priced.order.total().minor());
    }

    #[test]
    fn shipping_is_free_when_the_net_reaches_the_threshold() {
        let shipping = standard();
        let quote = price_goods(
            &FeeSchedule::goods(),
            &taxes(),
            &input(vec![line(5000, 1)], &[], &shipping),
        )
        .expect("priced");
        assert_eq!(quote.priced.order.shipping().minor(), 0);
        let below = price_goods(
            &FeeSchedule::goods(),
            &taxes(),
            &input(vec![line(4999, 1)], &[], &shipping),
        )
        .expect("priced");
        assert_eq!(below.priced.order.shipping().minor(), 599);
    }

    #[test]
    fn promotions_below_minimum_or_outside_their_window_do_not_apply() {
        let shipping = standard();
        let promotions = [
            Promotion {
                name: "big-spender".into(),
                rule: DiscountRule::Fixed(1000),
                min_subtotal: 10_000,
                starts_at: None,
                ends_at: None,
            },
            Promotion {
                name: "over".into(),
                rule: DiscountRule::Fixed(1000),
                min_subtotal: 0,
                starts_at: None,
                ends_at: Some(NOW),
            },
        ];
        let quote = price_goods(
            &FeeSchedule::goods(),
            &taxes(),
            &input(vec![line(3000, 1)], &promotions, &shipping),
        )
        .expect("priced");
        assert_eq!(quote.priced.order.discount().minor(), 0);
        assert!(quote.applied_promotions.is_empty());
    }

    #[test]
    fn discounts_never_exceed_the_subtotal() {
        let shipping = standard();
        let promotions = [Promotion {
            name: "huge".into(),
            rule: DiscountRule::Fixed(1_000_000),
            min_subtotal: 0,
            starts_at: None,
            ends_at: None,
        }];
        let quote = price_goods(
            &FeeSchedule::goods(),
            &taxes(),
            &input(vec![line(800, 1)], &promotions, &shipping),
        )
        .expect("priced");
        assert_eq!(quote.priced.order.discount().minor(), 800);
        assert_eq!(quote.priced.order.net().minor(), 0);
    }

    #[test]
    fn promo_code_rules() {
        let promo = code(DiscountRule::Fixed(100));
        assert_eq!(
            promo.check(1000, datetime!(2025-12-31 23:59 UTC), 0),
            Err(PromoCodeError::NotYetValid)
        );
        assert_eq!(
            promo.check(1000, datetime!(2027-01-01 0:00 UTC), 0),
            Err(PromoCodeError::Expired)
        );
        assert_eq!(
            promo.check(1000, NOW, 1),
            Err(PromoCodeError::PerUserLimitReached)
        );
        let used_up = PromoCode {
            times_used: 100,
            ..promo.clone()
        };
        assert_eq!(
            used_up.check(1000, NOW, 0),
            Err(PromoCodeError::UsageLimitReached)
        );
        let minimum = PromoCode {
            min_subtotal: 2000,
            ..promo.clone()
        };
        assert_eq!(
            minimum.check(1999, NOW, 0),
            Err(PromoCodeError::MinimumNotMet { minimum: 2000 })
        );
        assert_eq!(promo.check(1000, NOW, 0), Ok(()));
    }

    #[test]
    fn an_unusable_code_fails_pricing() {
        let shipping = standard();
        let promo = PromoCode {
            valid_until: Some(NOW),
            ..code(DiscountRule::Fixed(100))
        };
        let mut request = input(vec![line(1000, 1)], &[], &shipping);
        request.promo_code = Some(PromoCodeUse {
            code: &promo,
            uses_by_user: 0,
        });
        assert_eq!(
            price_goods(&FeeSchedule::goods(), &taxes(), &request),
            Err(GoodsPricingError::PromoCode(PromoCodeError::Expired))
        );
    }

    #[test]
    fn delivery_estimates_skip_weekends() {
        let method = standard(); // 5 business days
        // Friday 2026-11-20 → Mon 23, Tue 24, Wed 25, Thu 26, Fri 27.
        assert_eq!(
            method.estimated_delivery(date!(2026 - 11 - 20)),
            date!(2026 - 11 - 27)
        );
        let overnight = ShippingMethod::defaults().remove(2);
        assert_eq!(
            overnight.estimated_delivery(date!(2026 - 11 - 20)),
            date!(2026 - 11 - 23)
        );
    }
}
