//! An edited order's lines and price, written again after the order's own update (same
//! transaction): an edit adds, changes and removes lines and reprices every one of them; with
//! them the edit waiting for its payment and the differences the edits' intents captured.

use order_domain::ports::{OrderChange, RepositoryError};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use sqlx::types::Json;

use crate::columns::ItemColumns;
use crate::pending_edits::{StoredEditPayment, StoredPendingEdit};
use crate::storage;

// Two statements, and only for an edit: the lines go first, then come back in their new order
// (positions are unique per order, so rows cannot be moved one by one in a single statement),
// with the order's breakdown, its list of edits, and the edit's name on the refund that settles
// it (the order's update stored the refund itself, as every refund). The order's update before them checked the
// version and holds the row's lock.
pub(super) async fn rewrite_lines(
    tx: &mut Transaction<'static, Postgres>,
    change: &OrderChange,
) -> Result<(), RepositoryError> {
    let order = change.order.record();
    let items = ItemColumns::of(&order.items)?;
    let parts = order.pricing.components();
    let edits: Vec<Uuid> = order.edits.iter().map(|e| *e.as_uuid()).collect();
    let pending = order
        .pending_edit
        .as_ref()
        .map(StoredPendingEdit::of)
        .transpose()?
        .map(Json);
    let pending_expires_at = order.pending_edit.as_ref().map(|p| p.expires_at);
    let payments = Json(
        order
            .edit_payments
            .iter()
            .map(StoredEditPayment::of)
            .collect::<Vec<_>>(),
    );
    let (settling, settled): (Vec<Uuid>, Vec<Uuid>) = order
        .refunds
        .iter()
        .filter_map(|r| Some((*r.id.as_uuid(), *r.edit_id?.as_uuid())))
        .unzip();
    sqlx::query!(
        "DELETE FROM order_items WHERE tenant_id = $1 AND order_id = $2",
        order.tenant_id.as_uuid(),
        order.id.as_uuid(),
    )
    .execute(&mut **tx)
    .await
    .map_err(storage)?;
    sqlx::query!(
        r#"WITH settling AS (
            UPDATE order_refunds r SET edit_id = s.edit
            FROM unnest($1::uuid[], $2::uuid[]) AS s(id, edit)
            WHERE r.tenant_id = $3 AND r.order_id = $4 AND r.id = s.id AND r.edit_id IS NULL
        ),
        o AS (
            UPDATE orders SET subtotal = $5, discount = $6, platform_fee = $7, processing_fee = $8,
                shipping = $9, tax = $10, total = $11, edits = $12, pending_edit = $13,
                pending_edit_expires_at = $14, edit_payments = $15
            WHERE tenant_id = $3 AND id = $4
            RETURNING id, tenant_id
        )
        INSERT INTO order_items (id, tenant_id, order_id, position, ticket_type_id, ticket_pricing_id,
            product_id, product_name, attributes, quantity, unit_price, subtotal, discount, platform_fee,
            processing_fee, shipping, tax, total)
        SELECT i.id, o.tenant_id, o.id, i.position, i.ticket_type_id, i.ticket_pricing_id, i.product_id,
            i.product_name, i.attributes, i.quantity, i.unit_price, i.subtotal, i.discount,
            i.platform_fee, i.processing_fee, i.shipping, i.tax, i.total
        FROM o, unnest($16::uuid[], $17::uuid[], $18::uuid[], $19::uuid[], $20::text[], $21::jsonb[],
                $22::integer[], $23::bigint[], $24::bigint[], $25::bigint[], $26::bigint[], $27::bigint[],
                $28::bigint[], $29::bigint[], $30::bigint[])
            WITH ORDINALITY AS i(id, ticket_type_id, ticket_pricing_id, product_id, product_name,
                attributes, quantity, unit_price, subtotal, discount, platform_fee, processing_fee,
                shipping, tax, total, position)"#,
        // settling
        &settling,
        &settled,
        order.tenant_id.as_uuid(),
        order.id.as_uuid(),
        // o
        parts.subtotal,
        parts.discount,
        parts.platform_fee,
        parts.processing_fee,
        parts.shipping,
        parts.tax,
        order.pricing.total().minor(),
        &edits,
        pending as _,
        pending_expires_at,
        payments as _,
        &items.id,
        &items.ticket_type_id as _,
        &items.ticket_pricing_id as _,
        &items.product_id as _,
        &items.product_name as _,
        &items.attributes as _,
        &items.quantity,
        &items.unit_price,
        &items.subtotal,
        &items.discount,
        &items.platform_fee,
        &items.processing_fee,
        &items.shipping,
        &items.tax,
        &items.total,
    )
    .execute(&mut **tx)
    .await
    .map_err(storage)?;
    Ok(())
}
