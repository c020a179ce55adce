//! A customer's personal data across their orders (docs/personal-data.md): the export's reads,
//! erasure and the retention job. Erasure and archiving share one SQL function
//! (`erase_order_personal_data`, migration 0030), so both overwrite exactly the same columns.

use async_trait::async_trait;
use order_domain::actor::Actor;
use order_domain::ids::{OrderId, OrderNumber, TenantId, UserId};
use order_domain::order::Order;
use order_domain::personal_data::{ErasureReport, OrderRecords, SentNotification, StoredErasure};
use order_domain::ports::{AuditLog, OrderRepository, PersonalData, RepositoryError};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::rows::role_name;
use crate::{PgStore, corrupt, storage, to_i64};

/// Statuses an order can still move out of with money or goods owed: erasure waits for them.
const OPEN: [&str; 5] = ["PENDING", "RESERVED", "CONFIRMED", "PROCESSING", "SHIPPED"];

#[async_trait]
impl PersonalData for PgStore {
    async fn knows_customer(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<bool, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let known = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM orders WHERE tenant_id = $1 AND user_id = $2)
                   OR EXISTS (SELECT 1 FROM shopping_carts WHERE tenant_id = $1 AND user_id = $2)
                   OR EXISTS (SELECT 1 FROM customer_erasures WHERE tenant_id = $1 AND user_id = $2)
               AS "known!""#,
            tenant.as_uuid(),
            user.as_uuid(),
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        Ok(known)
    }

    async fn customer_orders(
        &self,
        tenant: TenantId,
        user: UserId,
        after: Option<OrderId>,
        limit: u32,
    ) -> Result<Vec<Order>, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let ids = sqlx::query_scalar!(
            "SELECT id FROM orders WHERE tenant_id = $1 AND user_id = $2
               AND ($3::uuid IS NULL OR id > $3)
             ORDER BY id LIMIT $4",
            tenant.as_uuid(),
            user.as_uuid(),
            after.map(|a| *a.as_uuid()),
            to_i64(limit),
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        let mut orders = self.orders_by_id(tenant, &ids).await?;
        orders.sort_by_key(|o| *o.id().as_uuid());
        Ok(orders)
    }

    async fn order_records(
        &self,
        tenant: TenantId,
        orders: &[OrderId],
    ) -> Result<Vec<OrderRecords>, RepositoryError> {
        let ids: Vec<Uuid> = orders.iter().map(|o| *o.as_uuid()).collect();
        let mut tx = self.tenant_tx(tenant).await?;
        let sent = sqlx::query!(
            r#"SELECT o.order_id, o.id, o.event_type, o.occurred_at, i.processed_at
               FROM outbox o
               JOIN inbox i ON i.message_id = o.id::text AND i.consumer LIKE '%.notifications'
               WHERE o.tenant_id = $1 AND o.order_id = ANY ($2)
               ORDER BY o.position"#,
            tenant.as_uuid(),
            &ids,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        let mut records = Vec::with_capacity(orders.len());
        for &order in orders {
            records.push(OrderRecords {
                order_id: order,
                audit: self.audit_trail(tenant, order).await?,
                ledger: OrderRepository::ledger(self, tenant, order).await?,
                documents: OrderRepository::documents(self, tenant, order).await?,
                notifications: sent
                    .iter()
                    .filter(|n| n.order_id == *order.as_uuid())
                    .map(|n| SentNotification {
                        event_id: n.id,
                        event_type: n.event_type.clone(),
                        occurred_at: n.occurred_at,
                        sent_at: n.processed_at,
                    })
                    .collect(),
            });
        }
        Ok(records)
    }

    async fn erase_customer(
        &self,
        tenant: TenantId,
        user: UserId,
        by: &Actor,
        at: OffsetDateTime,
    ) -> Result<StoredErasure, RepositoryError> {
        let (kind, name, roles) = actor_columns(by);
        let mut tx = self.tenant_tx(tenant).await?;
        // Locked, so that none of them changes between the check and the erasure.
        let orders = sqlx::query!(
            r#"SELECT o.id, o.order_number, o.status, o.pending_edit IS NOT NULL AS "editing!",
                   EXISTS (SELECT 1 FROM order_refunds r WHERE r.order_id = o.id
                           AND r.status IN ('PENDING', 'APPROVED', 'FAILED')) AS "owed!"
               FROM orders o WHERE o.tenant_id = $1 AND o.user_id = $2
               ORDER BY o.order_number
               FOR UPDATE OF o"#,
            tenant.as_uuid(),
            user.as_uuid(),
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?;
        let open: Vec<OrderNumber> = orders
            .iter()
            .filter(|o| OPEN.contains(&o.status.as_str()) || o.editing || o.owed)
            .map(|o| o.order_number.parse().map_err(corrupt))
            .collect::<Result<_, _>>()?;
        if !open.is_empty() {
            tx.rollback().await.map_err(storage)?;
            return Ok(StoredErasure::OpenOrders(open));
        }
        let ids: Vec<Uuid> = orders.iter().map(|o| o.id).collect();
        let erased = sqlx::query_scalar!(
            r#"SELECT count(*) AS "erased!"
               FROM erase_order_personal_data($1, 'customer.erased', $2, $3, $4, '{}', $5, false)"#,
            &ids,
            kind,
            name,
            &roles as _,
            at,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(storage)?;
        let carts = sqlx::query!(
            "DELETE FROM shopping_carts WHERE tenant_id = $1 AND user_id = $2",
            tenant.as_uuid(),
            user.as_uuid(),
        )
        .execute(&mut *tx)
        .await
        .map_err(storage)?
        .rows_affected();
        sqlx::query!(
            "DELETE FROM order_idempotency_keys WHERE tenant_id = $1 AND user_id = $2",
            tenant.as_uuid(),
            user.as_uuid(),
        )
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
        let first_erased_at = sqlx::query_scalar!(
            "INSERT INTO customer_erasures AS c (tenant_id, user_id, first_erased_at, last_erased_at,
                 erased_by)
             VALUES ($1, $2, $3, $3, $4)
             ON CONFLICT (tenant_id, user_id) DO UPDATE SET last_erased_at = EXCLUDED.last_erased_at,
                 erased_by = EXCLUDED.erased_by, times = c.times + 1
             RETURNING first_erased_at",
            tenant.as_uuid(),
            user.as_uuid(),
            at,
            name,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        Ok(StoredErasure::Erased(ErasureReport {
            user_id: user,
            orders_erased: u32::try_from(erased).map_err(corrupt)?,
            carts_deleted: u32::try_from(carts).map_err(corrupt)?,
            stored_answers_deleted: 0,
            first_erased_at,
            erased_at: at,
        }))
    }

    async fn archive_finished(
        &self,
        before: OffsetDateTime,
        now: OffsetDateTime,
        limit: u32,
        retention_days: u32,
    ) -> Result<u32, RepositoryError> {
        let archived = sqlx::query_scalar!(
            r#"SELECT archive_finished_orders($1, $2, $3, $4) AS "archived!""#,
            before,
            now,
            i32::try_from(limit).unwrap_or(i32::MAX),
            i32::try_from(retention_days).unwrap_or(i32::MAX),
        )
        .fetch_one(&self.pool)
        .await
        .map_err(storage)?;
        u32::try_from(archived).map_err(corrupt)
    }
}

/// The audit's actor columns of `actor`: kind, name, roles.
fn actor_columns(actor: &Actor) -> (&'static str, String, Vec<&'static str>) {
    match actor {
        Actor::User { id, roles, .. } => (
            "user",
            id.to_string(),
            roles.iter().map(|r| role_name(*r)).collect(),
        ),
        Actor::Service { name } => ("service", name.clone(), Vec::new()),
        Actor::System { name } => ("system", name.clone(), Vec::new()),
    }
}
