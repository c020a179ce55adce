//! The adapter's own row types for reading orders, and their way back into the aggregate.
//!
//! Columns arrive typed (sqlx decodes them; the compile-time checked queries fix their types)
//! and become an [`OrderRecord`] that [`Order::restore`] checks, so a row that breaks an
//! invariant is a [`RepositoryError::Corrupt`] naming the problem, never a silently odd order.
//! The domain's serde shapes play no part here.

use order_domain::actor::{Actor, Role};
use order_domain::audit::AuditEntry;
use order_domain::ids::{
    AuditEntryId, EventId, HoldId, OrderEditId, OrderId, OrderItemId, PaymentIntentId, RefundId,
    TenantId, TicketId, UserId,
};
use order_domain::money::Currency;
use order_domain::order::{
    Address, ContactEmail, GoodsDetails, Milestones, Order, OrderMetadata, OrderRecord, Refund,
    Shipment,
};
use order_domain::pricing::{Components, PriceBreakdown};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::item_row::ItemRow;
use crate::sealing::{AddressKeys, SealedColumn, SealedValue};
use crate::{corrupt, corrupt_data};
use order_domain::ports::RepositoryError;

/// One row of the `order_rows` view: the order's columns, its lines and its refunds.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct OrderRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub order_number: String,
    pub user_id: Uuid,
    pub kind: String,
    pub status: String,
    pub version: i64,
    pub event_id: Option<Uuid>,
    pub currency: String,
    pub subtotal: i64,
    pub discount: i64,
    pub platform_fee: i64,
    pub processing_fee: i64,
    pub shipping: i64,
    pub tax: i64,
    pub total: i64,
    pub hold_id: Option<String>,
    pub expires_at: OffsetDateTime,
    pub hold_extensions: i32,
    pub payment_intent_id: Option<String>,
    pub tickets: Vec<String>,
    pub refundable_max: Option<i64>,
    pub cancellation_reason: Option<String>,
    pub return_reason: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub reserved_at: Option<OffsetDateTime>,
    pub confirmed_at: Option<OffsetDateTime>,
    pub processing_at: Option<OffsetDateTime>,
    pub shipped_at: Option<OffsetDateTime>,
    pub delivered_at: Option<OffsetDateTime>,
    pub cancelled_at: Option<OffsetDateTime>,
    pub expired_at: Option<OffsetDateTime>,
    pub returned_at: Option<OffsetDateTime>,
    pub refunded_at: Option<OffsetDateTime>,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub label_url: Option<String>,
    pub estimated_delivery: Option<Date>,
    pub shipping_address: Option<Json<StoredAddress>>,
    pub billing_address: Option<Json<StoredAddress>>,
    pub shipping_method: Option<String>,
    pub promo_code: Option<String>,
    pub notes: Option<String>,
    pub payment_method: Option<String>,
    pub metadata: serde_json::Value,
    pub contact_email: Option<Json<SealedValue>>,
    pub return_items: Vec<Uuid>,
    pub cancelled_items: Vec<Uuid>,
    pub edits: Vec<Uuid>,
    pub pending_edit: Option<Json<crate::pending_edits::StoredPendingEdit>>,
    pub edit_payments: Json<Vec<crate::pending_edits::StoredEditPayment>>,
    pub items: Vec<ItemRow>,
    pub refunds: Vec<RefundRow>,
}

/// One refund (`order_refund_row`).
#[derive(Debug, sqlx::Type)]
#[sqlx(type_name = "order_refund_row")]
pub(crate) struct RefundRow {
    pub id: Uuid,
    pub amount: i64,
    pub status: String,
    pub item_ids: Vec<Uuid>,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: OffsetDateTime,
    pub decided_by: Option<String>,
    pub decided_at: Option<OffsetDateTime>,
    pub decision_note: Option<String>,
    pub payment_reference: Option<String>,
    pub failure_reason: Option<String>,
    pub attempts: i32,
    pub completed_at: Option<OffsetDateTime>,
    pub retry_at: Option<OffsetDateTime>,
    pub edit_id: Option<Uuid>,
}

/// An address column: sealed (every write), or a plaintext document an earlier version wrote
/// before addresses were sealed (still read, never written).
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum StoredAddress {
    Sealed(SealedValue),
    Plain(AddressDocument),
}

impl StoredAddress {
    /// `address` sealed for `order`'s `column`.
    pub(crate) fn seal(
        keys: &AddressKeys,
        order: OrderId,
        column: SealedColumn,
        address: &Address,
    ) -> Result<Self, RepositoryError> {
        let plaintext = serde_json::to_vec(&AddressDocument::from(address)).map_err(corrupt)?;
        Ok(Self::Sealed(keys.seal(order, column, &plaintext)?))
    }

    /// The address, opened when sealed.
    pub(crate) fn open(
        self,
        keys: &AddressKeys,
        order: OrderId,
        column: SealedColumn,
    ) -> Result<Address, RepositoryError> {
        let document = match self {
            Self::Plain(document) => document,
            Self::Sealed(sealed) => {
                serde_json::from_slice(&keys.open(&sealed, order, column)?).map_err(corrupt)?
            }
        };
        Ok(document.into())
    }
}

/// A postal address as this adapter stores it (its own keys, independent of the API's), before
/// it is sealed.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct AddressDocument {
    name: String,
    line1: String,
    line2: Option<String>,
    city: String,
    region: Option<String>,
    postal_code: String,
    country: String,
    #[serde(default)]
    phone: Option<String>,
}

impl From<&Address> for AddressDocument {
    fn from(a: &Address) -> Self {
        Self {
            name: a.name.clone(),
            line1: a.line1.clone(),
            line2: a.line2.clone(),
            city: a.city.clone(),
            region: a.region.clone(),
            postal_code: a.postal_code.clone(),
            country: a.country.clone(),
            phone: a.phone.clone(),
        }
    }
}

impl From<AddressDocument> for Address {
    fn from(a: AddressDocument) -> Self {
        Self {
            name: a.name,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            region: a.region,
            postal_code: a.postal_code,
            country: a.country,
            phone: a.phone,
        }
    }
}

impl OrderRow {
    /// The aggregate, checked by [`Order::restore`]; its addresses opened with `keys`.
    pub(crate) fn into_order(self, keys: &AddressKeys) -> Result<Order, RepositoryError> {
        let id = OrderId::from_uuid(self.id);
        let open = |stored: Option<Json<StoredAddress>>, column| {
            stored.map(|a| a.0.open(keys, id, column)).transpose()
        };
        let shipping_address = open(self.shipping_address, SealedColumn::Shipping)?;
        let billing_address = open(self.billing_address, SealedColumn::Billing)?;
        let contact_email = self
            .contact_email
            .map(|sealed| {
                let plaintext = keys.open(&sealed.0, id, SealedColumn::ContactEmail)?;
                let text = String::from_utf8(plaintext).map_err(corrupt)?;
                ContactEmail::parse(&text).map_err(corrupt)
            })
            .transpose()?;
        let currency: Currency = crate::currency(&self.currency)?;
        let breakdown = |parts: Components, total: i64| {
            PriceBreakdown::from_parts(currency, parts, total).map_err(corrupt)
        };
        let items = self
            .items
            .into_iter()
            .map(|item| item.into_item(&breakdown))
            .collect::<Result<Vec<_>, _>>()?;
        let pricing = breakdown(
            Components {
                subtotal: self.subtotal,
                discount: self.discount,
                platform_fee: self.platform_fee,
                processing_fee: self.processing_fee,
                shipping: self.shipping,
                tax: self.tax,
            },
            self.total,
        )?;
        let shipment = match (self.carrier, self.tracking_number) {
            (Some(carrier), Some(tracking_number)) => Some(Shipment {
                carrier,
                tracking_number,
                label_url: self.label_url,
                estimated_delivery: self.estimated_delivery,
            }),
            (None, None) => None,
            _ => {
                return Err(corrupt_data(
                    "a shipment without its carrier or tracking number",
                ));
            }
        };
        let record = OrderRecord {
            id,
            tenant_id: TenantId::from_uuid(self.tenant_id),
            number: self.order_number.parse().map_err(corrupt)?,
            user_id: UserId::from_uuid(self.user_id),
            kind: self.kind.parse().map_err(corrupt)?,
            status: self.status.parse().map_err(corrupt)?,
            version: u64::try_from(self.version).map_err(corrupt)?,
            event_id: self.event_id.map(EventId::from_uuid),
            items,
            pricing,
            goods: GoodsDetails {
                shipping_address,
                billing_address,
                shipping_method: self.shipping_method,
                promo_code: self.promo_code,
                notes: self.notes,
                payment_method: self.payment_method,
            },
            metadata: OrderMetadata::new(self.metadata).map_err(corrupt)?,
            contact_email,
            hold_id: self.hold_id.map(HoldId::new),
            expires_at: self.expires_at,
            hold_extensions: u32::try_from(self.hold_extensions).map_err(corrupt)?,
            payment_intent_id: self.payment_intent_id.map(PaymentIntentId::new),
            shipment,
            ticket_ids: self.tickets.into_iter().map(TicketId::new).collect(),
            refunds: self
                .refunds
                .into_iter()
                .map(RefundRow::into_refund)
                .collect::<Result<_, _>>()?,
            refundable_max: self.refundable_max,
            cancellation_reason: self.cancellation_reason,
            return_reason: self.return_reason,
            return_items: self
                .return_items
                .into_iter()
                .map(OrderItemId::from_uuid)
                .collect(),
            cancelled_items: self
                .cancelled_items
                .into_iter()
                .map(OrderItemId::from_uuid)
                .collect(),
            edits: self.edits.into_iter().map(OrderEditId::from_uuid).collect(),
            pending_edit: self
                .pending_edit
                .map(|stored| stored.0.into_pending(currency))
                .transpose()?,
            edit_payments: self
                .edit_payments
                .0
                .into_iter()
                .map(crate::pending_edits::StoredEditPayment::into_payment)
                .collect(),
            milestones: Milestones {
                created_at: self.created_at,
                updated_at: self.updated_at,
                reserved_at: self.reserved_at,
                confirmed_at: self.confirmed_at,
                processing_at: self.processing_at,
                shipped_at: self.shipped_at,
                delivered_at: self.delivered_at,
                cancelled_at: self.cancelled_at,
                expired_at: self.expired_at,
                returned_at: self.returned_at,
                refunded_at: self.refunded_at,
            },
        };
        Order::restore(record).map_err(corrupt)
    }
}

impl RefundRow {
    pub(crate) fn into_refund(self) -> Result<Refund, RepositoryError> {
        Ok(Refund {
            id: RefundId::from_uuid(self.id),
            amount: self.amount,
            status: self.status.parse().map_err(corrupt_data)?,
            items: self
                .item_ids
                .into_iter()
                .map(OrderItemId::from_uuid)
                .collect(),
            reason: self.reason,
            requested_by: self.requested_by,
            requested_at: self.requested_at,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
            decision_note: self.decision_note,
            payment_reference: self.payment_reference,
            failure_reason: self.failure_reason,
            attempts: u32::try_from(self.attempts).map_err(corrupt)?,
            completed_at: self.completed_at,
            retry_at: self.retry_at,
            edit_id: self.edit_id.map(OrderEditId::from_uuid),
        })
    }
}

/// One row of `order_events`.
pub(crate) struct AuditRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub order_id: Uuid,
    pub event_type: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub actor_kind: String,
    pub actor_name: String,
    pub actor_roles: Vec<String>,
    pub actor_vip: bool,
    /// `host(ip)`: the address as text.
    pub ip: Option<String>,
    pub metadata: serde_json::Value,
    pub occurred_at: OffsetDateTime,
}

impl AuditRow {
    pub(crate) fn into_entry(self) -> Result<AuditEntry, RepositoryError> {
        let actor = match self.actor_kind.as_str() {
            "user" => Actor::User {
                id: self.actor_name.parse().map_err(corrupt)?,
                roles: self
                    .actor_roles
                    .iter()
                    .map(|role| role_named(role))
                    .collect::<Result<_, _>>()?,
                vip: self.actor_vip,
            },
            "service" => Actor::Service {
                name: self.actor_name,
            },
            "system" => Actor::System {
                name: self.actor_name,
            },
            other => return Err(corrupt_data(format!("unknown actor kind {other:?}"))),
        };
        Ok(AuditEntry {
            id: AuditEntryId::from_uuid(self.id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
            order_id: OrderId::from_uuid(self.order_id),
            event_type: self.event_type,
            from_status: self
                .from_status
                .map(|s| s.parse())
                .transpose()
                .map_err(corrupt)?,
            to_status: self
                .to_status
                .map(|s| s.parse())
                .transpose()
                .map_err(corrupt)?,
            actor,
            ip: self.ip.map(|ip| ip.parse()).transpose().map_err(corrupt)?,
            metadata: self.metadata,
            occurred_at: self.occurred_at,
        })
    }
}

/// The stored name of a role.
pub(crate) fn role_name(role: Role) -> &'static str {
    match role {
        Role::Customer => "customer",
        Role::Admin => "admin",
        Role::Warehouse => "warehouse",
    }
}

fn role_named(name: &str) -> Result<Role, RepositoryError> {
    [Role::Customer, Role::Admin, Role::Warehouse]
        .into_iter()
        .find(|role| role_name(*role) == name)
        .ok_or_else(|| corrupt_data(format!("unknown role {name:?}")))
}
