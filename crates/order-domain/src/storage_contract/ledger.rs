//! Contracts of the ledger: entries are stored with the change that causes them and only with
//! it, read in their order in their tenant, and one capture per order and paying intent and one
//! payout entry per refund is all a store accepts.

use super::Storage;
use super::fixtures::*;
use crate::ids::{LedgerEntryId, RefundId};
use crate::ledger::{LedgerEntry, LedgerEntryKind};
use crate::ports::RepositoryError;

fn entry(n: u128, kind: LedgerEntryKind, amount: i64, refund: Option<RefundId>) -> LedgerEntry {
    LedgerEntry {
        id: LedgerEntryId::from_uuid(id(n)),
        kind,
        amount,
        currency: crate::money::Currency::Usd,
        refund_id: refund,
        reference: Some(format!("ref-{n}")),
        occurred_at: NOW,
    }
}

/// A change's entries are stored with it, in order, visible in its tenant only; a stale change
/// stores none; a second capture or a second payout of one refund is refused whole.
pub async fn ledger_entries_are_stored_with_their_change_and_never_twice(store: &impl Storage) {
    let order = store_reserved(store, OrderFixture::new(400).build(), 400_000).await;
    let mut order = store_confirmed(store, order, 400_500).await;
    let refund = RefundId::from_uuid(id(401));
    let events = request_refund_of_1_000(&mut order, refund, Approval::Automatic);
    let mut requested = change(&order, events, 401_000);
    requested.ledger = vec![entry(
        402,
        LedgerEntryKind::PaymentCaptured,
        order.total().minor(),
        None,
    )];
    store.commit(&requested).await.expect("stored");
    order.mark_committed();

    let paid_events = order.complete_refund(refund, "re_1", NOW).expect("paid");
    let mut paid = change(&order, paid_events, 403_000);
    paid.ledger = vec![entry(404, LedgerEntryKind::RefundPaid, 1_000, Some(refund))];
    let mut stale = paid.clone();
    stale.ledger = vec![entry(405, LedgerEntryKind::RefundPaid, 1_000, Some(refund))];
    store.commit(&paid).await.expect("stored");
    assert!(store.commit(&stale).await.is_err(), "a stale change");
    order.mark_committed();

    let ledger = store.ledger(tenant_a(), order.id()).await.expect("ledger");
    let ids: Vec<_> = ledger.iter().map(|e| e.id).collect();
    assert_eq!(ids, [requested.ledger[0].id, paid.ledger[0].id]);
    assert_eq!(ledger[1], paid.ledger[0], "an entry round-trips");
    assert!(
        store
            .ledger(tenant_b(), order.id())
            .await
            .expect("ledger")
            .is_empty(),
        "another tenant sees none"
    );

    // The same refund paid twice, or a second capture by the same intent, with a current
    // version: refused whole.
    let mut twice = change(&order, Vec::new(), 406_000);
    twice.ledger = vec![entry(407, LedgerEntryKind::RefundPaid, 1_000, Some(refund))];
    assert!(
        matches!(
            store.commit(&twice).await,
            Err(RepositoryError::Duplicate { .. })
        ),
        "one payout entry per refund"
    );
    let mut recaptured = change(&order, Vec::new(), 408_000);
    recaptured.ledger = vec![entry(409, LedgerEntryKind::PaymentCaptured, 5, None)];
    recaptured.ledger[0].reference = requested.ledger[0].reference.clone();
    assert!(
        matches!(
            store.commit(&recaptured).await,
            Err(RepositoryError::Duplicate { .. })
        ),
        "one capture per order and paying intent"
    );
    assert_eq!(
        store
            .ledger(tenant_a(), order.id())
            .await
            .expect("ledger")
            .len(),
        2
    );
    let stored = store
        .find(tenant_a(), order.id())
        .await
        .expect("find")
        .expect("present");
    assert_eq!(
        stored.version(),
        order.version(),
        "the refused changes wrote nothing"
    );
}
