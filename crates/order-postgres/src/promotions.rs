//! Promotions and promo codes.

use async_trait::async_trait;
use order_domain::ids::{TenantId, UserId};
use order_domain::ports::{PromotionRepository, RepositoryError};
use order_domain::pricing::goods::{PromoCode, Promotion};
use sqlx::Row;
use time::OffsetDateTime;

use crate::{PgStore, corrupt, storage};

#[async_trait]
impl PromotionRepository for PgStore {
    async fn active_promotions(
        &self,
        tenant: TenantId,
        now: OffsetDateTime,
    ) -> Result<Vec<Promotion>, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let rows: Vec<serde_json::Value> = sqlx::query_scalar(
            "SELECT jsonb_build_object('name', name, 'rule', rule, 'minSubtotal', min_subtotal,
                    'startsAt', starts_at, 'endsAt', ends_at)
             FROM promotions
             WHERE tenant_id = $1 AND (starts_at IS NULL OR starts_at <= $2) AND (ends_at IS NULL OR ends_at > $2)
             ORDER BY name",
        )
        .bind(tenant.as_uuid())
        .bind(now)
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        rows.into_iter()
            .map(|row| serde_json::from_value(row).map_err(corrupt))
            .collect()
    }

    async fn find_code(
        &self,
        tenant: TenantId,
        code: &str,
        user: UserId,
    ) -> Result<Option<(PromoCode, u32)>, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let row = sqlx::query(
            "SELECT jsonb_build_object('code', c.code, 'rule', c.rule, 'minSubtotal', c.min_subtotal,
                    'validFrom', c.valid_from, 'validUntil', c.valid_until, 'usageLimit', c.usage_limit,
                    'timesUsed', c.times_used, 'perUserLimit', c.per_user_limit) AS code,
                    (SELECT count(*) FROM promo_code_usages u
                      WHERE u.tenant_id = c.tenant_id AND u.code = c.code AND u.user_id = $3) AS uses
             FROM promo_codes c WHERE c.tenant_id = $1 AND c.code = $2",
        )
        .bind(tenant.as_uuid())
        .bind(code)
        .bind(user.as_uuid())
        .fetch_optional(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        let Some(row) = row else { return Ok(None) };
        let code: PromoCode =
            serde_json::from_value(row.try_get("code").map_err(storage)?).map_err(corrupt)?;
        let uses: i64 = row.try_get("uses").map_err(storage)?;
        Ok(Some((code, u32::try_from(uses).unwrap_or(u32::MAX))))
    }
}
