//! The webhook store against the real PostgreSQL server: tenant scoping, sealed secrets,
//! idempotent deliveries, claims that keep one order's events in order and never hand one
//! delivery to two workers, the lease that brings back a crashed worker's claim, the breaker, and
//! the log's retention.

mod common;

use common::*;
use futures_util::future::join_all;
use order_domain::events::{EventEnvelope, OrderEvent, StatusChanged};
use order_domain::ids::*;
use order_domain::order::OrderStatus;
use order_domain::ports::*;
use order_domain::webhooks::*;
use time::Duration;

/// The store as the webhook port (its method names are shared with other ports).
fn hooks(db: &TestDb) -> &dyn WebhookRepository {
    &db.store
}

fn hook(n: u128, tenant: TenantId) -> WebhookSubscription {
    WebhookSubscription::new(
        WebhookId::from_uuid(id(0x5000 + n)),
        tenant,
        NewSubscription {
            url: format!("https://hooks.example.com/{n}"),
            event_types: vec![],
            enabled: true,
            description: Some("erp".into()),
        },
        WebhookSecret::new("whsec_dGhlIHRvcCBzZWNyZXQga2V5IG9mIHRoaXMgdGVzdA=="),
        NOW,
    )
}

fn delivery(n: u128, hook: &WebhookSubscription, order: u128, event: u128) -> WebhookDelivery {
    let envelope = EventEnvelope::new(
        DomainEventId::from_uuid(id(0x6000 + event)),
        hook.tenant_id,
        OrderId::from_uuid(id(order)),
        NOW,
        OrderEvent::Delivered(StatusChanged {
            from: OrderStatus::Shipped,
            to: OrderStatus::Delivered,
        }),
    );
    WebhookDelivery {
        id: WebhookDeliveryId::from_uuid(id(0x7000 + n)),
        tenant_id: hook.tenant_id,
        subscription_id: hook.id,
        event_id: envelope.id,
        event_type: "order.delivered".into(),
        order_id: envelope.order_id,
        body: serde_json::to_string(&envelope).expect("json"),
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: Some(NOW),
        created_at: NOW,
        delivered_at: None,
        last_status: None,
        traceparent: Some(format!("00-{:032x}-{:016x}-01", 0xabc0 + event, 0xdef0 + n)),
    }
}

fn failed_attempt(claimed: &ClaimedDelivery, at: time::OffsetDateTime) -> AttemptResult {
    let attempt = AttemptRecord {
        attempted_at: at,
        status_code: Some(503),
        latency_ms: 12,
        response_body: Some("busy".into()),
        error: None,
        outcome: AttemptOutcome::Failed,
    };
    let mut delivery = claimed.delivery.clone();
    delivery.record(&attempt, 0);
    AttemptResult {
        delivery,
        attempt,
        failure_streak: claimed.failure_streak + 1,
        circuit_open_until: BreakerPolicy::default().open_until(claimed.failure_streak + 1, at),
        disabled: None,
    }
}

#[tokio::test]
async fn subscriptions_are_tenant_scoped_and_their_secrets_sealed() {
    let db = fresh_db().await;
    let mut mine = hook(1, tenant_a());
    hooks(&db)
        .create_subscription(&mine)
        .await
        .expect("created");
    assert_eq!(
        hooks(&db)
            .subscription(tenant_a(), mine.id)
            .await
            .expect("find"),
        Some(mine.clone())
    );
    assert_eq!(
        hooks(&db)
            .subscription(tenant_b(), mine.id)
            .await
            .expect("find"),
        None
    );
    assert!(
        hooks(&db)
            .subscriptions(tenant_b())
            .await
            .expect("list")
            .is_empty()
    );
    let raw: String = sqlx::query_scalar("SELECT secrets::text FROM webhook_subscriptions")
        .fetch_one(&db.owner)
        .await
        .expect("raw");
    assert!(
        !raw.contains("whsec_"),
        "the secret is sealed at rest: {raw}"
    );
    mine.rotate(WebhookSecret::new("whsec_bmV3"), NOW);
    hooks(&db)
        .update_subscription(&mine)
        .await
        .expect("updated");
    let stored = hooks(&db)
        .subscription(tenant_a(), mine.id)
        .await
        .expect("find")
        .expect("present");
    assert_eq!(stored.secrets.len(), 2);
    assert!(
        !hooks(&db)
            .delete_subscription(tenant_b(), mine.id)
            .await
            .expect("delete")
    );
    assert!(
        hooks(&db)
            .delete_subscription(tenant_a(), mine.id)
            .await
            .expect("delete")
    );
}

#[tokio::test]
async fn a_delivery_is_stored_once_per_event_and_one_orders_events_are_claimed_in_order() {
    let db = fresh_db().await;
    let receiver = hook(1, tenant_a());
    hooks(&db)
        .create_subscription(&receiver)
        .await
        .expect("created");
    let first = delivery(1, &receiver, 100, 1);
    let second = delivery(2, &receiver, 100, 2);
    let other_order = delivery(3, &receiver, 200, 3);
    assert_eq!(
        hooks(&db)
            .enqueue(std::slice::from_ref(&first))
            .await
            .expect("enqueued"),
        1
    );
    let again = WebhookDelivery {
        id: WebhookDeliveryId::from_uuid(id(0x7999)),
        ..first.clone()
    };
    assert_eq!(
        hooks(&db).enqueue(&[again]).await.expect("enqueued"),
        0,
        "same event"
    );
    db.store
        .enqueue(&[second.clone(), other_order.clone()])
        .await
        .expect("enqueued");

    let claimed = hooks(&db)
        .claim_due(NOW, Duration::seconds(60), 10)
        .await
        .expect("claim");
    let ids: Vec<_> = claimed.iter().map(|c| c.delivery.id).collect();
    assert_eq!(
        ids.len(),
        2,
        "the second event of order 100 waits for the first"
    );
    assert!(ids.contains(&first.id) && ids.contains(&other_order.id));
    assert_eq!(claimed[0].subscription, receiver);
    for claim in &claimed {
        let stored = [&first, &other_order]
            .into_iter()
            .find(|d| d.id == claim.delivery.id)
            .expect("stored");
        assert_eq!(
            claim.delivery.traceparent, stored.traceparent,
            "the trace the event was handled in comes back with the claim"
        );
    }

    // The first fails: it stays first in line until it is delivered or given up.
    let first_claim = claimed
        .iter()
        .find(|c| c.delivery.id == first.id)
        .expect("first");
    db.store
        .record_attempt(&failed_attempt(first_claim, NOW))
        .await
        .expect("recorded");
    let later = NOW + Duration::seconds(6);
    let retried = hooks(&db)
        .claim_due(later, Duration::seconds(60), 10)
        .await
        .expect("claim");
    assert_eq!(
        retried.iter().map(|c| c.delivery.id).collect::<Vec<_>>(),
        [first.id],
        "due again after its pause, still ahead of the second"
    );
    assert_eq!(retried[0].delivery.attempts, 1);
    assert_eq!(retried[0].failure_streak, 1);

    let log = db
        .store
        .deliveries(tenant_a(), receiver.id, Some(DeliveryStatus::Pending), 10)
        .await
        .expect("log");
    let entry = log
        .iter()
        .find(|l| l.delivery.id == first.id)
        .expect("first");
    assert_eq!(entry.attempts.len(), 1);
    assert_eq!(entry.attempts[0].status_code, Some(503));
    let stats = hooks(&db)
        .delivery_stats(tenant_a(), receiver.id, later)
        .await
        .expect("stats");
    assert_eq!((stats.pending, stats.attempts_failed), (3, 1));
    assert_eq!(stats.oldest_pending_seconds, Some(6));
}

#[tokio::test]
async fn concurrent_workers_never_claim_the_same_delivery_and_a_lapsed_lease_is_claimed_again() {
    let db = fresh_db_sized(8).await;
    let receiver = hook(1, tenant_a());
    hooks(&db)
        .create_subscription(&receiver)
        .await
        .expect("created");
    let deliveries: Vec<_> = (0..40)
        .map(|n| delivery(n, &receiver, 1_000 + n, n))
        .collect();
    hooks(&db).enqueue(&deliveries).await.expect("enqueued");
    let claims =
        join_all((0..8).map(|_| hooks(&db).claim_due(NOW, Duration::seconds(60), 10))).await;
    let mut claimed: Vec<WebhookDeliveryId> = claims
        .into_iter()
        .flat_map(|c| c.expect("claim"))
        .map(|c| c.delivery.id)
        .collect();
    let total = claimed.len();
    claimed.sort();
    claimed.dedup();
    assert_eq!(claimed.len(), total, "no delivery went to two workers");
    assert_eq!(total, 40);
    // The workers crash before sending: nothing is claimable while the lease runs, all of it after.
    let during = hooks(&db).claim_due(NOW + Duration::seconds(59), Duration::seconds(60), 100);
    assert!(during.await.expect("claim").is_empty());
    let after = hooks(&db).claim_due(NOW + Duration::seconds(61), Duration::seconds(60), 100);
    assert_eq!(after.await.expect("claim").len(), 40, "no delivery is lost");
}

#[tokio::test]
async fn an_open_breaker_rests_the_endpoint_and_finished_deliveries_are_pruned() {
    let db = fresh_db().await;
    let receiver = hook(1, tenant_a());
    hooks(&db)
        .create_subscription(&receiver)
        .await
        .expect("created");
    db.store
        .enqueue(&[delivery(1, &receiver, 1, 1), delivery(2, &receiver, 2, 2)])
        .await
        .expect("enqueued");
    let mut claimed = hooks(&db)
        .claim_due(NOW, Duration::seconds(60), 1)
        .await
        .expect("claim");
    let mut one = claimed.pop().expect("one");
    one.failure_streak = 4;
    let result = failed_attempt(&one, NOW);
    assert!(result.circuit_open_until.is_some());
    hooks(&db).record_attempt(&result).await.expect("recorded");
    let soon = NOW + Duration::seconds(30);
    assert!(
        hooks(&db)
            .claim_due(soon, Duration::seconds(60), 10)
            .await
            .expect("claim")
            .is_empty(),
        "the other delivery waits while the breaker is open"
    );
    let reopened = NOW + Duration::minutes(2);
    assert_eq!(
        hooks(&db)
            .claim_due(reopened, Duration::seconds(60), 10)
            .await
            .expect("claim")
            .len(),
        2
    );

    let mut done = delivery(1, &receiver, 1, 1);
    done.status = DeliveryStatus::Delivered;
    hooks(&db).save_delivery(&done).await.expect("saved");
    assert_eq!(
        hooks(&db)
            .prune_deliveries(NOW + Duration::days(31))
            .await
            .expect("pruned"),
        1
    );
    let left = hooks(&db)
        .deliveries(tenant_a(), receiver.id, None, 10)
        .await
        .expect("log");
    assert_eq!(left.len(), 1, "pending deliveries are kept");
}
