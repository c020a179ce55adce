//! Contracts of the limits a commit decides with its write: per-buyer quotas, idempotency
//! keys, order numbers and promo codes — exact however many commits race.

use time::{Duration, OffsetDateTime};

use super::fixtures::*;
use super::{Storage, join_all};
use crate::ids::{OrderNumber, RefundId};
use crate::policy::QuotaExceeded;
use crate::ports::{
    IdempotencyRecord, OrderChange, PromoRedemption, QuotaClaim, RefundKey, RepositoryError,
};
use crate::pricing::goods::{DiscountRule, PromoCode};

/// A new reserved order `n` of buyer 7 for `for_event`, claiming `quota`.
fn claiming(n: u128, for_event: u128, quota: QuotaClaim) -> OrderChange {
    let (_, mut change) = reserved(OrderFixture::new(n).event(for_event).build(), n * 10_000);
    change.quota = Some(quota);
    change
}

fn claim(for_event: u128, per_day: u32, per_event: u32) -> QuotaClaim {
    QuotaClaim {
        day: NOW.date(),
        max_orders_per_day: per_day,
        active_for_event: Some((event(for_event), per_event)),
    }
}

async fn commit_all(
    store: &impl Storage,
    changes: &[OrderChange],
) -> Vec<Result<(), RepositoryError>> {
    join_all(changes.iter().map(|change| store.commit(change)).collect()).await
}

async fn stored(store: &impl Storage, changes: &[OrderChange]) -> usize {
    let ids: Vec<_> = changes.iter().map(|c| c.order.id()).collect();
    store
        .find_many(tenant_a(), &ids)
        .await
        .expect("find_many")
        .len()
}

/// Twenty racing orders of one buyer for one event with room for five: five are stored, the
/// others refused as over the event quota, leaving nothing behind.
pub async fn concurrent_orders_of_one_buyer_never_exceed_the_event_quota(store: &impl Storage) {
    let changes: Vec<_> = (1..=20).map(|n| claiming(n, 9, claim(9, 20, 5))).collect();
    let results = commit_all(store, &changes).await;
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
    assert_eq!(
        stored(store, &changes).await,
        5,
        "a refused order leaves no order"
    );
    let outbox = store
        .claim_unpublished(100, Duration::seconds(30))
        .await
        .expect("claim");
    assert_eq!(outbox.len(), 5, "a refused order leaves no outbox event");
}

/// Thirty racing orders of one buyer over six events: twenty a day are stored; the next day
/// has room again.
pub async fn concurrent_orders_of_one_buyer_never_exceed_the_daily_quota(store: &impl Storage) {
    let changes: Vec<_> = (1..=30)
        .map(|n| claiming(n, 100 + n % 6, claim(100 + n % 6, 20, 5)))
        .collect();
    let results = commit_all(store, &changes).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 20);
    assert!(
        results.iter().all(|r| matches!(
            r,
            Ok(())
                | Err(RepositoryError::QuotaExceeded(
                    QuotaExceeded::OrdersPerDay { limit: 20 }
                ))
        )),
        "{results:?}"
    );
    assert_eq!(stored(store, &changes).await, 20);
    let next_day = QuotaClaim {
        day: NOW.date().next_day().expect("tomorrow"),
        ..claim(200, 20, 5)
    };
    store
        .commit(&claiming(31, 200, next_day))
        .await
        .expect("a new day has room again");
}

/// Only claimed places count; an order that leaves PENDING, RESERVED and CONFIRMED gives its
/// place in the event quota back in its own commit.
pub async fn an_order_leaving_the_active_statuses_gives_its_event_place_back(store: &impl Storage) {
    // An order stored without a claim takes no place.
    let (_, unclaimed) = reserved(OrderFixture::new(5).build(), 50_000);
    store
        .commit(&unclaimed)
        .await
        .expect("an order without a claim");
    let first = claiming(1, 9, claim(9, 20, 1));
    store.commit(&first).await.expect("first order");
    assert_eq!(
        store.commit(&claiming(2, 9, claim(9, 20, 1))).await,
        Err(RepositoryError::QuotaExceeded(
            QuotaExceeded::ActiveOrdersPerEvent { limit: 1 }
        ))
    );
    let mut order = first.order.clone();
    order.mark_committed();
    let events = order
        .cancel("changed my mind", None, NOW)
        .expect("cancelled");
    store
        .commit(&change(&order, events, 90_000))
        .await
        .expect("cancel stored");
    store
        .commit(&claiming(3, 9, claim(9, 20, 1)))
        .await
        .expect("the freed place is taken");
    assert_eq!(
        store.commit(&claiming(4, 9, claim(9, 20, 1))).await,
        Err(RepositoryError::QuotaExceeded(
            QuotaExceeded::ActiveOrdersPerEvent { limit: 1 }
        )),
        "the place was given back once"
    );
}

/// Eight refund requests racing under one caller's key, each on an order of its own, store one
/// refund; the key finds it (with its order) in its tenant and for its caller only while it is
/// younger than the TTL; a refused request leaves its order unchanged.
pub async fn one_refund_request_key_stores_one_refund(store: &impl Storage) {
    let before = NOW - Duration::minutes(30);
    let mut requests = Vec::new();
    for n in 0..8u128 {
        let order = store_reserved(
            store,
            OrderFixture::new(300 + n).event(30 + n).build(),
            300_000 + n * 10,
        )
        .await;
        let mut order = store_confirmed(store, order, 300_005 + n * 10).await;
        let refund = RefundId::from_uuid(id(310_000 + n));
        let events = request_refund_of_1_000(&mut order, refund, Approval::Review);
        let mut change = change(&order, events, 320_000 + n * 10);
        change.refund_key = Some(RefundKey {
            refund_id: refund,
            caller: "buyer-7".into(),
            record: IdempotencyRecord {
                key: "refund-key".into(),
                fingerprint: "fp".into(),
                reusable_before: before,
            },
        });
        requests.push(change);
    }
    let results = commit_all(store, &requests).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .all(|r| r.is_ok() || *r == Err(RepositoryError::IdempotencyKeyTaken))
    );
    let winner = requests
        .iter()
        .zip(&results)
        .find(|(_, r)| r.is_ok())
        .map(|(c, _)| c)
        .expect("one winner");
    let found = store
        .find_by_request_key(tenant_a(), "buyer-7", "refund-key", before)
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(
        (
            found.fingerprint.as_str(),
            found.order_id,
            Some(found.refund_id)
        ),
        (
            "fp",
            winner.order.id(),
            winner.refund_key.as_ref().map(|k| k.refund_id)
        )
    );
    for (change, result) in requests.iter().zip(&results) {
        let stored = store
            .find(tenant_a(), change.order.id())
            .await
            .expect("find")
            .expect("present");
        assert_eq!(stored.refunds().len(), usize::from(result.is_ok()));
    }
    for (tenant, caller, since) in [
        (tenant_b(), "buyer-7", before),
        (tenant_a(), "buyer-8", before),
        (tenant_a(), "buyer-7", NOW + Duration::seconds(1)),
    ] {
        assert_eq!(
            store
                .find_by_request_key(tenant, caller, "refund-key", since)
                .await
                .expect("lookup"),
            None,
            "keys are scoped to tenant and caller and outlive their TTL"
        );
    }
}

fn keyed(n: u128, key: &str, fingerprint: &str, reusable_before: OffsetDateTime) -> OrderChange {
    let mut change = claiming(n, 9, claim(9, 20, 5));
    change.idempotency = Some(IdempotencyRecord {
        key: key.into(),
        fingerprint: fingerprint.into(),
        reusable_before,
    });
    change
}

/// Eight racing orders under one key store one; the key finds it with its fingerprint, in
/// its tenant, while it is younger than the TTL; past it, the key may be taken over.
pub async fn one_idempotency_key_creates_one_order_until_it_may_be_reused(store: &impl Storage) {
    let before = NOW - Duration::minutes(30);
    let racing: Vec<_> = (1..=8).map(|n| keyed(n, "key-1", "fp", before)).collect();
    let results = commit_all(store, &racing).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert_eq!(
        results
            .iter()
            .filter(|r| **r == Err(RepositoryError::IdempotencyKeyTaken))
            .count(),
        7
    );
    let winner = racing
        .iter()
        .zip(&results)
        .find(|(_, r)| r.is_ok())
        .map(|(c, _)| c.order.id())
        .expect("one winner");
    let (fingerprint, found) = store
        .find_by_idempotency_key(tenant_a(), user(7), "key-1", before)
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!((fingerprint.as_str(), found.id()), ("fp", winner));
    assert_eq!(
        store
            .find_by_idempotency_key(tenant_a(), user(8), "key-1", before)
            .await
            .expect("lookup"),
        None,
        "keys are scoped to their buyer"
    );
    assert_eq!(
        store
            .find_by_idempotency_key(tenant_a(), user(7), "key-1", NOW + Duration::seconds(1))
            .await
            .expect("lookup"),
        None,
        "a key older than its TTL is not found"
    );
    store
        .commit(&keyed(20, "key-1", "fp-new", NOW + Duration::seconds(1)))
        .await
        .expect("a key past its TTL may be taken over");
    let (fingerprint, found) = store
        .find_by_idempotency_key(tenant_a(), user(7), "key-1", before)
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(
        (fingerprint.as_str(), found.id().as_uuid()),
        ("fp-new", &id(20))
    );
}

/// A new order whose number its tenant has is refused as `OrderNumberTaken` (the use case
/// draws another); another tenant may hold the same number.
pub async fn a_taken_order_number_is_reported_so_another_can_be_drawn(store: &impl Storage) {
    let number = OrderNumber::new(NOW.date(), 4_242);
    let first = OrderFixture::new(50).number(number.clone()).build();
    store_reserved(store, first, 50_000).await;
    let clash = OrderFixture::new(51).number(number.clone()).build();
    let (_, change) = reserved(clash, 51_000);
    assert_eq!(
        store.commit(&change).await,
        Err(RepositoryError::OrderNumberTaken)
    );
    assert_eq!(
        store
            .find(tenant_a(), change.order.id())
            .await
            .expect("find"),
        None
    );
    let elsewhere = OrderFixture::new(52)
        .tenant(tenant_b())
        .number(number)
        .build();
    store_reserved(store, elsewhere, 52_000).await;
}

fn code(name: &str, usage_limit: Option<u32>, per_user_limit: Option<u32>) -> PromoCode {
    PromoCode {
        code: name.to_owned(),
        rule: DiscountRule::Fixed(500),
        min_subtotal: 0,
        valid_from: NOW - Duration::days(1),
        valid_until: None,
        usage_limit,
        times_used: 0,
        per_user_limit,
    }
}

fn redeeming(n: u128, buyer: u128, name: &str) -> OrderChange {
    let order = OrderFixture::new(n).buyer(buyer).build();
    let mut change = change(&order, Vec::new(), n * 10_000);
    change.promo_redemption = Some(PromoRedemption {
        code: name.to_owned(),
        user_id: user(buyer),
    });
    change
}

/// Twenty racing orders of one buyer redeem a code limited to two uses per buyer twice;
/// another buyer still has both; a code's overall limit holds the same way; a code the
/// tenant does not have is rejected.
pub async fn concurrent_redemptions_never_exceed_a_promo_codes_limits(store: &impl Storage) {
    store
        .create_code(tenant_a(), &code("TWICE", None, Some(2)))
        .await
        .expect("code");
    let changes: Vec<_> = (1..=20).map(|n| redeeming(n, 7, "TWICE")).collect();
    let results = commit_all(store, &changes).await;
    let created = results.iter().filter(|r| r.is_ok()).count();
    let refused = results
        .iter()
        .filter(|r| **r == Err(RepositoryError::PromoCodeUsedUp))
        .count();
    assert_eq!((created, refused), (2, 18));
    assert_eq!(
        stored(store, &changes).await,
        2,
        "a refused order leaves no order"
    );
    let (twice, uses) = store
        .find_code(tenant_a(), "TWICE", user(7))
        .await
        .expect("find")
        .expect("present");
    assert_eq!((twice.times_used, uses), (2, 2));
    store
        .commit(&redeeming(40, 8, "TWICE"))
        .await
        .expect("another buyer's order");

    store
        .create_code(tenant_a(), &code("THREE", Some(3), None))
        .await
        .expect("code");
    let changes: Vec<_> = (101..=110).map(|n| redeeming(n, n, "THREE")).collect();
    let results = commit_all(store, &changes).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 3);
    let (three, _) = store
        .find_code(tenant_a(), "THREE", user(101))
        .await
        .expect("find")
        .expect("present");
    assert_eq!(three.times_used, 3);
    let unknown = redeeming(120, 7, "NOSUCH");
    let refused = store.commit(&unknown).await;
    assert!(
        matches!(refused, Err(RepositoryError::Rejected { .. })),
        "a code the tenant does not have is a rejected change: {refused:?}"
    );
    assert_eq!(
        store
            .find(tenant_a(), unknown.order.id())
            .await
            .expect("find"),
        None
    );
}

/// A code is created once per tenant, listed by code, and retired from an instant on without
/// forgetting its uses.
pub async fn promo_codes_are_created_once_listed_and_retired(store: &impl Storage) {
    store
        .create_code(tenant_a(), &code("ZETA", None, None))
        .await
        .expect("code");
    store
        .create_code(tenant_a(), &code("ALPHA", Some(5), None))
        .await
        .expect("code");
    store
        .create_code(tenant_b(), &code("ALPHA", None, None))
        .await
        .expect("another tenant's code of the same name");
    assert!(matches!(
        store
            .create_code(tenant_a(), &code("ALPHA", None, None))
            .await,
        Err(RepositoryError::Duplicate { .. })
    ));
    let listed = store.list_codes(tenant_a()).await.expect("list");
    assert_eq!(
        listed.iter().map(|c| c.code.as_str()).collect::<Vec<_>>(),
        ["ALPHA", "ZETA"]
    );
    assert_eq!(listed[0].usage_limit, Some(5));
    let at = NOW + Duration::hours(1);
    assert!(
        store
            .retire_code(tenant_a(), "ALPHA", at)
            .await
            .expect("retire")
    );
    assert!(
        !store
            .retire_code(tenant_a(), "NOSUCH", at)
            .await
            .expect("retire")
    );
    let (retired, _) = store
        .find_code(tenant_a(), "ALPHA", user(7))
        .await
        .expect("find")
        .expect("present");
    assert_eq!(retired.valid_until, Some(at));
    let (untouched, _) = store
        .find_code(tenant_b(), "ALPHA", user(7))
        .await
        .expect("find")
        .expect("present");
    assert_eq!(untouched.valid_until, None);
    assert_eq!(
        store
            .find_code(tenant_a(), "NOSUCH", user(7))
            .await
            .expect("find"),
        None
    );
}
