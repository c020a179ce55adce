//! The per-buyer quotas, the per-user limit of a promo code and the idempotency keys the unit of
//! work decides with the order's own insert, against the real PostgreSQL server, under real
//! concurrency.

mod common;

use common::*;
use futures_util::future::join_all;
use order_domain::ids::{EventId, HoldId, UserId};
use order_domain::order::Order;
use order_domain::policy::QuotaExceeded;
use order_domain::ports::*;
use time::Duration;

/// A new RESERVED order of buyer 7 for `event`, ready to commit with its quota claim.
fn reserved(n: u128, event: u128, claim: QuotaClaim) -> OrderChange {
    let mut order = new_order(tenant_a(), n, 7, event);
    let events = order
        .reserve(
            HoldId::new(format!("hold-{n}")),
            NOW + Duration::minutes(15),
            NOW,
        )
        .expect("reserved");
    let mut change = change(&order, events, n * 10_000);
    change.quota = Some(claim);
    change
}

fn claim(event: u128, per_day: u32, per_event: u32) -> QuotaClaim {
    QuotaClaim {
        day: NOW.date(),
        max_orders_per_day: per_day,
        active_for_event: Some((EventId::from_uuid(id(event)), per_event)),
    }
}

/// Commits every change at once (the pool has a connection for each), so that they really race.
async fn commit_all(db: &TestDb, changes: &[OrderChange]) -> Vec<Result<(), RepositoryError>> {
    join_all(changes.iter().map(|c| db.store.commit(c))).await
}

async fn stored_orders(db: &TestDb) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(&db.owner)
        .await
        .expect("count")
}

#[tokio::test]
async fn twenty_concurrent_orders_of_one_buyer_for_one_event_store_exactly_five() {
    let db = fresh_db_sized(30).await;
    let changes: Vec<_> = (1..=20).map(|n| reserved(n, 9, claim(9, 20, 5))).collect();
    let results = commit_all(&db, &changes).await;
    let created = results.iter().filter(|r| r.is_ok()).count();
    let refused = results
        .iter()
        .filter(|r| {
            **r == Err(RepositoryError::QuotaExceeded(
                QuotaExceeded::ActiveOrdersPerEvent { limit: 5 },
            ))
        })
        .count();
    assert_eq!((created, refused), (5, 15));
    assert_eq!(stored_orders(&db).await, 5, "a refused order leaves no row");
    let (audit, outbox): (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM order_events), (SELECT count(*) FROM outbox)")
            .fetch_one(&db.owner)
            .await
            .expect("counts");
    assert_eq!((audit, outbox), (5, 5));
}

#[tokio::test]
async fn thirty_concurrent_orders_of_one_buyer_over_several_events_store_exactly_twenty_a_day() {
    let db = fresh_db_sized(30).await;
    let changes: Vec<_> = (1..=30)
        .map(|n| reserved(n, 100 + n % 6, claim(100 + n % 6, 20, 5)))
        .collect();
    let results = commit_all(&db, &changes).await;
    let created = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(created, 20);
    assert!(results.iter().all(|r| matches!(
        r,
        Ok(())
            | Err(RepositoryError::QuotaExceeded(
                QuotaExceeded::OrdersPerDay { limit: 20 }
            ))
    )));
    assert_eq!(stored_orders(&db).await, 20);
    let next_day = QuotaClaim {
        day: NOW.date().next_day().expect("tomorrow"),
        ..claim(200, 20, 5)
    };
    db.store
        .commit(&reserved(31, 200, next_day))
        .await
        .expect("a new day has room again");
}

#[tokio::test]
async fn an_order_that_leaves_the_active_statuses_frees_its_place_for_the_event() {
    let db = fresh_db_sized(30).await;
    let first = reserved(1, 9, claim(9, 20, 1));
    db.store.commit(&first).await.expect("first order");
    assert_eq!(
        db.store.commit(&reserved(2, 9, claim(9, 20, 1))).await,
        Err(RepositoryError::QuotaExceeded(
            QuotaExceeded::ActiveOrdersPerEvent { limit: 1 }
        ))
    );
    let mut order: Order = first.order.clone();
    order.mark_committed();
    let events = order
        .cancel("changed my mind", None, NOW)
        .expect("cancelled");
    db.store
        .commit(&change(&order, events, 90_000))
        .await
        .expect("cancel stored");
    db.store
        .commit(&reserved(3, 9, claim(9, 20, 1)))
        .await
        .expect("the freed place is taken");
    let active: i32 = sqlx::query_scalar(
        "SELECT active FROM buyer_event_orders WHERE user_id = $1 AND event_id = $2",
    )
    .bind(id(7))
    .bind(id(9))
    .fetch_one(&db.owner)
    .await
    .expect("counter");
    assert_eq!(active, 1);
}

fn keyed(
    n: u128,
    key: &str,
    fingerprint: &str,
    reusable_before: time::OffsetDateTime,
) -> OrderChange {
    let mut change = reserved(n, 9, claim(9, 20, 5));
    change.idempotency = Some(IdempotencyRecord {
        key: key.into(),
        fingerprint: fingerprint.into(),
        reusable_before,
    });
    change
}

#[tokio::test]
async fn one_idempotency_key_creates_one_order_and_finds_it_again() {
    let db = fresh_db_sized(30).await;
    let before = NOW - Duration::minutes(30);
    let racing: Vec<_> = (1..=8).map(|n| keyed(n, "key-1", "fp", before)).collect();
    let results = commit_all(&db, &racing).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert_eq!(
        results
            .iter()
            .filter(|r| **r == Err(RepositoryError::IdempotencyKeyTaken))
            .count(),
        7
    );
    assert_eq!(stored_orders(&db).await, 1);
    let winner = racing
        .iter()
        .zip(&results)
        .find(|(_, r)| r.is_ok())
        .map(|(c, _)| c.order.id())
        .expect("winner");
    let user = UserId::from_uuid(id(7));
    let (fingerprint, found) = db
        .store
        .find_by_idempotency_key(tenant_a(), user, "key-1", before)
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!((fingerprint.as_str(), found.id()), ("fp", winner));
    assert_eq!(
        db.store
            .find_by_idempotency_key(tenant_b(), user, "key-1", before)
            .await
            .expect("lookup"),
        None,
        "keys are scoped to their tenant"
    );
    assert_eq!(
        db.store
            .find_by_idempotency_key(tenant_a(), user, "key-1", NOW + Duration::seconds(1))
            .await
            .expect("lookup"),
        None,
        "a key older than its TTL is not found"
    );
    db.store
        .commit(&keyed(20, "key-1", "fp-new", NOW + Duration::seconds(1)))
        .await
        .expect("a key past its TTL may be taken over");
}

#[tokio::test]
async fn twenty_concurrent_orders_of_one_buyer_redeem_a_code_exactly_its_per_user_limit() {
    let db = fresh_db_sized(30).await;
    sqlx::query(
        "INSERT INTO promo_codes (tenant_id, code, discount_kind, discount_value, valid_from,
             usage_limit, per_user_limit)
         VALUES ($1, 'TWICE', 'fixed', 500, $2, NULL, 2)",
    )
    .bind(tenant_a().as_uuid())
    .bind(NOW - Duration::days(1))
    .execute(&db.owner)
    .await
    .expect("promo code");
    let buyer = UserId::from_uuid(id(7));
    let changes: Vec<_> = (1..=20)
        .map(|n| {
            let order = new_order(tenant_a(), n, 7, 9);
            let mut change = change(&order, Vec::new(), n * 10_000);
            change.promo_redemption = Some(PromoRedemption {
                code: "TWICE".into(),
                user_id: buyer,
            });
            change
        })
        .collect();
    let results = commit_all(&db, &changes).await;
    let created = results.iter().filter(|r| r.is_ok()).count();
    let refused = results
        .iter()
        .filter(|r| **r == Err(RepositoryError::PromoCodeUsedUp))
        .count();
    assert_eq!((created, refused), (2, 18));
    assert_eq!(stored_orders(&db).await, 2, "a refused order leaves no row");
    let (times_used, usages): (i32, i64) = sqlx::query_as(
        "SELECT (SELECT times_used FROM promo_codes WHERE code = 'TWICE'),
                (SELECT count(*) FROM promo_code_usages WHERE code = 'TWICE')",
    )
    .fetch_one(&db.owner)
    .await
    .expect("counts");
    assert_eq!((times_used, usages), (2, 2));

    // Another buyer still has both uses.
    let other = new_order(tenant_a(), 40, 8, 9);
    let mut change = change(&other, Vec::new(), 400_000);
    change.promo_redemption = Some(PromoRedemption {
        code: "TWICE".into(),
        user_id: UserId::from_uuid(id(8)),
    });
    db.store
        .commit(&change)
        .await
        .expect("another buyer's order");
}
