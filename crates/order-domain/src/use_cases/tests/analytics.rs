//! The metrics job and the analytics read.

use std::collections::BTreeMap;

use mockall::predicate::eq;
use time::Duration;

use super::*;
use crate::analytics::{Analytics, OrderStats};
use crate::use_cases::UseCaseError;

fn stats() -> OrderStats {
    OrderStats {
        by_status: BTreeMap::from([(OrderStatus::Confirmed, 3)]),
        ..OrderStats::default()
    }
}

#[tokio::test]
async fn the_job_refreshes_every_tenant_with_recent_orders_and_reports_failures() {
    let mut h = Harness::new();
    let other = TenantId::from_uuid(uuid(77));
    h.analytics
        .expect_tenants_with_orders()
        .with(eq(T0 - Duration::days(30)))
        .returning(move |_| Ok(vec![tenant(), other]));
    h.analytics.expect_order_stats().returning(move |t, _| {
        if t == other {
            Err(RepositoryError::Unavailable("timeout".into()))
        } else {
            Ok(stats())
        }
    });
    h.analytics
        .expect_save_snapshot()
        .withf(|t, a| *t == tenant() && a.total_orders == 3 && a.computed_at == T0)
        .times(1)
        .returning(|_, _| Ok(()));
    let (service, _) = h.build();
    let (refreshed, failed) = service
        .aggregate_metrics(Duration::days(30))
        .await
        .expect("job ran");
    assert_eq!(refreshed, 1);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].0, other);
}

#[tokio::test]
async fn admins_read_the_stored_snapshot_and_others_are_refused() {
    let stored = Analytics::from_stats(stats(), T0 - Duration::days(30), T0 - Duration::minutes(3));
    let mut h = Harness::new();
    let snapshot = stored.clone();
    h.analytics
        .expect_latest_snapshot()
        .with(eq(tenant()))
        .returning(move |_| Ok(Some(snapshot.clone())));
    let (service, _) = h.build();
    assert_eq!(
        service.analytics(&admin(), Duration::days(30)).await,
        Ok(stored)
    );
    assert_eq!(
        service.analytics(&customer(), Duration::days(30)).await,
        Err(UseCaseError::Forbidden)
    );
    assert_eq!(
        service.analytics(&warehouse(), Duration::days(30)).await,
        Err(UseCaseError::Forbidden)
    );
}

#[tokio::test]
async fn without_a_snapshot_the_figures_are_computed_on_demand() {
    let mut h = Harness::new();
    h.analytics.expect_latest_snapshot().returning(|_| Ok(None));
    h.analytics
        .expect_order_stats()
        .with(eq(tenant()), eq(T0 - Duration::days(30)))
        .returning(|_, _| Ok(stats()));
    h.analytics
        .expect_save_snapshot()
        .times(1)
        .returning(|_, _| Ok(()));
    let (service, _) = h.build();
    let analytics = service
        .analytics(&admin(), Duration::days(30))
        .await
        .expect("computed");
    assert_eq!(analytics.total_orders, 3);
    assert_eq!(analytics.computed_at, T0);
}
