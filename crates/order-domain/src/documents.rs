//! Invoices and credit notes (docs/product/after-the-sale.md): a confirmed order gets an invoice,
//! every completed refund a credit note. The domain decides what each says, from the events of the
//! change that causes it; the store gives it its gap-free number (per tenant, kind and year) in the
//! same transaction. Documents never change: a correction is a credit note.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::events::OrderEvent;
use crate::ids::{OrderId, RefundId};
use crate::money::{Currency, Rate};
use crate::order::{Address, ItemProduct, Order};

wire_enum! {
    /// What a document is.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    pub enum DocumentKind ("document kind") {
        /// What the buyer paid for.
        Invoice = "INVOICE",
        /// What was paid back.
        CreditNote = "CREDIT_NOTE",
    }
}

impl DocumentKind {
    /// The number's prefix: `INV-2026-000001`, `CN-2026-000001`.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Invoice => "INV",
            Self::CreditNote => "CN",
        }
    }

    /// The number of the `sequence`-th document of this kind in `year`.
    pub fn number(self, year: i32, sequence: i64) -> String {
        format!("{}-{year}-{sequence:06}", self.prefix())
    }
}

/// The seller named on every document of a tenant (configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Seller {
    /// Legal name.
    pub legal_name: String,
    /// Address, one line per entry.
    pub address: Vec<String>,
    /// Tax or VAT id.
    pub tax_id: Option<String>,
}

impl Default for Seller {
    fn default() -> Self {
        Self {
            legal_name: "Order Service Seller".to_owned(),
            address: Vec::new(),
            tax_id: None,
        }
    }
}

/// The buyer named on a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Buyer {
    /// Name on the billing address, or the buyer's user id for ticket orders.
    pub name: String,
    /// Billing address lines (goods orders).
    pub address: Vec<String>,
    /// Where receipts go.
    pub email: Option<String>,
}

/// One line of a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentLine {
    /// What it is.
    pub description: String,
    /// Units.
    pub quantity: u32,
    /// Price of one unit, minor units.
    pub unit_price: i64,
    /// `quantity × unit_price`, minor units.
    pub total: i64,
}

/// Everything a document says besides its number, which the store allocates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentContent {
    /// Invoice or credit note.
    pub kind: DocumentKind,
    /// The order.
    pub order_id: OrderId,
    /// Its number.
    pub order_number: String,
    /// The refund a credit note pays back.
    pub refund_id: Option<RefundId>,
    /// When it was issued.
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// Who sells.
    pub seller: Seller,
    /// Who buys.
    pub buyer: Buyer,
    /// The lines.
    pub lines: Vec<DocumentLine>,
    /// Σ line totals.
    pub subtotal: i64,
    /// Promotions and promo code.
    pub discount: i64,
    /// Platform fee.
    pub platform_fee: i64,
    /// Processing fee.
    pub processing_fee: i64,
    /// Shipping.
    pub shipping: i64,
    /// The tax rate, parts per million.
    pub tax_rate_ppm: u32,
    /// Tax included in `total`.
    pub tax: i64,
    /// What was paid (invoice) or paid back (credit note).
    pub total: i64,
    /// ISO-4217 code of every amount.
    pub currency: Currency,
}

impl DocumentContent {
    /// The calendar year its number counts in (UTC).
    pub fn year(&self) -> i32 {
        self.issued_at.year()
    }
}

/// A stored document: its content and its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// `INV-2026-000001`, gap-free per tenant, kind and year.
    pub number: String,
    /// The invoice a credit note corrects, when the order has one.
    pub corrects: Option<String>,
    /// What it says.
    pub content: DocumentContent,
}

/// The documents the `events` of one change of `order` (already applied) cause: an invoice for
/// `order.confirmed`, a credit note for each `refund.completed`. `tax_rate` gives the rate the
/// order was taxed at; it is asked only when a document is issued (most changes issue none).
pub fn documents_for(
    order: &Order,
    events: &[OrderEvent],
    seller: &Seller,
    tax_rate: impl Fn() -> Rate,
    now: OffsetDateTime,
) -> Vec<DocumentContent> {
    events
        .iter()
        .filter_map(|event| match event {
            OrderEvent::Confirmed(_) => Some(invoice(order, seller, tax_rate(), now)),
            OrderEvent::RefundCompleted(paid) => Some(credit_note(
                order,
                seller,
                tax_rate(),
                paid.refund_id,
                paid.amount,
                now,
            )),
            _ => None,
        })
        .collect()
}

fn invoice(order: &Order, seller: &Seller, tax_rate: Rate, now: OffsetDateTime) -> DocumentContent {
    let pricing = order.pricing().components();
    let lines = order
        .items()
        .iter()
        .map(|item| DocumentLine {
            description: describe(&item.product),
            quantity: item.quantity,
            unit_price: item.unit_price,
            total: item.unit_price * i64::from(item.quantity),
        })
        .collect();
    DocumentContent {
        kind: DocumentKind::Invoice,
        order_id: order.id(),
        order_number: order.number().to_string(),
        refund_id: None,
        issued_at: now,
        seller: seller.clone(),
        buyer: buyer(order),
        lines,
        subtotal: pricing.subtotal,
        discount: pricing.discount,
        platform_fee: pricing.platform_fee,
        processing_fee: pricing.processing_fee,
        shipping: pricing.shipping,
        tax_rate_ppm: tax_rate.ppm(),
        tax: pricing.tax,
        total: order.total().minor(),
        currency: order.currency(),
    }
}

/// A credit note of `amount`: one line, with the tax it carries back in the order's proportion
/// (rounded down: the tax paid back never exceeds the tax paid).
fn credit_note(
    order: &Order,
    seller: &Seller,
    tax_rate: Rate,
    refund: RefundId,
    amount: i64,
    now: OffsetDateTime,
) -> DocumentContent {
    let total = order.total().minor();
    let tax = if total > 0 {
        i64::try_from(
            i128::from(amount) * i128::from(order.pricing().tax().minor()) / i128::from(total),
        )
        .unwrap_or(0)
    } else {
        0
    };
    let reason = order
        .refund(refund)
        .map_or_else(|| "refund".to_owned(), |r| r.reason.clone());
    DocumentContent {
        kind: DocumentKind::CreditNote,
        order_id: order.id(),
        order_number: order.number().to_string(),
        refund_id: Some(refund),
        issued_at: now,
        seller: seller.clone(),
        buyer: buyer(order),
        lines: vec![DocumentLine {
            description: format!("Refund: {reason}"),
            quantity: 1,
            unit_price: amount,
            total: amount,
        }],
        subtotal: amount,
        discount: 0,
        platform_fee: 0,
        processing_fee: 0,
        shipping: 0,
        tax_rate_ppm: tax_rate.ppm(),
        tax,
        total: amount,
        currency: order.currency(),
    }
}

fn describe(product: &ItemProduct) -> String {
    match product {
        ItemProduct::Ticket { ticket_type_id, .. } => format!("Ticket ({ticket_type_id})"),
        ItemProduct::Goods {
            name, attributes, ..
        } if !attributes.is_empty() => {
            let chosen: Vec<String> = attributes
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            format!("{name} ({})", chosen.join(", "))
        }
        ItemProduct::Goods { name, .. } => name.clone(),
    }
}

fn buyer(order: &Order) -> Buyer {
    let goods = &order.goods();
    let address: Option<&Address> = goods
        .billing_address
        .as_ref()
        .or(goods.shipping_address.as_ref());
    Buyer {
        name: address.map_or_else(|| order.user_id().to_string(), |a| a.name.clone()),
        address: address.map(address_lines).unwrap_or_default(),
        email: order.contact_email().map(|e| e.as_str().to_owned()),
    }
}

fn address_lines(address: &Address) -> Vec<String> {
    let mut lines = vec![address.line1.clone()];
    lines.extend(address.line2.clone());
    let region = address
        .region
        .as_deref()
        .map_or(String::new(), |r| format!(" {r}"));
    lines.push(format!("{} {}{region}", address.postal_code, address.city));
    lines.push(address.country.clone());
    lines
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::ids::{HoldId, PaymentIntentId};
    use crate::order::OrderKind;
    use crate::order::tests::pending;

    const NOW: OffsetDateTime = datetime!(2026-12-07 12:00 UTC);

    fn confirmed() -> (Order, Vec<OrderEvent>) {
        let mut order = pending(OrderKind::Ticket);
        order
            .reserve(HoldId::new("h"), NOW + time::Duration::minutes(15), NOW)
            .expect("reserved");
        let events = order
            .confirm(&PaymentIntentId::new("pi-1"), NOW)
            .expect("confirmed");
        (order, events)
    }

    #[test]
    fn a_confirmation_issues_an_invoice_whose_lines_and_components_add_up_to_the_total() {
        let (order, events) = confirmed();
        let rate = Rate::from_basis_points(800);
        let documents = documents_for(&order, &events, &Seller::default(), || rate, NOW);
        assert_eq!(documents.len(), 1);
        let invoice = &documents[0];
        assert_eq!(invoice.kind, DocumentKind::Invoice);
        assert_eq!(invoice.lines.len(), order.items().len());
        assert_eq!(
            invoice.lines.iter().map(|l| l.total).sum::<i64>(),
            invoice.subtotal
        );
        assert_eq!(
            invoice.subtotal - invoice.discount
                + invoice.platform_fee
                + invoice.processing_fee
                + invoice.shipping
                + invoice.tax,
            invoice.total
        );
        assert_eq!(invoice.total, order.total().minor());
        assert_eq!(invoice.tax_rate_ppm, 80_000);
        assert_eq!(invoice.year(), 2026);
    }

    #[test]
    fn a_completed_refund_issues_a_credit_note_of_its_amount_with_its_share_of_tax() {
        let (mut order, _) = confirmed();
        let refund = RefundId::from_uuid(uuid::Uuid::from_u128(7));
        order
            .request_refund(
                crate::order::RefundRequest {
                    id: refund,
                    scope: crate::order::RefundScope::Remaining,
                    reason: "cannot come".into(),
                    requested_by: "buyer".into(),
                    auto_approve_below: i64::MAX,
                },
                crate::order::RefundTerms {
                    refundable_max: order.total().minor(),
                    retained: 0,
                },
                NOW,
            )
            .expect("approved");
        let events = order.complete_refund(refund, "re_1", NOW).expect("paid");
        let notes = documents_for(
            &order,
            &events,
            &Seller::default(),
            || Rate::from_basis_points(800),
            NOW,
        );
        assert_eq!(notes.len(), 1);
        let note = &notes[0];
        assert_eq!(
            (note.kind, note.refund_id, note.total),
            (
                DocumentKind::CreditNote,
                Some(refund),
                order.total().minor()
            )
        );
        assert_eq!(
            note.tax,
            order.pricing().tax().minor(),
            "a full refund returns all tax"
        );
        assert_eq!(note.lines[0].description, "Refund: cannot come");
    }

    #[test]
    fn numbers_are_per_kind_and_year_with_six_digits() {
        assert_eq!(DocumentKind::Invoice.number(2026, 1), "INV-2026-000001");
        assert_eq!(
            DocumentKind::CreditNote.number(2027, 123_456),
            "CN-2027-123456"
        );
        for kind in DocumentKind::ALL {
            assert_eq!(kind.as_str().parse::<DocumentKind>(), Ok(kind));
        }
    }
}
