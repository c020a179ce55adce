//! Promo codes as admins manage them: a percentage in basis points or a fixed amount in minor
//! units, a validity window and usage limits.

use garde::Validate;
use order_domain::money::Rate;
use order_domain::pricing::goods::{DiscountRule, PromoCode};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::validation::rule;

/// `POST /api/v1/admin/promo-codes`: exactly one of `percentOffBps` and `amountOff`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = NewPromoCode)]
pub struct PromoCodeBody {
    /// What shoppers type (letters, digits, `-`, `_`; matched case-insensitively).
    #[garde(custom(code_rule))]
    #[schema(min_length = 1, max_length = 40, pattern = "^[A-Za-z0-9_-]+$")]
    pub code: String,
    /// Percentage off the subtotal in basis points (1 000 = 10 %).
    #[garde(rename("percentOffBps"), inner(range(min = 1, max = 10_000)))]
    #[schema(minimum = 1, maximum = 10000)]
    pub percent_off_bps: Option<u32>,
    /// Fixed amount off, minor units.
    #[garde(rename("amountOff"), inner(range(min = 1, max = 100_000_000)))]
    #[schema(minimum = 1, maximum = 100000000)]
    pub amount_off: Option<i64>,
    /// Smallest subtotal it applies to, minor units.
    #[garde(rename("minSubtotal"), inner(range(min = 0, max = 100_000_000)))]
    #[schema(minimum = 0, maximum = 100000000)]
    pub min_subtotal: Option<i64>,
    /// First instant it is valid (now by default).
    #[garde(skip)]
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub valid_from: Option<OffsetDateTime>,
    /// First instant it is no longer valid (never by default).
    #[garde(skip)]
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub valid_until: Option<OffsetDateTime>,
    /// Redemptions allowed over all shoppers (unlimited by default); exact under concurrency.
    #[garde(rename("usageLimit"), inner(range(min = 1, max = 1_000_000_000)))]
    #[schema(minimum = 1, maximum = 1000000000)]
    pub usage_limit: Option<u32>,
    /// Redemptions allowed per shopper (unlimited by default).
    #[garde(rename("perUserLimit"), inner(range(min = 1, max = 1_000_000)))]
    #[schema(minimum = 1, maximum = 1000000)]
    pub per_user_limit: Option<u32>,
}

fn code_rule(code: &str, (): &()) -> garde::Result {
    let ok = (1..=40).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(rule("invalid", "1 to 40 letters, digits, - or _"))
    }
}

impl PromoCodeBody {
    /// The domain's code, valid from `now` unless the body says otherwise.
    ///
    /// # Errors
    /// 422 at `percentOffBps` unless exactly one discount is given.
    pub fn into_domain(self, now: OffsetDateTime) -> Result<PromoCode, ApiError> {
        let rule = match (self.percent_off_bps, self.amount_off) {
            (Some(bps), None) => DiscountRule::Percentage(Rate::from_basis_points(bps)),
            (None, Some(amount)) => DiscountRule::Fixed(amount),
            _ => {
                return Err(ApiError::field(
                    "percentOffBps",
                    "exclusive",
                    "give exactly one of percentOffBps and amountOff",
                ));
            }
        };
        Ok(PromoCode {
            code: self.code,
            rule,
            min_subtotal: self.min_subtotal.unwrap_or(0),
            valid_from: self.valid_from.unwrap_or(now),
            valid_until: self.valid_until,
            usage_limit: self.usage_limit,
            times_used: 0,
            per_user_limit: self.per_user_limit,
        })
    }
}

/// A promo code.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PromoCode)]
pub struct PromoCodeResponse {
    code: String,
    percent_off_bps: Option<u32>,
    amount_off: Option<i64>,
    min_subtotal: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    valid_from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    valid_until: Option<OffsetDateTime>,
    usage_limit: Option<u32>,
    times_used: u32,
    per_user_limit: Option<u32>,
}

impl From<&PromoCode> for PromoCodeResponse {
    fn from(code: &PromoCode) -> Self {
        let (percent_off_bps, amount_off) = match code.rule {
            DiscountRule::Percentage(rate) => (Some(rate.ppm() / 100), None),
            DiscountRule::Fixed(amount) => (None, Some(amount)),
        };
        Self {
            code: code.code.clone(),
            percent_off_bps,
            amount_off,
            min_subtotal: code.min_subtotal,
            valid_from: code.valid_from,
            valid_until: code.valid_until,
            usage_limit: code.usage_limit,
            times_used: code.times_used,
            per_user_limit: code.per_user_limit,
        }
    }
}

/// `GET /api/v1/admin/promo-codes`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PromoCodeList)]
pub struct PromoCodeListResponse {
    /// By code.
    pub promo_codes: Vec<PromoCodeResponse>,
}
