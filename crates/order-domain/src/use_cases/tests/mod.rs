//! Use-case tests against mockall mocks of every port. A mock without an expectation panics
//! when called, so "nothing persisted" and "no upstream call" are asserted by omission.

mod analytics;
mod carts;
mod create;
mod expiry;
mod idempotency;
mod lifecycle;
mod line_cancellation;
mod messages;
mod notifications;
mod payouts;
mod personal_data;
mod reconciliation;
mod refunds;
mod webhooks;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{GoodsCatalogConfig, OrderService};
use crate::actor::{Actor, RequestContext, Role};
use crate::ids::{EventId, HoldId, OrderId, PaymentIntentId, TenantId, UserId};
use crate::money::Currency;
use crate::order::{Order, OrderKind, OrderStatus, Shipment};
use crate::policy::DomainConfig;
use crate::ports::*;
use crate::testing::MockPorts;

pub(super) const T0: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

pub(super) fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// The tenant, owner and event of the aggregate fixtures (`order::tests::pending`).
pub(super) fn tenant() -> TenantId {
    TenantId::from_uuid(uuid(2))
}
pub(super) fn owner() -> UserId {
    UserId::from_uuid(uuid(3))
}
pub(super) fn event_id() -> EventId {
    EventId::from_uuid(uuid(4))
}
pub(super) fn order_id() -> OrderId {
    OrderId::from_uuid(uuid(1))
}

pub(super) fn customer() -> RequestContext {
    RequestContext {
        tenant_id: tenant(),
        actor: Actor::User {
            id: owner(),
            roles: vec![Role::Customer],
            vip: false,
        },
        ip: Some("203.0.113.7".parse().expect("ip")),
    }
}

pub(super) fn stranger() -> RequestContext {
    RequestContext {
        actor: Actor::User {
            id: UserId::from_uuid(uuid(99)),
            roles: vec![Role::Customer],
            vip: false,
        },
        ..customer()
    }
}

pub(super) fn admin() -> RequestContext {
    RequestContext {
        actor: Actor::User {
            id: UserId::from_uuid(uuid(50)),
            roles: vec![Role::Admin],
            vip: false,
        },
        ..customer()
    }
}

pub(super) fn warehouse() -> RequestContext {
    RequestContext {
        actor: Actor::User {
            id: UserId::from_uuid(uuid(51)),
            roles: vec![Role::Warehouse],
            vip: false,
        },
        ..customer()
    }
}

pub(super) fn service_caller() -> RequestContext {
    RequestContext {
        actor: Actor::Service {
            name: "payment".into(),
        },
        ip: None,
        ..customer()
    }
}

/// A stored order of `kind` driven to `status` (version 1).
pub(super) fn stored(kind: OrderKind, status: OrderStatus) -> Order {
    let mut order = crate::order::tests::pending(kind);
    let path: &[OrderStatus] = match status {
        OrderStatus::Pending => &[],
        OrderStatus::Reserved => &[OrderStatus::Reserved],
        OrderStatus::Confirmed => &[OrderStatus::Reserved, OrderStatus::Confirmed],
        OrderStatus::Processing => &[
            OrderStatus::Reserved,
            OrderStatus::Confirmed,
            OrderStatus::Processing,
        ],
        OrderStatus::Shipped => &[
            OrderStatus::Reserved,
            OrderStatus::Confirmed,
            OrderStatus::Processing,
            OrderStatus::Shipped,
        ],
        OrderStatus::Delivered => &[
            OrderStatus::Reserved,
            OrderStatus::Confirmed,
            OrderStatus::Processing,
            OrderStatus::Shipped,
            OrderStatus::Delivered,
        ],
        OrderStatus::Expired => &[OrderStatus::Reserved, OrderStatus::Expired],
        OrderStatus::Cancelled => &[OrderStatus::Cancelled],
        other => panic!("no fixture for {other}"),
    };
    order
        .attach_payment_intent(PaymentIntentId::new("pi-1"))
        .expect("intent");
    for step in path {
        match step {
            OrderStatus::Reserved => {
                order.reserve(HoldId::new("hold-1"), T0 + Duration::minutes(15), T0)
            }
            OrderStatus::Confirmed => order.confirm(&PaymentIntentId::new("pi-1"), T0),
            OrderStatus::Processing => order.start_fulfillment(T0),
            OrderStatus::Shipped => order.ship(
                Shipment {
                    carrier: "ACME".into(),
                    tracking_number: "1Z".into(),
                    label_url: None,
                    estimated_delivery: None,
                },
                T0,
            ),
            OrderStatus::Delivered => order.deliver(T0),
            OrderStatus::Expired => order.expire(T0 + Duration::hours(1)),
            OrderStatus::Cancelled => order.cancel("x", None, T0),
            _ => unreachable!(),
        }
        .expect("fixture step");
    }
    order.mark_committed();
    order
}

/// Every port as a mock ([`MockPorts`], reached through `Deref`: `h.orders`), plus a record of
/// what was committed.
pub(super) struct Harness {
    mocks: MockPorts,
    pub(super) now: OffsetDateTime,
    pub(super) config: DomainConfig,
    pub(super) commits: Arc<Mutex<Vec<OrderChange>>>,
}

impl std::ops::Deref for Harness {
    type Target = MockPorts;

    fn deref(&self) -> &MockPorts {
        &self.mocks
    }
}

impl std::ops::DerefMut for Harness {
    fn deref_mut(&mut self) -> &mut MockPorts {
        &mut self.mocks
    }
}

impl Harness {
    pub(super) fn new() -> Self {
        Self {
            mocks: MockPorts::new(T0),
            now: T0,
            config: DomainConfig::default(),
            commits: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// `find` answers with `order` (visible in its tenant only).
    pub(super) fn with_order(mut self, order: Order) -> Self {
        self.orders.expect_find().returning(move |tenant, id| {
            Ok((tenant == order.tenant_id() && id == order.id()).then(|| order.clone()))
        });
        self
    }

    /// Every commit succeeds and is recorded.
    pub(super) fn committing(mut self) -> Self {
        let commits = Arc::clone(&self.commits);
        self.unit_of_work.expect_commit().returning(move |change| {
            commits.lock().expect("lock").push(change.clone());
            Ok(())
        });
        self
    }

    /// The event of the fixtures, on sale, starting in `starts_in`.
    pub(super) fn with_event(mut self, starts_in: Duration, status: EventStatus) -> Self {
        let starts_at = self.now + starts_in;
        let info = move |id| EventInfo {
            id,
            starts_at,
            status,
            currency: Currency::Usd,
        };
        self.events
            .expect_event()
            .returning(move |_, id| Ok(Some(info(id))));
        self.events
            .expect_recent_event()
            .returning(move |_, id| Ok(Some(info(id))));
        self
    }

    pub(super) fn build(self) -> (OrderService, Arc<Mutex<Vec<OrderChange>>>) {
        let now = self.now;
        let mut ports = self.mocks.into_ports();
        let mut clock = MockClock::new();
        clock.expect_now().return_const(now);
        ports.clock = Arc::new(clock);
        let counter = Arc::new(AtomicU64::new(1_000));
        let mut ids = MockIdGenerator::new();
        ids.expect_uuid().returning(move || {
            Uuid::from_u128(u128::from(counter.fetch_add(1, Ordering::Relaxed)))
        });
        // Every draw another number, so that a redrawn number is visibly new.
        let entropy = AtomicU64::new(0x1234_5678);
        ids.expect_order_number_entropy()
            .returning(move || u32::try_from(entropy.fetch_add(1, Ordering::Relaxed)).unwrap_or(0));
        ports.ids = Arc::new(ids);
        (
            OrderService::new(ports, self.config, GoodsCatalogConfig::default()),
            self.commits,
        )
    }
}

pub(super) fn event_names(change: &OrderChange) -> Vec<&'static str> {
    change.outbox.iter().map(|e| e.event.name()).collect()
}

pub(super) fn audit_names(change: &OrderChange) -> Vec<String> {
    change.audit.iter().map(|a| a.event_type.clone()).collect()
}

#[test]
fn a_tenant_prices_by_its_own_tables_and_defaults_to_standard_shipping_or_its_first_method() {
    use crate::pricing::goods::ShippingMethod;
    use crate::use_cases::{GoodsCatalogConfig, GoodsCatalogs};

    let pickup_only = GoodsCatalogConfig {
        taxes: crate::pricing::goods::TaxTable::new(),
        shipping_methods: vec![ShippingMethod {
            code: "pickup".into(),
            price: 0,
            transit_days: 0,
            free_over: None,
        }],
    };
    let catalogs = GoodsCatalogs {
        default: GoodsCatalogConfig::default(),
        tenants: [(tenant(), pickup_only.clone())].into(),
    };
    let own = catalogs.for_tenant(tenant());
    assert_eq!(own, &pickup_only);
    assert_eq!(
        own.shipping_method(None).map(|m| m.code.as_str()),
        Some("pickup")
    );
    assert!(own.shipping_method(Some("standard")).is_none());
    let other = catalogs.for_tenant(TenantId::from_uuid(uuid(77)));
    assert_eq!(
        other.shipping_method(None).map(|m| m.code.as_str()),
        Some("standard")
    );
    assert_eq!(
        other
            .shipping_method(Some("express"))
            .map(|m| m.code.as_str()),
        Some("express")
    );
}
