//! `POST /orders/{id}/edits` and `GET /orders/{id}/edits`: the edit request, its answer (the
//! repriced order and the balance) and the list of an order's edits.

use std::collections::BTreeMap;

use garde::Validate;
use order_domain::actor::Actor;
use order_domain::audit::AuditEntry;
use order_domain::ids::{OrderItemId, ProductId, TicketPricingId, TicketTypeId};
use order_domain::order::{Order, PriceDifference};
use order_domain::policy::{FieldError, Violations};
use order_domain::use_cases::{EditOrder, EditOutcome, RequestedChange};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{HistoryEntry, MAX_REASON, OrderResponse, PricingBody, RefundResponse};
use crate::error::ApiError;

/// The most changes one edit may list.
pub const MAX_CHANGES: usize = 50;

/// `POST /api/v1/orders/{id}/edits`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = EditOrder)]
pub struct EditBody {
    /// The changes, applied in this order: 1 to 50.
    #[garde(length(max = MAX_CHANGES), dive)]
    #[schema(max_items = 50)]
    pub changes: Vec<EditChangeBody>,
    /// Why; at most 500 characters (kept in the audit trail).
    #[garde(inner(length(chars, max = MAX_REASON)))]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
    /// `true`: answer the repriced order and its balance, change nothing.
    #[garde(skip)]
    #[serde(default)]
    pub preview: bool,
    /// The order's `version` the edit was made from (or send `If-Match`); a stale one is 409.
    #[garde(skip)]
    pub version: Option<u64>,
}

/// What one change does.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[schema(as = EditChangeType)]
pub enum EditChangeType {
    /// A new line: `ticketTypeId` + `ticketPricingId` (ticket orders) or `productId` (+
    /// `attributes`, goods orders), and `quantity`.
    AddItem,
    /// `itemId`'s new `quantity`.
    ChangeQuantity,
    /// `itemId` taken off the order.
    RemoveItem,
}

/// One change of [`EditBody`]; which fields it needs depends on its `type`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = EditChange)]
pub struct EditChangeBody {
    /// What the change does.
    #[garde(skip)]
    #[serde(rename = "type")]
    pub kind: EditChangeType,
    /// The line (CHANGE_QUANTITY, REMOVE_ITEM).
    #[garde(skip)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub item_id: Option<OrderItemId>,
    /// Ticket type (ADD_ITEM on a ticket order).
    #[garde(skip)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub ticket_type_id: Option<TicketTypeId>,
    /// Price point (ADD_ITEM on a ticket order).
    #[garde(skip)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub ticket_pricing_id: Option<TicketPricingId>,
    /// Product (ADD_ITEM on a goods order).
    #[garde(skip)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub product_id: Option<ProductId>,
    /// Selected attributes (ADD_ITEM on a goods order).
    #[garde(skip)]
    pub attributes: Option<BTreeMap<String, String>>,
    /// Units (ADD_ITEM, CHANGE_QUANTITY): 1 to `MAX_QUANTITY_PER_ITEM` (default 10).
    #[garde(skip)]
    pub quantity: Option<i64>,
}

impl EditBody {
    /// The domain's command; `if_match` is the version from the `If-Match` header (the body's
    /// `version` may say the same; two different versions are refused).
    ///
    /// # Errors
    /// 422 with the path of each change missing a field its type needs.
    pub fn try_into_domain(self, if_match: Option<u64>) -> Result<EditOrder, ApiError> {
        let mut violations = Violations::default();
        let mut missing = |index: usize, field: &str| {
            violations.push(FieldError::new(
                format!("changes[{index}].{field}"),
                "required",
                format!("{field} is required for this type of change"),
            ));
        };
        let mut changes = Vec::with_capacity(self.changes.len());
        for (index, change) in self.changes.into_iter().enumerate() {
            let quantity = change.quantity;
            let converted = match change.kind {
                EditChangeType::AddItem => match (
                    change.ticket_type_id,
                    change.ticket_pricing_id,
                    change.product_id,
                    quantity,
                ) {
                    (Some(ticket_type_id), Some(ticket_pricing_id), None, Some(quantity)) => {
                        Some(RequestedChange::AddTickets {
                            ticket_type_id,
                            ticket_pricing_id,
                            quantity,
                        })
                    }
                    (None, None, Some(product_id), Some(quantity)) => {
                        Some(RequestedChange::AddProduct {
                            product_id,
                            attributes: change.attributes.unwrap_or_default(),
                            quantity,
                        })
                    }
                    (.., None) => {
                        missing(index, "quantity");
                        None
                    }
                    (None, _, None, _) => {
                        missing(index, "ticketTypeId");
                        None
                    }
                    _ => {
                        missing(index, "ticketPricingId");
                        None
                    }
                },
                EditChangeType::ChangeQuantity => match (change.item_id, quantity) {
                    (Some(item_id), Some(quantity)) => {
                        Some(RequestedChange::ChangeQuantity { item_id, quantity })
                    }
                    (None, _) => {
                        missing(index, "itemId");
                        None
                    }
                    (_, None) => {
                        missing(index, "quantity");
                        None
                    }
                },
                EditChangeType::RemoveItem => match change.item_id {
                    Some(item_id) => Some(RequestedChange::RemoveItem { item_id }),
                    None => {
                        missing(index, "itemId");
                        None
                    }
                },
            };
            changes.extend(converted);
        }
        if let (Some(header), Some(body)) = (if_match, self.version)
            && header != body
        {
            violations.push(FieldError::new(
                "version",
                "mismatch",
                "If-Match and version name different versions",
            ));
        }
        violations.into_result().map_err(ApiError::Validation)?;
        let expected_version = if_match.or(self.version);
        Ok(EditOrder {
            changes,
            reason: self
                .reason
                .filter(|r| !r.trim().is_empty())
                .unwrap_or_else(|| "edited".to_owned()),
            preview: self.preview,
            expected_version,
        })
    }
}

/// The price of the order before and after the edit, and the difference per component.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = EditBalance)]
pub struct EditBalanceBody {
    /// Before the edit.
    before: PricingBody,
    /// After it.
    after: PricingBody,
    /// After − before per component; `total` > 0: the buyer pays more, < 0: gets money back.
    difference: PriceDifferenceBody,
}

/// Signed differences, minor units.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PriceDifference)]
pub struct PriceDifferenceBody {
    subtotal: i64,
    discount: i64,
    platform_fee: i64,
    processing_fee: i64,
    shipping: i64,
    tax: i64,
    total: i64,
}

impl From<&PriceDifference> for PriceDifferenceBody {
    fn from(d: &PriceDifference) -> Self {
        Self {
            subtotal: d.subtotal,
            discount: d.discount,
            platform_fee: d.platform_fee,
            processing_fee: d.processing_fee,
            shipping: d.shipping,
            tax: d.tax,
            total: d.total,
        }
    }
}

/// `POST /orders/{id}/edits`: what the edit did, or would do.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OrderEdit)]
pub struct EditResponse {
    /// The edit (a preview's id is not kept).
    #[schema(value_type = uuid::Uuid)]
    edit_id: order_domain::ids::OrderEditId,
    /// Whether it was stored (`false` for a preview).
    applied: bool,
    /// The order after the edit.
    order: OrderResponse,
    /// The price before and after.
    balance: EditBalanceBody,
    /// The refund of a paid order's negative balance.
    #[serde(skip_serializing_if = "Option::is_none")]
    refund: Option<RefundResponse>,
    /// For a paid order whose total rises: the difference to pay (with
    /// `POST /orders/{id}/confirm-payment` and this intent) before `expiresAt`; until then the
    /// added units are held and the order is unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    payment_due: Option<PaymentDueBody>,
}

/// The difference an edit of a paid order asks for.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = EditPaymentDue)]
pub struct PaymentDueBody {
    payment_intent_id: String,
    client_secret: Option<String>,
    amount: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    expires_at: time::OffsetDateTime,
}

impl EditResponse {
    /// The answer for `outcome`, its order shown as `answer`.
    pub fn new(outcome: &EditOutcome, answer: OrderResponse) -> Self {
        let refund = outcome
            .refund_id
            .and_then(|id| outcome.order.refund(id))
            .map(|r| RefundResponse::new(&outcome.order, r));
        Self {
            edit_id: outcome.edit_id,
            applied: outcome.applied,
            order: answer,
            balance: EditBalanceBody {
                before: (&outcome.balance.before).into(),
                after: (&outcome.balance.after).into(),
                difference: (&outcome.balance.difference).into(),
            },
            refund,
            payment_due: outcome.payment_due.as_ref().map(|due| PaymentDueBody {
                payment_intent_id: due.payment_intent_id.as_str().to_owned(),
                client_secret: due.client_secret.clone(),
                amount: due.amount,
                expires_at: due.expires_at,
            }),
        }
    }
}

/// `GET /orders/{id}/edits`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OrderEdits)]
pub struct EditsResponse {
    /// The order's current version.
    version: u64,
    /// The order's `ORDER_EDITED` history entries, oldest first: each one's `metadata` holds the
    /// edit (`editId`, `reason`, `added`, `changed`, `removed`, the price `before` and `after`).
    edits: Vec<HistoryEntry>,
}

impl EditsResponse {
    /// The edits of `order` from its audit entries, as `viewer` may read them.
    pub fn new(order: &Order, entries: Vec<AuditEntry>, viewer: &Actor) -> Self {
        Self {
            version: order.version(),
            edits: entries
                .into_iter()
                .map(|entry| HistoryEntry::seen_by(entry, viewer))
                .collect(),
        }
    }
}
