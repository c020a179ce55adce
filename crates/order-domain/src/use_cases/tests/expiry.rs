//! The expiry job's batches: one read, one write and one release per tenant and batch.

use mockall::predicate::eq;
use time::Duration;

use super::*;
use crate::use_cases::UseCaseError;

/// The stored RESERVED order of the fixtures, under another id and hold.
fn reserved(n: u128) -> Order {
    let mut record = stored(OrderKind::Ticket, OrderStatus::Reserved).into_record();
    record.id = OrderId::from_uuid(uuid(n));
    record.hold_id = Some(HoldId::new(format!("hold-{n}")));
    Order::restore(record).expect("valid")
}

fn due(n: u128) -> ExpiringOrder {
    ExpiringOrder {
        tenant_id: tenant(),
        order_id: OrderId::from_uuid(uuid(n)),
        status: OrderStatus::Reserved,
        expires_at: T0 + Duration::minutes(15),
    }
}

#[tokio::test]
async fn a_batch_is_read_once_stored_once_and_its_holds_released_in_one_call() {
    let mut h = Harness::new();
    h.now = T0 + Duration::minutes(20);
    h.orders
        .expect_find_many()
        .withf(|tenant_id, ids| *tenant_id == tenant() && ids.len() == 3)
        .times(1)
        .returning(|_, _| Ok(vec![reserved(10), reserved(11)]));
    // The second order changed meanwhile: its version check fails.
    h.unit_of_work
        .expect_commit_batch()
        .withf(|changes| {
            changes.len() == 2
                && changes.iter().all(|c| {
                    c.order.status() == OrderStatus::Expired
                        && c.audit.len() == 1
                        && c.outbox.len() == 1
                        && c.audit[0].event_type == "order.expired"
                })
        })
        .times(1)
        .returning(|_| Ok(vec![true, false]));
    h.tickets
        .expect_release_all()
        .with(eq(vec![HoldId::new("hold-10")]))
        .times(1)
        .returning(|_| Ok(()));
    // No single-order commit, release or intent cancellation: the mocks would fail the test.
    let (service, _) = h.build();
    let results = service
        .expire_batch("expiry-job", &[due(10), due(11), due(12)])
        .await;
    let outcome = |n: u128| {
        results
            .iter()
            .find(|(id, _)| *id == OrderId::from_uuid(uuid(n)))
            .map(|(_, r)| r.clone())
            .expect("a result per order")
    };
    assert_eq!(results.len(), 3);
    assert_eq!(outcome(10), Ok(()));
    assert_eq!(outcome(11), Err(UseCaseError::Conflict));
    assert_eq!(outcome(12), Err(UseCaseError::NotFound { what: "order" }));
}

#[tokio::test]
async fn a_batch_that_cannot_be_read_fails_each_of_its_orders_and_changes_nothing() {
    let mut h = Harness::new();
    h.now = T0 + Duration::minutes(20);
    h.orders
        .expect_find_many()
        .returning(|_, _| Err(RepositoryError::Unavailable("down".into())));
    let (service, _) = h.build();
    let results = service
        .expire_batch("expiry-job", &[due(10), due(11)])
        .await;
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|(_, r)| matches!(
        r,
        Err(UseCaseError::Storage(RepositoryError::Unavailable(_)))
    )));
}
