//! Money, currencies, rates and rounding.
//!
//! Every amount is an `i64` count of minor units (cents) of one [`Currency`]; there is no float
//! anywhere on a price path. Arithmetic is checked: an overflow or a currency mix is a
//! [`MoneyError`], never a panic or a wrapped value. Rates are integers in parts per million so
//! that tax rates such as 8.875 % are exact, and every multiplication by a rate names its
//! [`RoundingMode`] (see `docs/decisions/0003-money-and-rounding.md`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The currencies the service accepts (docs/product/orders.md). All of them have two decimal
/// places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    /// US dollar, the default.
    #[default]
    Usd,
    /// Euro.
    Eur,
    /// Pound sterling.
    Gbp,
    /// Canadian dollar.
    Cad,
    /// Australian dollar.
    Aud,
}

impl Currency {
    /// Every supported currency, in a stable order.
    pub const ALL: [Currency; 5] = [
        Currency::Usd,
        Currency::Eur,
        Currency::Gbp,
        Currency::Cad,
        Currency::Aud,
    ];

    /// The ISO-4217 code.
    pub fn code(self) -> &'static str {
        match self {
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
            Currency::Gbp => "GBP",
            Currency::Cad => "CAD",
            Currency::Aud => "AUD",
        }
    }

    /// Digits after the decimal point of one major unit.
    pub fn minor_unit_digits(self) -> u32 {
        2
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A currency code that is not one of [`Currency::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported currency `{0}`: expected one of USD, EUR, GBP, CAD, AUD")]
pub struct UnsupportedCurrency(pub String);

impl FromStr for Currency {
    type Err = UnsupportedCurrency;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Currency::ALL
            .into_iter()
            .find(|c| c.code() == code)
            .ok_or_else(|| UnsupportedCurrency(code.to_owned()))
    }
}

/// Why a money computation could not produce a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Two amounts of different currencies were combined.
    #[error("cannot combine {left} with {right}")]
    CurrencyMismatch {
        /// Currency of the left operand.
        left: Currency,
        /// Currency of the right operand.
        right: Currency,
    },
    /// The result does not fit in an `i64` of minor units.
    #[error("amount overflow")]
    Overflow,
}

/// An amount of one currency in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    /// `minor` minor units of `currency` (`Money::new(20000, Usd)` is 200.00 USD).
    pub const fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Zero of `currency`.
    pub const fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    /// The amount in minor units.
    pub const fn minor(self) -> i64 {
        self.minor
    }

    /// The currency.
    pub const fn currency(self) -> Currency {
        self.currency
    }

    /// True for amounts below zero.
    pub const fn is_negative(self) -> bool {
        self.minor < 0
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }

    /// `self + other`; both must share a currency.
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`] or [`MoneyError::Overflow`].
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    /// `self - other`; both must share a currency.
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`] or [`MoneyError::Overflow`].
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_sub(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    /// `self × quantity`.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`].
    pub fn checked_mul(self, quantity: u32) -> Result<Money, MoneyError> {
        let minor = self
            .minor
            .checked_mul(i64::from(quantity))
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    /// `R(self × rate)` rounded to the minor unit with `mode`.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`].
    pub fn apply_rate(self, rate: Rate, mode: RoundingMode) -> Result<Money, MoneyError> {
        Ok(Money::new(rate.apply(self.minor, mode)?, self.currency))
    }

    /// The sum of `amounts`, all of `currency`.
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`] or [`MoneyError::Overflow`].
    pub fn sum(
        currency: Currency,
        amounts: impl IntoIterator<Item = Money>,
    ) -> Result<Money, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Money::zero(currency), Money::checked_add)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        write!(f, "{sign}{}.{:02} {}", abs / 100, abs % 100, self.currency)
    }
}

/// How a fractional minor unit is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMode {
    /// Halves go away from zero (1.5 → 2, 2.5 → 3). The default.
    #[default]
    HalfUp,
    /// Halves go to the even neighbour (1.5 → 2, 2.5 → 2): banker's rounding.
    HalfEven,
    /// Toward negative infinity (1.9 → 1).
    Floor,
}

impl FromStr for RoundingMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "half_up" => Ok(Self::HalfUp),
            "half_even" => Ok(Self::HalfEven),
            "floor" => Ok(Self::Floor),
            other => Err(format!(
                "unknown rounding mode `{other}`: expected half_up, half_even or floor"
            )),
        }
    }
}

impl RoundingMode {
    /// `numerator / denominator` rounded to an integer with this mode.
    /// `denominator` must be positive.
    pub(crate) fn divide(self, numerator: i128, denominator: i128) -> i128 {
        debug_assert!(denominator > 0);
        let quotient = numerator.div_euclid(denominator); // floor for a positive denominator
        let remainder = numerator.rem_euclid(denominator); // 0 ≤ r < d
        let twice = remainder * 2;
        match self {
            RoundingMode::Floor => quotient,
            RoundingMode::HalfUp => {
                let is_half_or_more = if numerator >= 0 {
                    twice >= denominator
                } else {
                    // Away from zero for negatives means the half goes down.
                    twice > denominator
                };
                quotient + i128::from(is_half_or_more)
            }
            RoundingMode::HalfEven => {
                let up = twice > denominator || (twice == denominator && quotient % 2 != 0);
                quotient + i128::from(up)
            }
        }
    }
}

/// A non-negative rate in parts per million: `Rate::from_basis_points(500)` is 5 %.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Rate(u32);

impl Rate {
    /// Parts per million in 100 %.
    pub const ONE: u32 = 1_000_000;

    /// Zero percent.
    pub const ZERO: Rate = Rate(0);

    /// A rate of `ppm` parts per million (10 000 ppm = 1 %).
    pub const fn from_ppm(ppm: u32) -> Self {
        Self(ppm)
    }

    /// A rate in basis points (100 bp = 1 %).
    pub const fn from_basis_points(bp: u32) -> Self {
        Self(bp * 100)
    }

    /// The rate in parts per million.
    pub const fn ppm(self) -> u32 {
        self.0
    }

    /// `R(amount × rate)` in minor units.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`] when the result does not fit in an `i64`.
    pub fn apply(self, amount: i64, mode: RoundingMode) -> Result<i64, MoneyError> {
        let exact = i128::from(amount) * i128::from(self.0);
        let rounded = mode.divide(exact, i128::from(Self::ONE));
        i64::try_from(rounded).map_err(|_| MoneyError::Overflow)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // 1 % = 10 000 ppm; print up to four decimals of a percent, trimmed.
        let whole = self.0 / 10_000;
        let frac = self.0 % 10_000;
        if frac == 0 {
            write!(f, "{whole}%")
        } else {
            let digits = format!("{frac:04}");
            write!(f, "{whole}.{}%", digits.trim_end_matches('0'))
        }
    }
}

/// A percentage that could not be read as a [`Rate`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a percentage with at most four decimals between 0 and 100")]
pub struct InvalidRate(pub String);

impl Rate {
    /// Parses a decimal percentage such as `"2.9"` or `"8.875"` exactly (no float).
    ///
    /// # Errors
    /// [`InvalidRate`] for anything but digits with at most four decimals, up to 100.
    pub fn parse_percent(text: &str) -> Result<Rate, InvalidRate> {
        let invalid = || InvalidRate(text.to_owned());
        let text_trimmed = text.trim();
        let (whole, frac) = text_trimmed.split_once('.').unwrap_or((text_trimmed, ""));
        let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(frac) || frac.len() > 4 {
            return Err(invalid());
        }
        let whole: u32 = whole.parse().map_err(|_| invalid())?;
        let frac_ppm: u32 = format!("{frac:0<4}").parse().map_err(|_| invalid())?;
        let ppm = whole
            .checked_mul(10_000)
            .and_then(|w| w.checked_add(frac_ppm))
            .filter(|ppm| *ppm <= Rate::ONE)
            .ok_or_else(invalid)?;
        Ok(Rate(ppm))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_two_currencies_is_an_error_not_a_panic() {
        let usd = Money::new(100, Currency::Usd);
        let eur = Money::new(100, Currency::Eur);
        assert_eq!(
            usd.checked_add(eur),
            Err(MoneyError::CurrencyMismatch {
                left: Currency::Usd,
                right: Currency::Eur
            })
        );
        assert!(usd.checked_sub(eur).is_err());
    }

    #[test]
    fn overflowing_arithmetic_is_an_error() {
        let max = Money::new(i64::MAX, Currency::Usd);
        assert_eq!(
            max.checked_add(Money::new(1, Currency::Usd)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(max.checked_mul(2), Err(MoneyError::Overflow));
        assert_eq!(
            Money::new(i64::MIN, Currency::Usd).checked_sub(Money::new(1, Currency::Usd)),
            Err(MoneyError::Overflow)
        );
        // A rate above 100 % can push a large amount past i64.
        assert_eq!(
            Rate::from_ppm(2 * Rate::ONE).apply(i64::MAX, RoundingMode::HalfUp),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn rounding_modes_resolve_halves_as_documented() {
        // 25 × 10 % = 2.5 minor units; 35 × 10 % = 3.5.
        let ten = Rate::from_basis_points(1000);
        assert_eq!(ten.apply(25, RoundingMode::HalfUp), Ok(3));
        assert_eq!(ten.apply(25, RoundingMode::HalfEven), Ok(2));
        assert_eq!(ten.apply(35, RoundingMode::HalfEven), Ok(4));
        assert_eq!(ten.apply(25, RoundingMode::Floor), Ok(2));
        assert_eq!(ten.apply(29, RoundingMode::Floor), Ok(2));
        assert_eq!(ten.apply(24, RoundingMode::HalfUp), Ok(2));
        assert_eq!(ten.apply(-25, RoundingMode::HalfUp), Ok(-3));
        assert_eq!(ten.apply(-25, RoundingMode::Floor), Ok(-3));
        assert_eq!(ten.apply(-25, RoundingMode::HalfEven), Ok(-2));
    }

    #[test]
    fn percentages_parse_exactly_and_display_back() {
        assert_eq!(Rate::parse_percent("2.9"), Ok(Rate::from_basis_points(290)));
        assert_eq!(Rate::parse_percent("8.875"), Ok(Rate::from_ppm(88_750)));
        assert_eq!(Rate::parse_percent("100"), Ok(Rate::from_ppm(Rate::ONE)));
        assert!(Rate::parse_percent("100.01").is_err());
        assert!(Rate::parse_percent("-1").is_err());
        assert!(Rate::parse_percent("1.23456").is_err());
        assert!(Rate::parse_percent("abc").is_err());
        assert_eq!(Rate::from_ppm(88_750).to_string(), "8.875%");
        assert_eq!(Rate::from_basis_points(500).to_string(), "5%");
    }

    #[test]
    fn currencies_parse_from_their_codes_only() {
        assert_eq!("GBP".parse::<Currency>(), Ok(Currency::Gbp));
        assert!("gbp".parse::<Currency>().is_err());
        assert!("JPY".parse::<Currency>().is_err());
        assert_eq!(Money::new(-1234, Currency::Eur).to_string(), "-12.34 EUR");
    }
}
