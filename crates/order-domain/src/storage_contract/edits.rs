//! Contracts of an edited order: its new lines, their prices, the order's breakdown, its list of
//! edits and the refund that settles an edit are stored with the change, and a stale edit
//! stores none of them.

use super::Storage;
use super::fixtures::*;
use crate::ids::{OrderEditId, OrderItemId, RefundId, TicketPricingId, TicketTypeId};
use crate::order::{EditChange, ItemProduct, NewOrderItem, Order, price_items};
use crate::ports::RepositoryError;
use crate::pricing::FeeSchedule;

/// `order` with one line added and its first line removed, priced like a new order.
fn edited(order: &Order, n: u128) -> (Order, Vec<crate::events::OrderEvent>) {
    let changes = [
        EditChange::AddItem(NewOrderItem {
            id: OrderItemId::from_uuid(id(n)),
            product: ItemProduct::Ticket {
                ticket_type_id: TicketTypeId::from_uuid(id(n + 1)),
                ticket_pricing_id: TicketPricingId::from_uuid(id(n + 2)),
            },
            quantity: 3,
            unit_price: 2_500,
        }),
        EditChange::RemoveItem {
            item: order.items()[0].id,
        },
    ];
    let mut after = order.clone();
    let lines = after
        .lines_after(&changes, &crate::policy::OrderLimits::default())
        .expect("valid changes");
    let priced = price_items(&FeeSchedule::tickets(), after.currency(), &lines).expect("priced");
    let (_, events) = after
        .apply_edit(
            OrderEditId::from_uuid(id(n + 3)),
            lines,
            priced,
            "edited",
            NOW,
        )
        .expect("applied");
    (after, events)
}

/// An edit's lines, prices, breakdown and edit list read back as committed, with the refund it
/// settles naming it; the same edit from a stale version is a conflict that changes nothing.
pub async fn an_edited_order_is_stored_with_its_new_lines_and_prices(store: &impl Storage) {
    let order = store_reserved(store, OrderFixture::new(500).build(), 500_000).await;
    let order = store_confirmed(store, order, 500_500).await;
    let (mut after, mut events) = edited(&order, 501);
    let refund = RefundId::from_uuid(id(510));
    let difference = order.total().minor() - after.total().minor();
    events.extend(after.refund_edit_balance(
        OrderEditId::from_uuid(id(504)),
        refund,
        difference,
        "buyer",
        NOW,
    ));
    store
        .commit(&change(&after, events.clone(), 501_000))
        .await
        .expect("the edit commits");
    after.mark_committed();
    let loaded = store
        .find(tenant_a(), order.id())
        .await
        .expect("find")
        .expect("present");
    assert_eq!(
        loaded, after,
        "lines, prices, breakdown, edits and refund as committed"
    );
    assert_eq!(loaded.items().len(), order.items().len());
    assert_eq!(loaded.edits(), [OrderEditId::from_uuid(id(504))]);
    assert_eq!(
        loaded.refund(refund).and_then(|r| r.edit_id),
        Some(OrderEditId::from_uuid(id(504)))
    );

    let (stale, stale_events) = edited(&order, 520);
    let refused = store.commit(&change(&stale, stale_events, 520_000)).await;
    assert!(matches!(refused, Err(RepositoryError::Conflict { .. })));
    let unchanged = store
        .find(tenant_a(), order.id())
        .await
        .expect("find")
        .expect("present");
    assert_eq!(unchanged, after, "a stale edit stores nothing");
}

/// An edit waiting for its payment reads back with the order and is found by the lapse job's
/// scan once overdue; paid, it becomes the order's lines with a second capture in the ledger.
pub async fn an_edit_waiting_for_its_payment_is_stored_found_when_overdue_and_settled(
    store: &impl Storage,
) {
    use crate::ids::PaymentIntentId;
    use crate::order::DifferenceDue;
    let order = store_reserved(store, OrderFixture::new(530).build(), 530_000).await;
    let mut order = store_confirmed(store, order, 530_500).await;
    let mut capture = change(&order, Vec::new(), 530_600);
    capture.ledger = crate::ledger::entries_for(
        &order,
        &[crate::events::OrderEvent::Confirmed(
            crate::events::OrderConfirmed {
                change: crate::events::StatusChanged {
                    from: crate::order::OrderStatus::Reserved,
                    to: crate::order::OrderStatus::Confirmed,
                },
                payment_intent_id: order.payment_intent_id().cloned().expect("intent"),
                total: order.total().minor(),
            },
        )],
        NOW,
        || crate::ids::LedgerEntryId::from_uuid(id(530_700)),
    );
    let lines = order
        .lines_after(
            &[EditChange::AddItem(NewOrderItem {
                id: OrderItemId::from_uuid(id(531)),
                product: order.items()[0].product.clone(),
                quantity: 1,
                unit_price: 4_000,
            })],
            &crate::policy::OrderLimits::default(),
        )
        .expect("valid");
    let priced = price_items(&FeeSchedule::tickets(), order.currency(), &lines).expect("priced");
    let deadline = NOW + time::Duration::minutes(15);
    let (_, events) = order
        .await_edit_payment(
            OrderEditId::from_uuid(id(532)),
            lines,
            priced,
            "one more",
            DifferenceDue {
                payment_intent_id: PaymentIntentId::new("pi-edit-532"),
                hold_id: None,
                expires_at: deadline,
            },
            NOW,
        )
        .expect("kept aside");
    let mut waiting = change(&order, events, 532_000);
    waiting.ledger = capture.ledger;
    store.commit(&waiting).await.expect("commits");
    order.mark_committed();
    let loaded = store
        .find(tenant_a(), order.id())
        .await
        .expect("find")
        .expect("present");
    assert_eq!(loaded, order, "the waiting edit reads back");
    assert!(
        store
            .edits_due(deadline - time::Duration::seconds(1), 10)
            .await
            .expect("scan")
            .is_empty(),
        "not due before its deadline"
    );
    let due = store.edits_due(deadline, 10).await.expect("scan");
    assert!(due.iter().any(|d| d.order_id == order.id()));

    let events = order
        .settle_edit_payment(&PaymentIntentId::new("pi-edit-532"), Vec::new(), NOW)
        .expect("settled");
    let mut settled = change(&order, events.clone(), 533_000);
    settled.ledger = crate::ledger::entries_for(&order, &events, NOW, || {
        crate::ids::LedgerEntryId::from_uuid(id(533_700))
    });
    store.commit(&settled).await.expect("commits");
    order.mark_committed();
    let loaded = store
        .find(tenant_a(), order.id())
        .await
        .expect("find")
        .expect("present");
    assert_eq!(loaded, order, "the paid edit is the order's");
    assert_eq!(loaded.edit_payments().len(), 1);
    let ledger = store.ledger(tenant_a(), order.id()).await.expect("ledger");
    let captures = ledger
        .iter()
        .filter(|e| e.kind == crate::ledger::LedgerEntryKind::PaymentCaptured)
        .count();
    assert_eq!(captures, 2, "the order's capture and the edit's");
    assert!(
        store
            .edits_due(deadline, 10)
            .await
            .expect("scan")
            .iter()
            .all(|d| d.order_id != order.id())
    );
}
