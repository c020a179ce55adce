//! The list of reconciliation runs.

use mockall::predicate::eq;
use time::Duration;

use super::*;
use crate::ids::ReconciliationRunId;
use crate::reconciliation::RunSummary;
use crate::use_cases::UseCaseError;

#[tokio::test]
async fn admins_list_recent_reconciliation_runs_a_bounded_number_and_others_are_refused() {
    let summary = RunSummary {
        id: ReconciliationRunId::from_uuid(uuid(40)),
        window_from: T0 - Duration::hours(1),
        window_to: T0,
        orders_checked: 12,
        orders_unchecked: 0,
        differences: 2,
        repaired: 1,
        started_at: T0,
    };
    let listed = summary.clone();
    let mut h = Harness::new();
    h.reconciliations
        .expect_recent_runs()
        .with(eq(tenant()), eq(crate::use_cases::MAX_RUNS_LISTED))
        .times(1)
        .returning(move |_, _| Ok(vec![listed.clone()]));
    let (service, _) = h.build();
    assert_eq!(
        service.reconciliation_runs(&admin(), 10_000).await,
        Ok(vec![summary])
    );
    for refused in [customer(), warehouse()] {
        assert_eq!(
            service.reconciliation_runs(&refused, 20).await,
            Err(UseCaseError::Forbidden)
        );
    }
}
