//! Carts and their lines.

use async_trait::async_trait;
use order_domain::cart::{Cart, CartLine, CartOwner, CartRecord};
use order_domain::ids::{CartId, SessionId, TenantId, UserId};
use order_domain::ports::{CartRepository, RepositoryError};
use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{PgStore, corrupt, currency_of, storage};

#[async_trait]
impl CartRepository for PgStore {
    async fn find_by_owner(
        &self,
        tenant: TenantId,
        owner: &CartOwner,
    ) -> Result<Option<Cart>, RepositoryError> {
        let (user, session) = owner_columns(owner);
        let mut tx = self.tenant_tx(tenant).await?;
        let row = sqlx::query(
            "SELECT c.id, c.currency, c.version, c.created_at, c.updated_at, c.expires_at,
                    (SELECT coalesce(jsonb_agg(jsonb_build_object('id', i.id, 'productId', i.product_id,
                        'attributes', i.attributes, 'quantity', i.quantity, 'unitPrice', i.unit_price)
                        ORDER BY i.position), '[]'::jsonb) FROM cart_items i WHERE i.cart_id = c.id) AS lines
             FROM shopping_carts c
             WHERE c.tenant_id = $1 AND (c.user_id = $2 OR c.session_id = $3)",
        )
        .bind(tenant.as_uuid())
        .bind(user)
        .bind(session)
        .fetch_optional(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        let Some(row) = row else { return Ok(None) };
        let version: i64 = row.try_get("version").map_err(storage)?;
        let lines: Vec<CartLine> =
            serde_json::from_value(row.try_get("lines").map_err(storage)?).map_err(corrupt)?;
        Ok(Some(Cart::restore(CartRecord {
            id: CartId::from_uuid(row.try_get("id").map_err(storage)?),
            tenant_id: tenant,
            owner: owner.clone(),
            currency: currency_of(&row)?,
            lines,
            created_at: row
                .try_get::<OffsetDateTime, _>("created_at")
                .map_err(storage)?,
            updated_at: row
                .try_get::<OffsetDateTime, _>("updated_at")
                .map_err(storage)?,
            expires_at: row
                .try_get::<OffsetDateTime, _>("expires_at")
                .map_err(storage)?,
            version: u64::try_from(version).map_err(corrupt)?,
        })))
    }

    async fn save(&self, cart: &Cart) -> Result<(), RepositoryError> {
        let record = cart.to_record();
        let (user, session) = owner_columns(&record.owner);
        let version = i64::try_from(record.version).map_err(corrupt)?;
        let mut tx = self.tenant_tx(record.tenant_id).await?;
        let written = if record.version == 0 {
            sqlx::query(
                "INSERT INTO shopping_carts (id, tenant_id, user_id, session_id, currency, version, created_at,
                     updated_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8) ON CONFLICT DO NOTHING",
            )
            .bind(record.id.as_uuid())
            .bind(record.tenant_id.as_uuid())
            .bind(user)
            .bind(session)
            .bind(record.currency.code())
            .bind(record.created_at)
            .bind(record.updated_at)
            .bind(record.expires_at)
            .execute(&mut *tx)
            .await
        } else {
            sqlx::query(
                "UPDATE shopping_carts SET version = version + 1, updated_at = $3, expires_at = $4
                 WHERE id = $1 AND version = $2",
            )
            .bind(record.id.as_uuid())
            .bind(version)
            .bind(record.updated_at)
            .bind(record.expires_at)
            .execute(&mut *tx)
            .await
        }
        .map_err(storage)?;
        if written.rows_affected() != 1 {
            return Err(RepositoryError::Conflict {
                expected: record.version,
            });
        }
        let lines = serde_json::to_value(&record.lines).map_err(corrupt)?;
        // Two statements: a CTE's DELETE and the INSERT would see the same snapshot and collide
        // on the line ids that stay.
        sqlx::query("DELETE FROM cart_items WHERE cart_id = $1")
            .bind(record.id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(storage)?;
        sqlx::query(
            "INSERT INTO cart_items (id, tenant_id, cart_id, position, product_id, attributes, quantity, unit_price)
             SELECT (l->>'id')::uuid, $2, $1, p::integer, (l->>'productId')::uuid, l->'attributes',
                    (l->>'quantity')::integer, (l->>'unitPrice')::bigint
             FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS t(l, p)",
        )
        .bind(record.id.as_uuid())
        .bind(record.tenant_id.as_uuid())
        .bind(lines)
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)
    }

    async fn delete(&self, tenant: TenantId, id: CartId) -> Result<(), RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        sqlx::query("DELETE FROM shopping_carts WHERE id = $1 AND tenant_id = $2")
            .bind(id.as_uuid())
            .bind(tenant.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(storage)?;
        tx.commit().await.map_err(storage)
    }
}

fn owner_columns(owner: &CartOwner) -> (Option<Uuid>, Option<String>) {
    match owner {
        CartOwner::User(user) => (Some(*UserId::as_uuid(user)), None),
        CartOwner::Session(session) => (None, Some(SessionId::as_str(session).to_owned())),
    }
}
