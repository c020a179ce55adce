//! Helpers shared by the PostgreSQL integration tests: a fresh database per test and order
//! fixtures.
#![allow(dead_code, unreachable_pub)]

use std::net::IpAddr;

use order_domain::actor::{Actor, Role};
use order_domain::audit::AuditEntry;
use order_domain::events::EventEnvelope;
use order_domain::ids::*;
use order_domain::money::Currency;
use order_domain::order::{GoodsDetails, ItemProduct, NewOrder, NewOrderItem, Order, OrderKind};
use order_domain::ports::*;
use order_domain::pricing::{FeeSchedule, PricingLine, PricingRequest, price_order};
use order_postgres::PgStore;
use sqlx::postgres::PgPool;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

pub const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);
pub struct TestDb {
    pub store: PgStore,
    /// Owner connection to the same database (bypasses RLS), for checks behind the store's back.
    pub owner: PgPool,
    /// The application role's own pool, for hand-written queries.
    pub app: PgPool,
}

pub async fn fresh_db() -> TestDb {
    fresh_db_sized(5).await
}

/// A fresh database whose application pool has `connections` connections (for races).
pub async fn fresh_db_sized(connections: u32) -> TestDb {
    let db = order_postgres::setup::testing::fresh_database().await;
    let app = db.app_pool(connections).await;
    TestDb {
        store: PgStore::from_pool(app.clone(), order_postgres::setup::testing::address_keys()),
        owner: db.owner,
        app,
    }
}

pub fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

pub fn tenant_a() -> TenantId {
    TenantId::from_uuid(id(0xA))
}
pub fn tenant_b() -> TenantId {
    TenantId::from_uuid(id(0xB))
}

/// A new ticket order (10 000 × 2 and 2 500 × 1) of `tenant`, `n` making its ids unique.
pub fn new_order(tenant: TenantId, n: u128, user: u128, event: u128) -> Order {
    let lines = [(10_000i64, 2u32), (2_500, 1)];
    let priced = price_order(
        &FeeSchedule::tickets(),
        &PricingRequest {
            currency: Currency::Usd,
            lines: lines
                .iter()
                .map(|&(unit_price, quantity)| PricingLine {
                    unit_price,
                    quantity,
                })
                .collect(),
            discount: 0,
            shipping: 0,
            tax_rate: None,
        },
    )
    .expect("priced");
    let items = lines
        .iter()
        .enumerate()
        .map(|(i, &(unit_price, quantity))| NewOrderItem {
            id: OrderItemId::from_uuid(id(n * 1_000 + i as u128)),
            product: ItemProduct::Ticket {
                ticket_type_id: TicketTypeId::from_uuid(id(500)),
                ticket_pricing_id: TicketPricingId::from_uuid(id(501)),
            },
            quantity,
            unit_price,
        })
        .collect();
    let (order, _) = Order::create(NewOrder {
        id: OrderId::from_uuid(id(n)),
        tenant_id: tenant,
        number: OrderNumber::new(NOW.date(), u32::try_from(n).expect("small")),
        user_id: UserId::from_uuid(id(user)),
        kind: OrderKind::Ticket,
        event_id: Some(EventId::from_uuid(id(event))),
        items,
        priced,
        goods: GoodsDetails::default(),
        metadata: Default::default(),
        contact_email: order_domain::order::ContactEmail::parse("buyer@example.com").ok(),
        expires_at: NOW + Duration::minutes(15),
        now: NOW,
    })
    .expect("created");
    order
}

pub fn actor() -> Actor {
    Actor::User {
        id: UserId::from_uuid(id(7)),
        roles: vec![Role::Customer],
        vip: false,
    }
}

/// A change carrying one audit entry and one outbox event per domain event.
pub fn change(
    order: &Order,
    events: Vec<order_domain::events::OrderEvent>,
    seed: u128,
) -> OrderChange {
    let ip: IpAddr = "198.51.100.4".parse().expect("ip");
    let audit = events
        .iter()
        .enumerate()
        .map(|(i, e)| AuditEntry {
            id: AuditEntryId::from_uuid(id(seed + i as u128)),
            tenant_id: order.tenant_id(),
            order_id: order.id(),
            event_type: e.name().to_owned(),
            from_status: e.status_change().map(|(f, _)| f),
            to_status: e.status_change().map(|(_, t)| t),
            actor: actor(),
            ip: Some(ip),
            metadata: e.payload(),
            occurred_at: NOW,
        })
        .collect();
    let outbox = events
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            EventEnvelope::new(
                DomainEventId::from_uuid(id(seed + 100 + i as u128)),
                order.tenant_id(),
                order.id(),
                NOW,
                e,
            )
        })
        .collect();
    OrderChange {
        order: order.clone(),
        audit,
        outbox,
        consumed_cart: None,
        promo_redemption: None,
        inbox: None,
        quota: None,
        idempotency: None,
    }
}

/// Stores a new RESERVED order and returns it as stored (version 1).
pub async fn store_reserved(
    db: &TestDb,
    tenant: TenantId,
    n: u128,
    user: u128,
    event: u128,
) -> Order {
    let mut order = new_order(tenant, n, user, event);
    let events = order
        .reserve(
            HoldId::new(format!("hold-{n}")),
            NOW + Duration::minutes(15),
            NOW,
        )
        .expect("reserved");
    db.store
        .commit(&change(&order, events, n * 10_000))
        .await
        .expect("commit");
    order.mark_committed();
    order
}
