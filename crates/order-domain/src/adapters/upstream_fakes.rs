//! In-memory stand-ins for the upstream services of a ticket order (feature `memory`): a ticket
//! service with prices, quotas and holds ([`InMemoryTickets`]), a payment service with intents
//! and idempotent refunds ([`InMemoryPayments`]), an event catalog ([`InMemoryEvents`]) and a
//! notifier that keeps what it was told ([`RecordingNotifier`]). With [`MemoryStore`] they run
//! the whole ticket-order path in one process — create, pay, confirm, cancel, refund — for a
//! service's own tests or a demo.
//!
//! Each keeps its contract where the use cases rely on it: a hold never takes more tickets than
//! are left (checked and taken under one lock), a refund is paid once per refund id and never
//! beyond what was captured, an intent is created once per idempotency key. Holds and intents do
//! not lapse by themselves (there is no clock): release or cancel them.
//!
//! [`MemoryStore`]: super::MemoryStore

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::ids::{
    EventId, HoldId, OrderId, OrderItemId, PaymentIntentId, RefundId, TenantId, TicketId,
    TicketPricingId, TicketTypeId,
};
use crate::money::Money;
use crate::ports::{
    EventCatalog, EventInfo, Hold, HoldError, Notification, Notifier, PaymentError, PaymentGateway,
    PaymentIntent, PaymentRecord, Payout, TicketLine, TicketPrice, TicketService, UpstreamError,
};

fn lock<T>(state: &Mutex<T>) -> MutexGuard<'_, T> {
    // Each call leaves the state whole before it returns: a panic elsewhere cannot tear it.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One ticket type of an event: its quota and its price points.
#[derive(Debug, Clone)]
struct TicketType {
    quota: u32,
    prices: BTreeMap<TicketPricingId, Money>,
}

/// A hold and the tickets it takes, per type.
#[derive(Debug, Clone)]
struct HeldTickets {
    taken: BTreeMap<TicketTypeId, u32>,
    sold: bool,
}

#[derive(Debug, Default)]
struct TicketState {
    types: HashMap<(TenantId, EventId, TicketTypeId), TicketType>,
    holds: HashMap<HoldId, (TenantId, EventId, HeldTickets)>,
    /// The keys of the adjustments applied, so that one sent again changes nothing.
    adjustments: std::collections::HashSet<uuid::Uuid>,
    next: u64,
}

impl TicketState {
    /// Tickets of `ticket_type` neither held nor sold.
    fn available(&self, key: (TenantId, EventId, TicketTypeId)) -> u32 {
        let quota = self.types.get(&key).map_or(0, |t| t.quota);
        let taken: u32 = self
            .holds
            .values()
            .filter(|(tenant, event, _)| (*tenant, *event) == (key.0, key.1))
            .filter_map(|(_, _, held)| held.taken.get(&key.2))
            .sum();
        quota.saturating_sub(taken)
    }
}

/// A ticket service in memory: an event's ticket types with their quotas and prices, and holds
/// that take tickets until they are released or committed (sold).
///
/// ```
/// use order_domain::adapters::InMemoryTickets;
/// use order_domain::ids::{EventId, TenantId, TicketPricingId, TicketTypeId};
/// use order_domain::money::{Currency, Money};
/// use order_domain::uuid::Uuid;
///
/// let tickets = InMemoryTickets::default();
/// let (tenant, event) = (TenantId::from_uuid(Uuid::from_u128(1)), EventId::from_uuid(Uuid::from_u128(2)));
/// let (general, standard) = (TicketTypeId::from_uuid(Uuid::from_u128(3)), TicketPricingId::from_uuid(Uuid::from_u128(4)));
/// tickets.add_type(tenant, event, general, 100, [(standard, Money::new(5_000, Currency::Usd))]);
/// assert_eq!(tickets.available(tenant, event, general), 100);
/// ```
#[derive(Debug, Clone, Default)]
pub struct InMemoryTickets {
    state: Arc<Mutex<TicketState>>,
}

impl InMemoryTickets {
    /// Offers `quota` tickets of `ticket_type` for `event`, at each of `prices`.
    pub fn add_type(
        &self,
        tenant: TenantId,
        event: EventId,
        ticket_type: TicketTypeId,
        quota: u32,
        prices: impl IntoIterator<Item = (TicketPricingId, Money)>,
    ) {
        lock(&self.state).types.insert(
            (tenant, event, ticket_type),
            TicketType {
                quota,
                prices: prices.into_iter().collect(),
            },
        );
    }

    /// Tickets of `ticket_type` neither held nor sold.
    pub fn available(&self, tenant: TenantId, event: EventId, ticket_type: TicketTypeId) -> u32 {
        lock(&self.state).available((tenant, event, ticket_type))
    }
}

fn not_found() -> UpstreamError {
    UpstreamError::NotFound { service: "tickets" }
}

#[async_trait]
impl TicketService for InMemoryTickets {
    async fn prices(
        &self,
        tenant: TenantId,
        event: EventId,
        lines: &[TicketLine],
    ) -> Result<Vec<TicketPrice>, UpstreamError> {
        let state = lock(&self.state);
        Ok(lines
            .iter()
            .filter_map(|line| {
                let key = (tenant, event, line.ticket_type_id);
                let price = *state.types.get(&key)?.prices.get(&line.ticket_pricing_id)?;
                Some(TicketPrice {
                    ticket_type_id: line.ticket_type_id,
                    ticket_pricing_id: line.ticket_pricing_id,
                    price,
                    available: state.available(key),
                })
            })
            .collect())
    }

    async fn hold(
        &self,
        tenant: TenantId,
        _order: OrderId,
        event: EventId,
        lines: &[TicketLine],
        expires_at: OffsetDateTime,
    ) -> Result<Hold, HoldError> {
        let mut state = lock(&self.state);
        let mut taken: BTreeMap<TicketTypeId, u32> = BTreeMap::new();
        for line in lines {
            *taken.entry(line.ticket_type_id).or_default() += line.quantity;
        }
        for (&ticket_type, &wanted) in &taken {
            let available = state.available((tenant, event, ticket_type));
            if wanted > available {
                return Err(HoldError::SoldOut {
                    ticket_type_id: ticket_type,
                    available,
                });
            }
        }
        state.next += 1;
        let hold_id = HoldId::new(format!("hold-{}", state.next));
        state.holds.insert(
            hold_id.clone(),
            (tenant, event, HeldTickets { taken, sold: false }),
        );
        Ok(Hold {
            hold_id,
            expires_at,
        })
    }

    async fn extend(
        &self,
        hold: &HoldId,
        expires_at: OffsetDateTime,
    ) -> Result<Hold, UpstreamError> {
        let state = lock(&self.state);
        state.holds.get(hold).ok_or_else(not_found)?;
        Ok(Hold {
            hold_id: hold.clone(),
            expires_at,
        })
    }

    async fn release(&self, hold: &HoldId) -> Result<(), UpstreamError> {
        let mut state = lock(&self.state);
        // Sold tickets stay sold; releasing twice is releasing once.
        if state.holds.get(hold).is_some_and(|(_, _, held)| !held.sold) {
            state.holds.remove(hold);
        }
        Ok(())
    }

    async fn release_line(
        &self,
        hold: &HoldId,
        _line: OrderItemId,
        tickets: &TicketLine,
    ) -> Result<(), UpstreamError> {
        let mut state = lock(&self.state);
        let (_, _, held) = state.holds.get_mut(hold).ok_or_else(not_found)?;
        if let Some(count) = held.taken.get_mut(&tickets.ticket_type_id) {
            *count = count.saturating_sub(tickets.quantity);
        }
        Ok(())
    }

    async fn adjust_hold(
        &self,
        hold: &HoldId,
        key: uuid::Uuid,
        added: &[TicketLine],
        released: &[TicketLine],
    ) -> Result<(), HoldError> {
        let mut state = lock(&self.state);
        if state.adjustments.contains(&key) {
            return Ok(());
        }
        let &(tenant, event, ref held) = state.holds.get(hold).ok_or_else(not_found)?;
        if held.sold && !added.is_empty() {
            return Err(HoldError::Upstream(not_found()));
        }
        let mut wanted: BTreeMap<TicketTypeId, u32> = BTreeMap::new();
        for line in added {
            *wanted.entry(line.ticket_type_id).or_default() += line.quantity;
        }
        for (&ticket_type, &count) in &wanted {
            let available = state.available((tenant, event, ticket_type));
            if count > available {
                return Err(HoldError::SoldOut {
                    ticket_type_id: ticket_type,
                    available,
                });
            }
        }
        let (_, _, held) = state.holds.get_mut(hold).ok_or_else(not_found)?;
        for (ticket_type, count) in wanted {
            *held.taken.entry(ticket_type).or_default() += count;
        }
        for line in released {
            if let Some(count) = held.taken.get_mut(&line.ticket_type_id) {
                *count = count.saturating_sub(line.quantity);
            }
        }
        state.adjustments.insert(key);
        Ok(())
    }

    async fn hold_for_edit(
        &self,
        tenant: TenantId,
        edit: crate::ids::OrderEditId,
        event: EventId,
        lines: &[TicketLine],
        expires_at: OffsetDateTime,
    ) -> Result<Hold, HoldError> {
        self.hold(
            tenant,
            OrderId::from_uuid(*edit.as_uuid()),
            event,
            lines,
            expires_at,
        )
        .await
    }

    async fn release_all(&self, holds: &[HoldId]) -> Result<(), UpstreamError> {
        for hold in holds {
            self.release(hold).await?;
        }
        Ok(())
    }

    async fn commit(&self, hold: &HoldId) -> Result<Vec<TicketId>, UpstreamError> {
        let mut state = lock(&self.state);
        let (_, _, held) = state.holds.get_mut(hold).ok_or_else(not_found)?;
        held.sold = true;
        let count: u32 = held.taken.values().sum();
        Ok((1..=count)
            .map(|n| TicketId::new(format!("{hold}-ticket-{n}")))
            .collect())
    }
}

/// One payment intent and what happened to it.
#[derive(Debug, Clone)]
struct Intent {
    amount: Money,
    captured: bool,
    cancelled: bool,
    payouts: Vec<Payout>,
}

#[derive(Debug, Default)]
struct PaymentState {
    intents: HashMap<PaymentIntentId, Intent>,
    by_key: HashMap<String, PaymentIntentId>,
    declines: Vec<PaymentIntentId>,
    next: u64,
}

/// A payment service in memory: intents created once per idempotency key, paid by
/// [`confirm_intent`](PaymentGateway::confirm_intent) (or declined when told so with
/// [`decline`](Self::decline)), refunds paid once per refund id and never beyond the capture.
#[derive(Debug, Clone, Default)]
pub struct InMemoryPayments {
    state: Arc<Mutex<PaymentState>>,
}

impl InMemoryPayments {
    /// The next confirmation of `intent` is declined (`card_declined`).
    pub fn decline(&self, intent: &PaymentIntentId) {
        lock(&self.state).declines.push(intent.clone());
    }

    /// How much was paid back on `intent`, all refunds together.
    pub fn refunded(&self, intent: &PaymentIntentId) -> i64 {
        lock(&self.state)
            .intents
            .get(intent)
            .map_or(0, |i| i.payouts.iter().map(|p| p.amount).sum())
    }
}

fn unknown_intent() -> PaymentError {
    PaymentError::Upstream(UpstreamError::NotFound {
        service: "payments",
    })
}

#[async_trait]
impl PaymentGateway for InMemoryPayments {
    async fn create_intent(
        &self,
        _tenant: TenantId,
        _order: OrderId,
        amount: Money,
        _expires_at: OffsetDateTime,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, PaymentError> {
        let mut state = lock(&self.state);
        let id = match state.by_key.get(idempotency_key) {
            Some(id) => id.clone(),
            None => {
                state.next += 1;
                let id = PaymentIntentId::new(format!("pi_{}", state.next));
                state.intents.insert(
                    id.clone(),
                    Intent {
                        amount,
                        captured: false,
                        cancelled: false,
                        payouts: Vec::new(),
                    },
                );
                state.by_key.insert(idempotency_key.to_owned(), id.clone());
                id
            }
        };
        Ok(PaymentIntent {
            client_secret: Some(format!("{id}_secret")),
            id,
        })
    }

    async fn confirm_intent(&self, intent: &PaymentIntentId) -> Result<(), PaymentError> {
        let mut state = lock(&self.state);
        if let Some(at) = state.declines.iter().position(|d| d == intent) {
            state.declines.remove(at);
            return Err(PaymentError::Declined("card_declined".into()));
        }
        let paid = state.intents.get_mut(intent).ok_or_else(unknown_intent)?;
        if paid.cancelled {
            return Err(PaymentError::Declined("intent_canceled".into()));
        }
        paid.captured = true;
        Ok(())
    }

    async fn cancel_intent(&self, intent: &PaymentIntentId) -> Result<(), PaymentError> {
        let mut state = lock(&self.state);
        let unpaid = state.intents.get_mut(intent).ok_or_else(unknown_intent)?;
        if !unpaid.captured {
            unpaid.cancelled = true;
        }
        Ok(())
    }

    async fn refund(
        &self,
        intent: &PaymentIntentId,
        refund: RefundId,
        amount: Money,
    ) -> Result<String, PaymentError> {
        let mut state = lock(&self.state);
        let paid = state.intents.get_mut(intent).ok_or_else(unknown_intent)?;
        if let Some(done) = paid.payouts.iter().find(|p| p.refund_id == refund) {
            return Ok(done.reference.clone());
        }
        let refunded: i64 = paid.payouts.iter().map(|p| p.amount).sum();
        if !paid.captured || refunded + amount.minor() > paid.amount.minor() {
            return Err(PaymentError::Upstream(UpstreamError::Rejected {
                service: "payments",
                detail: "refund_exceeds_capture".into(),
            }));
        }
        let reference = format!("re_{refund}");
        paid.payouts.push(Payout {
            refund_id: refund,
            amount: amount.minor(),
            reference: reference.clone(),
        });
        Ok(reference)
    }

    async fn payment(
        &self,
        intent: &PaymentIntentId,
    ) -> Result<Option<PaymentRecord>, PaymentError> {
        Ok(lock(&self.state)
            .intents
            .get(intent)
            .map(|paid| PaymentRecord {
                captured: if paid.captured {
                    paid.amount.minor()
                } else {
                    0
                },
                payouts: paid.payouts.clone(),
            }))
    }
}

/// An event catalog in memory.
#[derive(Debug, Clone, Default)]
pub struct InMemoryEvents {
    events: Arc<Mutex<HashMap<(TenantId, EventId), EventInfo>>>,
}

impl InMemoryEvents {
    /// Adds or replaces `event` of `tenant`.
    pub fn put(&self, tenant: TenantId, event: EventInfo) {
        lock(&self.events).insert((tenant, event.id), event);
    }
}

#[async_trait]
impl EventCatalog for InMemoryEvents {
    async fn event(
        &self,
        tenant: TenantId,
        event: EventId,
    ) -> Result<Option<EventInfo>, UpstreamError> {
        Ok(lock(&self.events).get(&(tenant, event)).cloned())
    }

    async fn recent_event(
        &self,
        tenant: TenantId,
        event: EventId,
    ) -> Result<Option<EventInfo>, UpstreamError> {
        self.event(tenant, event).await
    }
}

/// A notifier that keeps every notification it was given, in order.
#[derive(Debug, Clone, Default)]
pub struct RecordingNotifier {
    sent: Arc<Mutex<Vec<Notification>>>,
}

impl RecordingNotifier {
    /// What was sent so far.
    pub fn sent(&self) -> Vec<Notification> {
        lock(&self.sent).clone()
    }
}

#[async_trait]
impl Notifier for RecordingNotifier {
    async fn notify(&self, notification: &Notification) -> Result<(), UpstreamError> {
        lock(&self.sent).push(notification.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;
    use crate::actor::{Actor, RequestContext, Role};
    use crate::adapters::{ManualClock, MemoryStore, SequentialIds};
    use crate::ids::UserId;
    use crate::money::Currency;
    use crate::order::{OrderMetadata, OrderStatus};
    use crate::policy::DomainConfig;
    use crate::ports::EventStatus;
    use crate::use_cases::{
        CreateTicketOrder, GoodsCatalogConfig, OrderService, Ports, TicketItemRequest,
    };

    const NOW: OffsetDateTime = datetime!(2026-12-01 12:00 UTC);

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    struct Shop {
        service: OrderService,
        tickets: InMemoryTickets,
        payments: InMemoryPayments,
        tenant: TenantId,
        event: EventId,
        general: TicketTypeId,
        standard: TicketPricingId,
    }

    /// An event of 10 tickets at 50.00, and the order service wired to memory only.
    fn shop() -> Shop {
        let clock = Arc::new(ManualClock::at(NOW));
        let (tickets, payments, events) = (
            InMemoryTickets::default(),
            InMemoryPayments::default(),
            InMemoryEvents::default(),
        );
        let (tenant, event) = (TenantId::from_uuid(id(1)), EventId::from_uuid(id(2)));
        let (general, standard) = (
            TicketTypeId::from_uuid(id(3)),
            TicketPricingId::from_uuid(id(4)),
        );
        tickets.add_type(
            tenant,
            event,
            general,
            10,
            [(standard, Money::new(5_000, Currency::Usd))],
        );
        events.put(
            tenant,
            EventInfo {
                id: event,
                starts_at: NOW + time::Duration::days(30),
                status: EventStatus::Scheduled,
                currency: Currency::Usd,
            },
        );
        let ports: Ports = Ports::builder(clock.clone(), Arc::new(SequentialIds::default()))
            .storage(Arc::new(MemoryStore::new(clock)))
            .tickets(Arc::new(tickets.clone()))
            .payments(Arc::new(payments.clone()))
            .events(Arc::new(events))
            .build();
        Shop {
            service: OrderService::new(
                ports,
                DomainConfig::default(),
                GoodsCatalogConfig::default(),
            ),
            tickets,
            payments,
            tenant,
            event,
            general,
            standard,
        }
    }

    fn buyer(shop: &Shop, n: u128) -> RequestContext {
        RequestContext {
            tenant_id: shop.tenant,
            actor: Actor::User {
                id: UserId::from_uuid(id(100 + n)),
                roles: vec![Role::Customer],
                vip: false,
            },
            ip: None,
        }
    }

    fn order_of(shop: &Shop, quantity: i64) -> CreateTicketOrder {
        CreateTicketOrder {
            event_id: shop.event,
            items: vec![TicketItemRequest {
                ticket_type_id: shop.general,
                ticket_pricing_id: shop.standard,
                quantity,
            }],
            currency: None,
            idempotency: None,
            metadata: OrderMetadata::default(),
            contact_email: None,
        }
    }

    #[tokio::test]
    async fn a_ticket_order_is_held_paid_cancelled_and_refunded_with_nothing_but_memory() {
        let shop = shop();
        let buyer = buyer(&shop, 1);
        let created = shop
            .service
            .create_ticket_order(&buyer, order_of(&shop, 4))
            .await
            .expect("created");
        assert_eq!(created.order.status(), OrderStatus::Reserved);
        assert_eq!(
            shop.tickets
                .available(shop.tenant, shop.event, shop.general),
            6
        );

        let intent = created.order.payment_intent_id().expect("intent").clone();
        shop.payments.confirm_intent(&intent).await.expect("paid");
        let confirmed = shop
            .service
            .confirm_payment(&buyer, created.order.id(), intent.clone())
            .await
            .expect("confirmed");
        assert_eq!(confirmed.status(), OrderStatus::Confirmed);
        assert_eq!(confirmed.ticket_ids().len(), 4);

        let cancelled = shop
            .service
            .cancel(&buyer, created.order.id(), "plans changed")
            .await
            .expect("cancelled");
        assert_eq!(cancelled.order.status(), OrderStatus::Cancelled);
        assert!(cancelled.refund_id.is_some(), "a paid order is refunded");
        assert!(
            shop.payments.refunded(&intent) > 0,
            "the refund was paid out"
        );
    }

    #[tokio::test]
    async fn holds_never_take_more_tickets_than_are_left() {
        let shop = shop();
        shop.service
            .create_ticket_order(&buyer(&shop, 1), order_of(&shop, 8))
            .await
            .expect("eight of ten");
        let refused = shop
            .service
            .create_ticket_order(&buyer(&shop, 2), order_of(&shop, 3))
            .await
            .expect_err("three of two");
        assert!(
            matches!(
                refused,
                crate::use_cases::UseCaseError::SoldOut { available: 2, .. }
            ),
            "{refused:?}"
        );
        assert_eq!(
            shop.tickets
                .available(shop.tenant, shop.event, shop.general),
            2
        );
    }

    #[tokio::test]
    async fn a_refund_is_paid_once_per_refund_id_and_never_beyond_the_capture() {
        let payments = InMemoryPayments::default();
        let (tenant, order) = (TenantId::from_uuid(id(1)), OrderId::from_uuid(id(2)));
        let usd = |minor| Money::new(minor, Currency::Usd);
        let intent = payments
            .create_intent(tenant, order, usd(1_000), NOW, "order-2")
            .await
            .expect("intent");
        let again = payments
            .create_intent(tenant, order, usd(1_000), NOW, "order-2")
            .await
            .expect("intent");
        assert_eq!(intent.id, again.id, "one intent per idempotency key");
        payments.confirm_intent(&intent.id).await.expect("paid");
        let refund = RefundId::from_uuid(id(9));
        let first = payments
            .refund(&intent.id, refund, usd(600))
            .await
            .expect("paid back");
        let repeated = payments
            .refund(&intent.id, refund, usd(600))
            .await
            .expect("the same");
        assert_eq!(first, repeated);
        assert_eq!(payments.refunded(&intent.id), 600);
        payments
            .refund(&intent.id, RefundId::from_uuid(id(10)), usd(500))
            .await
            .expect_err("600 + 500 is more than the 1 000 captured");
    }
}
