//! The library contract another service relies on: pricing, the aggregate, a port implemented
//! here, the ready adapters, and the mocks harness.

use std::sync::Arc;

use another_service::{Programme, quote, system_ports};
use order_domain::actor::{Actor, RequestContext, Role};
use order_domain::adapters::{ManualClock, MemoryStore};
use order_domain::ids::{
    EventId, HoldId, OrderId, OrderItemId, OrderNumber, PaymentIntentId, TenantId, TicketPricingId,
    TicketTypeId, UserId,
};
use order_domain::money::Currency;
use order_domain::order::{
    ItemProduct, NewOrder, NewOrderItem, Order, OrderError, OrderKind, price_items,
};
use order_domain::policy::DomainConfig;
use order_domain::ports::{
    Clock, EventCatalog, OrderChange, OrderFilter, OrderPageRequest, UnitOfWork,
};
use order_domain::pricing::FeeSchedule;
use order_domain::testing::MockPorts;
use order_domain::time::{Duration, macros::datetime};
use order_domain::use_cases::{GoodsCatalogConfig, OrderService, ReadError};
use order_domain::uuid::Uuid;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// A request of customer `user` in tenant `tenant`.
fn customer(tenant: u128, user: u128) -> RequestContext {
    RequestContext {
        tenant_id: TenantId::from_uuid(id(tenant)),
        actor: Actor::User {
            id: UserId::from_uuid(id(user)),
            roles: vec![Role::Customer],
            vip: false,
        },
        ip: None,
    }
}

#[test]
fn two_tickets_of_100_cost_the_specs_worked_example() {
    assert_eq!(quote(10_000, 2).expect("priced").minor(), 23_370);
}

/// A new ticket order of buyer 3 in tenant 2: two tickets of 100.00 for event 4.
fn new_order(now: order_domain::time::OffsetDateTime) -> Order {
    let items = vec![NewOrderItem {
        id: OrderItemId::from_uuid(id(10)),
        product: ItemProduct::Ticket {
            ticket_type_id: TicketTypeId::from_uuid(id(20)),
            ticket_pricing_id: TicketPricingId::from_uuid(id(30)),
        },
        quantity: 2,
        unit_price: 10_000,
    }];
    let (order, _) = Order::create(NewOrder {
        id: OrderId::from_uuid(id(1)),
        tenant_id: TenantId::from_uuid(id(2)),
        number: OrderNumber::new(now.date(), 7),
        user_id: UserId::from_uuid(id(3)),
        kind: OrderKind::Ticket,
        event_id: Some(EventId::from_uuid(id(4))),
        priced: price_items(&FeeSchedule::tickets(), Currency::Usd, &items).expect("priced"),
        items,
        goods: Default::default(),
        metadata: Default::default(),
        contact_email: None,
        expires_at: now + Duration::minutes(15),
        now,
    })
    .expect("created");
    order
}

#[test]
fn an_order_is_created_reserved_and_confirmed_and_refuses_to_go_back() {
    let now = datetime!(2026-12-01 12:00 UTC);
    let mut order = new_order(now);
    assert_eq!(order.created_at(), now);
    assert!(order.number().as_str().starts_with("ORD-20261201-"));
    order
        .reserve(HoldId::new("h"), now + Duration::minutes(15), now)
        .expect("reserved");
    assert_eq!(
        order.confirm(&PaymentIntentId::new("pi"), now),
        Err(OrderError::NoPaymentIntent),
        "no intent, no confirmation"
    );
    order
        .attach_payment_intent(PaymentIntentId::new("pi"))
        .expect("intent");
    order
        .confirm(&PaymentIntentId::new("pi"), now)
        .expect("confirmed");
    let refused = order
        .reserve(HoldId::new("h2"), now + Duration::minutes(30), now)
        .expect_err("no way back");
    assert_eq!(
        refused.to_string(),
        "a TICKET order cannot go from CONFIRMED to RESERVED"
    );
}

#[tokio::test]
async fn the_programme_answers_as_an_event_catalog() {
    let mut programme = Programme::default();
    let (tenant, show) = (TenantId::from_uuid(id(1)), EventId::from_uuid(id(2)));
    programme.schedule(tenant, show, datetime!(2027-06-01 20:00 UTC));
    let catalog: Arc<dyn EventCatalog> = Arc::new(programme);
    assert!(catalog.event(tenant, show).await.expect("answer").is_some());
    assert!(
        catalog
            .event(TenantId::from_uuid(id(9)), show)
            .await
            .expect("answer")
            .is_none(),
        "another tenant's show is not there"
    );
}

#[test]
fn the_ready_clocks_tell_the_time() {
    let (clock, ids) = system_ports();
    assert!(clock.now() > datetime!(2026-01-01 0:00 UTC));
    assert_eq!(ids.uuid().get_version_num(), 7);
    let manual = ManualClock::at(datetime!(2026-12-01 12:00 UTC));
    manual.advance(Duration::hours(1));
    assert_eq!(manual.now(), datetime!(2026-12-01 13:00 UTC));
}

#[tokio::test]
async fn a_use_case_runs_against_the_mocks_harness() {
    let mut mocks = MockPorts::new(datetime!(2026-12-01 12:00 UTC));
    mocks
        .orders
        .expect_find()
        .times(1)
        .returning(|_, _| Ok(None));
    let service = OrderService::new(
        mocks.into_ports(),
        DomainConfig::default(),
        GoodsCatalogConfig::default(),
    );
    let buyer = customer(1, 2);
    let answer = service.get_order(&buyer, OrderId::from_uuid(id(3))).await;
    assert!(matches!(answer, Err(ReadError::NotFound { .. })));
}

#[tokio::test]
async fn a_service_wires_only_the_ports_it_calls() {
    let mut orders = order_domain::ports::MockOrderRepository::new();
    orders.expect_find().returning(|_, _| Ok(None));
    let (clock, ids) = system_ports();
    let ports = order_domain::use_cases::Ports::builder(clock, ids)
        .orders(Arc::new(orders))
        .build();
    let service = OrderService::new(
        ports,
        DomainConfig::default(),
        GoodsCatalogConfig::default(),
    );
    let buyer = customer(1, 2);
    assert!(matches!(
        service.get_order(&buyer, OrderId::from_uuid(id(3))).await,
        Err(ReadError::NotFound { .. })
    ));
    let unwired = service.due_for_expiry(10).await.expect_err("not wired");
    assert!(
        order_domain::cause::Chain(&unwired)
            .to_string()
            .contains("OrderScans is not wired"),
        "{unwired}"
    );
}

#[tokio::test]
async fn orders_stored_in_memory_are_listed_by_the_use_cases_and_fall_due_with_the_clock() {
    let now = datetime!(2026-12-01 12:00 UTC);
    let clock = Arc::new(ManualClock::at(now));
    let store = Arc::new(MemoryStore::new(clock.clone()));
    let mut order = new_order(now);
    let events = order
        .reserve(HoldId::new("h"), now + Duration::minutes(15), now)
        .expect("reserved");
    assert_eq!(events[0].name(), "order.reserved");
    store
        .commit(&OrderChange {
            order: order.clone(),
            audit: Vec::new(),
            outbox: Vec::new(),
            consumed_cart: None,
            promo_redemption: None,
            inbox: None,
            quota: None,
            idempotency: None,
            refund_key: None,
            ledger: Vec::new(),
            documents: Vec::new(),
        })
        .await
        .expect("stored");
    let ports = order_domain::use_cases::Ports::builder(
        clock.clone(),
        Arc::new(order_domain::adapters::SequentialIds::default()),
    )
    .storage(store)
    .build();
    let service = OrderService::new(
        ports,
        DomainConfig::default(),
        GoodsCatalogConfig::default(),
    );
    let buyer = customer(2, 3);
    let page = OrderPageRequest {
        limit: 10,
        offset: 0,
        after: None,
    };
    let mine = service
        .list_orders(&buyer, OrderFilter::default(), page)
        .await
        .expect("listed");
    assert_eq!(mine.total, 1);
    assert_eq!(mine.orders[0].id(), order.id());
    assert_eq!(mine.orders[0].version(), 1, "stored once");

    assert!(service.due_for_expiry(10).await.expect("scan").is_empty());
    clock.advance(Duration::hours(1));
    let due = service.due_for_expiry(10).await.expect("scan");
    assert_eq!(due.len(), 1, "past its window and the grace period");
    assert_eq!(due[0].order_id, order.id());
}
