//! The goods order's wire types (the shop's shapes): the order from the cart and its addresses.

use garde::Validate;
use order_domain::order::ContactEmail;
use order_domain::use_cases::{CreateGoodsOrder, IdempotencyKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::address::AddressBody;
use super::order_body::OrderResponse;
use super::requests::CreateOrderBody;

/// `POST /api/v1/orders` with `shippingAddress`: a goods order from the caller's cart.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = CreateGoodsOrder)]
pub struct CreateGoodsOrderBody {
    /// Where it ships.
    #[garde(dive)]
    pub shipping_address: AddressBody,
    /// Where the invoice goes (the shipping address when absent or null).
    #[garde(dive)]
    #[serde(default)]
    pub billing_address: Option<AddressBody>,
    /// A method the shop offers (`standard`, `express`, `overnight` by default); the shop's
    /// default method (`standard` when offered) when absent.
    #[garde(inner(length(max = 40)))]
    #[serde(default)]
    #[schema(max_length = 40)]
    pub shipping_method: Option<String>,
    /// A promo code as typed.
    #[garde(inner(length(max = 64)))]
    #[serde(default)]
    #[schema(max_length = 64)]
    pub promo_code: Option<String>,
    /// Notes for the shop.
    #[garde(inner(length(chars, max = 1000)))]
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub notes: Option<String>,
    /// The payment method (`pm_…`); card data never reaches us.
    #[garde(inner(length(max = 200)))]
    #[serde(default)]
    #[schema(max_length = 200)]
    pub payment_method_id: Option<String>,
}

impl CreateGoodsOrderBody {
    /// The use case's request.
    pub fn into_domain(
        self,
        idempotency: Option<IdempotencyKey>,
        contact_email: Option<ContactEmail>,
    ) -> CreateGoodsOrder {
        CreateGoodsOrder {
            shipping_address: self.shipping_address.to_domain(),
            billing_address: self.billing_address.as_ref().map(AddressBody::to_domain),
            shipping_method: self.shipping_method,
            promo_code: self.promo_code,
            notes: self.notes,
            payment_method: self.payment_method_id,
            idempotency,
            contact_email,
        }
    }
}

/// The body of `POST /api/v1/orders`: its fields decide the kind (docs/product/routes.md).
#[derive(Debug, ToSchema)]
#[serde(untagged)]
// Describes the two bodies the handler tells apart by `shippingAddress`; never built.
#[allow(dead_code, clippy::large_enum_variant)]
pub enum CreateOrderRequest {
    /// `eventId` + `items`: a ticket order (ticketing).
    Tickets(CreateOrderBody),
    /// `shippingAddress` (+ …): a goods order from the cart (the shop).
    Goods(CreateGoodsOrderBody),
}

/// The payment intent of a new goods order, as the shop shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentIntentBody {
    /// Upstream id (`pi_…`).
    pub id: Option<String>,
    /// `requires_confirmation` until paid.
    pub status: &'static str,
    /// For the front end to complete the payment.
    pub client_secret: Option<String>,
}

/// `POST /api/v1/orders` for a goods order: the shop's `{order, paymentIntent}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = GoodsOrderCreated)]
pub struct GoodsOrderCreated {
    /// The order, RESERVED (its stock held) until paid.
    pub order: OrderResponse,
    /// What the front end confirms.
    pub payment_intent: PaymentIntentBody,
}

/// The answer of `POST /api/v1/orders`: its kind follows the request's.
#[derive(Debug, ToSchema)]
#[serde(untagged)]
// Describes the two answers the handler sends; never built.
#[allow(dead_code, clippy::large_enum_variant)]
pub enum CreatedOrderResponse {
    /// A ticket order: the order itself.
    Tickets(OrderResponse),
    /// A goods order: `{order, paymentIntent}`.
    Goods(GoodsOrderCreated),
}

/// `POST /api/v1/orders/{id}/fulfillment/ship`: with a tracking number, no label is bought.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = Ship)]
pub struct ShipBody {
    /// The carrier (required with a tracking number).
    #[garde(inner(length(chars, min = 1, max = 100)))]
    #[schema(min_length = 1, max_length = 100)]
    pub carrier: Option<String>,
    /// The carrier's tracking number; without one the shipping service makes the label.
    #[garde(rename("trackingNumber"), inner(length(chars, min = 1, max = 100)))]
    #[schema(min_length = 1, max_length = 100)]
    pub tracking_number: Option<String>,
}

impl ShipBody {
    /// The warehouse's own shipment, when it gave one.
    ///
    /// # Errors
    /// 422 at `carrier` for a tracking number without its carrier, and the other way round.
    pub fn manual(
        self,
    ) -> Result<Option<order_domain::use_cases::ManualShipment>, crate::error::ApiError> {
        match (self.carrier, self.tracking_number) {
            (None, None) => Ok(None),
            (Some(carrier), Some(tracking_number)) => {
                Ok(Some(order_domain::use_cases::ManualShipment {
                    carrier,
                    tracking_number,
                }))
            }
            (None, Some(_)) => Err(crate::error::ApiError::field(
                "carrier",
                "required",
                "a tracking number needs its carrier",
            )),
            (Some(_), None) => Err(crate::error::ApiError::field(
                "trackingNumber",
                "required",
                "a carrier needs the tracking number",
            )),
        }
    }
}

/// One line of a pick list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PickBody {
    #[schema(value_type = uuid::Uuid)]
    product_id: order_domain::ids::ProductId,
    quantity: u32,
    /// Where in the warehouse.
    location: String,
}

/// `POST /api/v1/orders/{id}/fulfillment/start`: the order and where to pick it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FulfillmentStarted)]
pub struct FulfillmentStarted {
    order: OrderResponse,
    /// The warehouse that ships it.
    warehouse: String,
    pick_list: Vec<PickBody>,
}

impl FulfillmentStarted {
    /// `order` allocated as `allocation`.
    pub fn new(order: OrderResponse, allocation: order_domain::ports::Allocation) -> Self {
        Self {
            order,
            warehouse: allocation.warehouse,
            pick_list: allocation
                .picks
                .into_iter()
                .map(|p| PickBody {
                    product_id: p.product_id,
                    quantity: p.quantity,
                    location: p.location,
                })
                .collect(),
        }
    }
}
