//! Webhook use cases against mocks: who may subscribe, which subscriptions get a delivery, and
//! what an attempt's answer does to the delivery, the breaker and the subscription.

use std::sync::{Arc, Mutex};

use super::*;
use crate::events::{EventEnvelope, OrderEvent, StatusChanged};
use crate::ids::{DomainEventId, WebhookDeliveryId, WebhookId};
use crate::use_cases::{WebhookError, WebhookPorts, WebhookService};
use crate::webhooks::{
    DeliveryStatus, NewSubscription, WebhookDelivery, WebhookSecret, WebhookSubscription,
};

fn service(repository: MockWebhookRepository, transport: MockWebhookTransport) -> WebhookService {
    let mut clock = MockClock::new();
    clock.expect_now().return_const(T0);
    let mut ids = MockIdGenerator::new();
    ids.expect_uuid().returning(|| Uuid::from_u128(7_000));
    WebhookService::new(WebhookPorts {
        repository: Arc::new(repository),
        transport: Arc::new(transport),
        clock: Arc::new(clock),
        ids: Arc::new(ids),
    })
}

fn subscription(n: u128, types: &[&str], enabled: bool) -> WebhookSubscription {
    let mut hook = WebhookSubscription::new(
        WebhookId::from_uuid(uuid(n)),
        tenant(),
        NewSubscription {
            url: format!("https://hooks.example.com/{n}"),
            event_types: types.iter().map(|t| (*t).to_owned()).collect(),
            enabled: true,
            description: None,
        },
        WebhookSecret::new("whsec_c2VjcmV0"),
        T0,
    );
    hook.enabled = enabled;
    hook
}

fn shipped_event() -> EventEnvelope {
    EventEnvelope::new(
        DomainEventId::from_uuid(uuid(60)),
        tenant(),
        order_id(),
        T0,
        OrderEvent::Delivered(StatusChanged {
            from: OrderStatus::Shipped,
            to: OrderStatus::Delivered,
        }),
    )
}

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn claimed(streak: u32) -> ClaimedDelivery {
    let hook = subscription(1, &[], true);
    ClaimedDelivery {
        delivery: WebhookDelivery {
            id: WebhookDeliveryId::from_uuid(uuid(70)),
            tenant_id: tenant(),
            subscription_id: hook.id,
            event_id: DomainEventId::from_uuid(uuid(60)),
            event_type: "order.delivered".into(),
            order_id: order_id(),
            body: "{\"type\":\"order.delivered\"}".into(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: Some(T0),
            created_at: T0,
            delivered_at: None,
            last_status: None,
            traceparent: Some(TRACEPARENT.into()),
        },
        subscription: hook,
        failure_streak: streak,
    }
}

fn answering(status: u16) -> MockWebhookTransport {
    let mut transport = MockWebhookTransport::new();
    transport
        .expect_send()
        .withf(|request| {
            request.webhook_id == WebhookDeliveryId::from_uuid(uuid(70))
                && request.timestamp == T0
                && request.secrets.len() == 1
                // Each attempt continues the trace the event was handled in.
                && request.traceparent.as_deref() == Some(TRACEPARENT)
        })
        .times(1)
        .returning(move |_| {
            Ok(WebhookResponse {
                status,
                body: "x".repeat(5_000),
            })
        });
    transport
}

fn recording(into: &Arc<Mutex<Vec<AttemptResult>>>) -> MockWebhookRepository {
    let seen = Arc::clone(into);
    let mut repository = MockWebhookRepository::new();
    repository.expect_record_attempt().returning(move |result| {
        seen.lock().expect("lock").push(result.clone());
        Ok(())
    });
    repository
}

#[tokio::test]
async fn only_admins_subscribe_and_a_refused_address_is_a_field_error() {
    let mut transport = MockWebhookTransport::new();
    transport
        .expect_check_url()
        .returning(|_| Err(UrlRefused("resolves to a private address".into())));
    let webhooks = service(MockWebhookRepository::new(), transport);
    let new = NewSubscription {
        url: "https://10.0.0.1/hook".into(),
        event_types: vec![],
        enabled: true,
        description: None,
    };
    assert!(matches!(
        webhooks.subscribe(&customer(), new.clone()).await,
        Err(WebhookError::Forbidden)
    ));
    match webhooks.subscribe(&admin(), new.clone()).await {
        Err(WebhookError::Validation(v)) => assert_eq!(v.0[0].path, "url"),
        other => panic!("expected a field error, got {other:?}"),
    }
    let unknown = NewSubscription {
        event_types: vec!["order.teleported".into()],
        ..new
    };
    match webhooks.subscribe(&admin(), unknown).await {
        Err(WebhookError::Validation(v)) => assert_eq!(v.0[0].path, "eventTypes[0]"),
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[tokio::test]
async fn an_event_becomes_one_delivery_per_enabled_subscription_that_wants_it() {
    let mut repository = MockWebhookRepository::new();
    repository.expect_subscriptions().returning(|_| {
        Ok(vec![
            subscription(1, &[], true),
            subscription(2, &["order.delivered"], true),
            subscription(3, &["order.confirmed"], true),
            subscription(4, &[], false),
        ])
    });
    repository
        .expect_enqueue()
        .withf(|deliveries| {
            let subscriptions: Vec<WebhookId> =
                deliveries.iter().map(|d| d.subscription_id).collect();
            subscriptions == [WebhookId::from_uuid(uuid(1)), WebhookId::from_uuid(uuid(2))]
                && deliveries.iter().all(|d| {
                    d.event_type == "order.delivered" && d.body.contains("\"order.delivered\"")
                })
        })
        .times(1)
        .returning(|d| Ok(d.len() as u64));
    let outcome = service(repository, MockWebhookTransport::new())
        .enqueue(&shipped_event())
        .await
        .expect("enqueued");
    assert_eq!(outcome, crate::messages::MessageOutcome::Applied);
}

#[tokio::test]
async fn a_failed_attempt_is_retried_later_and_counts_toward_the_breaker() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let webhooks = service(recording(&seen), answering(500));
    let result = webhooks.deliver(claimed(4)).await.expect("recorded");
    assert_eq!(result.delivery.status, DeliveryStatus::Pending);
    let next = result.delivery.next_attempt_at.expect("retried");
    assert!(next > T0 && next <= T0 + Duration::milliseconds(5_500));
    assert_eq!(result.failure_streak, 5);
    assert_eq!(result.circuit_open_until, Some(T0 + Duration::minutes(1)));
    assert_eq!(
        result.attempt.response_body.as_deref().map(str::len),
        Some(1024),
        "the log keeps the start of the answer"
    );
    assert!(result.disabled.is_none());
    assert_eq!(seen.lock().expect("lock").len(), 1);
}

#[tokio::test]
async fn a_2xx_delivers_and_closes_the_breaker_and_a_410_disables_the_subscription() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let ok = service(recording(&seen), answering(204))
        .deliver(claimed(7))
        .await
        .expect("recorded");
    assert_eq!(ok.delivery.status, DeliveryStatus::Delivered);
    assert_eq!((ok.failure_streak, ok.circuit_open_until), (0, None));
    let gone = service(recording(&seen), answering(410))
        .deliver(claimed(0))
        .await
        .expect("recorded");
    assert_eq!(gone.delivery.status, DeliveryStatus::Failed);
    let disabled = gone.disabled.expect("disabled");
    assert!(!disabled.enabled);
    assert!(disabled.disabled_reason.is_some());
}
