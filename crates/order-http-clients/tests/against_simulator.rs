//! The HTTP clients against the upstream simulator, served in-process on a loopback port.

mod common;

use futures_util::future::join_all;
use order_domain::ids::*;
use order_domain::money::{Currency, Money};
use order_domain::ports::*;
use order_http_clients::{
    HttpEventCatalog, HttpInventoryService, HttpNotifier, HttpPaymentGateway, HttpProductCatalog,
    HttpShippingService, HttpTicketService, UpstreamConfig,
};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use common::*;

#[tokio::test]
async fn events_are_found_by_tenant_and_id() {
    let base = simulator(10).await;
    let events = HttpEventCatalog::new(config(&base)).expect("client");
    let info = events
        .event(tenant(), event())
        .await
        .expect("call")
        .expect("found");
    assert_eq!(
        (info.status, info.currency),
        (EventStatus::Scheduled, Currency::Eur)
    );
    let other_tenant = TenantId::from_uuid(Uuid::from_u128(9));
    assert_eq!(
        events.event(other_tenant, event()).await.expect("call"),
        None
    );
}

#[tokio::test]
async fn a_hold_is_priced_extended_committed_and_released() {
    let base = simulator(10).await;
    let tickets = HttpTicketService::new(config(&base)).expect("client");
    let prices = tickets
        .prices(tenant(), event(), &[line(2)])
        .await
        .expect("prices");
    assert_eq!(prices[0].price, Money::new(10_000, Currency::Eur));
    assert_eq!(prices[0].available, 10);

    let order = OrderId::from_uuid(Uuid::from_u128(100));
    let expires = OffsetDateTime::now_utc() + Duration::minutes(15);
    let hold = tickets
        .hold(tenant(), order, event(), &[line(4)], expires)
        .await
        .expect("hold");
    let again = tickets
        .hold(tenant(), order, event(), &[line(4)], expires)
        .await
        .expect("idempotent");
    assert_eq!(
        hold.hold_id, again.hold_id,
        "holding again per order returns the same hold"
    );
    assert_eq!(
        tickets
            .prices(tenant(), event(), &[line(1)])
            .await
            .expect("prices")[0]
            .available,
        6
    );

    let later = expires + Duration::minutes(15);
    let extended = tickets.extend(&hold.hold_id, later).await.expect("extend");
    assert_eq!(extended.expires_at.unix_timestamp(), later.unix_timestamp());
    let sold = tickets.commit(&hold.hold_id).await.expect("commit");
    assert_eq!(sold.len(), 4);
    assert_eq!(
        tickets.commit(&hold.hold_id).await.expect("commit again"),
        sold
    );

    let other = tickets
        .hold(
            tenant(),
            OrderId::from_uuid(Uuid::from_u128(101)),
            event(),
            &[line(6)],
            expires,
        )
        .await
        .expect("the rest");
    tickets.release(&other.hold_id).await.expect("release");
    tickets
        .release(&other.hold_id)
        .await
        .expect("release is idempotent");
    assert_eq!(
        tickets
            .prices(tenant(), event(), &[line(1)])
            .await
            .expect("prices")[0]
            .available,
        6
    );
    let gone = tickets.extend(&other.hold_id, later).await;
    assert_eq!(gone, Err(UpstreamError::NotFound { service: "tickets" }));
}

async fn available(tickets: &HttpTicketService) -> u32 {
    tickets
        .prices(tenant(), event(), &[line(1)])
        .await
        .expect("prices")[0]
        .available
}

#[tokio::test]
async fn a_held_hold_is_adjusted_all_or_nothing_and_once_per_key() {
    let base = simulator(10).await;
    let tickets = HttpTicketService::new(config(&base)).expect("client");
    let expires = OffsetDateTime::now_utc() + Duration::minutes(15);
    let order = OrderId::from_uuid(Uuid::from_u128(200));
    let hold = tickets
        .hold(tenant(), order, event(), &[line(4)], expires)
        .await
        .expect("hold");
    let key = Uuid::from_u128(1);
    tickets
        .adjust_hold(&hold.hold_id, key, &[line(3)], &[line(1)])
        .await
        .expect("adjusted");
    assert_eq!(available(&tickets).await, 4, "4 held, 3 more, 1 back");
    tickets
        .adjust_hold(&hold.hold_id, key, &[line(3)], &[line(1)])
        .await
        .expect("the same key again");
    assert_eq!(available(&tickets).await, 4, "applied once");
    let refused = tickets
        .adjust_hold(&hold.hold_id, Uuid::from_u128(2), &[line(5)], &[line(2)])
        .await;
    assert!(matches!(
        refused,
        Err(HoldError::SoldOut { available: 4, .. })
    ));
    assert_eq!(
        available(&tickets).await,
        4,
        "a refused adjustment releases nothing"
    );
    assert_eq!(
        tickets.commit(&hold.hold_id).await.expect("commit").len(),
        6
    );
    let sold = tickets
        .adjust_hold(&hold.hold_id, Uuid::from_u128(3), &[line(1)], &[])
        .await;
    assert!(matches!(
        sold,
        Err(HoldError::Upstream(UpstreamError::NotFound { .. }))
    ));
}

#[tokio::test]
async fn concurrent_adjustments_never_exceed_the_quota() {
    let base = simulator(10).await;
    let tickets = HttpTicketService::new(config(&base)).expect("client");
    let expires = OffsetDateTime::now_utc() + Duration::minutes(15);
    let mut holds = Vec::new();
    for n in 0..5u128 {
        let order = OrderId::from_uuid(Uuid::from_u128(300 + n));
        let hold = tickets
            .hold(tenant(), order, event(), &[line(1)], expires)
            .await
            .expect("hold");
        holds.push(hold.hold_id);
    }
    let attempts = (0..20u128).map(|n| {
        let tickets = tickets.clone();
        let hold = holds[(n % 5) as usize].clone();
        async move {
            tickets
                .adjust_hold(&hold, Uuid::from_u128(1_000 + n), &[line(1)], &[])
                .await
        }
    });
    let added = join_all(attempts)
        .await
        .iter()
        .filter(|r| r.is_ok())
        .count();
    assert_eq!(added, 5, "10 tickets: 5 held by the holds, 5 added");
    assert_eq!(available(&tickets).await, 0);
}

#[tokio::test]
async fn concurrent_holds_never_exceed_the_quota() {
    let base = simulator(10).await;
    let tickets = HttpTicketService::new(config(&base)).expect("client");
    let expires = OffsetDateTime::now_utc() + Duration::minutes(15);
    let attempts = (0..50u128).map(|n| {
        let tickets = tickets.clone();
        async move {
            tickets
                .hold(
                    tenant(),
                    OrderId::from_uuid(Uuid::from_u128(1_000 + n)),
                    event(),
                    &[line(1)],
                    expires,
                )
                .await
        }
    });
    let results = join_all(attempts).await;
    let held = results.iter().filter(|r| r.is_ok()).count();
    let sold_out = results
        .iter()
        .filter(|r| matches!(r, Err(HoldError::SoldOut { available: 0, .. })))
        .count();
    assert_eq!((held, sold_out), (10, 40));
}

#[tokio::test]
async fn payments_are_created_once_per_key_confirmed_and_refunded_once_per_refund() {
    let base = simulator(10).await;
    let payments = HttpPaymentGateway::new(config(&base)).expect("client");
    let order = OrderId::from_uuid(Uuid::from_u128(200));
    let amount = Money::new(23_370, Currency::Usd);
    let intent = payments
        .create_intent(tenant(), order, amount, in_an_hour(), "order-200")
        .await
        .expect("intent");
    let same = payments
        .create_intent(tenant(), order, amount, in_an_hour(), "order-200")
        .await
        .expect("intent");
    assert_eq!(intent.id, same.id);
    assert!(intent.client_secret.is_some());

    let refund = RefundId::from_uuid(Uuid::from_u128(300));
    let unpaid = payments
        .refund(&intent.id, refund, Money::new(100, Currency::Usd))
        .await;
    assert!(matches!(unpaid, Err(PaymentError::Declined(_))));
    payments.confirm_intent(&intent.id).await.expect("confirm");
    let reference = payments
        .refund(&intent.id, refund, Money::new(10_000, Currency::Usd))
        .await
        .expect("refund");
    let again = payments
        .refund(&intent.id, refund, Money::new(10_000, Currency::Usd))
        .await
        .expect("refund");
    assert_eq!(reference, again, "the refund id makes a retry safe");
    let too_much = payments
        .refund(
            &intent.id,
            RefundId::from_uuid(Uuid::from_u128(301)),
            Money::new(20_000, Currency::Usd),
        )
        .await;
    assert_eq!(
        too_much,
        Err(PaymentError::Declined("refund_exceeds_payment".into()))
    );

    let other = payments
        .create_intent(
            tenant(),
            OrderId::from_uuid(Uuid::from_u128(201)),
            amount,
            in_an_hour(),
            "order-201",
        )
        .await
        .expect("intent");
    payments.cancel_intent(&other.id).await.expect("cancel");
}

#[tokio::test]
async fn a_wrong_service_key_is_rejected_and_a_dead_upstream_is_unavailable() {
    let base = simulator(10).await;
    let wrong = UpstreamConfig {
        service_key: Some("nope".into()),
        ..UpstreamConfig::new(&base)
    };
    let events = HttpEventCatalog::new(wrong).expect("client");
    assert!(matches!(
        events.event(tenant(), event()).await,
        Err(UpstreamError::Rejected {
            service: "events",
            ..
        })
    ));
    // Nothing listens on port 9 of loopback.
    let dead = UpstreamConfig {
        timeout: std::time::Duration::from_millis(500),
        ..UpstreamConfig::new("http://127.0.0.1:9")
    };
    let events = HttpEventCatalog::new(dead).expect("client");
    assert!(matches!(
        events.event(tenant(), event()).await,
        Err(UpstreamError::Unavailable {
            service: "events",
            ..
        })
    ));
}

fn in_an_hour() -> OffsetDateTime {
    OffsetDateTime::now_utc() + Duration::hours(1)
}

#[tokio::test]
async fn an_intent_left_unconfirmed_lapses_at_its_expiry() {
    let base = simulator(10).await;
    let payments = HttpPaymentGateway::new(config(&base)).expect("client");
    let intent = payments
        .create_intent(
            tenant(),
            OrderId::from_uuid(Uuid::from_u128(202)),
            Money::new(1_000, Currency::Usd),
            OffsetDateTime::now_utc() + Duration::milliseconds(200),
            "order-202",
        )
        .await
        .expect("intent");
    // The payment service lets it lapse on its own clock.
    order_test_support::eventually(
        "the intent lapses",
        std::time::Duration::from_secs(5),
        || async {
            let state: serde_json::Value = reqwest::get(format!("{base}/_admin/state"))
                .await
                .expect("simulator")
                .json()
                .await
                .expect("json");
            (state["payments"][0]["status"] == "CANCELED").then_some(())
        },
    )
    .await;
    assert!(
        payments.confirm_intent(&intent.id).await.is_err(),
        "a lapsed intent cannot be paid"
    );
}

/// Event-service requests the simulator served.
async fn event_requests(base: &str) -> u64 {
    let faults: serde_json::Value = reqwest::get(format!("{base}/_admin/faults"))
        .await
        .expect("simulator")
        .json()
        .await
        .expect("json");
    faults["events"]["requests"].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn recent_events_come_from_the_cache_and_events_always_from_the_service() {
    let base = simulator(10).await;
    let events = HttpEventCatalog::with_cache(config(&base), std::time::Duration::from_secs(60))
        .expect("client");
    for _ in 0..5 {
        let info = events
            .recent_event(tenant(), event())
            .await
            .expect("call")
            .expect("found");
        assert_eq!(info.id, event());
    }
    assert_eq!(event_requests(&base).await, 1, "one fetch for five reads");
    events.event(tenant(), event()).await.expect("call");
    assert_eq!(event_requests(&base).await, 2, "a fresh read always asks");
}

#[tokio::test]
async fn the_ticket_service_refuses_holds_for_an_event_that_is_not_on_sale() {
    let mut seed = catalog(10);
    seed.events[0].status = "CANCELLED".into();
    let (addr, _handle) = order_simulator::start(
        "127.0.0.1:0",
        order_simulator::Simulator::new(seed, Some(KEY.into())),
    )
    .expect("simulator");
    let base = format!("http://{addr}");
    let tickets = HttpTicketService::new(config(&base)).expect("client");
    let order = OrderId::from_uuid(Uuid::from_u128(100));
    let expires = OffsetDateTime::now_utc() + Duration::minutes(15);
    assert_eq!(
        tickets
            .hold(tenant(), order, event(), &[line(1)], expires)
            .await,
        Err(HoldError::NotOnSale)
    );
}

#[tokio::test]
async fn many_holds_are_released_in_one_call_and_unknown_ones_are_fine() {
    let base = simulator(10).await;
    let tickets = HttpTicketService::new(config(&base)).expect("client");
    let expires = OffsetDateTime::now_utc() + Duration::minutes(15);
    let mut holds = Vec::new();
    for n in 0..3u128 {
        let order = OrderId::from_uuid(Uuid::from_u128(200 + n));
        let hold = tickets
            .hold(tenant(), order, event(), &[line(3)], expires)
            .await
            .expect("hold");
        holds.push(hold.hold_id);
    }
    let available = |tickets: &HttpTicketService| {
        let tickets = tickets.clone();
        async move {
            tickets
                .prices(tenant(), event(), &[line(1)])
                .await
                .expect("prices")[0]
                .available
        }
    };
    assert_eq!(available(&tickets).await, 1);
    holds.push(HoldId::new("hold_unknown"));
    tickets.release_all(&holds).await.expect("released");
    assert_eq!(available(&tickets).await, 10);
    tickets
        .release_all(&holds)
        .await
        .expect("releasing again is fine");
}

fn order(n: u128) -> OrderId {
    OrderId::from_uuid(Uuid::from_u128(1_000 + n))
}

fn shirts(quantity: u32) -> Vec<StockLine> {
    vec![StockLine {
        product_id: shirt(),
        quantity,
    }]
}

fn california() -> order_domain::order::Address {
    order_domain::order::Address {
        name: "Ada Lovelace".into(),
        line1: "1 Market St".into(),
        line2: None,
        city: "San Francisco".into(),
        region: Some("CA".into()),
        postal_code: "94105".into(),
        country: "US".into(),
        phone: None,
    }
}

#[tokio::test]
async fn products_come_with_sku_picture_and_a_price_per_attribute_set() {
    let base = simulator(10).await;
    let products = HttpProductCatalog::new(config(&base)).expect("client");
    let unknown = ProductId::from_uuid(Uuid::from_u128(77));
    let found = products
        .products(tenant(), &[shirt(), unknown])
        .await
        .expect("lookup");
    assert_eq!(found.len(), 1, "unknown products are left out");
    let tee = &found[0];
    assert_eq!((tee.sku.as_str(), tee.active), ("TEE-1", true));
    assert_eq!(
        tee.image_url.as_deref(),
        Some("https://img.example/tee.png")
    );
    let xl = [("size".to_owned(), "XL".to_owned())].into();
    assert_eq!(tee.price_for(&xl), Money::new(2_500, Currency::Usd));
    assert_eq!(
        tee.price_for(&Default::default()),
        Money::new(2_000, Currency::Usd)
    );
    let other_tenant = TenantId::from_uuid(Uuid::from_u128(9));
    assert!(
        products
            .products(other_tenant, &[shirt()])
            .await
            .expect("lookup")
            .is_empty(),
        "another shop's products are not ours"
    );
}

#[tokio::test]
async fn stock_is_reserved_all_or_nothing_committed_allocated_and_released() {
    let base = simulator(5).await;
    let inventory = HttpInventoryService::new(config(&base)).expect("client");
    let expires = OffsetDateTime::now_utc() + Duration::minutes(30);
    let free = inventory
        .availability(tenant(), &shirts(6))
        .await
        .expect("availability");
    assert_eq!((free[0].available, free[0].in_stock), (5, false));

    let hold = inventory
        .reserve(tenant(), order(1), &shirts(3), expires)
        .await
        .expect("reserved");
    let again = inventory
        .reserve(tenant(), order(1), &shirts(3), expires)
        .await
        .expect("idempotent");
    assert_eq!(hold.hold_id, again.hold_id, "one reservation per order");
    assert_eq!(
        inventory
            .reserve(tenant(), order(2), &shirts(3), expires)
            .await,
        Err(StockError::Insufficient {
            product_id: shirt(),
            available: 2
        })
    );

    assert!(
        matches!(
            inventory.allocate(tenant(), order(1)).await,
            Err(UpstreamError::NotFound { .. })
        ),
        "nothing is allocated before the commit"
    );
    inventory.commit(tenant(), order(1)).await.expect("commit");
    inventory
        .commit(tenant(), order(1))
        .await
        .expect("commit again");
    let allocation = inventory
        .allocate(tenant(), order(1))
        .await
        .expect("allocate");
    assert_eq!(allocation.picks.len(), 1);
    assert_eq!(allocation.picks[0].quantity, 3);
    assert_eq!(
        inventory.allocate(tenant(), order(1)).await.expect("again"),
        allocation,
        "the same pick list every time"
    );

    inventory
        .reserve(tenant(), order(3), &shirts(2), expires)
        .await
        .expect("the rest");
    inventory
        .release(tenant(), order(3))
        .await
        .expect("release");
    inventory
        .release(tenant(), order(3))
        .await
        .expect("release again");
    let free = inventory
        .availability(tenant(), &shirts(2))
        .await
        .expect("availability");
    assert_eq!((free[0].available, free[0].in_stock), (2, true));
}

#[tokio::test]
async fn concurrent_reservations_never_exceed_the_stock() {
    let base = simulator(10).await;
    let inventory = HttpInventoryService::new(config(&base)).expect("client");
    let expires = OffsetDateTime::now_utc() + Duration::minutes(30);
    let attempts = (0..40).map(|n| {
        let inventory = inventory.clone();
        async move {
            inventory
                .reserve(tenant(), order(100 + n), &shirts(1), expires)
                .await
        }
    });
    let results = join_all(attempts).await;
    let reserved = results.iter().filter(|r| r.is_ok()).count();
    let short = results
        .iter()
        .filter(|r| matches!(r, Err(StockError::Insufficient { .. })))
        .count();
    assert_eq!((reserved, short), (10, 30));
}

#[tokio::test]
async fn shipping_quotes_each_method_and_makes_one_label_per_order() {
    let base = simulator(1).await;
    let shipping = HttpShippingService::new(config(&base)).expect("client");
    let rates = shipping
        .rates(tenant(), &california())
        .await
        .expect("rates");
    let methods: Vec<_> = rates.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["standard", "express", "overnight"]);
    assert!(rates.iter().all(|r| r.price.currency() == Currency::Usd));
    let label = shipping
        .create_label(tenant(), order(1), &california(), "express")
        .await
        .expect("label");
    assert!(!label.tracking_number.is_empty() && label.label_url.starts_with("https://"));
    assert_eq!(
        shipping
            .create_label(tenant(), order(1), &california(), "express")
            .await
            .expect("again"),
        label,
        "a retried label is the same label"
    );
    assert!(matches!(
        shipping
            .create_label(tenant(), order(2), &california(), "teleport")
            .await,
        Err(UpstreamError::Rejected { .. })
    ));
}

#[tokio::test]
async fn a_notification_sent_twice_is_recorded_once() {
    let base = simulator(1).await;
    let notifier = HttpNotifier::new(config(&base)).expect("client");
    let notification = Notification {
        id: DomainEventId::from_uuid(Uuid::from_u128(42)),
        tenant_id: tenant(),
        user_id: UserId::from_uuid(Uuid::from_u128(3)),
        email: order_domain::order::ContactEmail::parse("ada@example.com").ok(),
        order_id: order(1),
        order_number: "ORD-20261202-ABC123".parse().expect("number"),
        template: "order.shipped".into(),
        status: order_domain::order::OrderStatus::Shipped,
        tracking_number: Some("1Z-9".into()),
        invoice_number: None,
    };
    notifier.notify(&notification).await.expect("sent");
    notifier.notify(&notification).await.expect("sent again");
    let recorded: serde_json::Value = reqwest::get(format!("{base}/_admin/notifications"))
        .await
        .expect("admin")
        .json()
        .await
        .expect("json");
    let list = recorded["notifications"].as_array().expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["template"], "order.shipped");
    assert_eq!(list[0]["email"], "ada@example.com");
    assert_eq!(list[0]["status"], "SHIPPED");
    assert_eq!(list[0]["trackingNumber"], "1Z-9");
}

#[tokio::test]
async fn injected_faults_make_the_shop_services_unavailable() {
    let base = simulator(5).await;
    let client = reqwest::Client::new();
    client
        .put(format!("{base}/_admin/faults"))
        .json(&serde_json::json!({ "inventory": { "errorPercent": 100 } }))
        .send()
        .await
        .expect("faults");
    let inventory = HttpInventoryService::new(UpstreamConfig {
        resilience: order_http_clients::Resilience {
            max_retries: 0,
            ..order_http_clients::Resilience::default()
        },
        ..config(&base)
    })
    .expect("client");
    assert!(matches!(
        inventory.availability(tenant(), &shirts(1)).await,
        Err(UpstreamError::Unavailable { .. })
    ));
    let products = HttpProductCatalog::new(config(&base)).expect("client");
    assert!(
        products.products(tenant(), &[shirt()]).await.is_ok(),
        "a fault of one service leaves the others alone"
    );
}
