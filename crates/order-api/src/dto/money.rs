//! The money trail on the wire: `GET /orders/{id}/ledger`.

use order_domain::ledger::{LedgerBalance, LedgerEntry};
use order_domain::use_cases::OrderLedger;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// `GET /orders/{id}/ledger`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Ledger)]
pub struct LedgerResponse {
    /// The order.
    #[schema(value_type = uuid::Uuid)]
    order_id: order_domain::ids::OrderId,
    /// ISO-4217 code of every amount.
    #[schema(example = "USD")]
    currency: &'static str,
    /// Oldest first; entries never change.
    entries: Vec<LedgerEntryBody>,
    /// What the entries add up to.
    balance: BalanceBody,
}

/// One movement of money.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = LedgerEntry)]
pub struct LedgerEntryBody {
    #[schema(value_type = uuid::Uuid)]
    id: order_domain::ids::LedgerEntryId,
    /// `PAYMENT_CAPTURED`, `REFUND_PAID` or `FEE_RETAINED` (what a cancellation kept; not a
    /// movement).
    #[schema(example = "PAYMENT_CAPTURED")]
    kind: &'static str,
    /// Minor units, > 0; the kind says the direction.
    #[schema(minimum = 1)]
    amount: i64,
    /// The refund a payout belongs to.
    #[schema(value_type = Option<uuid::Uuid>)]
    refund_id: Option<order_domain::ids::RefundId>,
    /// The payment service's reference: the payment intent of a capture, the payout of a refund.
    reference: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    occurred_at: OffsetDateTime,
}

/// The balance the ledger gives, minor units.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = LedgerBalance)]
pub struct BalanceBody {
    /// Payments captured.
    captured: i64,
    /// Refunds paid out.
    refunded: i64,
    /// `captured − refunded`.
    net: i64,
    /// Refunds approved and not yet paid out: what the buyer is still owed.
    outstanding: i64,
}

impl From<&LedgerEntry> for LedgerEntryBody {
    fn from(entry: &LedgerEntry) -> Self {
        Self {
            id: entry.id,
            kind: entry.kind.as_str(),
            amount: entry.amount,
            refund_id: entry.refund_id,
            reference: entry.reference.clone(),
            occurred_at: entry.occurred_at,
        }
    }
}

impl From<LedgerBalance> for BalanceBody {
    fn from(balance: LedgerBalance) -> Self {
        Self {
            captured: balance.captured,
            refunded: balance.refunded,
            net: balance.net,
            outstanding: balance.outstanding,
        }
    }
}

impl From<&OrderLedger> for LedgerResponse {
    fn from(ledger: &OrderLedger) -> Self {
        Self {
            order_id: ledger.order.id(),
            currency: ledger.order.currency().code(),
            entries: ledger.entries.iter().map(LedgerEntryBody::from).collect(),
            balance: ledger.balance.into(),
        }
    }
}
