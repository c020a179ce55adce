//! Carts (docs/product/routes.md): a buyer's cart (JWT) or an anonymous session's, lines added at
//! the product service's current price (never the client's), availability per line from the
//! inventory service, a totals preview priced like an order, and the merge of a session's cart into
//! the buyer's at login.
//!
//! Every change reloads the cart and retries on a version conflict, so concurrent changes to one
//! cart are all applied and its limits (`MAX_CART_ITEMS` lines, units per line) hold: the check
//! and the write meet in the version the write was based on.

use std::collections::BTreeMap;

use time::Duration;

use super::create::field;
use super::{OrderService, UseCaseError};
use crate::actor::RequestContext;
use crate::cart::{Cart, CartLimits, CartLine, CartOwner, MergeReport};
use crate::ids::{CartId, CartLineId, ProductId, SessionId, TenantId};
use crate::money::Currency;
use crate::ports::{Product, RepositoryError, StockLine};
use crate::pricing::goods::{
    GoodsPricingInput, PromoCode, PromoCodeUse, TaxDestination, price_goods,
};
use crate::pricing::{Components, PricingLine};

/// How long a cart lives after its last change (docs/product/routes.md: 30 days; a job removes
/// expired carts).
pub const CART_TTL: Duration = Duration::days(30);

/// How often a change is tried again after a concurrent change of the same cart.
const CONFLICT_RETRIES: usize = 3;

/// Whose cart, in which shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartScope {
    /// The shop.
    pub tenant_id: TenantId,
    /// The buyer or the anonymous session.
    pub owner: CartOwner,
}

/// What the totals preview is priced for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CartPreview {
    /// ISO country of the destination; without one, the preview carries no tax.
    pub country: Option<String>,
    /// Region of the destination.
    pub region: Option<String>,
    /// Shipping method code (the shop's default method when absent: `standard` when offered).
    pub shipping_method: Option<String>,
    /// A promo code to try (buyers only: its per-user limit needs the user).
    pub promo_code: Option<String>,
}

/// One line as the shopper sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartLineView {
    /// The stored line.
    pub line: CartLine,
    /// The product's name now (empty when the product is gone).
    pub name: String,
    /// Its picture.
    pub image_url: Option<String>,
    /// Price of one unit now, minor units.
    pub unit_price: i64,
    /// Whether the line can be ordered as it is: the product is sold and its units are free.
    pub in_stock: bool,
    /// The most units of this line that can be ordered now (free units, the per-line limit).
    pub max_quantity: u32,
}

/// What adding to a cart did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartAddition {
    /// The cart after it.
    pub view: CartView,
    /// The line the product went to (new, or the one it added up with).
    pub line: CartLineId,
    /// Whether the cart was empty before: a shopping session started (the base of the cart
    /// conversion rate).
    pub started: bool,
}

/// A cart with its lines priced now and the totals preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartView {
    /// The cart (a fresh, unsaved one when the owner has none).
    pub cart: Cart,
    /// Its lines.
    pub lines: Vec<CartLineView>,
    /// The preview: subtotal, discount, tax, shipping, total.
    pub totals: Components,
    /// `totals`' grand total.
    pub total: i64,
}

impl OrderService {
    fn cart_limits(&self) -> CartLimits {
        CartLimits::from(&self.config.limits)
    }

    /// The owner's live cart, or a fresh one (not stored) in `currency`.
    async fn live_cart(&self, scope: &CartScope, currency: Currency) -> Result<Cart, UseCaseError> {
        let now = self.now();
        Ok(
            match self
                .ports
                .carts
                .find_by_owner(scope.tenant_id, &scope.owner)
                .await?
            {
                Some(cart) if !cart.is_expired(now) => cart,
                // An expired cart is replaced: same id, no lines, a new lifetime.
                Some(expired) => {
                    let mut cart = expired;
                    cart.clear(CART_TTL, now);
                    cart
                }
                None => Cart::new(
                    CartId::from_uuid(self.ports.ids.uuid()),
                    scope.tenant_id,
                    scope.owner.clone(),
                    currency,
                    CART_TTL,
                    now,
                ),
            },
        )
    }

    /// Applies `change` to the owner's cart and stores it, again on a concurrent change.
    async fn change_cart<T>(
        &self,
        scope: &CartScope,
        currency: Currency,
        mut change: impl FnMut(&mut Cart) -> Result<T, UseCaseError>,
    ) -> Result<(Cart, T), UseCaseError> {
        let mut attempt = 0;
        loop {
            let mut cart = self.live_cart(scope, currency).await?;
            let outcome = change(&mut cart)?;
            match self.ports.carts.save(&cart).await {
                Ok(()) => {
                    cart.mark_committed();
                    return Ok((cart, outcome));
                }
                Err(RepositoryError::Conflict { .. }) if attempt < CONFLICT_RETRIES => attempt += 1,
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// The owner's cart with availability and the totals preview.
    ///
    /// # Ports
    /// `carts`, `inventory`, `products`, `promotions`.
    ///
    /// # Errors
    /// Storage and upstream failures; [`UseCaseError::PromoCode`] for an unusable code.
    pub async fn view_cart(
        &self,
        scope: &CartScope,
        preview: &CartPreview,
    ) -> Result<CartView, UseCaseError> {
        let cart = self.live_cart(scope, Currency::Usd).await?;
        self.cart_view(scope, cart, preview).await
    }

    /// Adds `quantity` units of a product with `attributes` at its current price; the same
    /// product with the same attributes adds to its line. Returns the view and the line.
    ///
    /// # Ports
    /// `carts`, `inventory`, `products`, `promotions`.
    ///
    /// # Errors
    /// 422 at `productId` when the product is not sold; [`UseCaseError::Cart`] when a limit
    /// would be broken (the cart is unchanged).
    pub async fn add_to_cart(
        &self,
        scope: &CartScope,
        product_id: ProductId,
        attributes: BTreeMap<String, String>,
        quantity: u32,
        preview: &CartPreview,
    ) -> Result<CartAddition, UseCaseError> {
        let product = self
            .ports
            .products
            .products(scope.tenant_id, &[product_id])
            .await?
            .into_iter()
            .find(|p| p.id == product_id && p.active)
            .ok_or_else(|| field("productId", "unavailable", "this product is not sold"))?;
        let price = product.price_for(&attributes);
        let limits = self.cart_limits();
        let now = self.now();
        // Set by the attempt that stored the cart (a conflict retries on the fresh cart).
        let started = std::cell::Cell::new(false);
        let (cart, line) = self
            .change_cart(scope, price.currency(), |cart| {
                let new_line = CartLineId::from_uuid(self.ports.ids.uuid());
                started.set(cart.lines().is_empty());
                Ok(cart.add(
                    new_line,
                    product_id,
                    attributes.clone(),
                    quantity,
                    price.minor(),
                    price.currency(),
                    limits,
                    CART_TTL,
                    now,
                )?)
            })
            .await?;
        Ok(CartAddition {
            view: self.cart_view(scope, cart, preview).await?,
            line,
            started: started.get(),
        })
    }

    /// Sets a line's quantity (0 removes it).
    ///
    /// # Ports
    /// `carts`, `inventory`, `products`, `promotions`.
    ///
    /// # Errors
    /// [`UseCaseError::Cart`] for an unknown line or a quantity over the limit.
    pub async fn change_cart_line(
        &self,
        scope: &CartScope,
        line: CartLineId,
        quantity: u32,
        preview: &CartPreview,
    ) -> Result<CartView, UseCaseError> {
        let limits = self.cart_limits();
        let now = self.now();
        let (cart, ()) = self
            .change_cart(scope, Currency::Usd, |cart| {
                Ok(cart.set_quantity(line, quantity, limits, CART_TTL, now)?)
            })
            .await?;
        self.cart_view(scope, cart, preview).await
    }

    /// Removes a line.
    ///
    /// # Ports
    /// `carts`, `inventory`, `products`, `promotions`.
    ///
    /// # Errors
    /// [`UseCaseError::Cart`] for an unknown line.
    pub async fn remove_cart_line(
        &self,
        scope: &CartScope,
        line: CartLineId,
        preview: &CartPreview,
    ) -> Result<CartView, UseCaseError> {
        let now = self.now();
        let (cart, ()) = self
            .change_cart(scope, Currency::Usd, |cart| {
                Ok(cart.remove(line, CART_TTL, now)?)
            })
            .await?;
        self.cart_view(scope, cart, preview).await
    }

    /// Empties the owner's cart.
    ///
    /// # Ports
    /// `carts`.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn clear_cart(&self, scope: &CartScope) -> Result<(), UseCaseError> {
        let now = self.now();
        self.change_cart(scope, Currency::Usd, |cart| {
            cart.clear(CART_TTL, now);
            Ok(())
        })
        .await
        .map(|_| ())
    }

    /// Moves the cart of anonymous `session` into the signed-in buyer's cart (quantities add, the
    /// limits hold) and deletes it, in one transaction. Without a session cart nothing changes.
    ///
    /// # Ports
    /// `carts`, `inventory`, `products`, `promotions`.
    ///
    /// # Errors
    /// [`UseCaseError::Forbidden`] for a caller who is not a user; [`UseCaseError::Cart`] across
    /// currencies.
    pub async fn merge_carts(
        &self,
        ctx: &RequestContext,
        session: SessionId,
        preview: &CartPreview,
    ) -> Result<(CartView, MergeReport), UseCaseError> {
        let user = ctx.actor.user_id().ok_or(UseCaseError::Forbidden)?;
        let scope = CartScope {
            tenant_id: ctx.tenant_id,
            owner: CartOwner::User(user),
        };
        let now = self.now();
        let limits = self.cart_limits();
        let mut attempt = 0;
        let (cart, report) = loop {
            // Read again on every attempt: a concurrent merge may have taken the session's cart.
            let anonymous = self
                .ports
                .carts
                .find_by_owner(ctx.tenant_id, &CartOwner::Session(session.clone()))
                .await?
                .filter(|c| !c.is_expired(now));
            let Some(anonymous) = anonymous else {
                let view = self.view_cart(&scope, preview).await?;
                return Ok((view, MergeReport::default()));
            };
            let mut cart = self.live_cart(&scope, anonymous.currency()).await?;
            let report = cart.merge(
                &anonymous,
                || CartLineId::from_uuid(self.ports.ids.uuid()),
                limits,
                CART_TTL,
                now,
            )?;
            match self.ports.carts.save_merged(&cart, anonymous.id()).await {
                Ok(()) => {
                    cart.mark_committed();
                    break (cart, report);
                }
                Err(RepositoryError::Conflict { .. }) if attempt < CONFLICT_RETRIES => attempt += 1,
                Err(error) => return Err(error.into()),
            }
        };
        Ok((self.cart_view(&scope, cart, preview).await?, report))
    }

    /// Prices `cart` now: current product prices, availability, promotions and the preview's
    /// code, shipping method and destination.
    async fn cart_view(
        &self,
        scope: &CartScope,
        cart: Cart,
        preview: &CartPreview,
    ) -> Result<CartView, UseCaseError> {
        let ids: Vec<ProductId> = cart.lines().iter().map(|l| l.product_id).collect();
        let (products, stock) = if ids.is_empty() {
            (Vec::new(), Vec::new())
        } else {
            let wanted: Vec<StockLine> = cart
                .lines()
                .iter()
                .map(|l| StockLine {
                    product_id: l.product_id,
                    quantity: l.quantity,
                })
                .collect();
            let products = self.ports.products.products(scope.tenant_id, &ids).await?;
            let stock = self
                .ports
                .inventory
                .availability(scope.tenant_id, &wanted)
                .await?;
            (products, stock)
        };
        let limits = self.cart_limits();
        let mut lines = Vec::with_capacity(cart.lines().len());
        let mut priced = Vec::new();
        for line in cart.lines() {
            let product: Option<&Product> = products
                .iter()
                .find(|p| p.id == line.product_id && p.active);
            let price = product.map(|p| p.price_for(&line.attributes));
            let sellable = price.is_some_and(|p| p.currency() == cart.currency());
            let free = stock
                .iter()
                .find(|s| s.product_id == line.product_id)
                .map_or(0, |s| s.available);
            let max_quantity = if sellable {
                free.min(limits.max_quantity)
            } else {
                0
            };
            let unit_price = price.map_or(line.unit_price, |p| p.minor());
            if sellable {
                priced.push(PricingLine {
                    unit_price,
                    quantity: line.quantity,
                });
            }
            lines.push(CartLineView {
                line: line.clone(),
                name: product.map(|p| p.name.clone()).unwrap_or_default(),
                image_url: product.and_then(|p| p.image_url.clone()),
                unit_price,
                in_stock: sellable && free >= line.quantity,
                max_quantity,
            });
        }
        let now = self.now();
        let promotions = self
            .ports
            .promotions
            .active_promotions(scope.tenant_id, now)
            .await?;
        let code: Option<(PromoCode, u32)> = match (&preview.promo_code, &scope.owner) {
            (Some(typed), CartOwner::User(user)) => Some(
                self.ports
                    .promotions
                    .find_code(scope.tenant_id, &PromoCode::normalize(typed), *user)
                    .await?
                    .ok_or(UseCaseError::PromoCode(
                        crate::pricing::goods::PromoCodeError::Unknown,
                    ))?,
            ),
            _ => None,
        };
        let tables = self.goods.for_tenant(scope.tenant_id);
        let method = tables
            .shipping_method(preview.shipping_method.as_deref())
            .ok_or_else(|| field("query.shippingMethod", "unknown", "no such shipping method"))?;
        // Without a destination the preview has no tax; the order prices it for its address.
        let mut schedule = self.config.goods_fees.clone();
        let taxes = if preview.country.is_some() {
            tables.taxes.clone()
        } else {
            schedule.default_tax_rate = crate::money::Rate::ZERO;
            crate::pricing::goods::TaxTable::new()
        };
        // Nothing sellable: nothing to price (an order needs a line), nothing to pay.
        if priced.is_empty() {
            return Ok(CartView {
                cart,
                lines,
                totals: Components::default(),
                total: 0,
            });
        }
        let quote = price_goods(
            &schedule,
            &taxes,
            &GoodsPricingInput {
                currency: cart.currency(),
                lines: priced,
                promotions: &promotions,
                promo_code: code.as_ref().map(|(code, uses)| PromoCodeUse {
                    code,
                    uses_by_user: *uses,
                }),
                shipping: method,
                destination: TaxDestination {
                    country: preview.country.as_deref().unwrap_or(""),
                    region: preview.region.as_deref(),
                },
                now,
            },
        )?;
        Ok(CartView {
            cart,
            lines,
            totals: quote.priced.order.components(),
            total: quote.priced.order.total().minor(),
        })
    }
}
