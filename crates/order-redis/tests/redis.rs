//! Against the real Redis server `just services-up` starts.

use futures_util::future::join_all;
use order_domain::ports::*;
use order_redis::RedisGuards;
use time::Duration;

fn guards() -> RedisGuards {
    let url = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:56379".into());
    RedisGuards::connect(&url, 16).expect("redis url")
}

fn key(name: &str) -> String {
    format!("test:{}:{name}", uuid::Uuid::new_v4().simple())
}

#[tokio::test]
async fn an_idempotency_key_is_claimed_once_replayed_and_bound_to_its_request() {
    let redis = guards();
    assert!(
        redis.ping().await,
        "Redis is not reachable: run `just services-up` first"
    );
    let k = key("idem");
    let ttl = Duration::minutes(30);
    assert_eq!(
        redis.begin(None, &k, "fp-1", ttl).await,
        Ok(IdempotencyBegin::Started)
    );
    assert_eq!(
        redis.begin(None, &k, "fp-1", ttl).await,
        Ok(IdempotencyBegin::InFlight)
    );
    assert_eq!(
        redis.begin(None, &k, "fp-2", ttl).await,
        Ok(IdempotencyBegin::Mismatch)
    );
    let response = StoredResponse {
        status: 201,
        body: br#"{"id":"x"}"#.to_vec(),
        headers: vec![
            ("location".into(), "/api/v1/orders/x".into()),
            ("content-type".into(), "application/json".into()),
        ],
    };
    redis
        .complete(&k, "fp-1", &response, ttl)
        .await
        .expect("complete");
    assert_eq!(
        redis.begin(None, &k, "fp-1", ttl).await,
        Ok(IdempotencyBegin::Replay(response))
    );
    assert_eq!(
        redis.begin(None, &k, "fp-2", ttl).await,
        Ok(IdempotencyBegin::Mismatch)
    );
}

#[tokio::test]
async fn an_abandoned_key_runs_again_knowing_an_attempt_went_before() {
    let redis = guards();
    let k = key("abandon");
    let ttl = Duration::minutes(30);
    assert_eq!(
        redis.begin(None, &k, "fp", ttl).await,
        Ok(IdempotencyBegin::Started)
    );
    redis.abandon(&k).await.expect("abandon");
    assert_eq!(
        redis.begin(None, &k, "fp-other", ttl).await,
        Ok(IdempotencyBegin::Mismatch),
        "the failed attempt still binds the key to its request"
    );
    assert_eq!(
        redis.begin(None, &k, "fp", ttl).await,
        Ok(IdempotencyBegin::StartedAgain)
    );
    assert_eq!(
        redis.begin(None, &k, "fp", ttl).await,
        Ok(IdempotencyBegin::InFlight)
    );
}

#[tokio::test]
async fn a_claim_whose_request_died_is_taken_over_when_its_lease_ends() {
    let redis = guards().with_in_flight_lease(Duration::seconds(1));
    let k = key("lease");
    let ttl = Duration::minutes(30);
    assert_eq!(
        redis.begin(None, &k, "fp", ttl).await,
        Ok(IdempotencyBegin::Started)
    );
    assert_eq!(
        redis.begin(None, &k, "fp", ttl).await,
        Ok(IdempotencyBegin::InFlight)
    );
    // Redis's own clock decides the lease (in whole seconds); until it ends the claim holds.
    let taken = order_test_support::eventually(
        "the lease ends",
        std::time::Duration::from_secs(5),
        || async {
            let begun = redis.begin(None, &k, "fp", ttl).await;
            (begun != Ok(IdempotencyBegin::InFlight)).then_some(begun)
        },
    )
    .await;
    assert_eq!(taken, Ok(IdempotencyBegin::StartedAgain));
}

#[tokio::test]
async fn the_rate_limit_and_the_claim_are_decided_in_one_call() {
    let redis = guards();
    let rate = RateCheck {
        key: key("rate+idem"),
        limit: 10,
        window: Duration::minutes(1),
    };
    let keys: Vec<String> = (0..30).map(|n| key(&format!("idem-{n}"))).collect();
    let attempts = keys
        .iter()
        .map(|k| redis.begin(Some(rate.clone()), k, "fp", Duration::minutes(30)));
    let results = join_all(attempts).await;
    let started = results
        .iter()
        .filter(|r| **r == Ok(IdempotencyBegin::Started))
        .count();
    let limited: Vec<&RateDecision> = results
        .iter()
        .filter_map(|r| match r {
            Ok(IdempotencyBegin::RateLimited(decision)) => Some(decision),
            _ => None,
        })
        .collect();
    assert_eq!((started, limited.len()), (10, 20));
    assert!(
        limited
            .iter()
            .all(|d| !d.allowed && d.remaining == 0 && d.limit == 10)
    );
    // A refused request claimed nothing: its key is free once the window allows it.
    let refused = keys
        .iter()
        .zip(&results)
        .find(|(_, r)| matches!(r, Ok(IdempotencyBegin::RateLimited(_))))
        .map(|(k, _)| k.clone())
        .expect("a refused key");
    assert_eq!(
        redis
            .begin(None, &refused, "fp", Duration::minutes(30))
            .await,
        Ok(IdempotencyBegin::Started)
    );
}

#[tokio::test]
async fn concurrent_claims_of_one_key_start_exactly_one_request() {
    let redis = guards();
    let k = key("race");
    let attempts = (0..50).map(|_| redis.begin(None, &k, "fp", Duration::minutes(30)));
    let results = join_all(attempts).await;
    let started = results
        .iter()
        .filter(|r| **r == Ok(IdempotencyBegin::Started))
        .count();
    let in_flight = results
        .iter()
        .filter(|r| **r == Ok(IdempotencyBegin::InFlight))
        .count();
    assert_eq!((started, in_flight), (1, 49));
}

#[tokio::test]
async fn the_rate_limit_admits_exactly_the_limit_under_concurrency() {
    let redis = guards();
    let k = key("rate");
    let attempts = (0..50).map(|_| redis.hit(&k, 10, Duration::minutes(1)));
    let results = join_all(attempts).await;
    let allowed = results
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|d| d.allowed))
        .count();
    assert_eq!(allowed, 10);
    let decision = redis.hit(&k, 10, Duration::minutes(1)).await.expect("hit");
    assert!(!decision.allowed);
    assert_eq!(decision.remaining, 0);
    assert!(decision.reset_after > Duration::ZERO && decision.reset_after <= Duration::minutes(1));
}

#[tokio::test]
async fn a_new_window_admits_again() {
    let redis = guards();
    let k = key("window");
    let window = Duration::milliseconds(300);
    assert!(redis.hit(&k, 1, window).await.expect("hit").allowed);
    assert!(!redis.hit(&k, 1, window).await.expect("hit").allowed);
    // Refused until the window ends on Redis's clock, then admitted.
    order_test_support::eventually(
        "the next window admits",
        std::time::Duration::from_secs(2),
        || async {
            redis
                .hit(&k, 1, window)
                .await
                .expect("hit")
                .allowed
                .then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn one_of_many_contenders_gets_the_lock_and_only_the_owner_releases_it() {
    let redis = guards();
    let k = key("order:lock");
    let attempts = (0..10).map(|_| redis.acquire(&k, Duration::seconds(30)));
    let results = join_all(attempts).await;
    let winners: Vec<&LockGuard> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().and_then(Option::as_ref))
        .collect();
    assert_eq!(winners.len(), 1);
    let owner = winners[0].clone();
    let impostor = LockGuard {
        key: k.clone(),
        token: "not-the-owner".into(),
    };
    assert_eq!(redis.release(&impostor).await, Ok(false));
    assert_eq!(redis.release(&owner).await, Ok(true));
    assert!(
        redis
            .acquire(&k, Duration::seconds(30))
            .await
            .expect("acquire")
            .is_some()
    );
}

#[tokio::test]
async fn a_lock_expires_after_its_ttl() {
    let redis = guards();
    let k = key("ttl");
    let first = redis
        .acquire(&k, Duration::milliseconds(150))
        .await
        .expect("acquire")
        .expect("free");
    // The three attempts 100 ms apart outlast the 150 ms TTL.
    let second = redis
        .acquire(&k, Duration::seconds(30))
        .await
        .expect("acquire");
    assert!(second.is_some());
    assert_eq!(
        redis.release(&first).await,
        Ok(false),
        "an expired owner cannot release the new holder's lock"
    );
}

#[tokio::test]
async fn redis_down_is_a_guard_error_not_a_panic() {
    let redis = RedisGuards::connect("redis://127.0.0.1:9", 2).expect("url");
    assert!(matches!(
        redis.hit("k", 1, Duration::minutes(1)).await,
        Err(GuardError::Unavailable(_))
    ));
    assert!(matches!(
        redis.begin(None, "k", "fp", Duration::minutes(1)).await,
        Err(GuardError::Unavailable(_))
    ));
    assert!(!redis.ping().await);
}
