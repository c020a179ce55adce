//! The metrics job and the admin analytics read.

use time::{Duration, OffsetDateTime};

use super::{OrderService, UseCaseError};
use crate::actor::{RequestContext, Role};
use crate::analytics::Analytics;
use crate::ids::TenantId;

impl OrderService {
    /// The metrics job: recomputes the snapshot of every tenant with orders created within
    /// `window`. Returns how many tenants were refreshed; one tenant's failure does not stop the
    /// others.
    ///
    /// # Ports
    /// `analytics`.
    ///
    /// # Errors
    /// Storage errors while listing tenants.
    pub async fn aggregate_metrics(
        &self,
        window: Duration,
    ) -> Result<(usize, Vec<(TenantId, UseCaseError)>), UseCaseError> {
        let since = self.now() - window;
        let tenants = self.ports.analytics.tenants_with_orders(since).await?;
        let mut refreshed = 0;
        let mut failed = Vec::new();
        for tenant in tenants {
            match self.refresh_analytics(tenant, since).await {
                Ok(_) => refreshed += 1,
                Err(error) => failed.push((tenant, error)),
            }
        }
        Ok((refreshed, failed))
    }

    /// `GET /api/v1/admin/analytics`: the tenant's latest snapshot, computed now when the job has
    /// not produced one yet.
    ///
    /// # Ports
    /// `analytics`.
    ///
    /// # Errors
    /// [`UseCaseError::Forbidden`] unless an admin; storage errors.
    pub async fn analytics(
        &self,
        ctx: &RequestContext,
        window: Duration,
    ) -> Result<Analytics, UseCaseError> {
        if !ctx.actor.has_role(Role::Admin) {
            return Err(UseCaseError::Forbidden);
        }
        match self.ports.analytics.latest_snapshot(ctx.tenant_id).await? {
            Some(snapshot) => Ok(snapshot),
            None => {
                self.refresh_analytics(ctx.tenant_id, self.now() - window)
                    .await
            }
        }
    }

    async fn refresh_analytics(
        &self,
        tenant: TenantId,
        since: OffsetDateTime,
    ) -> Result<Analytics, UseCaseError> {
        let stats = self.ports.analytics.order_stats(tenant, since).await?;
        let analytics = Analytics::from_stats(stats, since, self.now());
        self.ports
            .analytics
            .save_snapshot(tenant, &analytics)
            .await?;
        Ok(analytics)
    }
}
