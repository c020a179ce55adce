//! The cart aggregate: an anonymous (session) or user cart, lines unique by product + selected
//! attributes, and the merge of an anonymous cart into the user's cart at login.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::ids::{CartId, CartLineId, ProductId, SessionId, TenantId, UserId};
use crate::money::Currency;

/// Who a cart belongs to — a user or an anonymous session, never both.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum CartOwner {
    /// A signed-in user.
    User(UserId),
    /// An anonymous visitor's session.
    Session(SessionId),
}

/// One line of a cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartLine {
    /// Line id.
    pub id: CartLineId,
    /// The product.
    pub product_id: ProductId,
    /// Selected attributes (size, colour, …); part of the line's identity.
    pub attributes: BTreeMap<String, String>,
    /// Units, 1..=the per-item maximum.
    pub quantity: u32,
    /// Price per unit when added, minor units (re-priced from the catalog at checkout).
    pub unit_price: i64,
}

/// Cart limits (docs/product/limits.md); taken from [`crate::policy::OrderLimits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CartLimits {
    /// Most lines (50).
    pub max_lines: usize,
    /// Most units on one line (10).
    pub max_quantity: u32,
}

impl From<&crate::policy::OrderLimits> for CartLimits {
    fn from(limits: &crate::policy::OrderLimits) -> Self {
        Self {
            max_lines: limits.max_cart_lines,
            max_quantity: limits.max_quantity_per_item,
        }
    }
}

/// Why a cart change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    /// Already at the line limit.
    #[error("a cart holds at most {max} lines")]
    TooManyLines {
        /// The limit.
        max: usize,
    },
    /// Quantity outside 1..=max.
    #[error("quantity must be between 1 and {max}")]
    QuantityOutOfRange {
        /// The per-line maximum.
        max: u32,
    },
    /// A negative price.
    #[error("a unit price must not be negative")]
    NegativePrice,
    /// No such line.
    #[error("cart line {0} not found")]
    LineNotFound(CartLineId),
    /// The price is in another currency than the cart's.
    #[error("the cart is priced in {cart}, not {given}")]
    CurrencyMismatch {
        /// The cart's currency.
        cart: Currency,
        /// The currency given.
        given: Currency,
    },
    /// Merging is from an anonymous cart into a user cart only.
    #[error("only an anonymous cart can be merged into a user's cart")]
    InvalidMerge,
}

/// What a merge did, line by line.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MergeReport {
    /// Lines whose quantities were added to an existing line.
    pub merged: Vec<ProductId>,
    /// Lines copied over.
    pub added: Vec<ProductId>,
    /// Lines whose quantity was cut to the per-line maximum.
    pub clamped: Vec<ProductId>,
    /// Lines dropped because the cart was full.
    pub dropped: Vec<ProductId>,
}

/// A shopping cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cart {
    id: CartId,
    tenant_id: TenantId,
    owner: CartOwner,
    currency: Currency,
    lines: Vec<CartLine>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    version: u64,
}

/// Every field of a cart, as adapters store it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct CartRecord {
    pub id: CartId,
    pub tenant_id: TenantId,
    pub owner: CartOwner,
    pub currency: Currency,
    pub lines: Vec<CartLine>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// Version of the stored row; 0 for a cart never stored.
    pub version: u64,
}

impl Cart {
    /// A new empty cart living `ttl` from `now`.
    pub fn new(
        id: CartId,
        tenant_id: TenantId,
        owner: CartOwner,
        currency: Currency,
        ttl: Duration,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            tenant_id,
            owner,
            currency,
            lines: Vec::new(),
            created_at: now,
            updated_at: now,
            expires_at: now + ttl,
            version: 0,
        }
    }

    /// Rebuilds a stored cart.
    pub fn restore(record: CartRecord) -> Self {
        Self {
            id: record.id,
            tenant_id: record.tenant_id,
            owner: record.owner,
            currency: record.currency,
            lines: record.lines,
            created_at: record.created_at,
            updated_at: record.updated_at,
            expires_at: record.expires_at,
            version: record.version,
        }
    }

    /// The stored form.
    pub fn to_record(&self) -> CartRecord {
        CartRecord {
            id: self.id,
            tenant_id: self.tenant_id,
            owner: self.owner.clone(),
            currency: self.currency,
            lines: self.lines.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            expires_at: self.expires_at,
            version: self.version,
        }
    }

    /// Cart id.
    pub fn id(&self) -> CartId {
        self.id
    }
    /// Tenant.
    pub fn tenant_id(&self) -> TenantId {
        self.tenant_id
    }
    /// Owner.
    pub fn owner(&self) -> &CartOwner {
        &self.owner
    }
    /// Currency of every price.
    pub fn currency(&self) -> Currency {
        self.currency
    }
    /// The lines.
    pub fn lines(&self) -> &[CartLine] {
        &self.lines
    }
    /// Stored version (0: never stored).
    pub fn version(&self) -> u64 {
        self.version
    }
    /// When the cart is dropped if untouched.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }
    /// Whether it has expired.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }
    /// Records a successful save.
    pub fn mark_committed(&mut self) {
        self.version += 1;
    }

    /// Adds units of a product; the same product with the same attributes adds to its line.
    /// Every change keeps the cart alive for another `ttl`.
    ///
    /// # Errors
    /// [`CartError`] when a limit would be broken; the cart is then unchanged.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        new_line_id: CartLineId,
        product_id: ProductId,
        attributes: BTreeMap<String, String>,
        quantity: u32,
        unit_price: i64,
        price_currency: Currency,
        limits: CartLimits,
        ttl: Duration,
        now: OffsetDateTime,
    ) -> Result<CartLineId, CartError> {
        if price_currency != self.currency {
            return Err(CartError::CurrencyMismatch {
                cart: self.currency,
                given: price_currency,
            });
        }
        if unit_price < 0 {
            return Err(CartError::NegativePrice);
        }
        let in_range = |q: u32| (1..=limits.max_quantity).contains(&q);
        if !in_range(quantity) {
            return Err(CartError::QuantityOutOfRange {
                max: limits.max_quantity,
            });
        }
        let id = match self.find_line(product_id, &attributes) {
            Some(line) => {
                let total = line.quantity.saturating_add(quantity);
                if !in_range(total) {
                    return Err(CartError::QuantityOutOfRange {
                        max: limits.max_quantity,
                    });
                }
                line.quantity = total;
                line.unit_price = unit_price;
                line.id
            }
            None => {
                if self.lines.len() >= limits.max_lines {
                    return Err(CartError::TooManyLines {
                        max: limits.max_lines,
                    });
                }
                self.lines.push(CartLine {
                    id: new_line_id,
                    product_id,
                    attributes,
                    quantity,
                    unit_price,
                });
                new_line_id
            }
        };
        self.touch(ttl, now);
        Ok(id)
    }

    /// Sets a line's quantity; 0 removes the line.
    ///
    /// # Errors
    /// [`CartError::LineNotFound`] or [`CartError::QuantityOutOfRange`].
    pub fn set_quantity(
        &mut self,
        line_id: CartLineId,
        quantity: u32,
        limits: CartLimits,
        ttl: Duration,
        now: OffsetDateTime,
    ) -> Result<(), CartError> {
        if quantity == 0 {
            return self.remove(line_id, ttl, now);
        }
        if quantity > limits.max_quantity {
            return Err(CartError::QuantityOutOfRange {
                max: limits.max_quantity,
            });
        }
        let line = self
            .lines
            .iter_mut()
            .find(|l| l.id == line_id)
            .ok_or(CartError::LineNotFound(line_id))?;
        line.quantity = quantity;
        self.touch(ttl, now);
        Ok(())
    }

    /// Removes a line.
    ///
    /// # Errors
    /// [`CartError::LineNotFound`].
    pub fn remove(
        &mut self,
        line_id: CartLineId,
        ttl: Duration,
        now: OffsetDateTime,
    ) -> Result<(), CartError> {
        let before = self.lines.len();
        self.lines.retain(|l| l.id != line_id);
        if self.lines.len() == before {
            return Err(CartError::LineNotFound(line_id));
        }
        self.touch(ttl, now);
        Ok(())
    }

    /// Empties the cart (after checkout or on request).
    pub fn clear(&mut self, ttl: Duration, now: OffsetDateTime) {
        self.lines.clear();
        self.touch(ttl, now);
    }

    /// Moves an anonymous cart's lines into this user cart: quantities of matching lines are
    /// added (cut to the per-line maximum), other lines are copied while there is room.
    /// `new_line_ids` supplies ids for copied lines.
    ///
    /// # Errors
    /// [`CartError::InvalidMerge`] unless `self` is a user cart and `anonymous` a session cart of
    /// the same tenant; [`CartError::CurrencyMismatch`] across currencies.
    pub fn merge(
        &mut self,
        anonymous: &Cart,
        mut new_line_ids: impl FnMut() -> CartLineId,
        limits: CartLimits,
        ttl: Duration,
        now: OffsetDateTime,
    ) -> Result<MergeReport, CartError> {
        let valid = matches!(self.owner, CartOwner::User(_))
            && matches!(anonymous.owner, CartOwner::Session(_))
            && self.tenant_id == anonymous.tenant_id;
        if !valid {
            return Err(CartError::InvalidMerge);
        }
        if anonymous.currency != self.currency {
            return Err(CartError::CurrencyMismatch {
                cart: self.currency,
                given: anonymous.currency,
            });
        }
        let mut report = MergeReport::default();
        for incoming in &anonymous.lines {
            let wanted = incoming.quantity.max(1);
            if let Some(line) = self.find_line(incoming.product_id, &incoming.attributes) {
                let total = line.quantity.saturating_add(wanted);
                line.quantity = total.min(limits.max_quantity);
                report.merged.push(incoming.product_id);
                if total > limits.max_quantity {
                    report.clamped.push(incoming.product_id);
                }
            } else if self.lines.len() < limits.max_lines {
                self.lines.push(CartLine {
                    id: new_line_ids(),
                    quantity: wanted.min(limits.max_quantity),
                    ..incoming.clone()
                });
                report.added.push(incoming.product_id);
                if wanted > limits.max_quantity {
                    report.clamped.push(incoming.product_id);
                }
            } else {
                report.dropped.push(incoming.product_id);
            }
        }
        self.touch(ttl, now);
        Ok(report)
    }

    /// Σ unit price × quantity at the prices stored on the lines, minor units.
    pub fn subtotal(&self) -> Option<i64> {
        self.lines.iter().try_fold(0i64, |acc, l| {
            l.unit_price
                .checked_mul(i64::from(l.quantity))
                .and_then(|amount| acc.checked_add(amount))
        })
    }

    fn find_line(
        &mut self,
        product_id: ProductId,
        attributes: &BTreeMap<String, String>,
    ) -> Option<&mut CartLine> {
        self.lines
            .iter_mut()
            .find(|l| l.product_id == product_id && &l.attributes == attributes)
    }

    fn touch(&mut self, ttl: Duration, now: OffsetDateTime) {
        self.updated_at = now;
        self.expires_at = now + ttl;
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);
    const LIMITS: CartLimits = CartLimits {
        max_lines: 50,
        max_quantity: 10,
    };

    fn ttl() -> Duration {
        Duration::days(30)
    }

    fn cart(owner: CartOwner) -> Cart {
        Cart::new(
            CartId::from_uuid(Uuid::from_u128(1)),
            TenantId::from_uuid(Uuid::from_u128(2)),
            owner,
            Currency::Usd,
            ttl(),
            NOW,
        )
    }

    fn user() -> CartOwner {
        CartOwner::User(UserId::from_uuid(Uuid::from_u128(3)))
    }

    fn session() -> CartOwner {
        CartOwner::Session(SessionId::new("sess-1"))
    }

    fn product(n: u128) -> ProductId {
        ProductId::from_uuid(Uuid::from_u128(n))
    }

    fn attrs(size: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("size".to_owned(), size.to_owned())])
    }

    fn add(
        cart: &mut Cart,
        line: u128,
        product_n: u128,
        size: &str,
        quantity: u32,
    ) -> Result<CartLineId, CartError> {
        cart.add(
            CartLineId::from_uuid(Uuid::from_u128(line)),
            product(product_n),
            attrs(size),
            quantity,
            1_000,
            Currency::Usd,
            LIMITS,
            ttl(),
            NOW,
        )
    }

    #[test]
    fn the_same_product_and_attributes_share_a_line() {
        let mut c = cart(user());
        let first = add(&mut c, 10, 1, "M", 2).expect("added");
        let again = add(&mut c, 11, 1, "M", 3).expect("added");
        add(&mut c, 12, 1, "L", 1).expect("added");
        assert_eq!(first, again);
        assert_eq!(c.lines().len(), 2);
        assert_eq!(c.lines()[0].quantity, 5);
        assert_eq!(c.subtotal(), Some(6_000));
    }

    #[test]
    fn quantities_and_line_count_are_limited() {
        let mut c = cart(user());
        assert_eq!(
            add(&mut c, 1, 1, "M", 0),
            Err(CartError::QuantityOutOfRange { max: 10 })
        );
        add(&mut c, 1, 1, "M", 8).expect("added");
        assert_eq!(
            add(&mut c, 2, 1, "M", 3),
            Err(CartError::QuantityOutOfRange { max: 10 })
        );
        assert_eq!(
            c.lines()[0].quantity,
            8,
            "a refused change leaves the line alone"
        );
        for n in 2..=50u128 {
            add(&mut c, n + 100, n, "M", 1).expect("room");
        }
        assert_eq!(
            add(&mut c, 999, 999, "M", 1),
            Err(CartError::TooManyLines { max: 50 })
        );
    }

    #[test]
    fn quantity_updates_and_removal() {
        let mut c = cart(session());
        let id = add(&mut c, 1, 1, "M", 2).expect("added");
        c.set_quantity(id, 7, LIMITS, ttl(), NOW).expect("set");
        assert_eq!(c.lines()[0].quantity, 7);
        assert_eq!(
            c.set_quantity(id, 11, LIMITS, ttl(), NOW),
            Err(CartError::QuantityOutOfRange { max: 10 })
        );
        c.set_quantity(id, 0, LIMITS, ttl(), NOW).expect("removed");
        assert!(c.lines().is_empty());
        assert_eq!(c.remove(id, ttl(), NOW), Err(CartError::LineNotFound(id)));
    }

    #[test]
    fn carts_expire_thirty_days_after_the_last_change() {
        let mut c = cart(user());
        assert!(!c.is_expired(NOW + Duration::days(29)));
        assert!(c.is_expired(NOW + Duration::days(30)));
        let later = NOW + Duration::days(20);
        c.add(
            CartLineId::from_uuid(Uuid::from_u128(5)),
            product(1),
            attrs("S"),
            1,
            100,
            Currency::Usd,
            LIMITS,
            ttl(),
            later,
        )
        .expect("added");
        assert!(!c.is_expired(NOW + Duration::days(45)));
    }

    #[test]
    fn merging_adds_quantities_within_limits_and_reports_what_happened() {
        let mut mine = cart(user());
        add(&mut mine, 1, 1, "M", 6).expect("added");
        let mut anon = cart(session());
        add(&mut anon, 2, 1, "M", 7).expect("added");
        add(&mut anon, 3, 2, "M", 1).expect("added");
        let mut next = 100u128;
        let report = mine
            .merge(
                &anon,
                || {
                    next += 1;
                    CartLineId::from_uuid(Uuid::from_u128(next))
                },
                LIMITS,
                ttl(),
                NOW,
            )
            .expect("merged");
        assert_eq!(mine.lines()[0].quantity, 10);
        assert_eq!(report.merged, vec![product(1)]);
        assert_eq!(report.clamped, vec![product(1)]);
        assert_eq!(report.added, vec![product(2)]);
        assert_eq!(
            mine.merge(
                &mine.clone(),
                || CartLineId::from_uuid(Uuid::nil()),
                LIMITS,
                ttl(),
                NOW
            ),
            Err(CartError::InvalidMerge)
        );
    }
}
