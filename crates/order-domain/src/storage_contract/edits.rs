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
