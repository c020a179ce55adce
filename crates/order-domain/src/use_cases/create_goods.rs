//! Creation of a goods order from the caller's cart: current catalog prices, promotions, promo
//! code, tax and shipping, the stock reservation; then the saga `create` shares with tickets.

use std::collections::BTreeMap;

use super::create::{CreatedOrder, Held, IdempotencyKey, field};
use super::{Extras, OrderService, UseCaseError};
use crate::actor::RequestContext;
use crate::cart::CartOwner;
use crate::ids::{OrderId, OrderItemId, OrderNumber};
use crate::order::{
    Address, ContactEmail, GoodsDetails, ItemProduct, NewOrder, NewOrderItem, Order, OrderKind,
};
use crate::policy::{FieldError, LineQuantity, Violations};
use crate::ports::{QuotaClaim, StockLine};
use crate::pricing::PricingLine;
use crate::pricing::goods::{
    GoodsPricingInput, PromoCode, PromoCodeError, PromoCodeUse, TaxDestination, price_goods,
};

/// `POST /orders` from the caller's cart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateGoodsOrder {
    /// Destination.
    pub shipping_address: Address,
    /// Invoice address (the shipping address when absent).
    pub billing_address: Option<Address>,
    /// Shipping method code; the shop's default method when absent.
    pub shipping_method: Option<String>,
    /// Promo code as typed.
    pub promo_code: Option<String>,
    /// Notes for the shop.
    pub notes: Option<String>,
    /// Payment method label.
    pub payment_method: Option<String>,
    /// The request's `Idempotency-Key`, stored with the order.
    pub idempotency: Option<IdempotencyKey>,
    /// Where notifications about the order go (the buyer's JWT `email` claim).
    pub contact_email: Option<ContactEmail>,
}

impl OrderService {
    /// Creates a RESERVED goods order from the caller's cart: current catalog prices, promotions,
    /// promo code, tax by destination and shipping; then stock reservation → payment intent →
    /// persist (which also empties the cart and counts the promo code).
    ///
    /// # Ports
    /// `carts`, `incidents`, `inventory`, `orders`, `payments`, `products`, `promotions`,
    /// `unit_of_work`.
    ///
    /// # Errors
    /// As [`OrderService::create_ticket_order`], plus [`UseCaseError::PromoCode`] and
    /// [`UseCaseError::OutOfStock`].
    pub async fn create_goods_order(
        &self,
        ctx: &RequestContext,
        request: CreateGoodsOrder,
    ) -> Result<CreatedOrder, UseCaseError> {
        let user = ctx.actor.user_id().ok_or(UseCaseError::Forbidden)?;
        let limits = &self.config.limits;
        let now = self.now();
        if let Some(replay) = self
            .replay_earlier_attempt(ctx, request.idempotency.as_ref())
            .await?
        {
            return Ok(replay);
        }
        let cart = self
            .ports
            .carts
            .find_by_owner(ctx.tenant_id, &CartOwner::User(user))
            .await?
            .filter(|c| !c.is_expired(now) && !c.lines().is_empty())
            .ok_or_else(|| field("cart", "empty", "the cart is empty"))?;
        let quantities: Vec<_> = cart
            .lines()
            .iter()
            .map(|l| LineQuantity {
                group: l.product_id,
                quantity: i64::from(l.quantity),
            })
            .collect();
        limits.check_lines(&quantities)?;
        let method = self
            .goods
            .for_tenant(ctx.tenant_id)
            .shipping_method(request.shipping_method.as_deref())
            .ok_or_else(|| field("shippingMethod", "unknown", "no such shipping method"))?;
        let ids: Vec<_> = cart.lines().iter().map(|l| l.product_id).collect();
        let products: BTreeMap<_, _> = self
            .ports
            .products
            .products(ctx.tenant_id, &ids)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let mut violations = Violations::default();
        let mut priced_lines = Vec::with_capacity(cart.lines().len());
        let mut names = Vec::with_capacity(cart.lines().len());
        for (index, line) in cart.lines().iter().enumerate() {
            match products.get(&line.product_id) {
                Some(p)
                    if p.active && p.price_for(&line.attributes).currency() == cart.currency() =>
                {
                    priced_lines.push(PricingLine {
                        unit_price: p.price_for(&line.attributes).minor(),
                        quantity: line.quantity,
                    });
                    names.push(p.name.clone());
                }
                _ => violations.push(FieldError::new(
                    format!("items[{index}].productId"),
                    "unavailable",
                    "this product can no longer be ordered",
                )),
            }
        }
        violations.into_result()?;

        let promotions = self
            .ports
            .promotions
            .active_promotions(ctx.tenant_id, now)
            .await?;
        let code: Option<(PromoCode, u32)> = match &request.promo_code {
            Some(typed) => Some(
                self.ports
                    .promotions
                    .find_code(ctx.tenant_id, &PromoCode::normalize(typed), user)
                    .await?
                    .ok_or(UseCaseError::PromoCode(PromoCodeError::Unknown))?,
            ),
            None => None,
        };
        let quote = price_goods(
            &self.config.goods_fees,
            &self.goods.for_tenant(ctx.tenant_id).taxes,
            &GoodsPricingInput {
                currency: cart.currency(),
                lines: priced_lines.clone(),
                promotions: &promotions,
                promo_code: code.as_ref().map(|(code, uses)| PromoCodeUse {
                    code,
                    uses_by_user: *uses,
                }),
                shipping: method,
                destination: TaxDestination {
                    country: &request.shipping_address.country,
                    region: request.shipping_address.region.as_deref(),
                },
                now,
            },
        )?;
        limits.check_total(quote.priced.order.total().minor())?;

        let order_id = OrderId::from_uuid(self.ports.ids.uuid());
        let items = cart
            .lines()
            .iter()
            .zip(priced_lines.iter().zip(names))
            .map(|(line, (priced, name))| NewOrderItem {
                id: OrderItemId::from_uuid(self.ports.ids.uuid()),
                product: ItemProduct::Goods {
                    product_id: line.product_id,
                    name,
                    attributes: line.attributes.clone(),
                },
                quantity: line.quantity,
                unit_price: priced.unit_price,
            })
            .collect();
        let expires_at = self
            .config
            .reservation
            .expires_at(OrderKind::Goods, false, now);
        let (order, events) = Order::create(NewOrder {
            id: order_id,
            tenant_id: ctx.tenant_id,
            number: OrderNumber::new(now.date(), self.ports.ids.order_number_entropy()),
            user_id: user,
            kind: OrderKind::Goods,
            event_id: None,
            items,
            priced: quote.priced,
            goods: GoodsDetails {
                billing_address: Some(
                    request
                        .billing_address
                        .unwrap_or_else(|| request.shipping_address.clone()),
                ),
                shipping_address: Some(request.shipping_address),
                shipping_method: Some(method.code.clone()),
                promo_code: quote.promo_code.clone(),
                notes: request.notes,
                payment_method: request.payment_method,
            },
            metadata: crate::order::OrderMetadata::default(),
            contact_email: request.contact_email,
            expires_at,
            now,
        })?;
        let stock: Vec<StockLine> = cart
            .lines()
            .iter()
            .map(|l| StockLine {
                product_id: l.product_id,
                quantity: l.quantity,
            })
            .collect();
        // Saga step 1: reserve stock. Nothing to undo when it fails; held through the grace
        // period like ticket holds (decision 0012).
        let hold_until = expires_at + self.config.reservation.grace;
        let hold = self
            .ports
            .inventory
            .reserve(ctx.tenant_id, order_id, &stock, hold_until)
            .await?;
        let extras = Extras {
            consumed_cart: Some((cart.id(), cart.version())),
            promo_redemption: quote.promo_code.map(|code| crate::ports::PromoRedemption {
                code,
                user_id: user,
            }),
            inbox: None,
            quota: Some(QuotaClaim {
                day: now.date(),
                max_orders_per_day: limits.max_orders_per_user_per_day,
                active_for_event: None,
            }),
            idempotency: request.idempotency.as_ref().map(|key| key.record(now)),
            refund_key: None,
        };
        self.finish_creation(
            ctx,
            Held {
                order,
                events,
                hold,
            },
            extras,
            request.idempotency.as_ref(),
            async |order: &Order| self.release_stock(order).await,
        )
        .await
    }
}
