//! Request bodies and query strings (the ticketing API's shapes, camelCase, amounts in minor
//! units).
//!
//! Each type is parsed strictly (`deny_unknown_fields`), checked by its garde rules (structural
//! limits fixed by the contract) and converted to domain values at the boundary. Limits that
//! depend on configuration (lines per order, units per line, order value) stay in the domain's
//! policies; the OpenAPI document shows their configured values.

use garde::Validate;
use order_domain::ids::{EventId, OrderItemId, TicketPricingId, TicketTypeId, UserId};
use order_domain::order::{ContactEmail, OrderStatus, RefundScope, RefundStatus};
use order_domain::policy::{FieldError, Violations};
use order_domain::ports::{OrderFilter, PageRequest};
use order_domain::use_cases::{CreateTicketOrder, IdempotencyKey, TicketItemRequest};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::schemas::{CurrencySchema, OrderStatusSchema, RefundStatusSchema};
use crate::error::ApiError;
use crate::validation::rule;

/// The longest free-text reason we store, in characters.
pub const MAX_REASON: usize = 500;

/// `POST /api/v1/orders`: a ticket order.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = CreateOrder)]
pub struct CreateOrderBody {
    /// The event.
    #[garde(skip)]
    #[schema(value_type = uuid::Uuid)]
    pub event_id: EventId,
    /// The lines: 1 to `MAX_ITEMS_PER_ORDER` (default 50).
    #[garde(dive)]
    #[schema(min_items = 1)]
    pub items: Vec<CreateItemBody>,
    /// When given, must be the event's currency.
    #[garde(skip)]
    #[schema(value_type = Option<CurrencySchema>)]
    pub currency: Option<String>,
    /// The client's own data: a JSON object of at most 4096 bytes, stored and returned as given.
    #[garde(skip)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
}

/// One line of [`CreateOrderBody`].
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = CreateOrderItem)]
pub struct CreateItemBody {
    /// Ticket type.
    #[garde(skip)]
    #[schema(value_type = uuid::Uuid)]
    pub ticket_type_id: TicketTypeId,
    /// Price point.
    #[garde(skip)]
    #[schema(value_type = uuid::Uuid)]
    pub ticket_pricing_id: TicketPricingId,
    /// Units: 1 to `MAX_QUANTITY_PER_ITEM` (default 10). Signed, so that a negative count is a
    /// field error rather than a parse error.
    #[garde(skip)]
    #[schema(minimum = 1)]
    pub quantity: i64,
}

impl CreateOrderBody {
    /// The use case's command, converted once: the currency and the metadata are checked here
    /// (the two violations together), the quantities go on as sent, signed, for the domain's
    /// limits to judge (a negative count is a field error, not a parse error).
    ///
    /// # Errors
    /// 422 at `currency` or `metadata`.
    pub fn try_into_domain(
        self,
        idempotency: Option<IdempotencyKey>,
        contact_email: Option<ContactEmail>,
    ) -> Result<CreateTicketOrder, ApiError> {
        use order_domain::order::{InvalidMetadata, MAX_METADATA_BYTES, OrderMetadata};
        let mut violations = Violations::default();
        let currency = match self.currency.as_deref().map(str::parse).transpose() {
            Ok(currency) => currency,
            Err(_) => {
                violations.push(FieldError::new(
                    "currency",
                    "unsupported",
                    "one of USD, EUR, GBP, CAD, AUD",
                ));
                None
            }
        };
        let metadata = match self.metadata.map(OrderMetadata::new).transpose() {
            Ok(metadata) => metadata.unwrap_or_default(),
            Err(InvalidMetadata::NotAnObject) => {
                violations.push(FieldError::new(
                    "metadata",
                    "invalid",
                    "must be a JSON object",
                ));
                OrderMetadata::default()
            }
            Err(InvalidMetadata::TooLarge { .. }) => {
                violations.push(FieldError::new(
                    "metadata",
                    "too_large",
                    format!("at most {MAX_METADATA_BYTES} bytes of JSON"),
                ));
                OrderMetadata::default()
            }
        };
        violations.into_result().map_err(ApiError::Validation)?;
        Ok(CreateTicketOrder {
            event_id: self.event_id,
            items: self
                .items
                .into_iter()
                .map(|item| TicketItemRequest {
                    ticket_type_id: item.ticket_type_id,
                    ticket_pricing_id: item.ticket_pricing_id,
                    quantity: item.quantity,
                })
                .collect(),
            currency,
            idempotency,
            metadata,
            contact_email,
        })
    }
}

/// `POST …/cancel`: why (optional).
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = Reason)]
pub struct ReasonBody {
    /// Why; at most 500 characters.
    #[garde(inner(length(chars, max = MAX_REASON)))]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// `POST /orders/{id}/returns`: why, and which lines (all when absent).
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = Return)]
pub struct ReturnBody {
    /// Why; at most 500 characters.
    #[garde(inner(length(chars, max = MAX_REASON)))]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
    /// The lines sent back; the whole order when absent.
    #[garde(rename("itemIds"), custom(at_least_one_item), inner(length(max = 50)))]
    #[schema(value_type = Option<Vec<uuid::Uuid>>, min_items = 1, max_items = 50)]
    pub item_ids: Option<Vec<OrderItemId>>,
}

/// `POST /internal/v1/orders/{id}/expire`.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = Expire)]
pub struct ExpireBody {
    /// Why; required with `force`, recorded in the audit.
    #[garde(inner(length(chars, max = MAX_REASON)))]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
    /// Expire even while the reservation runs (an operator's decision; needs a reason).
    #[garde(skip)]
    pub force: Option<bool>,
}

impl ExpireBody {
    /// The operator's reason when the expiry is forced, `None` for a due expiry.
    ///
    /// # Errors
    /// 422 at `reason` when `force` comes without one.
    pub fn forced_reason(&self) -> Result<Option<String>, ApiError> {
        if self.force != Some(true) {
            return Ok(None);
        }
        match reason(self.reason.as_deref(), "") {
            why if why.is_empty() => Err(ApiError::field(
                "reason",
                "required",
                "a forced expiry records the operator's reason",
            )),
            why => Ok(Some(why)),
        }
    }
}

/// `POST …/refund`: everything still refundable, an amount, or whole lines.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = RefundRequest)]
pub struct RefundBody {
    /// Amount in minor units; omitted for everything still refundable.
    #[garde(inner(range(min = 1)))]
    #[schema(minimum = 1)]
    pub amount: Option<i64>,
    /// Refund whole lines instead of an amount.
    #[garde(rename("itemIds"), custom(at_least_one_item))]
    #[schema(value_type = Option<Vec<uuid::Uuid>>, min_items = 1)]
    pub item_ids: Option<Vec<OrderItemId>>,
    /// Why; at most 500 characters.
    #[garde(inner(length(chars, max = MAX_REASON)))]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

fn at_least_one_item(items: &Option<Vec<OrderItemId>>, (): &()) -> garde::Result {
    match items {
        Some(items) if items.is_empty() => Err(rule("too_few", "at least one item")),
        _ => Ok(()),
    }
}

impl RefundBody {
    /// What to refund.
    ///
    /// # Errors
    /// 422 at `itemIds` when both an amount and lines are given.
    pub fn scope(&self) -> Result<RefundScope, ApiError> {
        match (self.amount, &self.item_ids) {
            (Some(_), Some(_)) => Err(ApiError::field(
                "itemIds",
                "exclusive",
                "give either amount or itemIds",
            )),
            (Some(amount), None) => Ok(RefundScope::Amount(amount)),
            (None, Some(items)) => Ok(RefundScope::Items(items.clone())),
            (None, None) => Ok(RefundScope::Remaining),
        }
    }
}

/// `POST /internal/v1/orders/{id}/confirm`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = Confirm)]
pub struct ConfirmBody {
    /// The paid intent.
    #[garde(rename("paymentIntentId"), custom(payment_intent_rule))]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub payment_intent_id: String,
}

fn payment_intent_rule(id: &str, (): &()) -> garde::Result {
    if id.trim().is_empty() || id.len() > 200 {
        return Err(rule("invalid", "a payment intent id"));
    }
    Ok(())
}

/// `POST /internal/v1/orders/bulk/cancel`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = BulkCancel)]
pub struct BulkCancelBody {
    /// The cancelled event.
    #[garde(skip)]
    #[schema(value_type = uuid::Uuid)]
    pub event_id: EventId,
    /// Why; at most 500 characters.
    #[garde(inner(length(chars, max = MAX_REASON)))]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// `POST /api/v1/admin/refunds/{id}/reject`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = Reject)]
pub struct RejectBody {
    /// Why (required, at most 500 characters).
    #[garde(custom(rejection_reason))]
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub reason: String,
}

fn rejection_reason(text: &str, (): &()) -> garde::Result {
    match text.trim().chars().count() {
        0 => Err(rule("required", "a rejection needs a reason")),
        n if n > MAX_REASON => Err(rule("too_long", "at most 500 characters")),
        _ => Ok(()),
    }
}

/// A free-text reason trimmed, or `default` when absent or blank.
pub fn reason(text: Option<&str>, default: &str) -> String {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(default)
        .to_owned()
}

/// The page of a list from its (validated) `limit` and `offset`: 50 from 0 by default.
pub fn page(limit: Option<i64>, offset: Option<i64>) -> PageRequest {
    PageRequest {
        limit: limit.and_then(|l| u32::try_from(l).ok()).unwrap_or(50),
        offset: offset.and_then(|o| u32::try_from(o).ok()).unwrap_or(0),
    }
}

/// `GET /api/v1/orders` and `GET /api/v1/admin/orders`.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only orders in this status.
    #[garde(skip)]
    #[param(value_type = Option<OrderStatusSchema>)]
    pub status: Option<String>,
    /// Only orders of this event.
    #[garde(skip)]
    #[param(value_type = Option<uuid::Uuid>)]
    pub event_id: Option<EventId>,
    /// Created at or after.
    #[garde(skip)]
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub from: Option<OffsetDateTime>,
    /// Created before.
    #[garde(skip)]
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub to: Option<OffsetDateTime>,
    /// Page size, 1 to 100.
    #[garde(inner(range(min = 1, max = 100)))]
    #[param(minimum = 1, maximum = 100, default = 50)]
    pub limit: Option<i64>,
    /// Orders to skip, 0 to 1 000 000; exclusive with `cursor`.
    #[garde(inner(range(min = 0, max = 1_000_000)))]
    #[param(minimum = 0, maximum = 1_000_000, default = 0)]
    pub offset: Option<i64>,
    /// `pagination.nextCursor` of the previous page (keyset; exclusive with `offset`).
    #[garde(skip)]
    pub cursor: Option<String>,
    /// Admin search only: one user's orders.
    #[garde(skip)]
    #[param(value_type = Option<uuid::Uuid>)]
    pub user_id: Option<UserId>,
    /// Admin search only: one order number (`ORD-YYYYMMDD-XXXXXX`).
    #[garde(skip)]
    #[param(pattern = "^ORD-[0-9]{8}-[0-9A-HJKMNP-TV-Z]{6}$")]
    pub order_number: Option<String>,
    /// Admin search only: orders whose contact e-mail is this address, in any letter case (found
    /// through a keyed hash; addresses are sealed at rest).
    #[garde(skip)]
    #[param(max_length = 254, format = "email")]
    pub email: Option<String>,
}

/// `GET /api/v1/fulfillment/queue`.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// Paid goods orders in this status: CONFIRMED (default: to start), PROCESSING (to ship),
    /// SHIPPED (to deliver) or RETURNED (to take back).
    #[garde(skip)]
    #[param(value_type = Option<OrderStatusSchema>)]
    pub status: Option<String>,
    /// Page size, 1 to 100.
    #[garde(inner(range(min = 1, max = 100)))]
    #[param(minimum = 1, maximum = 100, default = 50)]
    pub limit: Option<i64>,
    /// `pagination.nextCursor` of the previous page.
    #[garde(skip)]
    pub cursor: Option<String>,
}

impl QueueQuery {
    /// The status asked for (CONFIRMED by default).
    ///
    /// # Errors
    /// 422 at `query.status` for an unknown status.
    pub fn status(&self) -> Result<OrderStatus, ApiError> {
        self.status
            .as_deref()
            .unwrap_or("CONFIRMED")
            .parse()
            .map_err(|_| ApiError::field("query.status", "invalid", "not an order status"))
    }
}

impl RefundQuery {
    /// The status asked for (PENDING by default).
    ///
    /// # Errors
    /// 422 at `query.status` for an unknown status.
    pub fn status(&self) -> Result<RefundStatus, ApiError> {
        self.status
            .as_deref()
            .unwrap_or("PENDING")
            .parse()
            .map_err(|_| ApiError::field("query.status", "invalid", "not a refund status"))
    }
}

impl ListQuery {
    /// The filter.
    ///
    /// # Errors
    /// 422 at `query.status` for an unknown status.
    pub fn filter(&self) -> Result<OrderFilter, ApiError> {
        let status = self
            .status
            .as_deref()
            .map(str::parse::<OrderStatus>)
            .transpose()
            .map_err(|_| ApiError::field("query.status", "invalid", "not an order status"))?;
        if let Some(number) = &self.order_number
            && order_domain::ids::OrderNumber::try_from(number.trim().to_owned()).is_err()
        {
            return Err(ApiError::field(
                "query.orderNumber",
                "invalid",
                "an order number like ORD-20261122-7K3QXA",
            ));
        }
        let contact_email = self
            .email
            .as_deref()
            .map(ContactEmail::parse)
            .transpose()
            .map_err(|_| ApiError::field("query.email", "invalid", "not an e-mail address"))?;
        Ok(OrderFilter {
            user_id: self.user_id,
            status,
            kind: None,
            event_id: self.event_id,
            created_from: self.from,
            created_to: self.to,
            order_number: self.order_number.clone(),
            contact_email,
        })
    }
}

/// `GET /api/v1/admin/refunds`.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RefundQuery {
    /// Refunds in this status (default PENDING: the review queue).
    #[garde(skip)]
    #[param(value_type = Option<RefundStatusSchema>)]
    pub status: Option<String>,
    /// Page size, 1 to 100.
    #[garde(inner(range(min = 1, max = 100)))]
    #[param(minimum = 1, maximum = 100, default = 50)]
    pub limit: Option<i64>,
    /// Refunds to skip.
    #[garde(inner(range(min = 0, max = 1_000_000)))]
    #[param(minimum = 0, maximum = 1_000_000, default = 0)]
    pub offset: Option<i64>,
}

/// `GET /internal/v1/orders/expiring`.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExpiringQuery {
    /// Holds ending within this many minutes (0 to 1440, default 5).
    #[garde(inner(range(min = 0, max = 1440)))]
    #[param(minimum = 0, maximum = 1440, default = 5)]
    pub minutes: Option<i64>,
    /// At most this many orders (1 to 1000, default 100).
    #[garde(inner(range(min = 1, max = 1000)))]
    #[param(minimum = 1, maximum = 1000, default = 100)]
    pub limit: Option<u32>,
}
