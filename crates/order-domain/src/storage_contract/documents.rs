//! Contracts of invoices and credit notes: numbered in the commit, gap-free per tenant, kind and
//! year; a refused change takes no number; a credit note names the order's invoice.

use super::Storage;
use super::fixtures::*;
use crate::documents::{Buyer, DocumentContent, DocumentKind, Seller};
use crate::money::Currency;
use crate::order::Order;

fn content(order: &Order, kind: DocumentKind, total: i64) -> DocumentContent {
    DocumentContent {
        kind,
        order_id: order.id(),
        order_number: order.number().to_string(),
        refund_id: (kind == DocumentKind::CreditNote)
            .then(|| crate::ids::RefundId::from_uuid(id(u128::try_from(total).unwrap_or(0)))),
        issued_at: NOW,
        seller: Seller::default(),
        buyer: Buyer {
            name: "Ada Lovelace".into(),
            address: vec!["1 Market St".into()],
            email: None,
        },
        lines: Vec::new(),
        subtotal: total,
        discount: 0,
        platform_fee: 0,
        processing_fee: 0,
        shipping: 0,
        tax_rate_ppm: 0,
        tax: 0,
        total,
        currency: Currency::Usd,
    }
}

/// Invoices of two orders and a credit note get the next numbers of their kind in their tenant
/// and year; a stale change takes none; another tenant counts from one.
pub async fn documents_are_numbered_in_the_commit_without_gaps(store: &impl Storage) {
    let first = store_reserved(store, OrderFixture::new(500).build(), 500_000).await;
    let first = store_confirmed(store, first, 500_500).await;
    let second = store_reserved(store, OrderFixture::new(501).buyer(8).build(), 501_000).await;
    let second = store_confirmed(store, second, 501_500).await;
    let other = store_reserved(
        store,
        OrderFixture::new(502).tenant(tenant_b()).build(),
        502_000,
    )
    .await;
    let other = store_confirmed(store, other, 502_500).await;

    let issue = |order: &Order, kind, total, seed| {
        let mut change = change(order, Vec::new(), seed);
        change.documents = vec![content(order, kind, total)];
        change
    };
    store
        .commit(&issue(&first, DocumentKind::Invoice, 1_000, 503_000))
        .await
        .expect("invoice");
    let invoiced = issue(&second, DocumentKind::Invoice, 2_000, 504_000);
    store.commit(&invoiced).await.expect("invoice");
    assert!(
        store.commit(&invoiced).await.is_err(),
        "the same change again is stale"
    );
    let mut first = first;
    first.mark_committed();
    store
        .commit(&issue(&first, DocumentKind::CreditNote, 300, 505_000))
        .await
        .expect("credit note");
    store
        .commit(&issue(&other, DocumentKind::Invoice, 4_000, 506_000))
        .await
        .expect("invoice");

    let numbers = |documents: Vec<crate::documents::Document>| {
        documents
            .into_iter()
            .map(|d| (d.number, d.corrects, d.content.total))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        numbers(
            store
                .documents(tenant_a(), first.id())
                .await
                .expect("documents")
        ),
        [
            ("INV-2026-000001".to_owned(), None, 1_000),
            (
                "CN-2026-000001".to_owned(),
                Some("INV-2026-000001".to_owned()),
                300
            ),
        ]
    );
    assert_eq!(
        numbers(
            store
                .documents(tenant_a(), second.id())
                .await
                .expect("documents")
        ),
        [("INV-2026-000002".to_owned(), None, 2_000)],
        "the refused change took no number"
    );
    assert_eq!(
        numbers(
            store
                .documents(tenant_b(), other.id())
                .await
                .expect("documents")
        ),
        [("INV-2026-000001".to_owned(), None, 4_000)],
        "each tenant counts its own"
    );
    assert!(
        store
            .documents(tenant_b(), first.id())
            .await
            .expect("documents")
            .is_empty()
    );
    let stored = store
        .documents(tenant_a(), first.id())
        .await
        .expect("documents");
    assert_eq!(stored[0].content.buyer.name, "Ada Lovelace", "round trip");
}
