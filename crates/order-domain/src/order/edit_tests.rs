//! Edits of the aggregate: given an order, when an edit is priced and applied, then its lines,
//! its breakdown and its balance; and the properties that make the arithmetic trustworthy.

use proptest::prelude::*;
use time::Duration;

use super::tests::{T0, given, names, order_in, pending, uuid};
use super::*;
use crate::ids::{OrderEditId, TicketPricingId, TicketTypeId};
use crate::money::Currency;
use crate::policy::{OrderLimits, Violations};
use crate::pricing::FeeSchedule;

const OPEN: EditWindow = EditWindow { closes_at: None };

fn ticket_line(n: u128, unit_price: i64, quantity: u32) -> NewOrderItem {
    NewOrderItem {
        id: OrderItemId::from_uuid(uuid(5_000 + n)),
        product: ItemProduct::Ticket {
            ticket_type_id: TicketTypeId::from_uuid(uuid(6_000 + n)),
            ticket_pricing_id: TicketPricingId::from_uuid(uuid(7_000 + n)),
        },
        quantity,
        unit_price,
    }
}

/// Checks, prices (as ticket orders are priced at creation) and applies `changes`.
fn edit(
    order: &mut Order,
    changes: &[EditChange],
) -> Result<(EditBalance, Vec<OrderEvent>), OrderError> {
    order.check_editable(OPEN, T0)?;
    let lines = order
        .lines_after(changes, &OrderLimits::default())
        .expect("valid changes");
    let priced = price_items(&FeeSchedule::tickets(), order.currency(), &lines).expect("priced");
    order.apply_edit(
        OrderEditId::from_uuid(uuid(8_000)),
        lines,
        priced,
        "asked",
        T0,
    )
}

fn refusal(order: &Order, changes: &[EditChange]) -> Vec<(String, String)> {
    let Err(Violations(errors)) = order.lines_after(changes, &OrderLimits::default()) else {
        panic!("expected the changes to be refused");
    };
    errors.into_iter().map(|e| (e.path, e.code)).collect()
}

#[test]
fn an_added_line_is_priced_and_the_buyer_owes_its_share_of_every_component() {
    let order = pending(OrderKind::Ticket);
    let before = *order.pricing();
    let mut balance = None;
    let order = given(order)
        .when(|o| {
            let (b, events) = edit(o, &[EditChange::AddItem(ticket_line(1, 4_000, 2))])?;
            balance = Some(b);
            Ok(events)
        })
        .then_events(["order.edited"]);
    let balance = balance.expect("applied");
    assert_eq!(order.items().len(), 3);
    assert_eq!(balance.before, before);
    assert_eq!(balance.after, *order.pricing());
    assert_eq!(balance.difference.subtotal, 8_000);
    assert!(balance.difference.platform_fee > 0 && balance.difference.tax > 0);
    assert_eq!(
        balance.difference.total,
        order.total().minor() - before.total().minor()
    );
}

#[test]
fn a_removed_line_gives_back_its_share_and_the_event_names_it() {
    let mut order = pending(OrderKind::Ticket);
    let removed = order.items()[1].id;
    let (balance, events) =
        edit(&mut order, &[EditChange::RemoveItem { item: removed }]).expect("applied");
    assert!(balance.difference.total < 0);
    assert_eq!(balance.difference.subtotal, -2_500);
    let [OrderEvent::Edited(edited)] = events.as_slice() else {
        panic!("expected order.edited, got {:?}", names(&events));
    };
    assert_eq!(edited.removed, vec![removed]);
    assert_eq!(edited.after, *order.pricing());
    assert_eq!(order.edits(), [OrderEditId::from_uuid(uuid(8_000))]);
    assert!(order.items().iter().all(|i| i.id != removed));
}

#[test]
fn a_changed_quantity_keeps_the_unit_price_the_line_was_bought_at() {
    let mut order = pending(OrderKind::Ticket);
    let line = order.items()[0].clone();
    edit(
        &mut order,
        &[EditChange::ChangeQuantity {
            item: line.id,
            quantity: 5,
        }],
    )
    .expect("applied");
    let after = &order.items()[0];
    assert_eq!(
        (after.id, after.quantity, after.unit_price),
        (line.id, 5, line.unit_price)
    );
    assert_eq!(after.pricing.subtotal().minor(), 5 * line.unit_price);
}

#[test]
fn orders_past_fulfillment_closed_or_outside_the_window_are_not_editable() {
    for status in [
        OrderStatus::Processing,
        OrderStatus::Shipped,
        OrderStatus::Cancelled,
    ] {
        let order = order_in(OrderKind::Goods, status).expect("reachable");
        assert!(matches!(
            order.check_editable(OPEN, T0),
            Err(OrderError::NotEditable { status: s, .. }) if s == status
        ));
    }
    let confirmed = order_in(OrderKind::Ticket, OrderStatus::Confirmed).expect("reachable");
    assert_eq!(confirmed.check_editable(OPEN, T0), Ok(()));
    let closed = EditWindow {
        closes_at: Some(T0),
    };
    assert!(confirmed.check_editable(closed, T0).is_err());
    let open_an_hour = EditWindow {
        closes_at: Some(T0 + Duration::hours(1)),
    };
    assert_eq!(confirmed.check_editable(open_an_hour, T0), Ok(()));
}

#[test]
fn an_order_with_a_cancelled_line_is_not_editable() {
    let mut order = pending(OrderKind::Goods);
    let line = order.items()[0].id;
    order
        .cancel_line(line, "not wanted", None, T0)
        .expect("cancelled");
    assert!(matches!(
        order.check_editable(OPEN, T0),
        Err(OrderError::NotEditable { .. })
    ));
}

#[test]
fn bad_changes_are_refused_with_the_path_of_the_change_at_fault() {
    let order = pending(OrderKind::Ticket);
    let [first, second] = [order.items()[0].id, order.items()[1].id];
    let stranger = OrderItemId::from_uuid(uuid(9_999));
    assert_eq!(refusal(&order, &[]), [("changes".into(), "too_few".into())]);
    assert_eq!(
        refusal(&order, &[EditChange::RemoveItem { item: stranger }]),
        [("changes[0].itemId".into(), "unknown".into())]
    );
    assert_eq!(
        refusal(
            &order,
            &[
                EditChange::ChangeQuantity {
                    item: first,
                    quantity: 3
                },
                EditChange::RemoveItem { item: first },
            ]
        ),
        [("changes[1].itemId".into(), "duplicate".into())]
    );
    assert_eq!(
        refusal(
            &order,
            &[EditChange::ChangeQuantity {
                item: first,
                quantity: 0
            }]
        ),
        [("changes[0].quantity".into(), "out_of_range".into())]
    );
    assert_eq!(
        refusal(&order, &[EditChange::AddItem(ticket_line(1, 100, 11))]),
        [("changes[0].quantity".into(), "out_of_range".into())]
    );
    assert_eq!(
        refusal(
            &order,
            &[
                EditChange::RemoveItem { item: first },
                EditChange::RemoveItem { item: second }
            ]
        ),
        [("changes".into(), "too_few".into())]
    );
    let over_the_total: Vec<EditChange> = (0..10)
        .map(|n| EditChange::AddItem(ticket_line(n, 100, 10)))
        .collect();
    assert_eq!(
        refusal(&order, &over_the_total),
        [("changes".into(), "total_quantity_limit".into())]
    );
}

#[test]
fn an_edit_that_changes_the_currency_is_refused() {
    let mut order = pending(OrderKind::Ticket);
    let lines = order
        .lines_after(
            &[EditChange::AddItem(ticket_line(1, 100, 1))],
            &OrderLimits::default(),
        )
        .expect("valid");
    let euros = price_items(&FeeSchedule::tickets(), Currency::Eur, &lines).expect("priced");
    let before = order.clone();
    assert_eq!(
        order.apply_edit(OrderEditId::from_uuid(uuid(1)), lines, euros, "", T0),
        Err(OrderError::PricingMismatch)
    );
    assert_eq!(order, before);
}

/// Up to four lines of up to 500.00 each, 1–10 units.
fn lines() -> impl Strategy<Value = Vec<(i64, u32)>> {
    prop::collection::vec((0i64..50_000, 1u32..=10), 1..4)
}

fn created(lines: &[(i64, u32)], first_id: u128) -> Order {
    let items: Vec<NewOrderItem> = lines
        .iter()
        .enumerate()
        .map(|(n, &(price, quantity))| ticket_line(first_id + n as u128, price, quantity))
        .collect();
    created_from(items)
}

fn created_from(items: Vec<NewOrderItem>) -> Order {
    let priced = price_items(&FeeSchedule::tickets(), Currency::Usd, &items).expect("priced");
    let mut new = super::tests::new_order(OrderKind::Ticket);
    new.items = items;
    new.priced = priced;
    Order::create(new).expect("created").0
}

proptest! {
    #[test]
    fn an_edited_order_is_priced_as_an_order_created_with_its_lines(
        start in lines(),
        added in lines(),
        new_quantity in 1u32..=10,
    ) {
        let mut order = created(&start, 0);
        let mut changes = vec![EditChange::ChangeQuantity { item: order.items()[0].id, quantity: new_quantity }];
        changes.extend(added.iter().enumerate().map(|(n, &(p, q))| EditChange::AddItem(ticket_line(100 + n as u128, p, q))));
        let lines = order.lines_after(&changes, &OrderLimits::default()).expect("valid");
        let expected = created_from(lines.clone());
        let priced = price_items(&FeeSchedule::tickets(), Currency::Usd, &lines).expect("priced");
        order.apply_edit(OrderEditId::from_uuid(uuid(1)), lines, priced, "", T0).expect("applied");
        prop_assert_eq!(order.pricing(), expected.pricing());
        prop_assert_eq!(order.items(), expected.items());
    }

    #[test]
    fn an_edit_followed_by_its_inverse_restores_every_amount(
        start in lines(),
        added in (0i64..50_000, 1u32..=10),
        new_quantity in 1u32..=10,
    ) {
        let original = created(&start, 0);
        let mut order = original.clone();
        let first = order.items()[0].clone();
        let new_line = ticket_line(100, added.0, added.1);
        edit(&mut order, &[
            EditChange::ChangeQuantity { item: first.id, quantity: new_quantity },
            EditChange::AddItem(new_line.clone()),
        ]).expect("applied");
        let (_, _) = edit(&mut order, &[
            EditChange::ChangeQuantity { item: first.id, quantity: first.quantity },
            EditChange::RemoveItem { item: new_line.id },
        ]).expect("inverse applied");
        prop_assert_eq!(order.pricing(), original.pricing());
        prop_assert_eq!(order.items(), original.items());
    }

    #[test]
    fn the_balance_is_the_sum_of_the_lines_differences(
        start in lines(),
        added in lines(),
        remove_first in any::<bool>(),
    ) {
        let mut order = created(&start, 0);
        let before: Vec<OrderItem> = order.items().to_vec();
        let mut changes: Vec<EditChange> = added.iter().enumerate()
            .map(|(n, &(p, q))| EditChange::AddItem(ticket_line(100 + n as u128, p, q)))
            .collect();
        if remove_first {
            changes.push(EditChange::RemoveItem { item: before[0].id });
        }
        let (balance, _) = edit(&mut order, &changes).expect("applied");
        let share = |items: &[OrderItem], f: fn(&crate::pricing::PriceBreakdown) -> crate::money::Money| {
            items.iter().map(|i| f(&i.pricing).minor()).sum::<i64>()
        };
        use crate::pricing::PriceBreakdown as B;
        let after = order.items();
        prop_assert_eq!(balance.difference.total, share(after, B::total) - share(&before, B::total));
        prop_assert_eq!(balance.difference.subtotal, share(after, B::subtotal) - share(&before, B::subtotal));
        prop_assert_eq!(balance.difference.platform_fee, share(after, B::platform_fee) - share(&before, B::platform_fee));
        prop_assert_eq!(balance.difference.processing_fee, share(after, B::processing_fee) - share(&before, B::processing_fee));
        prop_assert_eq!(balance.difference.tax, share(after, B::tax) - share(&before, B::tax));
    }
}

mod paid_increase {
    use time::Duration;

    use super::super::tests::{T0, given, names, order_in, uuid};
    use super::*;
    use crate::ids::{PaymentIntentId, TicketId};
    use crate::ledger::{LedgerEntryKind, entries_for};

    fn due() -> DifferenceDue {
        DifferenceDue {
            payment_intent_id: PaymentIntentId::new("pi-edit"),
            hold_id: None,
            expires_at: T0 + Duration::minutes(15),
        }
    }

    /// A confirmed ticket order with one more line kept aside until it is paid.
    fn waiting() -> (Order, EditBalance) {
        let mut order = order_in(OrderKind::Ticket, OrderStatus::Confirmed).expect("reachable");
        let lines = order
            .lines_after(
                &[EditChange::AddItem(ticket_line(1, 4_000, 1))],
                &OrderLimits::default(),
            )
            .expect("valid");
        let priced =
            price_items(&FeeSchedule::tickets(), order.currency(), &lines).expect("priced");
        let (balance, events) = order
            .await_edit_payment(
                OrderEditId::from_uuid(uuid(8_100)),
                lines,
                priced,
                "one more",
                due(),
                T0,
            )
            .expect("kept aside");
        assert_eq!(names(&events), ["order.edit_awaiting_payment"]);
        (order, balance)
    }

    #[test]
    fn a_paid_orders_increase_waits_and_changes_nothing_until_paid() {
        let before = order_in(OrderKind::Ticket, OrderStatus::Confirmed).expect("reachable");
        let (order, balance) = waiting();
        assert!(balance.difference.total > 0);
        assert_eq!(
            order.items(),
            before.items(),
            "the lines wait with the edit"
        );
        assert_eq!(order.pricing(), before.pricing());
        let pending = order.pending_edit().expect("waiting");
        assert_eq!(pending.amount, balance.difference.total);
        assert_eq!(pending.pricing, balance.after);
        assert!(matches!(
            order.check_editable(OPEN, T0),
            Err(OrderError::NotEditable { .. })
        ));
    }

    #[test]
    fn the_paid_difference_makes_the_edit_the_orders_and_is_captured_in_the_ledger() {
        let (order, balance) = waiting();
        let intent = PaymentIntentId::new("pi-edit");
        let mut events = Vec::new();
        let order = given(order)
            .when(|o| {
                events = o.settle_edit_payment(&intent, vec![TicketId::new("t-9")], T0)?;
                Ok(events.clone())
            })
            .then_events(["order.edited"]);
        assert_eq!(*order.pricing(), balance.after);
        assert_eq!(order.items().len(), 3);
        assert!(order.ticket_ids().contains(&TicketId::new("t-9")));
        assert_eq!(order.edit_payments()[0].amount, balance.difference.total);
        assert!(order.pending_edit().is_none());
        let entries = entries_for(&order, &events, T0, || {
            crate::ids::LedgerEntryId::from_uuid(uuid(1))
        });
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].kind, LedgerEntryKind::PaymentCaptured);
        assert_eq!(entries[0].amount, balance.difference.total);
        assert_eq!(entries[0].reference.as_deref(), Some("pi-edit"));
    }

    #[test]
    fn another_intent_does_not_settle_the_edit() {
        let (order, _) = waiting();
        given(order)
            .when(|o| o.settle_edit_payment(&PaymentIntentId::new("pi-1"), Vec::new(), T0))
            .then_refused(OrderError::PaymentIntentMismatch {
                received: PaymentIntentId::new("pi-1"),
            });
    }

    #[test]
    fn an_unpaid_edit_lapses_at_its_deadline_and_the_order_is_as_it_was() {
        let before = order_in(OrderKind::Ticket, OrderStatus::Confirmed).expect("reachable");
        let (order, _) = waiting();
        let deadline = T0 + Duration::minutes(15);
        given(order.clone())
            .when(|o| o.lapse_edit(deadline - Duration::seconds(1)))
            .then_refused(OrderError::NotYetExpired {
                expires_at: deadline,
            });
        let lapsed = given(order)
            .when(|o| o.lapse_edit(deadline))
            .then_events(["order.edit_lapsed"]);
        assert!(lapsed.pending_edit().is_none());
        assert_eq!(lapsed.items(), before.items());
        assert_eq!(lapsed.pricing(), before.pricing());
    }

    #[test]
    fn a_waiting_edit_blocks_cancellations_and_refunds_until_it_is_paid_or_lapses() {
        let (order, _) = waiting();
        let line = order.items()[0].id;
        given(order.clone())
            .when(|o| o.cancel("changed my mind", None, T0))
            .then_refused_with(|e| matches!(e, OrderError::NotEditable { .. }));
        given(order)
            .when(|o| o.cancel_line(line, "not needed", None, T0))
            .then_refused_with(|e| matches!(e, OrderError::NotEditable { .. }));
    }

    #[test]
    fn a_decrease_or_an_unpaid_order_does_not_wait_for_a_payment() {
        let mut unpaid = pending(OrderKind::Ticket);
        let lines = unpaid
            .lines_after(
                &[EditChange::AddItem(ticket_line(1, 4_000, 1))],
                &OrderLimits::default(),
            )
            .expect("valid");
        let priced =
            price_items(&FeeSchedule::tickets(), unpaid.currency(), &lines).expect("priced");
        let refused = unpaid.await_edit_payment(
            OrderEditId::from_uuid(uuid(1)),
            lines,
            priced,
            "",
            due(),
            T0,
        );
        assert!(matches!(refused, Err(OrderError::NotEditable { .. })));
        assert!(unpaid.pending_edit().is_none());
    }
}
