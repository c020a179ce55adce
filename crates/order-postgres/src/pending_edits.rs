//! An order's edit waiting for its payment and the differences its edits' intents captured, as
//! the adapter's own JSON documents in `orders.pending_edit` and `orders.edit_payments`: read
//! with the order, written only by the changes of an edit.

use order_domain::ids::{HoldId, OrderEditId, PaymentIntentId};
use order_domain::money::Currency;
use order_domain::order::{EditPayment, OrderItem, PendingEdit};
use order_domain::ports::RepositoryError;
use order_domain::pricing::{Components, PriceBreakdown};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::corrupt;
use crate::item_row::ItemRow;

/// `orders.pending_edit`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StoredPendingEdit {
    id: Uuid,
    reason: String,
    lines: Vec<ItemRow>,
    pricing: [i64; 7],
    amount: i64,
    payment_intent_id: String,
    hold_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

/// One element of `orders.edit_payments`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StoredEditPayment {
    edit_id: Uuid,
    payment_intent_id: String,
    amount: i64,
}

impl StoredPendingEdit {
    pub(crate) fn of(pending: &PendingEdit) -> Result<Self, RepositoryError> {
        let c = pending.pricing.components();
        Ok(Self {
            id: *pending.id.as_uuid(),
            reason: pending.reason.clone(),
            lines: pending
                .items
                .iter()
                .map(ItemRow::of)
                .collect::<Result<_, _>>()?,
            pricing: [
                c.subtotal,
                c.discount,
                c.platform_fee,
                c.processing_fee,
                c.shipping,
                c.tax,
                pending.pricing.total().minor(),
            ],
            amount: pending.amount,
            payment_intent_id: pending.payment_intent_id.as_str().to_owned(),
            hold_id: pending.hold_id.as_ref().map(|h| h.as_str().to_owned()),
            expires_at: pending.expires_at,
        })
    }

    pub(crate) fn into_pending(self, currency: Currency) -> Result<PendingEdit, RepositoryError> {
        let breakdown = |parts: Components, total: i64| {
            PriceBreakdown::from_parts(currency, parts, total).map_err(corrupt)
        };
        let [
            subtotal,
            discount,
            platform_fee,
            processing_fee,
            shipping,
            tax,
            total,
        ] = self.pricing;
        Ok(PendingEdit {
            id: OrderEditId::from_uuid(self.id),
            reason: self.reason,
            items: self
                .lines
                .into_iter()
                .map(|line| line.into_item(&breakdown))
                .collect::<Result<Vec<OrderItem>, _>>()?,
            pricing: breakdown(
                Components {
                    subtotal,
                    discount,
                    platform_fee,
                    processing_fee,
                    shipping,
                    tax,
                },
                total,
            )?,
            amount: self.amount,
            payment_intent_id: PaymentIntentId::new(self.payment_intent_id),
            hold_id: self.hold_id.map(HoldId::new),
            expires_at: self.expires_at,
        })
    }
}

impl StoredEditPayment {
    pub(crate) fn of(payment: &EditPayment) -> Self {
        Self {
            edit_id: *payment.edit_id.as_uuid(),
            payment_intent_id: payment.payment_intent_id.as_str().to_owned(),
            amount: payment.amount,
        }
    }

    pub(crate) fn into_payment(self) -> EditPayment {
        EditPayment {
            edit_id: OrderEditId::from_uuid(self.edit_id),
            payment_intent_id: PaymentIntentId::new(self.payment_intent_id),
            amount: self.amount,
        }
    }
}
