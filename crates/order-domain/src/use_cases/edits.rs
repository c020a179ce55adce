//! `POST /orders/{id}/edits` and `GET /orders/{id}/edits` (docs/edits.md): lines added, changed
//! and removed after an order was placed, previewed or applied, and settled to the cent.
//!
//! Applying an edit claims upstream only its difference, in one all-or-nothing call (the ticket
//! service's or the inventory's own count decides, so concurrent edits never exceed a quota), then
//! stores the order under the version it was loaded with. An unpaid order gets a payment intent
//! for its new total; a paid order whose total falls is refunded exactly the difference through
//! the refund pipeline (ledger entry and credit note included); a paid order whose total rises
//! waits for the difference to be paid (docs/edits.md).

use std::collections::BTreeMap;

use super::{Extras, OrderService, ReadError, UseCaseError};
use crate::actor::RequestContext;
use crate::audit::AuditEntry;
use crate::events::OrderEvent;
use crate::ids::{
    OrderEditId, OrderId, OrderItemId, ProductId, RefundId, TicketPricingId, TicketTypeId,
};
use crate::order::{EditBalance, EditWindow, ItemProduct, Order, OrderKind};
use crate::ports::{StockLine, TicketLine};

/// One change as the client asked for it, not yet checked: the command's own shape. Quantities
/// are signed so that a negative one is reported at its path rather than refused by a parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestedChange {
    /// Tickets of one type and price on a new line (ticket orders).
    AddTickets {
        /// Ticket type.
        ticket_type_id: TicketTypeId,
        /// Price point.
        ticket_pricing_id: TicketPricingId,
        /// Units.
        quantity: i64,
    },
    /// A product on a new line (goods orders).
    AddProduct {
        /// The product.
        product_id: ProductId,
        /// Selected attributes.
        attributes: BTreeMap<String, String>,
        /// Units.
        quantity: i64,
    },
    /// A line's new quantity.
    ChangeQuantity {
        /// The line.
        item_id: OrderItemId,
        /// Units.
        quantity: i64,
    },
    /// A line taken off.
    RemoveItem {
        /// The line.
        item_id: OrderItemId,
    },
}

/// `POST /orders/{id}/edits`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditOrder {
    /// The changes, applied in this order.
    pub changes: Vec<RequestedChange>,
    /// Why (kept in the audit trail).
    pub reason: String,
    /// Only price it: nothing is stored, held or paid.
    pub preview: bool,
    /// The order's version the client saw (`If-Match` or `version`); a stale one is refused.
    pub expected_version: Option<u64>,
}

/// What an edit did, or would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditOutcome {
    /// The edit's id (a preview's is not stored).
    pub edit_id: OrderEditId,
    /// The order after the edit (a preview's is not stored).
    pub order: Order,
    /// The price before and after, and the difference per component.
    pub balance: EditBalance,
    /// Whether it was stored.
    pub applied: bool,
    /// The refund of a paid order's negative balance.
    pub refund_id: Option<RefundId>,
    /// The payment intent's secret an unpaid order is now paid with.
    pub client_secret: Option<String>,
    /// For a paid order whose total rises: the difference to pay before the edit applies.
    pub payment_due: Option<PaymentDue>,
}

/// The upstream difference of an edit: units to claim and units to give back, per line.
#[derive(Debug, Default)]
pub(super) struct Difference {
    pub(super) added: Vec<(ItemProduct, u32)>,
    pub(super) released: Vec<(ItemProduct, u32)>,
}

/// How the difference of an edit that raises a paid order's total is paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentDue {
    /// The intent created for the difference.
    pub payment_intent_id: crate::ids::PaymentIntentId,
    /// Its secret for the front end.
    pub client_secret: Option<String>,
    /// The difference, minor units.
    pub amount: i64,
    /// When the edit lapses unpaid.
    pub expires_at: time::OffsetDateTime,
}

impl OrderService {
    /// Edits order `id` for its owner or an admin: prices the changes like a new order and, unless
    /// `preview`, claims the difference upstream, stores the order (version checked), and settles
    /// the balance.
    ///
    /// # Ports
    /// `events`, `incidents`, `inventory`, `orders`, `payments`, `products`, `promotions`,
    /// `tickets`, `unit_of_work`.
    ///
    /// # Errors
    /// [`UseCaseError::Validation`] with the path of the change at fault;
    /// [`UseCaseError::Forbidden`] for anyone but the owner or an admin;
    /// [`UseCaseError::Conflict`] for a stale version; [`UseCaseError::Order`] (`NotEditable`)
    /// past the window; [`UseCaseError::SoldOut`] / [`UseCaseError::OutOfStock`] when the added
    /// units are not there (nothing changed); upstream and storage errors.
    pub async fn edit_order(
        &self,
        ctx: &RequestContext,
        id: OrderId,
        request: EditOrder,
    ) -> Result<EditOutcome, UseCaseError> {
        let order = self.load_visible(ctx, id).await?;
        if !ctx.actor.is_privileged() && ctx.actor.user_id() != Some(order.user_id()) {
            return Err(UseCaseError::Forbidden);
        }
        if request
            .expected_version
            .is_some_and(|seen| seen != order.version())
        {
            return Err(UseCaseError::Conflict);
        }
        let now = self.now();
        let window = EditWindow {
            closes_at: self
                .event_start(&order)
                .await?
                .map(|starts_at| starts_at - self.config.refund.cutoff),
        };
        order.check_editable(window, now)?;
        let changes = self.priced_changes(&order, &request.changes).await?;
        let lines = order.lines_after(&changes, &self.config.limits)?;
        let priced = self.reprice(&order, &lines).await?;
        self.config
            .limits
            .check_total(priced.order.total().minor())?;
        let edit_id = OrderEditId::from_uuid(self.ports.ids.uuid());
        let (kept_lines, kept_prices) = (lines.clone(), priced.clone());
        let mut edited = order.clone();
        let (balance, events) = edited.apply_edit(edit_id, lines, priced, &request.reason, now)?;
        if request.preview {
            return Ok(EditOutcome {
                edit_id,
                order: edited,
                balance,
                applied: false,
                refund_id: None,
                client_secret: None,
                payment_due: None,
            });
        }
        if !order.status().is_unpaid() && balance.difference.total > 0 {
            return self
                .await_difference(
                    ctx,
                    order,
                    &edited,
                    edit_id,
                    kept_lines,
                    kept_prices,
                    &request.reason,
                )
                .await;
        }
        self.apply(ctx, order, edited, edit_id, balance, events)
            .await
    }

    /// Order `id` and its edits, oldest first, from its audit trail: who changed what, when,
    /// and the price before and after.
    ///
    /// # Ports
    /// `audit`, `orders`.
    ///
    /// # Errors
    /// [`ReadError::NotFound`] when the order is absent or not visible.
    pub async fn order_edits(
        &self,
        ctx: &RequestContext,
        id: OrderId,
    ) -> Result<(Order, Vec<AuditEntry>), ReadError> {
        let order = self.load_visible(ctx, id).await?;
        let edits = self
            .ports
            .audit
            .audit_trail(ctx.tenant_id, order.id())
            .await?
            .into_iter()
            .filter(|entry| entry.event_type == "order.edited")
            .collect();
        Ok((order, edits))
    }

    /// Claims the difference upstream, stores the edited order, and settles its balance; a store
    /// that fails gives the claimed units back.
    async fn apply(
        &self,
        ctx: &RequestContext,
        before: Order,
        mut order: Order,
        edit_id: OrderEditId,
        balance: EditBalance,
        mut events: Vec<OrderEvent>,
    ) -> Result<EditOutcome, UseCaseError> {
        let difference = difference_of(before.items(), order.items());
        // A paid ticket order's sold hold takes no more tickets: those an edit adds are sold
        // under a hold of the edit's own (the edit lowers the total, so nothing is left to pay).
        let sold = self
            .sell_added_tickets(&order, edit_id, &difference)
            .await?;
        let claimed = self
            .claim(
                &order,
                *edit_id.as_uuid(),
                if sold.is_some() {
                    &[]
                } else {
                    &difference.added
                },
                &difference.released,
            )
            .await;
        if let Err(error) = claimed {
            self.unsell(&order, edit_id, &difference, sold.as_ref())
                .await;
            return Err(error);
        }
        if let Some((_, tickets)) = &sold {
            events.extend(order.attach_tickets(tickets.clone(), self.now())?);
        }
        let mut client_secret = None;
        let mut refund_id = None;
        let old_intent = before.payment_intent_id().cloned();
        if order.status().is_unpaid() {
            match self
                .ports
                .payments
                .create_intent(
                    order.tenant_id(),
                    order.id(),
                    order.total(),
                    // As at creation: the intent outlives the window by the grace period that
                    // late payments are still taken in.
                    order.expires_at() + self.config.reservation.grace,
                    &format!("edit:{edit_id}"),
                )
                .await
            {
                Ok(intent) => {
                    client_secret = intent.client_secret;
                    order.attach_payment_intent(intent.id)?;
                }
                Err(error) => {
                    self.give_back(&order, &difference).await;
                    self.unsell(&order, edit_id, &difference, sold.as_ref())
                        .await;
                    return Err(error.into());
                }
            }
        } else if balance.difference.total < 0 {
            let id = RefundId::from_uuid(self.ports.ids.uuid());
            events.extend(order.refund_edit_balance(
                edit_id,
                id,
                -balance.difference.total,
                &Self::actor_label(ctx),
                self.now(),
            ));
            refund_id = Some(id);
        }
        if let Err(error) = self
            .persist(ctx, &mut order, events, Extras::default())
            .await
        {
            self.give_back(&order, &difference).await;
            self.unsell(&order, edit_id, &difference, sold.as_ref())
                .await;
            return Err(error);
        }
        if let (Some(old), true) = (old_intent, client_secret.is_some()) {
            let cancelled = self.ports.payments.cancel_intent(&old).await;
            self.report_dropped(
                &[order.id()],
                "cancel the intent an edit replaced",
                cancelled,
            );
        }
        if let Some(refund) = refund_id {
            order = self.pay_refund(ctx, order, refund).await?;
        }
        Ok(EditOutcome {
            edit_id,
            order,
            balance,
            applied: true,
            refund_id,
            client_secret,
            payment_due: None,
        })
    }

    /// Gives back what [`Self::claim`] took for an edit that was not stored; a failure is
    /// reported (held units also lapse with the order's hold).
    async fn give_back(&self, order: &Order, difference: &Difference) {
        let undone = self
            .claim(
                order,
                self.ports.ids.uuid(),
                &difference.released,
                &difference.added,
            )
            .await;
        self.report_dropped(
            &[order.id()],
            "give back an edit that was not stored",
            undone,
        );
    }

    /// Holds `added` and gives `released` back at the ticket service or the inventory, all or
    /// nothing, once per `key`.
    pub(super) async fn claim(
        &self,
        order: &Order,
        key: uuid::Uuid,
        added: &[(ItemProduct, u32)],
        released: &[(ItemProduct, u32)],
    ) -> Result<(), UseCaseError> {
        if added.is_empty() && released.is_empty() {
            return Ok(());
        }
        match order.kind() {
            OrderKind::Ticket => {
                let Some(hold) = order.hold_id() else {
                    return Ok(());
                };
                self.ports
                    .tickets
                    .adjust_hold(hold, key, &ticket_lines(added), &ticket_lines(released))
                    .await?;
            }
            OrderKind::Goods => {
                self.ports
                    .inventory
                    .adjust(
                        order.tenant_id(),
                        order.id(),
                        key,
                        &stock_lines(added),
                        &stock_lines(released),
                    )
                    .await?;
            }
        }
        Ok(())
    }
}

/// What an edit from lines `before` to `after` adds and gives back upstream, line by line: a new
/// line or a raised quantity is claimed, a removed line or a lowered quantity released.
pub(super) fn difference_of(
    before: &[crate::order::OrderItem],
    after: &[crate::order::OrderItem],
) -> Difference {
    let mut difference = Difference::default();
    for line in after {
        let was = before
            .iter()
            .find(|b| b.id == line.id)
            .map_or(0, |b| b.quantity);
        if line.quantity > was {
            difference
                .added
                .push((line.product.clone(), line.quantity - was));
        } else if line.quantity < was {
            difference
                .released
                .push((line.product.clone(), was - line.quantity));
        }
    }
    for line in before {
        if !after.iter().any(|a| a.id == line.id) {
            difference
                .released
                .push((line.product.clone(), line.quantity));
        }
    }
    difference
}

pub(super) fn ticket_lines(lines: &[(ItemProduct, u32)]) -> Vec<TicketLine> {
    lines
        .iter()
        .filter_map(|(product, quantity)| match product {
            ItemProduct::Ticket {
                ticket_type_id,
                ticket_pricing_id,
            } => Some(TicketLine {
                ticket_type_id: *ticket_type_id,
                ticket_pricing_id: *ticket_pricing_id,
                quantity: *quantity,
            }),
            ItemProduct::Goods { .. } => None,
        })
        .collect()
}

pub(super) fn stock_lines(lines: &[(ItemProduct, u32)]) -> Vec<StockLine> {
    lines
        .iter()
        .filter_map(|(product, quantity)| match product {
            ItemProduct::Goods { product_id, .. } => Some(StockLine {
                product_id: *product_id,
                quantity: *quantity,
            }),
            ItemProduct::Ticket { .. } => None,
        })
        .collect()
}
