//! The money trail on the wire: `GET /orders/{id}/ledger`, invoices and credit notes, and the
//! reconciliation runs.

use garde::Validate;
use order_domain::documents::Document;
use order_domain::ledger::{LedgerBalance, LedgerEntry};
use order_domain::reconciliation::{ReconciliationRun, RunSummary};
use order_domain::use_cases::OrderLedger;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

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

/// `POST /admin/reconciliation/runs`: the window of order changes to compare (at most 31 days).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = NewReconciliationRun)]
pub struct ReconciliationBody {
    /// Orders changed from this instant…
    #[garde(skip)]
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub from: OffsetDateTime,
    /// …until before this one.
    #[garde(skip)]
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub to: OffsetDateTime,
}

/// A reconciliation run with every difference it found.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ReconciliationRun)]
pub struct ReconciliationRunResponse {
    #[schema(value_type = uuid::Uuid)]
    id: order_domain::ids::ReconciliationRunId,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    window_from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    window_to: OffsetDateTime,
    /// Orders compared with the payment service.
    orders_checked: u32,
    /// Orders the payment service could not be asked about (a later run compares them).
    orders_unchecked: u32,
    differences: Vec<DifferenceBody>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    finished_at: OffsetDateTime,
}

/// One difference between an order's ledger and the payment service.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ReconciliationDifference)]
pub struct DifferenceBody {
    #[schema(value_type = uuid::Uuid)]
    order_id: order_domain::ids::OrderId,
    /// `PAYOUT_MISSING_HERE`, `PAYOUT_UNKNOWN_UPSTREAM`, `CAPTURE_ON_CLOSED_ORDER` or
    /// `AMOUNT_MISMATCH`.
    #[schema(example = "PAYOUT_MISSING_HERE")]
    kind: &'static str,
    #[schema(value_type = Option<uuid::Uuid>)]
    refund_id: Option<order_domain::ids::RefundId>,
    /// Our amount, minor units.
    ours: i64,
    /// The payment service's amount, minor units.
    theirs: i64,
    /// Repaired by this run.
    repaired: bool,
}

impl From<&ReconciliationRun> for ReconciliationRunResponse {
    fn from(run: &ReconciliationRun) -> Self {
        Self {
            id: run.id,
            window_from: run.window_from,
            window_to: run.window_to,
            orders_checked: run.orders_checked,
            orders_unchecked: run.orders_unchecked,
            differences: run
                .differences
                .iter()
                .map(|d| DifferenceBody {
                    order_id: d.order_id,
                    kind: d.kind.as_str(),
                    refund_id: d.refund_id,
                    ours: d.ours,
                    theirs: d.theirs,
                    repaired: d.repaired,
                })
                .collect(),
            started_at: run.started_at,
            finished_at: run.finished_at,
        }
    }
}

/// `GET /admin/reconciliation/runs`.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReconciliationRunsQuery {
    /// How many of the latest runs, 1 to 100.
    #[garde(inner(range(min = 1, max = 100)))]
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u32>,
}

/// `GET /admin/reconciliation/runs`: the latest runs, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReconciliationRunList)]
pub struct ReconciliationRunsResponse {
    /// Each with how many differences it found and repaired; the differences themselves are at
    /// `GET /admin/reconciliation/runs/{id}`.
    pub runs: Vec<RunSummaryBody>,
}

/// A stored run, counted.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ReconciliationRunSummary)]
pub struct RunSummaryBody {
    #[schema(value_type = uuid::Uuid)]
    id: order_domain::ids::ReconciliationRunId,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    window_from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    window_to: OffsetDateTime,
    orders_checked: u32,
    orders_unchecked: u32,
    /// Differences found.
    differences: u32,
    /// Of those, repaired by the run.
    repaired: u32,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    started_at: OffsetDateTime,
}

impl From<&RunSummary> for RunSummaryBody {
    fn from(run: &RunSummary) -> Self {
        Self {
            id: run.id,
            window_from: run.window_from,
            window_to: run.window_to,
            orders_checked: run.orders_checked,
            orders_unchecked: run.orders_unchecked,
            differences: run.differences,
            repaired: run.repaired,
            started_at: run.started_at,
        }
    }
}

/// `GET /orders/{id}/documents`: the order's invoices and credit notes, invoices first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DocumentList)]
pub struct DocumentListResponse {
    /// Each with its number, kind, date and total.
    pub documents: Vec<DocumentSummary>,
}

/// One document in a list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentSummary {
    /// `INV-2026-000001` or `CN-2026-000001`.
    number: String,
    /// `INVOICE` or `CREDIT_NOTE`.
    #[schema(example = "INVOICE")]
    kind: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    issued_at: OffsetDateTime,
    /// Minor units.
    total: i64,
    #[schema(example = "USD")]
    currency: &'static str,
}

impl From<&Document> for DocumentSummary {
    fn from(document: &Document) -> Self {
        Self {
            number: document.number.clone(),
            kind: document.content.kind.as_str(),
            issued_at: document.content.issued_at,
            total: document.content.total,
            currency: document.content.currency.code(),
        }
    }
}

/// `GET /orders/{id}/documents/{number}` as JSON (as PDF with `Accept: application/pdf`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Document)]
pub struct DocumentResponse {
    number: String,
    /// `INVOICE` or `CREDIT_NOTE`.
    #[schema(example = "INVOICE")]
    kind: &'static str,
    /// The invoice a credit note corrects.
    corrects: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    issued_at: OffsetDateTime,
    #[schema(value_type = uuid::Uuid)]
    order_id: order_domain::ids::OrderId,
    order_number: String,
    /// The refund a credit note pays back.
    #[schema(value_type = Option<uuid::Uuid>)]
    refund_id: Option<order_domain::ids::RefundId>,
    seller: PartyBody,
    buyer: PartyBody,
    lines: Vec<DocumentLineBody>,
    /// Minor units, like every amount below.
    subtotal: i64,
    discount: i64,
    platform_fee: i64,
    processing_fee: i64,
    shipping: i64,
    /// Parts per million (80 000 = 8 %).
    tax_rate_ppm: u32,
    tax: i64,
    total: i64,
    #[schema(example = "USD")]
    currency: &'static str,
}

/// Who sells or buys.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartyBody {
    name: String,
    address: Vec<String>,
    tax_id: Option<String>,
    email: Option<String>,
}

/// One line of a document.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentLineBody {
    description: String,
    quantity: u32,
    unit_price: i64,
    total: i64,
}

impl From<&Document> for DocumentResponse {
    fn from(document: &Document) -> Self {
        let c = &document.content;
        Self {
            number: document.number.clone(),
            kind: c.kind.as_str(),
            corrects: document.corrects.clone(),
            issued_at: c.issued_at,
            order_id: c.order_id,
            order_number: c.order_number.clone(),
            refund_id: c.refund_id,
            seller: PartyBody {
                name: c.seller.legal_name.clone(),
                address: c.seller.address.clone(),
                tax_id: c.seller.tax_id.clone(),
                email: None,
            },
            buyer: PartyBody {
                name: c.buyer.name.clone(),
                address: c.buyer.address.clone(),
                tax_id: None,
                email: c.buyer.email.clone(),
            },
            lines: c
                .lines
                .iter()
                .map(|l| DocumentLineBody {
                    description: l.description.clone(),
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                    total: l.total,
                })
                .collect(),
            subtotal: c.subtotal,
            discount: c.discount,
            platform_fee: c.platform_fee,
            processing_fee: c.processing_fee,
            shipping: c.shipping,
            tax_rate_ppm: c.tax_rate_ppm,
            tax: c.tax,
            total: c.total,
            currency: c.currency.code(),
        }
    }
}
