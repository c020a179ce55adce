//! A customer's personal data on the wire: the export document, streamed order by order, and
//! the erasure's answer.

use order_domain::actor::Actor;
use order_domain::cart::Cart;
use order_domain::ids::{TenantId, UserId};
use order_domain::personal_data::{ErasureReport, OrderRecords};
use serde::Serialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::{DocumentResponse, HistoryEntry, LedgerEntryBody, OrderResponse};

/// The export's opening: who, when, and the cart; the orders follow one by one.
pub fn export_head(
    tenant: TenantId,
    user: UserId,
    exported_at: OffsetDateTime,
    cart: Option<&Cart>,
) -> Value {
    let cart = cart.map(|cart| {
        json!({
            "id": cart.id(),
            "currency": cart.currency().code(),
            "expiresAt": rfc3339(cart.expires_at()),
            "items": cart.lines().iter().map(|line| json!({
                "productId": line.product_id,
                "attributes": line.attributes,
                "quantity": line.quantity,
                "unitPrice": line.unit_price,
            })).collect::<Vec<_>>(),
        })
    });
    json!({
        "tenantId": tenant,
        "userId": user,
        "exportedAt": rfc3339(exported_at),
        "cart": cart,
    })
}

/// One order of the export with everything held about it, as `viewer` may read it.
///
/// # Errors
/// When a part cannot be encoded (never for the domain's types).
pub fn export_order(
    order: OrderResponse,
    records: OrderRecords,
    viewer: &Actor,
) -> serde_json::Result<Value> {
    Ok(json!({
        "order": order,
        "history": records.audit.into_iter()
            .map(|entry| HistoryEntry::seen_by(entry, viewer))
            .collect::<Vec<_>>(),
        "ledger": records.ledger.iter().map(LedgerEntryBody::from).collect::<Vec<_>>(),
        "documents": records.documents.iter().map(DocumentResponse::from).collect::<Vec<_>>(),
        "notifications": records.notifications.iter().map(|n| json!({
            "eventId": n.event_id,
            "eventType": n.event_type,
            "occurredAt": rfc3339(n.occurred_at),
            "sentAt": rfc3339(n.sent_at),
        })).collect::<Vec<_>>(),
    }))
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The export document's shape (`GET /me/export`): streamed, so its parts are written as they are
/// read.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CustomerExport)]
pub struct CustomerExportSchema {
    #[schema(value_type = uuid::Uuid)]
    tenant_id: String,
    #[schema(value_type = uuid::Uuid)]
    user_id: String,
    #[schema(value_type = String, format = DateTime)]
    exported_at: String,
    /// The customer's cart, when there is one: items with product, attributes, quantity, price.
    #[schema(value_type = Option<Object>)]
    cart: Option<Value>,
    /// Every order, by id: `order` (addresses opened), `history` (the audit trail), `ledger`,
    /// `documents` (invoices and credit notes with their buyer), `notifications` (the events
    /// announced to the buyer, with when).
    #[schema(value_type = Vec<Object>)]
    orders: Vec<Value>,
}

/// `POST /admin/customers/{userId}/erase`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CustomerErasure)]
pub struct ErasureResponse {
    /// Whose data.
    #[schema(value_type = uuid::Uuid)]
    user_id: UserId,
    /// Orders whose personal data this call overwrote (0 when nothing was left).
    orders_erased: u32,
    /// Carts deleted.
    carts_deleted: u32,
    /// Stored idempotent answers of the customer deleted.
    stored_answers_deleted: u64,
    /// The customer's first erasure.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    first_erased_at: OffsetDateTime,
    /// This one.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    erased_at: OffsetDateTime,
}

impl From<ErasureReport> for ErasureResponse {
    fn from(report: ErasureReport) -> Self {
        Self {
            user_id: report.user_id,
            orders_erased: report.orders_erased,
            carts_deleted: report.carts_deleted,
            stored_answers_deleted: report.stored_answers_deleted,
            first_erased_at: report.first_erased_at,
            erased_at: report.erased_at,
        }
    }
}
