//! Promo codes as admins manage them (`/api/v1/admin/promo-codes`): list, create, retire. A
//! retired code stops applying at once; its redemptions stay on record.

use super::{OrderService, UseCaseError};
use crate::actor::RequestContext;
use crate::policy::{FieldError, Violations};
use crate::pricing::goods::{DiscountRule, PromoCode};

impl OrderService {
    fn require_admin(ctx: &RequestContext) -> Result<(), UseCaseError> {
        if ctx.actor.is_privileged() {
            Ok(())
        } else {
            Err(UseCaseError::Forbidden)
        }
    }

    /// The tenant's promo codes.
    ///
    /// # Ports
    /// `promotions`.
    ///
    /// # Errors
    /// [`UseCaseError::Forbidden`] for non-admins; storage errors.
    pub async fn list_promo_codes(
        &self,
        ctx: &RequestContext,
    ) -> Result<Vec<PromoCode>, UseCaseError> {
        Self::require_admin(ctx)?;
        Ok(self.ports.promotions.list_codes(ctx.tenant_id).await?)
    }

    /// Creates a code; its text is stored upper-case and matched case-insensitively.
    ///
    /// # Ports
    /// `promotions`.
    ///
    /// # Errors
    /// [`UseCaseError::Forbidden`]; 422 for a percentage over 100 % or a window that ends before
    /// it starts; [`UseCaseError::Storage`] `Duplicate` (409) for a code the tenant has.
    pub async fn create_promo_code(
        &self,
        ctx: &RequestContext,
        mut code: PromoCode,
    ) -> Result<PromoCode, UseCaseError> {
        Self::require_admin(ctx)?;
        let mut violations = Violations::default();
        if matches!(code.rule, DiscountRule::Percentage(rate) if rate.ppm() > crate::money::Rate::ONE)
        {
            violations.push(FieldError::new(
                "percentOff",
                "out_of_range",
                "at most 100 %",
            ));
        }
        if code
            .valid_until
            .is_some_and(|until| until <= code.valid_from)
        {
            violations.push(FieldError::new(
                "validUntil",
                "invalid",
                "must be after validFrom",
            ));
        }
        violations.into_result()?;
        code.code = PromoCode::normalize(&code.code);
        code.times_used = 0;
        self.ports
            .promotions
            .create_code(ctx.tenant_id, &code)
            .await?;
        Ok(code)
    }

    /// Retires a code now.
    ///
    /// # Ports
    /// `promotions`.
    ///
    /// # Errors
    /// [`UseCaseError::Forbidden`]; [`UseCaseError::NotFound`] for an unknown code.
    pub async fn retire_promo_code(
        &self,
        ctx: &RequestContext,
        code: &str,
    ) -> Result<(), UseCaseError> {
        Self::require_admin(ctx)?;
        let retired = self
            .ports
            .promotions
            .retire_code(ctx.tenant_id, &PromoCode::normalize(code), self.now())
            .await?;
        if retired {
            Ok(())
        } else {
            Err(UseCaseError::NotFound { what: "promo code" })
        }
    }
}
