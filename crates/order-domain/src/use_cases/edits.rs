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
use crate::order::{
    EditBalance, EditChange, EditWindow, ItemProduct, NewOrderItem, Order, OrderKind, price_items,
};
use crate::policy::{FieldError, Violations};
use crate::ports::{StockLine, TicketLine};
use crate::pricing::PricedOrder;
use crate::pricing::goods::{
    GoodsPricingInput, PromoCode, PromoCodeUse, TaxDestination, price_goods,
};

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
}

/// The upstream difference of an edit: units to claim and units to give back, per line.
#[derive(Debug, Default)]
struct Difference {
    added: Vec<(ItemProduct, u32)>,
    released: Vec<(ItemProduct, u32)>,
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
            });
        }
        if !order.status().is_unpaid() && balance.difference.total > 0 {
            return Err(crate::order::OrderError::NotEditable {
                status: order.status(),
                why: "a paid order's total may not rise: order the extra lines separately",
            }
            .into());
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
        let difference = difference(&before, &order);
        self.claim(
            &order,
            *edit_id.as_uuid(),
            &difference.added,
            &difference.released,
        )
        .await?;
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
                    order.expires_at(),
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
    async fn claim(
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

    /// The requested changes with quantities checked and every added line priced by its
    /// upstream now.
    async fn priced_changes(
        &self,
        order: &Order,
        requested: &[RequestedChange],
    ) -> Result<Vec<EditChange>, UseCaseError> {
        let mut violations = Violations::default();
        let quantity = |index: usize, quantity: i64, violations: &mut Violations| {
            u32::try_from(quantity).unwrap_or_else(|_| {
                violations.push(FieldError::new(
                    format!("changes[{index}].quantity"),
                    "out_of_range",
                    "quantity must be a positive number",
                ));
                0
            })
        };
        let wrong_kind = |index: usize, violations: &mut Violations| {
            violations.push(FieldError::new(
                format!("changes[{index}].type"),
                "wrong_order_kind",
                "tickets are added to ticket orders, products to goods orders",
            ));
        };
        let ticket_prices = self.added_ticket_prices(order, requested).await?;
        let product_prices = self.added_product_prices(order, requested).await?;
        let mut changes = Vec::with_capacity(requested.len());
        for (index, change) in requested.iter().enumerate() {
            match change {
                RequestedChange::AddTickets {
                    ticket_type_id,
                    ticket_pricing_id,
                    quantity: asked,
                } => {
                    if order.kind() != OrderKind::Ticket {
                        wrong_kind(index, &mut violations);
                        continue;
                    }
                    let quantity = quantity(index, *asked, &mut violations);
                    let Some(unit_price) =
                        ticket_prices.get(&(*ticket_type_id, *ticket_pricing_id))
                    else {
                        violations.push(FieldError::new(
                            format!("changes[{index}].ticketPricingId"),
                            "unknown_price",
                            "no such ticket price for this event",
                        ));
                        continue;
                    };
                    changes.push(EditChange::AddItem(NewOrderItem {
                        id: OrderItemId::from_uuid(self.ports.ids.uuid()),
                        product: ItemProduct::Ticket {
                            ticket_type_id: *ticket_type_id,
                            ticket_pricing_id: *ticket_pricing_id,
                        },
                        quantity,
                        unit_price: *unit_price,
                    }));
                }
                RequestedChange::AddProduct {
                    product_id,
                    attributes,
                    quantity: asked,
                } => {
                    if order.kind() != OrderKind::Goods {
                        wrong_kind(index, &mut violations);
                        continue;
                    }
                    let quantity = quantity(index, *asked, &mut violations);
                    let Some((name, unit_price)) = product_prices
                        .get(product_id)
                        .and_then(|product| product(attributes))
                    else {
                        violations.push(FieldError::new(
                            format!("changes[{index}].productId"),
                            "unavailable",
                            "this product cannot be ordered",
                        ));
                        continue;
                    };
                    changes.push(EditChange::AddItem(NewOrderItem {
                        id: OrderItemId::from_uuid(self.ports.ids.uuid()),
                        product: ItemProduct::Goods {
                            product_id: *product_id,
                            name,
                            attributes: attributes.clone(),
                        },
                        quantity,
                        unit_price,
                    }));
                }
                RequestedChange::ChangeQuantity {
                    item_id,
                    quantity: asked,
                } => changes.push(EditChange::ChangeQuantity {
                    item: *item_id,
                    quantity: quantity(index, *asked, &mut violations),
                }),
                RequestedChange::RemoveItem { item_id } => {
                    changes.push(EditChange::RemoveItem { item: *item_id });
                }
            }
        }
        violations.into_result()?;
        Ok(changes)
    }

    /// Today's unit price of each ticket line the edit adds, from the ticket service.
    async fn added_ticket_prices(
        &self,
        order: &Order,
        requested: &[RequestedChange],
    ) -> Result<BTreeMap<(TicketTypeId, TicketPricingId), i64>, UseCaseError> {
        let lines: Vec<TicketLine> = requested
            .iter()
            .filter_map(|change| match change {
                RequestedChange::AddTickets {
                    ticket_type_id,
                    ticket_pricing_id,
                    ..
                } => Some(TicketLine {
                    ticket_type_id: *ticket_type_id,
                    ticket_pricing_id: *ticket_pricing_id,
                    quantity: 1,
                }),
                _ => None,
            })
            .collect();
        let Some(event) = order.event_id().filter(|_| !lines.is_empty()) else {
            return Ok(BTreeMap::new());
        };
        Ok(self
            .ports
            .tickets
            .prices(order.tenant_id(), event, &lines)
            .await?
            .into_iter()
            .filter(|p| p.price.currency() == order.currency())
            .map(|p| ((p.ticket_type_id, p.ticket_pricing_id), p.price.minor()))
            .collect())
    }

    /// For each product the edit adds: a function from selected attributes to its name and
    /// today's unit price, `None` when it cannot be ordered.
    #[allow(clippy::type_complexity)]
    async fn added_product_prices(
        &self,
        order: &Order,
        requested: &[RequestedChange],
    ) -> Result<
        BTreeMap<
            ProductId,
            Box<dyn Fn(&BTreeMap<String, String>) -> Option<(String, i64)> + Send + Sync>,
        >,
        UseCaseError,
    > {
        let ids: Vec<ProductId> = requested
            .iter()
            .filter_map(|change| match change {
                RequestedChange::AddProduct { product_id, .. } => Some(*product_id),
                _ => None,
            })
            .collect();
        if ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        let currency = order.currency();
        Ok(self
            .ports
            .products
            .products(order.tenant_id(), &ids)
            .await?
            .into_iter()
            .filter(|product| product.active)
            .map(|product| {
                let id = product.id;
                let price: Box<
                    dyn Fn(&BTreeMap<String, String>) -> Option<(String, i64)> + Send + Sync,
                > = Box::new(move |attributes| {
                    let price = product.price_for(attributes);
                    (price.currency() == currency).then(|| (product.name.clone(), price.minor()))
                });
                (id, price)
            })
            .collect())
    }

    /// Prices an edit's lines with the function that priced the order at creation: the ticket
    /// fees, or the goods pricing with the order's shipping method, destination and promo code as
    /// they were judged when it was placed (decision 0078).
    async fn reprice(
        &self,
        order: &Order,
        lines: &[NewOrderItem],
    ) -> Result<PricedOrder, UseCaseError> {
        if order.kind() == OrderKind::Ticket {
            return Ok(price_items(
                &self.config.ticket_fees,
                order.currency(),
                lines,
            )?);
        }
        let placed_at = order.milestones().created_at;
        let goods = order.goods();
        let catalog = self.goods.for_tenant(order.tenant_id());
        let method = catalog
            .shipping_method(goods.shipping_method.as_deref())
            .ok_or_else(|| {
                Violations(vec![FieldError::new(
                    "changes",
                    "shipping_method_withdrawn",
                    "the order's shipping method is no longer offered",
                )])
            })?;
        let promotions = self
            .ports
            .promotions
            .active_promotions(order.tenant_id(), placed_at)
            .await?;
        let code: Option<(PromoCode, u32)> = match &goods.promo_code {
            Some(code) => self
                .ports
                .promotions
                .find_code(order.tenant_id(), code, order.user_id())
                .await?
                // This order's own use of the code is among the buyer's uses.
                .map(|(code, uses)| (code, uses.saturating_sub(1))),
            None => None,
        };
        let country = goods
            .shipping_address
            .as_ref()
            .map_or("", |a| a.country.as_str());
        let region = goods
            .shipping_address
            .as_ref()
            .and_then(|a| a.region.as_deref());
        let quote = price_goods(
            &self.config.goods_fees,
            &catalog.taxes,
            &GoodsPricingInput {
                currency: order.currency(),
                lines: lines
                    .iter()
                    .map(|line| crate::pricing::PricingLine {
                        unit_price: line.unit_price,
                        quantity: line.quantity,
                    })
                    .collect(),
                promotions: &promotions,
                promo_code: code.as_ref().map(|(code, uses)| PromoCodeUse {
                    code,
                    uses_by_user: *uses,
                }),
                shipping: method,
                destination: TaxDestination { country, region },
                now: placed_at,
            },
        )?;
        Ok(quote.priced)
    }
}

/// What the edit adds and gives back upstream, line by line: a new line or a raised quantity
/// is claimed, a removed line or a lowered quantity released.
fn difference(before: &Order, after: &Order) -> Difference {
    let mut difference = Difference::default();
    for line in after.items() {
        let was = before
            .items()
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
    for line in before.items() {
        if !after.items().iter().any(|a| a.id == line.id) {
            difference
                .released
                .push((line.product.clone(), line.quantity));
        }
    }
    difference
}

fn ticket_lines(lines: &[(ItemProduct, u32)]) -> Vec<TicketLine> {
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

fn stock_lines(lines: &[(ItemProduct, u32)]) -> Vec<StockLine> {
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
