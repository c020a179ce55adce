//! How an edit is priced: its changes checked and each added line priced by its upstream now,
//! then the resulting lines priced by the function that priced the order at creation.

use std::collections::BTreeMap;

use super::edits::RequestedChange;
use super::{OrderService, UseCaseError};
use crate::ids::{OrderItemId, ProductId, TicketPricingId, TicketTypeId};
use crate::order::{EditChange, ItemProduct, NewOrderItem, Order, OrderKind, price_items};
use crate::policy::{FieldError, Violations};
use crate::ports::{Product, TicketLine};
use crate::pricing::PricedOrder;
use crate::pricing::goods::{
    GoodsPricingInput, PromoCode, PromoCodeUse, TaxDestination, price_goods,
};

impl OrderService {
    /// The requested changes with quantities checked and every added line priced by its
    /// upstream now.
    pub(super) async fn priced_changes(
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
        let products = self.added_products(order, requested).await?;
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
                    let Some((name, unit_price)) = products
                        .get(product_id)
                        .map(|p| (p.name.clone(), p.price_for(attributes)))
                        .filter(|(_, price)| price.currency() == order.currency())
                        .map(|(name, price)| (name, price.minor()))
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

    /// The orderable products the edit adds, by id.
    async fn added_products(
        &self,
        order: &Order,
        requested: &[RequestedChange],
    ) -> Result<BTreeMap<ProductId, Product>, UseCaseError> {
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
        Ok(self
            .ports
            .products
            .products(order.tenant_id(), &ids)
            .await?
            .into_iter()
            .filter(|product| product.active)
            .map(|product| (product.id, product))
            .collect())
    }

    /// Prices an edit's lines with the function that priced the order at creation: the ticket
    /// fees, or the goods pricing with the order's shipping method, destination and promo code as
    /// they were judged when it was placed (decision 0078).
    pub(super) async fn reprice(
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
