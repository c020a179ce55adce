//! Editing a placed order (docs/edits.md): lines added, quantities changed, lines removed.
//!
//! An edit runs in two steps so that pricing stays outside the aggregate, exactly as at creation:
//! [`Order::lines_after`] checks the changes and answers the lines the order would have; the
//! caller prices them with the function that priced the order when it was created; and
//! [`Order::apply_edit`] takes those prices, checks that they belong to the lines, and answers the
//! [`EditBalance`]: what the buyer pays more (positive) or gets back (negative), per component.
//! Kept lines keep the unit price they were bought at; only added lines take today's price.

use serde::Serialize;
use time::OffsetDateTime;

use super::{
    NewOrderItem, Order, OrderError, OrderItem, OrderKind, OrderStatus, Refund, RefundStatus,
};
use crate::events::{CreatedItem, EditedLine, OrderEdited, OrderEvent, RefundRequested};
use crate::ids::{OrderEditId, OrderItemId, RefundId};
use crate::policy::{FieldError, LineQuantity, OrderLimits, Violations};
use crate::pricing::{PriceBreakdown, PricedOrder};

/// One change of an edit, in the order the client listed them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditChange {
    /// A new line at the unit price its upstream answered now.
    AddItem(NewOrderItem),
    /// A line's new quantity (≥ 1; removing is [`EditChange::RemoveItem`]).
    ChangeQuantity {
        /// The line.
        item: OrderItemId,
        /// Its new number of units.
        quantity: u32,
    },
    /// A line taken off the order.
    RemoveItem {
        /// The line.
        item: OrderItemId,
    },
}

/// The signed difference of two breakdowns, component by component (after − before).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceDifference {
    /// Σ unit price × quantity.
    pub subtotal: i64,
    /// Promotions and promo code.
    pub discount: i64,
    /// Platform fee.
    pub platform_fee: i64,
    /// Processing fee.
    pub processing_fee: i64,
    /// Shipping.
    pub shipping: i64,
    /// Tax.
    pub tax: i64,
    /// The total: positive, the buyer pays more; negative, the buyer gets money back.
    pub total: i64,
}

impl PriceDifference {
    /// `after − before` for every component (both in one currency, checked by the caller).
    pub fn between(before: &PriceBreakdown, after: &PriceBreakdown) -> Self {
        let diff =
            |f: fn(&PriceBreakdown) -> crate::money::Money| f(after).minor() - f(before).minor();
        Self {
            subtotal: diff(PriceBreakdown::subtotal),
            discount: diff(PriceBreakdown::discount),
            platform_fee: diff(PriceBreakdown::platform_fee),
            processing_fee: diff(PriceBreakdown::processing_fee),
            shipping: diff(PriceBreakdown::shipping),
            tax: diff(PriceBreakdown::tax),
            total: diff(PriceBreakdown::total),
        }
    }
}

/// What an edit does to the order's price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EditBalance {
    /// The order's breakdown before the edit.
    pub before: PriceBreakdown,
    /// After it.
    pub after: PriceBreakdown,
    /// After − before, per component.
    pub difference: PriceDifference,
}

/// Until when an order may be edited, from the policy: ticket orders close at the refund cutoff
/// before the event starts; goods orders when fulfillment starts (their status says so).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EditWindow {
    /// The last moment a ticket order may change (`None`: no event start known, or goods).
    pub closes_at: Option<OffsetDateTime>,
}

impl Order {
    /// Whether the order may be edited now: open and not yet fulfilled (PENDING, RESERVED or
    /// CONFIRMED), inside `window`, and with no refund (but an earlier edit's) and no cancelled
    /// line, whose amounts were fixed against the breakdown an edit would change (decision 0078).
    ///
    /// # Errors
    /// [`OrderError::NotEditable`] naming why.
    pub fn check_editable(
        &self,
        window: EditWindow,
        now: OffsetDateTime,
    ) -> Result<(), OrderError> {
        let refuse = |why: &'static str| {
            Err(OrderError::NotEditable {
                status: self.status(),
                why,
            })
        };
        if !matches!(
            self.status(),
            OrderStatus::Pending | OrderStatus::Reserved | OrderStatus::Confirmed
        ) {
            return refuse(match self.kind() {
                OrderKind::Goods => "goods orders change only until fulfillment starts",
                OrderKind::Ticket => "only open orders change",
            });
        }
        if window.closes_at.is_some_and(|closes_at| now >= closes_at) {
            return refuse("ticket orders change only until the refund cutoff before the event");
        }
        self.no_edit_waiting()?;
        let other_refunds = self.record.refunds.iter().any(|r| r.edit_id.is_none());
        if other_refunds || !self.record.cancelled_items.is_empty() {
            return refuse("an order with a refund or a cancelled line cannot change");
        }
        Ok(())
    }

    /// The lines the order would have after `changes`: kept lines in their place with their
    /// unit prices, changed ones with their new quantity, added ones at the end. The result obeys
    /// `limits` (paths name the change at fault, `changes[2].quantity`).
    ///
    /// # Errors
    /// [`Violations`]: no changes, an unknown line or one changed twice, a quantity out of
    /// range, every line removed, or the result over the order's limits.
    pub fn lines_after(
        &self,
        changes: &[EditChange],
        limits: &OrderLimits,
    ) -> Result<Vec<NewOrderItem>, Violations> {
        let mut violations = Violations::default();
        if changes.is_empty() {
            violations.push(FieldError::new(
                "changes",
                "too_few",
                "an edit needs at least one change",
            ));
        }
        let mut lines: Vec<Option<NewOrderItem>> = self
            .record
            .items
            .iter()
            .map(|item| {
                Some(NewOrderItem {
                    id: item.id,
                    product: item.product.clone(),
                    quantity: item.quantity,
                    unit_price: item.unit_price,
                })
            })
            .collect();
        let mut touched: Vec<OrderItemId> = Vec::new();
        let mut added = Vec::new();
        let quantity_ok = |q: u32| (1..=limits.max_quantity_per_item).contains(&q);
        let out_of_range = |index: usize| {
            FieldError::new(
                format!("changes[{index}].quantity"),
                "out_of_range",
                format!(
                    "quantity must be between 1 and {}",
                    limits.max_quantity_per_item
                ),
            )
        };
        for (index, change) in changes.iter().enumerate() {
            let target = match change {
                EditChange::AddItem(item) => {
                    if !quantity_ok(item.quantity) {
                        violations.push(out_of_range(index));
                    }
                    added.push(item.clone());
                    continue;
                }
                EditChange::ChangeQuantity { item, .. } | EditChange::RemoveItem { item } => *item,
            };
            let path = format!("changes[{index}].itemId");
            let Some(position) = self.record.items.iter().position(|i| i.id == target) else {
                violations.push(FieldError::new(
                    path,
                    "unknown",
                    "no such line on this order",
                ));
                continue;
            };
            if touched.contains(&target) {
                violations.push(FieldError::new(path, "duplicate", "one change per line"));
                continue;
            }
            touched.push(target);
            match change {
                EditChange::ChangeQuantity { quantity, .. } if !quantity_ok(*quantity) => {
                    violations.push(out_of_range(index));
                }
                EditChange::ChangeQuantity { quantity, .. } => {
                    if let Some(line) = lines[position].as_mut() {
                        line.quantity = *quantity;
                    }
                }
                _ => lines[position] = None,
            }
        }
        let result: Vec<NewOrderItem> = lines.into_iter().flatten().chain(added).collect();
        if violations.0.is_empty() {
            if result.is_empty() {
                violations.push(FieldError::new(
                    "changes",
                    "too_few",
                    "an edit cannot remove every line; cancel the order instead",
                ));
            } else if let Err(over) = limits.check_lines(&quantities(&result)) {
                // The limits name the resulting lines; the client listed changes.
                for error in over.0 {
                    violations.push(FieldError::new("changes", &error.code, error.message));
                }
            }
        }
        violations.into_result().map(|()| result)
    }

    /// Applies an edit whose resulting `lines` ([`Order::lines_after`]) were priced as `priced`
    /// by the function that priced the order at creation. The order's lines and breakdown become
    /// the new ones; the answer carries the balance and `order.edited`.
    ///
    /// # Errors
    /// [`OrderError::PricingMismatch`] when `priced` does not belong to `lines` or changes the
    /// currency; [`OrderError::NoItems`] for no lines.
    pub fn apply_edit(
        &mut self,
        edit: OrderEditId,
        lines: Vec<NewOrderItem>,
        priced: PricedOrder,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<(EditBalance, Vec<OrderEvent>), OrderError> {
        if priced.order.currency() != self.currency() {
            return Err(OrderError::PricingMismatch);
        }
        let items = super::priced_items(lines, priced.lines, priced.order.currency())?;
        let before = self.record.pricing;
        let after = priced.order;
        let event = edited_event(edit, reason, &self.record.items, &items, before, after);
        self.record.items = items;
        self.record.pricing = after;
        self.record.edits.push(edit);
        self.record.milestones.updated_at = now;
        let balance = EditBalance {
            before,
            after,
            difference: PriceDifference::between(&before, &after),
        };
        Ok((balance, vec![OrderEvent::Edited(event)]))
    }
}

impl Order {
    /// A paid order's negative balance paid back: an APPROVED refund `id` of exactly `amount`
    /// that names the edit (the edited total no longer asks for it), for the refund pipeline to
    /// pay. No events for nothing to pay.
    pub fn refund_edit_balance(
        &mut self,
        edit: OrderEditId,
        id: RefundId,
        amount: i64,
        requested_by: &str,
        now: OffsetDateTime,
    ) -> Vec<OrderEvent> {
        if amount <= 0 || self.status().is_unpaid() {
            return Vec::new();
        }
        let reason = "order edited";
        let mut refund = Refund::approved(
            id,
            amount,
            Vec::new(),
            reason,
            requested_by,
            "order edit",
            now,
        );
        refund.edit_id = Some(edit);
        self.record.refunds.push(refund);
        vec![OrderEvent::RefundRequested(RefundRequested {
            refund_id: id,
            amount,
            status: RefundStatus::Approved,
            items: Vec::new(),
            reason: reason.to_owned(),
        })]
    }
}

/// `order.edited` for lines `before_items` → `items` and breakdowns `before` → `after`.
pub(super) fn edited_event(
    edit: OrderEditId,
    reason: &str,
    before_items: &[OrderItem],
    items: &[OrderItem],
    before: PriceBreakdown,
    after: PriceBreakdown,
) -> OrderEdited {
    OrderEdited {
        edit_id: edit,
        reason: reason.to_owned(),
        added: items
            .iter()
            .filter(|item| !before_items.iter().any(|b| b.id == item.id))
            .map(created_item)
            .collect(),
        changed: items
            .iter()
            .filter_map(|item| {
                let old = before_items.iter().find(|b| b.id == item.id)?;
                (old.quantity != item.quantity).then_some(EditedLine {
                    item_id: item.id,
                    quantity_before: old.quantity,
                    quantity: item.quantity,
                })
            })
            .collect(),
        removed: before_items
            .iter()
            .filter(|b| !items.iter().any(|item| item.id == b.id))
            .map(|b| b.id)
            .collect(),
        before,
        after,
        paid: None,
    }
}

fn quantities(lines: &[NewOrderItem]) -> Vec<LineQuantity<uuid::Uuid>> {
    lines
        .iter()
        .map(|line| LineQuantity {
            group: line.product.limit_group(),
            quantity: i64::from(line.quantity),
        })
        .collect()
}

fn created_item(item: &OrderItem) -> CreatedItem {
    CreatedItem {
        item_id: item.id,
        reference: item.product.reference(),
        quantity: item.quantity,
        unit_price: item.unit_price,
        total: item.pricing.total().minor(),
    }
}
