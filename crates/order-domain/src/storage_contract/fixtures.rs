//! The orders and changes the contract tests store — fixed ids and times, built through the
//! aggregate as a use case would — for an adapter's own tests too.

use std::net::{IpAddr, Ipv4Addr};

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::Storage;
use crate::actor::{Actor, Role};
use crate::audit::AuditEntry;
use crate::events::{EventEnvelope, OrderEvent};
use crate::ids::{
    AuditEntryId, DomainEventId, EventId, HoldId, OrderId, OrderItemId, OrderNumber,
    PaymentIntentId, RefundId, TenantId, TicketPricingId, TicketTypeId, UserId,
};
use crate::money::Currency;
use crate::order::{
    ContactEmail, GoodsDetails, ItemProduct, NewOrder, NewOrderItem, Order, OrderKind,
    RefundRequest, RefundScope, RefundTerms, price_items,
};
use crate::ports::OrderChange;
use crate::pricing::FeeSchedule;

/// The instant every fixture is created at.
pub const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

/// The UUID `n`.
pub fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// The tenant most fixtures belong to.
pub fn tenant_a() -> TenantId {
    TenantId::from_uuid(id(0xA))
}

/// The other tenant, which must see none of tenant A's.
pub fn tenant_b() -> TenantId {
    TenantId::from_uuid(id(0xB))
}

/// The buyer `n`.
pub fn user(n: u128) -> UserId {
    UserId::from_uuid(id(n))
}

/// The event `n`.
pub fn event(n: u128) -> EventId {
    EventId::from_uuid(id(n))
}

/// A new ticket order of two lines (10 000 × 2 and 2 500 × 1), described by name:
/// `OrderFixture::new(n).tenant(tenant_b()).buyer(8).event(10).minutes_later(5).build()`. `n`
/// makes its ids and its number unique; the rest defaults to tenant A, buyer 7, event 9, created
/// at [`NOW`].
#[derive(Debug, Clone)]
pub struct OrderFixture {
    n: u128,
    tenant: TenantId,
    buyer: u128,
    event: u128,
    minutes_later: i64,
    number: Option<OrderNumber>,
    email: &'static str,
}

impl OrderFixture {
    /// Order `n` of buyer 7 for event 9 in tenant A, created at [`NOW`].
    pub fn new(n: u128) -> Self {
        Self {
            n,
            tenant: tenant_a(),
            buyer: 7,
            event: 9,
            minutes_later: 0,
            number: None,
            email: "buyer@example.com",
        }
    }

    /// In `tenant`.
    pub fn tenant(mut self, tenant: TenantId) -> Self {
        self.tenant = tenant;
        self
    }

    /// Bought by [`user`]`(buyer)`.
    pub fn buyer(mut self, buyer: u128) -> Self {
        self.buyer = buyer;
        self
    }

    /// For [`event`]`(event)`.
    pub fn event(mut self, event: u128) -> Self {
        self.event = event;
        self
    }

    /// Created `minutes` after [`NOW`].
    pub fn minutes_later(mut self, minutes: i64) -> Self {
        self.minutes_later = minutes;
        self
    }

    /// Numbered `number` (by default a number made from `n`).
    pub fn number(mut self, number: OrderNumber) -> Self {
        self.number = Some(number);
        self
    }

    /// With `email` as its contact e-mail (by default `buyer@example.com`).
    pub fn email(mut self, email: &'static str) -> Self {
        self.email = email;
        self
    }

    /// The PENDING order.
    pub fn build(self) -> Order {
        let n = self.n;
        let items: Vec<NewOrderItem> = [(10_000i64, 2u32), (2_500, 1)]
            .iter()
            .zip(0_u128..)
            .map(|(&(unit_price, quantity), i)| NewOrderItem {
                id: OrderItemId::from_uuid(id(n * 1_000 + i)),
                product: ItemProduct::Ticket {
                    ticket_type_id: TicketTypeId::from_uuid(id(500)),
                    ticket_pricing_id: TicketPricingId::from_uuid(id(501)),
                },
                quantity,
                unit_price,
            })
            .collect();
        let priced = price_items(&FeeSchedule::tickets(), Currency::Usd, &items)
            .expect("the fixture's lines price");
        let number = self.number.unwrap_or_else(|| {
            OrderNumber::new(NOW.date(), u32::try_from(n).expect("small fixture numbers"))
        });
        let created = NOW + Duration::minutes(self.minutes_later);
        let (order, _) = Order::create(NewOrder {
            id: OrderId::from_uuid(id(n)),
            tenant_id: self.tenant,
            number,
            user_id: user(self.buyer),
            kind: OrderKind::Ticket,
            event_id: Some(event(self.event)),
            items,
            priced,
            goods: GoodsDetails::default(),
            metadata: Default::default(),
            contact_email: Some(ContactEmail::parse(self.email).expect("the fixture's e-mail")),
            expires_at: created + Duration::minutes(15),
            now: created,
        })
        .expect("the fixture is a valid order");
        order
    }
}

/// The customer every fixture's audit entries name.
pub fn actor() -> Actor {
    Actor::User {
        id: user(7),
        roles: vec![Role::Customer],
        vip: false,
    }
}

/// A change carrying one audit entry and one outbox event per domain event; `seed` makes their
/// ids unique.
pub fn change(order: &Order, events: Vec<OrderEvent>, seed: u128) -> OrderChange {
    let ip = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 4));
    let audit = events
        .iter()
        .zip(0_u128..)
        .map(|(e, i)| AuditEntry {
            id: AuditEntryId::from_uuid(id(seed + i)),
            tenant_id: order.tenant_id(),
            order_id: order.id(),
            event_type: e.name().to_owned(),
            from_status: e.status_change().map(|(from, _)| from),
            to_status: e.status_change().map(|(_, to)| to),
            actor: actor(),
            ip: Some(ip),
            metadata: e.payload(),
            occurred_at: order.record().milestones.updated_at,
        })
        .collect();
    let outbox = events
        .into_iter()
        .zip(0_u128..)
        .map(|(e, i)| {
            EventEnvelope::new(
                DomainEventId::from_uuid(id(seed + 100 + i)),
                order.tenant_id(),
                order.id(),
                order.record().milestones.updated_at,
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
        refund_key: None,
        ledger: Vec::new(),
        documents: Vec::new(),
    }
}

/// The change that reserves `order` (new), as the creation use case commits it.
pub fn reserved(mut order: Order, seed: u128) -> (Order, OrderChange) {
    let at = order.created_at();
    let events = order
        .reserve(
            HoldId::new(format!("hold-{seed}")),
            at + Duration::minutes(15),
            at,
        )
        .expect("a new order can be reserved");
    let change = change(&order, events, seed);
    (order, change)
}

/// Stores `order` reserved and returns it as stored (version 1).
pub async fn store_reserved(store: &impl Storage, order: Order, seed: u128) -> Order {
    let (mut order, change) = reserved(order, seed);
    store.commit(&change).await.expect("a new order commits");
    order.mark_committed();
    order
}

/// Confirms a stored reserved order (payment attached) and stores it.
pub async fn store_confirmed(store: &impl Storage, mut order: Order, seed: u128) -> Order {
    let intent = PaymentIntentId::new(format!("pi-{seed}"));
    order
        .attach_payment_intent(intent.clone())
        .expect("a reserved order takes a payment intent");
    let events = order
        .confirm(&intent, order.created_at())
        .expect("a reserved order with its intent confirms");
    store
        .commit(&change(&order, events, seed))
        .await
        .expect("the confirmation commits");
    order.mark_committed();
    order
}

/// Whether a requested refund is approved at once or waits for an admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    /// Approved with the request.
    Automatic,
    /// PENDING until an admin decides.
    Review,
}

/// Requests a refund of 1 000 of `order` (confirmed), at [`NOW`].
pub fn request_refund_of_1_000(
    order: &mut Order,
    refund: RefundId,
    approval: Approval,
) -> Vec<OrderEvent> {
    let terms = RefundTerms {
        refundable_max: order.total().minor(),
        retained: 0,
    };
    order
        .request_refund(
            RefundRequest {
                id: refund,
                scope: RefundScope::Amount(1_000),
                reason: "changed plans".into(),
                requested_by: "buyer".into(),
                auto_approve_below: match approval {
                    Approval::Automatic => i64::MAX,
                    Approval::Review => 0,
                },
            },
            terms,
            NOW,
        )
        .expect("a confirmed order can refund 1 000")
}
