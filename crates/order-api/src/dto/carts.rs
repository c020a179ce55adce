//! The cart's wire types (the shop's shapes): the add body, the quantity change, the merge, the
//! preview's query, and the cart as the shopper sees it.

use std::collections::BTreeMap;

use garde::Validate;
use order_domain::ids::ProductId;
use order_domain::use_cases::{CartPreview, CartView};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::schemas::CurrencySchema;
use crate::validation::rule;

/// `POST /api/v1/cart/items`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = AddCartItem)]
pub struct AddCartItemBody {
    /// The product; its price comes from the product service.
    #[garde(skip)]
    #[schema(value_type = uuid::Uuid)]
    pub product_id: ProductId,
    /// Units to add: 1 to `MAX_QUANTITY_PER_ITEM` (default 10) on the line.
    #[garde(range(min = 1, max = 1_000))]
    #[schema(minimum = 1, maximum = 1000)]
    pub quantity: i64,
    /// Size, colour, …: part of the line's identity (at most 20, names and values up to 100
    /// characters).
    #[garde(custom(attributes_rule))]
    #[serde(default)]
    pub selected_attributes: BTreeMap<String, String>,
}

fn attributes_rule(attributes: &BTreeMap<String, String>, (): &()) -> garde::Result {
    if attributes.len() > 20 {
        return Err(rule("too_many", "at most 20 attributes"));
    }
    if attributes
        .iter()
        .any(|(k, v)| k.is_empty() || k.chars().count() > 100 || v.chars().count() > 100)
    {
        return Err(rule(
            "invalid",
            "names of 1 to 100 characters, values of at most 100",
        ));
    }
    Ok(())
}

/// `PATCH /api/v1/cart/items/{id}`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ChangeCartItem)]
pub struct ChangeCartItemBody {
    /// The line's new quantity; 0 removes it.
    #[garde(range(min = 0, max = 1_000))]
    #[schema(minimum = 0, maximum = 1000)]
    pub quantity: i64,
}

/// `POST /api/v1/cart/merge`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = MergeCart)]
pub struct MergeCartBody {
    /// The anonymous session whose cart joins the buyer's.
    #[garde(rename("sessionId"), length(min = 16, max = 128))]
    #[schema(min_length = 16, max_length = 128)]
    pub session_id: String,
}

/// The headers that name an anonymous cart; a bearer token replaces them.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // Documents headers the `Shopper` extractor reads.
pub struct SessionHeaders {
    /// The shop, for an anonymous cart.
    #[param(rename = "X-Tenant-Id", value_type = Option<uuid::Uuid>)]
    x_tenant_id: Option<String>,
    /// The anonymous session (16 to 128 visible ASCII characters).
    #[param(rename = "X-Session-Id", min_length = 16, max_length = 128)]
    x_session_id: Option<String>,
}

/// The totals preview of a cart.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CartQuery {
    /// ISO country of the destination (the preview has no tax without it).
    #[garde(inner(length(min = 2, max = 2)))]
    #[param(min_length = 2, max_length = 2)]
    pub country: Option<String>,
    /// Region of the destination (`CA`).
    #[garde(inner(length(max = 10)))]
    #[param(max_length = 10)]
    pub region: Option<String>,
    /// A method the shop offers; the shop's default method (`standard` when offered) when absent.
    #[garde(inner(length(max = 40)))]
    #[param(max_length = 40)]
    pub shipping_method: Option<String>,
    /// A promo code to try (buyers only).
    #[garde(inner(length(max = 64)))]
    #[param(max_length = 64)]
    pub promo_code: Option<String>,
}

impl CartQuery {
    /// What to price the preview for.
    pub fn preview(&self) -> CartPreview {
        CartPreview {
            country: self.country.clone(),
            region: self.region.clone(),
            shipping_method: self.shipping_method.clone(),
            promo_code: self.promo_code.clone(),
        }
    }
}

/// Whether a line can be ordered now.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartItemAvailability {
    in_stock: bool,
    /// Units of this line that can be ordered now.
    max_quantity: u32,
}

/// One line of a cart.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CartItem)]
pub struct CartItemResponse {
    #[schema(value_type = uuid::Uuid)]
    id: order_domain::ids::CartLineId,
    #[schema(value_type = uuid::Uuid)]
    product_id: ProductId,
    product_name: String,
    product_image: Option<String>,
    /// Price of one unit now, minor units.
    unit_price: i64,
    quantity: u32,
    total_price: i64,
    selected_attributes: BTreeMap<String, String>,
    availability: CartItemAvailability,
}

/// The preview of what the cart costs.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartTotals {
    subtotal: i64,
    discount: i64,
    tax: i64,
    shipping: i64,
    total: i64,
}

/// A cart.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Cart)]
pub struct CartResponse {
    #[schema(value_type = uuid::Uuid)]
    id: order_domain::ids::CartId,
    #[schema(value_type = Option<uuid::Uuid>)]
    user_id: Option<order_domain::ids::UserId>,
    items: Vec<CartItemResponse>,
    totals: CartTotals,
    /// Units in the cart.
    item_count: u32,
    #[schema(value_type = CurrencySchema)]
    currency: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    updated_at: OffsetDateTime,
    /// The cart is removed this long after its last change (30 days).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    expires_at: OffsetDateTime,
}

impl CartResponse {
    /// The API view of `view`.
    pub fn new(view: &CartView) -> Self {
        let cart = &view.cart;
        let record = cart.to_record();
        Self {
            id: cart.id(),
            user_id: match cart.owner() {
                order_domain::cart::CartOwner::User(user) => Some(*user),
                order_domain::cart::CartOwner::Session(_) => None,
            },
            items: view
                .lines
                .iter()
                .map(|l| CartItemResponse {
                    id: l.line.id,
                    product_id: l.line.product_id,
                    product_name: l.name.clone(),
                    product_image: l.image_url.clone(),
                    unit_price: l.unit_price,
                    quantity: l.line.quantity,
                    total_price: l.unit_price.saturating_mul(i64::from(l.line.quantity)),
                    selected_attributes: l.line.attributes.clone(),
                    availability: CartItemAvailability {
                        in_stock: l.in_stock,
                        max_quantity: l.max_quantity,
                    },
                })
                .collect(),
            totals: CartTotals {
                subtotal: view.totals.subtotal,
                discount: view.totals.discount,
                tax: view.totals.tax,
                shipping: view.totals.shipping,
                total: view.total,
            },
            item_count: view.lines.iter().map(|l| l.line.quantity).sum(),
            currency: cart.currency().code(),
            updated_at: record.updated_at,
            expires_at: cart.expires_at(),
        }
    }
}

/// `POST /api/v1/cart/items`: the line that changed and the cart after.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CartItemAdded)]
pub struct CartItemAddedResponse {
    success: bool,
    cart_item: CartItemResponse,
    cart: CartResponse,
}

impl CartItemAddedResponse {
    /// The view after adding to line `line`.
    pub fn new(view: &CartView, line: order_domain::ids::CartLineId) -> Option<Self> {
        let cart = CartResponse::new(view);
        let index = view.lines.iter().position(|l| l.line.id == line)?;
        let mut items = CartResponse::new(view).items;
        Some(Self {
            success: true,
            cart_item: items.swap_remove(index),
            cart,
        })
    }
}

/// What a merge did, line by line.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MergeReportBody {
    /// Products whose quantities were added to an existing line.
    #[schema(value_type = Vec<uuid::Uuid>)]
    merged: Vec<ProductId>,
    /// Products copied over.
    #[schema(value_type = Vec<uuid::Uuid>)]
    added: Vec<ProductId>,
    /// Products whose quantity was cut to the per-line maximum.
    #[schema(value_type = Vec<uuid::Uuid>)]
    clamped: Vec<ProductId>,
    /// Products dropped because the cart was full.
    #[schema(value_type = Vec<uuid::Uuid>)]
    dropped: Vec<ProductId>,
}

/// `POST /api/v1/cart/merge`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CartMerged)]
pub struct CartMergedResponse {
    cart: CartResponse,
    merge: MergeReportBody,
}

impl CartMergedResponse {
    /// The buyer's cart after merging, and what moved.
    pub fn new(view: &CartView, report: order_domain::cart::MergeReport) -> Self {
        Self {
            cart: CartResponse::new(view),
            merge: MergeReportBody {
                merged: report.merged,
                added: report.added,
                clamped: report.clamped,
                dropped: report.dropped,
            },
        }
    }
}
