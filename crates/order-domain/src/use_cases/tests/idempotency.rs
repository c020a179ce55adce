//! Creation under an `Idempotency-Key` and commits whose outcome is unknown: exactly one order
//! and one payment intent per key, whatever failed in between.

use mockall::predicate::eq;

use super::create::{creating_intent, holding, ticket_harness, two_tickets};
use super::*;
use crate::use_cases::{CreateTicketOrder, IdempotencyKey, UseCaseError};

fn keyed(earlier_attempt: bool) -> CreateTicketOrder {
    CreateTicketOrder {
        idempotency: Some(IdempotencyKey {
            key: "key-1".into(),
            fingerprint: "fp-1".into(),
            ttl: Duration::minutes(30),
            earlier_attempt,
        }),
        ..two_tickets()
    }
}

fn unknown_commit(h: &mut Harness) {
    h.unit_of_work.expect_commit().times(1).returning(|_| {
        Err(RepositoryError::CommitOutcomeUnknown(
            "connection reset".into(),
        ))
    });
}

#[tokio::test]
async fn a_new_order_is_committed_with_its_idempotency_key() {
    let mut h = ticket_harness(10_000, 100);
    holding(&mut h);
    creating_intent(&mut h);
    let (service, commits) = h.committing().build();
    let created = service
        .create_ticket_order(&customer(), keyed(false))
        .await
        .expect("created");
    assert!(!created.replayed);
    let commits = commits.lock().expect("lock");
    assert_eq!(
        commits[0].idempotency,
        Some(IdempotencyRecord {
            key: "key-1".into(),
            fingerprint: "fp-1".into(),
            reusable_before: T0 - Duration::minutes(30),
        })
    );
}

#[tokio::test]
async fn a_retry_after_an_unanswered_attempt_answers_its_order_without_holding_again() {
    let mut h = ticket_harness(10_000, 100);
    let earlier = stored(OrderKind::Ticket, OrderStatus::Reserved);
    let found = earlier.clone();
    h.orders
        .expect_find_by_idempotency_key()
        .withf(|tenant, user, key, since| {
            *tenant == super::tenant()
                && *user == owner()
                && key == "key-1"
                && *since == T0 - Duration::minutes(30)
        })
        .times(1)
        .returning(move |_, _, _, _| Ok(Some(("fp-1".into(), found.clone()))));
    // The same intent again: the order id is its idempotency key upstream.
    h.payments
        .expect_create_intent()
        .withf(move |_, order, _, _, key| *order == order_id() && key == order_id().to_string())
        .times(1)
        .returning(|_, _, _, _, _| {
            Ok(PaymentIntent {
                id: PaymentIntentId::new("pi-1"),
                client_secret: Some("secret-1".into()),
            })
        });
    let (service, _) = h.build();
    let created = service
        .create_ticket_order(&customer(), keyed(true))
        .await
        .expect("replayed");
    assert!(created.replayed);
    assert_eq!(created.order, earlier);
    assert_eq!(created.client_secret.as_deref(), Some("secret-1"));
}

#[tokio::test]
async fn a_key_that_created_an_order_for_another_request_is_refused() {
    let mut h = ticket_harness(10_000, 100);
    let earlier = stored(OrderKind::Ticket, OrderStatus::Reserved);
    h.orders
        .expect_find_by_idempotency_key()
        .returning(move |_, _, _, _| Ok(Some(("fp-other".into(), earlier.clone()))));
    let (service, _) = h.build();
    assert_eq!(
        service.create_ticket_order(&customer(), keyed(true)).await,
        Err(UseCaseError::IdempotencyKeyReused)
    );
}

#[tokio::test]
async fn a_key_taken_by_a_concurrent_attempt_undoes_this_one_and_answers_the_other() {
    let mut h = ticket_harness(10_000, 100);
    holding(&mut h);
    creating_intent(&mut h);
    h.unit_of_work
        .expect_commit()
        .times(1)
        .returning(|_| Err(RepositoryError::IdempotencyKeyTaken));
    h.payments
        .expect_cancel_intent()
        .with(eq(PaymentIntentId::new("pi-9")))
        .times(1)
        .returning(|_| Ok(()));
    h.tickets
        .expect_release()
        .with(eq(HoldId::new("hold-9")))
        .times(1)
        .returning(|_| Ok(()));
    let winner = stored(OrderKind::Ticket, OrderStatus::Confirmed);
    let found = winner.clone();
    h.orders
        .expect_find_by_idempotency_key()
        .times(1)
        .returning(move |_, _, _, _| Ok(Some(("fp-1".into(), found.clone()))));
    let (service, _) = h.build();
    let created = service
        .create_ticket_order(&customer(), keyed(false))
        .await
        .expect("the other attempt's order");
    assert!(created.replayed);
    assert_eq!(created.order, winner);
    assert_eq!(created.client_secret, None, "a paid order needs no secret");
}

#[tokio::test]
async fn an_unknown_commit_whose_order_was_stored_answers_it_and_undoes_nothing() {
    let mut h = ticket_harness(10_000, 100);
    holding(&mut h);
    creating_intent(&mut h);
    unknown_commit(&mut h);
    h.orders
        .expect_find()
        .times(1)
        .returning(|_, _| Ok(Some(stored(OrderKind::Ticket, OrderStatus::Reserved))));
    // No cancel_intent and no release expectation: either call would fail the test.
    let (service, _) = h.build();
    let created = service
        .create_ticket_order(&customer(), two_tickets())
        .await
        .expect("stored after all");
    assert_eq!(created.client_secret.as_deref(), Some("secret"));
}

#[tokio::test]
async fn an_unknown_commit_that_cannot_be_checked_undoes_nothing() {
    let mut h = ticket_harness(10_000, 100);
    holding(&mut h);
    creating_intent(&mut h);
    unknown_commit(&mut h);
    h.orders
        .expect_find()
        .times(1)
        .returning(|_, _| Err(RepositoryError::Unavailable("still down".into())));
    let (service, _) = h.build();
    assert_eq!(
        service
            .create_ticket_order(&customer(), two_tickets())
            .await,
        Err(UseCaseError::Storage(
            RepositoryError::CommitOutcomeUnknown("connection reset".into())
        ))
    );
}

#[tokio::test]
async fn an_unknown_commit_that_stored_nothing_is_undone() {
    let mut h = ticket_harness(10_000, 100);
    holding(&mut h);
    creating_intent(&mut h);
    unknown_commit(&mut h);
    h.orders.expect_find().times(1).returning(|_, _| Ok(None));
    h.payments
        .expect_cancel_intent()
        .times(1)
        .returning(|_| Ok(()));
    h.tickets.expect_release().times(1).returning(|_| Ok(()));
    let (service, _) = h.build();
    assert!(matches!(
        service
            .create_ticket_order(&customer(), two_tickets())
            .await,
        Err(UseCaseError::Storage(
            RepositoryError::CommitOutcomeUnknown(_)
        ))
    ));
}

#[tokio::test]
async fn a_taken_order_number_is_drawn_again_and_the_creation_event_follows() {
    let mut h = ticket_harness(10_000, 100);
    holding(&mut h);
    creating_intent(&mut h);
    let mut seq = mockall::Sequence::new();
    let first: std::sync::Arc<std::sync::Mutex<Option<String>>> = Default::default();
    let taken = first.clone();
    h.unit_of_work
        .expect_commit()
        .times(1)
        .in_sequence(&mut seq)
        .returning(move |change| {
            *taken.lock().expect("lock") = Some(change.order.number().to_string());
            Err(RepositoryError::OrderNumberTaken)
        });
    let stored: std::sync::Arc<std::sync::Mutex<Option<OrderChange>>> = Default::default();
    let keep = stored.clone();
    h.unit_of_work
        .expect_commit()
        .times(1)
        .in_sequence(&mut seq)
        .returning(move |change| {
            *keep.lock().expect("lock") = Some(change.clone());
            Ok(())
        });
    let (service, _) = h.build();
    let created = service
        .create_ticket_order(&customer(), two_tickets())
        .await
        .expect("created with another number");
    let change = stored.lock().expect("lock").clone().expect("second commit");
    let number = created.order.number().clone();
    let crate::events::OrderEvent::Created(event) = &change.outbox[0].event else {
        panic!("the first event is the creation");
    };
    assert_eq!(event.order_number, number);
    assert_eq!(change.order.number(), &number);
    let taken = first.lock().expect("lock").clone().expect("first commit");
    assert_ne!(number.to_string(), taken, "a new number was drawn");
}
