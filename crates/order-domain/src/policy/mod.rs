//! Business rules with their configuration: order limits, reservation durations, cancellation,
//! refund and return terms. [`DomainConfig::default`] gives every default of docs/product/.

mod limits;
mod refund;
mod reservation;

use serde::{Deserialize, Serialize};

pub use self::limits::{FieldError, LineQuantity, OrderLimits, QuotaExceeded, Violations};
pub use self::refund::{RefundDenied, RefundPolicy, RefundReason};
pub use self::reservation::{HoldLimitReached, ReservationPolicy};
use crate::pricing::FeeSchedule;

/// Everything the use cases are configured with; the API fills it from the environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainConfig {
    /// docs/product/limits.md.
    pub limits: OrderLimits,
    /// docs/product/reservations-and-refunds.md reservations.
    pub reservation: ReservationPolicy,
    /// docs/product/reservations-and-refunds.md cancellation, refunds and returns.
    pub refund: RefundPolicy,
    /// Fees of ticket orders.
    pub ticket_fees: FeeSchedule,
    /// Fees of goods orders.
    pub goods_fees: FeeSchedule,
    /// Days an untouched cart lives (30).
    pub cart_ttl_days: i64,
    /// The seller named on invoices and credit notes (`SELLER_LEGAL_NAME`, `SELLER_ADDRESS`,
    /// `SELLER_TAX_ID`).
    #[serde(default)]
    pub seller: crate::documents::Seller,
}

impl Default for DomainConfig {
    fn default() -> Self {
        Self {
            limits: OrderLimits::default(),
            reservation: ReservationPolicy::default(),
            refund: RefundPolicy::default(),
            ticket_fees: FeeSchedule::tickets(),
            goods_fees: FeeSchedule::goods(),
            cart_ttl_days: 30,
            seller: crate::documents::Seller::default(),
        }
    }
}
