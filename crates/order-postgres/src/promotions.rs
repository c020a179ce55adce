//! Promotions and promo codes. A discount rule is two columns: its kind and its value (parts per
//! million for a percentage, minor units for a fixed amount).

use async_trait::async_trait;
use order_domain::ids::{TenantId, UserId};
use order_domain::money::Rate;
use order_domain::ports::{PromotionRepository, RepositoryError};
use order_domain::pricing::goods::{DiscountRule, PromoCode, Promotion};
use time::OffsetDateTime;

use crate::{PgStore, corrupt, corrupt_data, storage};

/// The rule stored as `(discount_kind, discount_value)`.
fn discount_rule(kind: &str, value: i64) -> Result<DiscountRule, RepositoryError> {
    match kind {
        "percentage" => Ok(DiscountRule::Percentage(Rate::from_ppm(
            u32::try_from(value).map_err(corrupt)?,
        ))),
        "fixed" => Ok(DiscountRule::Fixed(value)),
        other => Err(corrupt_data(format!("unknown discount kind {other:?}"))),
    }
}

fn count(value: Option<i32>) -> Result<Option<u32>, RepositoryError> {
    value.map(|v| u32::try_from(v).map_err(corrupt)).transpose()
}

#[async_trait]
impl PromotionRepository for PgStore {
    async fn active_promotions(
        &self,
        tenant: TenantId,
        now: OffsetDateTime,
    ) -> Result<Vec<Promotion>, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let rows = sqlx::query!(
            "SELECT name, discount_kind, discount_value, min_subtotal, starts_at, ends_at
             FROM promotions
             WHERE tenant_id = $1 AND (starts_at IS NULL OR starts_at <= $2) AND (ends_at IS NULL OR ends_at > $2)
             ORDER BY name",
            tenant.as_uuid(),
            now,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        rows.into_iter()
            .map(|row| {
                Ok(Promotion {
                    name: row.name,
                    rule: discount_rule(&row.discount_kind, row.discount_value)?,
                    min_subtotal: row.min_subtotal,
                    starts_at: row.starts_at,
                    ends_at: row.ends_at,
                })
            })
            .collect()
    }

    async fn find_code(
        &self,
        tenant: TenantId,
        code: &str,
        user: UserId,
    ) -> Result<Option<(PromoCode, u32)>, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let row = sqlx::query!(
            r#"SELECT c.code, c.discount_kind, c.discount_value, c.min_subtotal, c.valid_from,
                    c.valid_until, c.usage_limit, c.times_used, c.per_user_limit,
                    (SELECT count(*) FROM promo_code_usages u
                      WHERE u.tenant_id = c.tenant_id AND u.code = c.code AND u.user_id = $3) AS "uses!"
             FROM promo_codes c WHERE c.tenant_id = $1 AND c.code = $2"#,
            tenant.as_uuid(),
            code,
            user.as_uuid(),
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        let Some(row) = row else { return Ok(None) };
        let code = PromoCode {
            code: row.code,
            rule: discount_rule(&row.discount_kind, row.discount_value)?,
            min_subtotal: row.min_subtotal,
            valid_from: row.valid_from,
            valid_until: row.valid_until,
            usage_limit: count(row.usage_limit)?,
            times_used: u32::try_from(row.times_used).map_err(corrupt)?,
            per_user_limit: count(row.per_user_limit)?,
        };
        Ok(Some((code, u32::try_from(row.uses).unwrap_or(u32::MAX))))
    }

    async fn list_codes(&self, tenant: TenantId) -> Result<Vec<PromoCode>, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let rows = sqlx::query!(
            "SELECT code, discount_kind, discount_value, min_subtotal, valid_from, valid_until,
                    usage_limit, times_used, per_user_limit
             FROM promo_codes WHERE tenant_id = $1 ORDER BY code",
            tenant.as_uuid(),
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        rows.into_iter()
            .map(|row| {
                Ok(PromoCode {
                    code: row.code,
                    rule: discount_rule(&row.discount_kind, row.discount_value)?,
                    min_subtotal: row.min_subtotal,
                    valid_from: row.valid_from,
                    valid_until: row.valid_until,
                    usage_limit: count(row.usage_limit)?,
                    times_used: u32::try_from(row.times_used).map_err(corrupt)?,
                    per_user_limit: count(row.per_user_limit)?,
                })
            })
            .collect()
    }

    async fn create_code(&self, tenant: TenantId, code: &PromoCode) -> Result<(), RepositoryError> {
        let (kind, value) = match code.rule {
            DiscountRule::Percentage(rate) => ("percentage", i64::from(rate.ppm())),
            DiscountRule::Fixed(amount) => ("fixed", amount),
        };
        let limit = |n: Option<u32>| n.map(crate::to_i32);
        let mut tx = self.tenant_tx(tenant).await?;
        sqlx::query!(
            "INSERT INTO promo_codes (tenant_id, code, discount_kind, discount_value, min_subtotal,
                 valid_from, valid_until, usage_limit, times_used, per_user_limit)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9)",
            tenant.as_uuid(),
            code.code,
            kind,
            value,
            code.min_subtotal,
            code.valid_from,
            code.valid_until,
            limit(code.usage_limit),
            limit(code.per_user_limit),
        )
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)
    }

    async fn retire_code(
        &self,
        tenant: TenantId,
        code: &str,
        at: OffsetDateTime,
    ) -> Result<bool, RepositoryError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let found = sqlx::query!(
            "UPDATE promo_codes SET valid_until = LEAST(coalesce(valid_until, $3), $3)
             WHERE tenant_id = $1 AND code = $2",
            tenant.as_uuid(),
            code,
            at,
        )
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        Ok(found.rows_affected() == 1)
    }
}
