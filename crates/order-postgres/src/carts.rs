//! Carts and their lines: the cart row, then its lines (one row each, in position order).

use async_trait::async_trait;
use order_domain::cart::{Cart, CartLine, CartOwner, CartRecord};
use order_domain::ids::{CartId, CartLineId, ProductId, SessionId, TenantId, UserId};
use order_domain::ports::{CartRepository, RepositoryError};
use uuid::Uuid;

use crate::{PgStore, corrupt, currency, storage};

#[async_trait]
impl CartRepository for PgStore {
    async fn find_by_owner(
        &self,
        tenant: TenantId,
        owner: &CartOwner,
    ) -> Result<Option<Cart>, RepositoryError> {
        let (user, session) = owner_columns(owner);
        let mut tx = self.tenant_tx(tenant).await?;
        let cart = sqlx::query!(
            "SELECT id, currency, version, created_at, updated_at, expires_at FROM shopping_carts
             WHERE tenant_id = $1 AND (user_id = $2 OR session_id = $3)",
            tenant.as_uuid(),
            user,
            session,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(storage)?;
        let Some(cart) = cart else {
            tx.commit().await.map_err(storage)?;
            return Ok(None);
        };
        let lines = sqlx::query!(
            "SELECT id, product_id, attributes, quantity, unit_price FROM cart_items
             WHERE cart_id = $1 ORDER BY position",
            cart.id,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        let lines = lines
            .into_iter()
            .map(|line| {
                Ok(CartLine {
                    id: CartLineId::from_uuid(line.id),
                    product_id: ProductId::from_uuid(line.product_id),
                    attributes: serde_json::from_value(line.attributes).map_err(corrupt)?,
                    quantity: u32::try_from(line.quantity).map_err(corrupt)?,
                    unit_price: line.unit_price,
                })
            })
            .collect::<Result<Vec<_>, RepositoryError>>()?;
        Ok(Some(Cart::restore(CartRecord {
            id: CartId::from_uuid(cart.id),
            tenant_id: tenant,
            owner: owner.clone(),
            currency: currency(&cart.currency)?,
            lines,
            created_at: cart.created_at,
            updated_at: cart.updated_at,
            expires_at: cart.expires_at,
            version: u64::try_from(cart.version).map_err(corrupt)?,
        })))
    }

    async fn save(&self, cart: &Cart) -> Result<(), RepositoryError> {
        let record = cart.to_record();
        let mut tx = self.tenant_tx(record.tenant_id).await?;
        save_in(&mut tx, &record).await?;
        tx.commit().await.map_err(storage)
    }

    async fn delete(&self, tenant: TenantId, id: CartId) -> Result<(), RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        sqlx::query!(
            "DELETE FROM shopping_carts WHERE id = $1 AND tenant_id = $2",
            id.as_uuid(),
            tenant.as_uuid(),
        )
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)
    }

    async fn save_merged(&self, merged: &Cart, absorbed: CartId) -> Result<(), RepositoryError> {
        let record = merged.to_record();
        let mut tx = self.tenant_tx(record.tenant_id).await?;
        // The absorbed cart first: a concurrent merge that took it makes this one a conflict
        // before anything is written.
        let deleted = sqlx::query!(
            "DELETE FROM shopping_carts WHERE id = $1 AND tenant_id = $2",
            absorbed.as_uuid(),
            record.tenant_id.as_uuid(),
        )
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
        if deleted.rows_affected() != 1 {
            return Err(RepositoryError::Conflict {
                expected: record.version,
            });
        }
        save_in(&mut tx, &record).await?;
        tx.commit().await.map_err(storage)
    }
}

/// Inserts (version 0) or updates a cart with its lines inside `tx`.
async fn save_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    record: &order_domain::cart::CartRecord,
) -> Result<(), RepositoryError> {
    let (user, session) = owner_columns(&record.owner);
    let version = i64::try_from(record.version).map_err(corrupt)?;
    let written = if record.version == 0 {
            sqlx::query!(
                "INSERT INTO shopping_carts (id, tenant_id, user_id, session_id, currency, version, created_at,
                     updated_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8) ON CONFLICT DO NOTHING",
                record.id.as_uuid(),
                record.tenant_id.as_uuid(),
                user,
                session,
                record.currency.code(),
                record.created_at,
                record.updated_at,
                record.expires_at,
            )
            .execute(&mut **tx)
            .await
        } else {
            sqlx::query!(
                "UPDATE shopping_carts SET version = version + 1, updated_at = $3, expires_at = $4
                 WHERE id = $1 AND version = $2",
                record.id.as_uuid(),
                version,
                record.updated_at,
                record.expires_at,
            )
            .execute(&mut **tx)
            .await
        }
        .map_err(storage)?;
    if written.rows_affected() != 1 {
        return Err(RepositoryError::Conflict {
            expected: record.version,
        });
    }
    let mut ids = Vec::with_capacity(record.lines.len());
    let mut products = Vec::with_capacity(record.lines.len());
    let mut attributes = Vec::with_capacity(record.lines.len());
    let mut quantities = Vec::with_capacity(record.lines.len());
    let mut prices = Vec::with_capacity(record.lines.len());
    for line in &record.lines {
        ids.push(*line.id.as_uuid());
        products.push(*line.product_id.as_uuid());
        attributes.push(serde_json::to_value(&line.attributes).map_err(corrupt)?);
        quantities.push(crate::to_i32(line.quantity));
        prices.push(line.unit_price);
    }
    // Two statements: a CTE's DELETE and the INSERT would see the same snapshot and collide
    // on the line ids that stay.
    sqlx::query!(
        "DELETE FROM cart_items WHERE cart_id = $1",
        record.id.as_uuid()
    )
    .execute(&mut **tx)
    .await
    .map_err(storage)?;
    sqlx::query!(
            "INSERT INTO cart_items (id, tenant_id, cart_id, position, product_id, attributes, quantity, unit_price)
             SELECT l.id, $2, $1, l.position, l.product_id, l.attributes, l.quantity, l.unit_price
             FROM unnest($3::uuid[], $4::uuid[], $5::jsonb[], $6::integer[], $7::bigint[]) WITH ORDINALITY
                AS l(id, product_id, attributes, quantity, unit_price, position)",
            record.id.as_uuid(),
            record.tenant_id.as_uuid(),
            &ids,
            &products,
            &attributes,
            &quantities,
            &prices,
        )
        .execute(&mut **tx)
        .await
        .map_err(storage)?;
    Ok(())
}

fn owner_columns(owner: &CartOwner) -> (Option<Uuid>, Option<String>) {
    match owner {
        CartOwner::User(user) => (Some(*UserId::as_uuid(user)), None),
        CartOwner::Session(session) => (None, Some(SessionId::as_str(session).to_owned())),
    }
}
