//! Order creation: the ticket-order saga (hold → payment intent → persist, compensated in
//! reverse) and the steps both kinds of order share; the goods order's own first step is in
//! `create_goods`.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::{Extras, OrderService, UseCaseError};
use crate::actor::RequestContext;
use crate::ids::{EventId, OrderId, OrderItemId, OrderNumber, TicketPricingId, TicketTypeId};
use crate::order::{
    ContactEmail, GoodsDetails, ItemProduct, NewOrder, NewOrderItem, Order, OrderKind, price_items,
};
use crate::policy::{FieldError, LineQuantity, Violations};
use crate::ports::{EventStatus, Hold, IdempotencyRecord, QuotaClaim, RepositoryError, TicketLine};

/// One requested ticket line, as the buyer asked for it and not yet checked: the command's own
/// shape, so the domain never sees the API's wire type. The quantity is signed so that a
/// negative one is reported as a field error rather than rejected by the parser; the limits
/// turn it into a `u32` ([`OrderLimits::check_lines`](crate::policy::OrderLimits::check_lines)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketItemRequest {
    /// Ticket type.
    pub ticket_type_id: TicketTypeId,
    /// Price point.
    pub ticket_pricing_id: TicketPricingId,
    /// Units asked for.
    pub quantity: i64,
}

/// `POST /orders` for tickets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateTicketOrder {
    /// The event.
    pub event_id: EventId,
    /// The lines.
    pub items: Vec<TicketItemRequest>,
    /// The currency the buyer expects; must be the event's when given.
    pub currency: Option<crate::money::Currency>,
    /// The request's `Idempotency-Key`, stored with the order.
    pub idempotency: Option<IdempotencyKey>,
    /// The client's own data, stored with the order and returned as given.
    pub metadata: crate::order::OrderMetadata,
    /// Where notifications about the order go (the buyer's JWT `email` claim).
    pub contact_email: Option<ContactEmail>,
}

/// The `Idempotency-Key` a creation runs under. The key is stored with the order in the same
/// transaction, so exactly one order exists per key whatever failed in between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// The key as sent (scoped to tenant and buyer).
    pub key: String,
    /// Hash of the request: the same key with another request is refused.
    pub fingerprint: String,
    /// How long a key is remembered.
    pub ttl: time::Duration,
    /// An earlier attempt with this key failed or vanished without an answer, so it may have
    /// committed: look for its order before calling any upstream.
    pub earlier_attempt: bool,
}

/// A created order and what the front end needs to pay it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedOrder {
    /// The order, RESERVED.
    pub order: Order,
    /// The payment intent's client secret.
    pub client_secret: Option<String>,
    /// The order was created earlier under the same idempotency key and is answered again.
    pub replayed: bool,
}

impl OrderService {
    /// Creates a RESERVED ticket order: limits, event and quotas are checked, prices come from the
    /// ticket service, then hold → payment intent → persist.
    ///
    /// # Ports
    /// `events`, `incidents`, `orders`, `payments`, `tickets`, `unit_of_work`.
    ///
    /// # Errors
    /// [`UseCaseError::Validation`] (with field paths), [`UseCaseError::Quota`],
    /// [`UseCaseError::SoldOut`], [`UseCaseError::PaymentDeclined`], [`UseCaseError::Upstream`]
    /// or a storage error; nothing is left held or charged after an error.
    pub async fn create_ticket_order(
        &self,
        ctx: &RequestContext,
        request: CreateTicketOrder,
    ) -> Result<CreatedOrder, UseCaseError> {
        let user = ctx.actor.user_id().ok_or(UseCaseError::Forbidden)?;
        let limits = &self.config.limits;
        let quantities: Vec<_> = request
            .items
            .iter()
            .map(|i| LineQuantity {
                group: i.ticket_type_id,
                quantity: i.quantity,
            })
            .collect();
        let quantities = limits.check_lines(&quantities)?;
        let now = self.now();
        if let Some(replay) = self
            .replay_earlier_attempt(ctx, request.idempotency.as_ref())
            .await?
        {
            return Ok(replay);
        }

        let event = self
            .ports
            .events
            .recent_event(ctx.tenant_id, request.event_id)
            .await?
            .ok_or_else(|| field("eventId", "unknown_event", "no such event"))?;
        if event.status != EventStatus::Scheduled || event.starts_at <= now {
            return Err(field("eventId", "not_on_sale", "the event is not on sale").into());
        }
        if request.currency.is_some_and(|c| c != event.currency) {
            return Err(field(
                "currency",
                "mismatch",
                "the event is sold in another currency",
            )
            .into());
        }
        let lines: Vec<TicketLine> = request
            .items
            .iter()
            .zip(quantities)
            .map(|(i, quantity)| TicketLine {
                ticket_type_id: i.ticket_type_id,
                ticket_pricing_id: i.ticket_pricing_id,
                quantity,
            })
            .collect();
        let prices: BTreeMap<_, _> = self
            .ports
            .tickets
            .prices(ctx.tenant_id, request.event_id, &lines)
            .await?
            .into_iter()
            .map(|p| ((p.ticket_type_id, p.ticket_pricing_id), p))
            .collect();
        // Each line becomes an order item at the price the ticket service answered for it.
        let order_id = OrderId::from_uuid(self.ports.ids.uuid());
        let mut items = Vec::with_capacity(lines.len());
        let mut wanted_per_type: BTreeMap<TicketTypeId, u32> = BTreeMap::new();
        for (index, line) in lines.iter().enumerate() {
            let price = prices
                .get(&(line.ticket_type_id, line.ticket_pricing_id))
                .ok_or_else(|| {
                    field(
                        format!("items[{index}].ticketPricingId"),
                        "unknown_price",
                        "no such ticket price",
                    )
                })?;
            if price.price.currency() != event.currency {
                return Err(field(
                    format!("items[{index}].ticketPricingId"),
                    "currency_mismatch",
                    "price in another currency",
                )
                .into());
            }
            let wanted = wanted_per_type.entry(line.ticket_type_id).or_default();
            *wanted += line.quantity;
            if *wanted > price.available {
                return Err(UseCaseError::SoldOut {
                    ticket_type_id: line.ticket_type_id,
                    available: price.available,
                });
            }
            items.push(NewOrderItem {
                id: OrderItemId::from_uuid(self.ports.ids.uuid()),
                product: ItemProduct::Ticket {
                    ticket_type_id: line.ticket_type_id,
                    ticket_pricing_id: line.ticket_pricing_id,
                },
                quantity: line.quantity,
                unit_price: price.price.minor(),
            });
        }
        let priced = price_items(&self.config.ticket_fees, event.currency, &items)?;
        limits.check_total(priced.order.total().minor())?;

        let expires_at =
            self.config
                .reservation
                .expires_at(OrderKind::Ticket, ctx.actor.is_vip(), now);
        let (order, events) = Order::create(NewOrder {
            id: order_id,
            tenant_id: ctx.tenant_id,
            number: OrderNumber::new(now.date(), self.ports.ids.order_number_entropy()),
            user_id: user,
            kind: OrderKind::Ticket,
            event_id: Some(request.event_id),
            items,
            priced,
            goods: GoodsDetails::default(),
            metadata: request.metadata.clone(),
            contact_email: request.contact_email.clone(),
            expires_at,
            now,
        })?;

        // Saga step 1: hold. Nothing to undo when it fails. The upstream hold outlives the
        // reservation by the grace period so that a payment in the grace window can still
        // commit it (decision 0012).
        let hold_until = expires_at + self.config.reservation.grace;
        let hold = self
            .ports
            .tickets
            .hold(
                ctx.tenant_id,
                order_id,
                request.event_id,
                &lines,
                hold_until,
            )
            .await?;
        let extras = Extras {
            quota: Some(QuotaClaim {
                day: now.date(),
                max_orders_per_day: limits.max_orders_per_user_per_day,
                active_for_event: Some((
                    request.event_id,
                    limits.max_active_orders_per_user_per_event,
                )),
            }),
            idempotency: request.idempotency.as_ref().map(|key| key.record(now)),
            ..Extras::default()
        };
        self.finish_creation(
            ctx,
            Held {
                order,
                events,
                hold,
            },
            extras,
            request.idempotency.as_ref(),
            async |order: &Order| self.release_ticket_hold(order).await,
        )
        .await
    }

    /// Saga steps 2 and 3 after a successful hold: payment intent, then persist; each failure
    /// undoes the steps before it (`release` lets the hold go: the ticket service's or the
    /// inventory's, as the caller knows). The quotas are claimed by the persist step itself, so a
    /// request over a quota is undone like any other failed persist. When the idempotency key
    /// turns out to be taken by an order committed meanwhile, that order is the answer.
    pub(super) async fn finish_creation(
        &self,
        ctx: &RequestContext,
        held: Held,
        extras: Extras,
        idempotency: Option<&IdempotencyKey>,
        release: impl AsyncFn(&Order),
    ) -> Result<CreatedOrder, UseCaseError> {
        let Held {
            mut order,
            mut events,
            hold,
        } = held;
        let now = self.now();
        events.extend(order.reserve(
            hold.hold_id.clone(),
            hold.expires_at.min(order.expires_at()),
            now,
        )?);
        let amount = order.total();
        let intent = match self
            .ports
            .payments
            .create_intent(
                ctx.tenant_id,
                order.id(),
                amount,
                hold.expires_at,
                &order.id().to_string(),
            )
            .await
        {
            Ok(intent) => intent,
            Err(error) => {
                release(&order).await;
                return Err(error.into());
            }
        };
        order.attach_payment_intent(intent.id.clone())?;
        if let Err(error) = self.persist_numbered(ctx, &mut order, events, extras).await {
            if let UseCaseError::Storage(RepositoryError::CommitOutcomeUnknown(_)) = &error {
                match self.ports.orders.find(ctx.tenant_id, order.id()).await {
                    // It was stored after all: the order stands, with its hold and intent.
                    Ok(Some(stored)) => {
                        return Ok(CreatedOrder {
                            order: stored,
                            client_secret: intent.client_secret,
                            replayed: false,
                        });
                    }
                    Ok(None) => {}
                    // Still unknown: undo nothing. If the order was stored, a retry with the
                    // same key finds it; if not, hold and intent lapse with the order's window
                    // (decision 0016).
                    Err(_) => return Err(error),
                }
            }
            // Best effort: an intent that is never confirmed and a hold that is never committed
            // both expire upstream if these calls fail too.
            self.report_dropped(
                &[order.id()],
                "cancel the payment intent of a failed creation",
                self.ports.payments.cancel_intent(&intent.id).await,
            );
            release(&order).await;
            if let (UseCaseError::Storage(RepositoryError::IdempotencyKeyTaken), Some(key)) =
                (&error, idempotency)
            {
                return self
                    .created_under_key(ctx, key)
                    .await?
                    .ok_or(UseCaseError::Conflict);
            }
            return Err(error);
        }
        Ok(CreatedOrder {
            order,
            client_secret: intent.client_secret,
            replayed: false,
        })
    }

    /// Persists a new order, drawing another order number when its number is taken (a few
    /// tries; every other failure is returned at once).
    async fn persist_numbered(
        &self,
        ctx: &RequestContext,
        order: &mut Order,
        mut events: Vec<crate::events::OrderEvent>,
        extras: Extras,
    ) -> Result<(), UseCaseError> {
        const ATTEMPTS: usize = 3;
        for _ in 1..ATTEMPTS {
            match self
                .persist(ctx, order, events.clone(), extras.clone())
                .await
            {
                Err(UseCaseError::Storage(RepositoryError::OrderNumberTaken)) => {
                    let number =
                        OrderNumber::new(self.now().date(), self.ports.ids.order_number_entropy());
                    order.renumber(number, &mut events);
                }
                other => return other,
            }
        }
        self.persist(ctx, order, events, extras).await
    }

    /// The order an earlier attempt with the same key committed, when the caller says such an
    /// attempt may exist.
    pub(super) async fn replay_earlier_attempt(
        &self,
        ctx: &RequestContext,
        idempotency: Option<&IdempotencyKey>,
    ) -> Result<Option<CreatedOrder>, UseCaseError> {
        match idempotency {
            Some(key) if key.earlier_attempt => self.created_under_key(ctx, key).await,
            _ => Ok(None),
        }
    }

    /// The order created under `key` by the caller, answered again: the same request gets the
    /// same order and, while it is unpaid, the same payment intent (created with the order id as
    /// its idempotency key, so asking again creates nothing).
    ///
    /// # Errors
    /// [`UseCaseError::IdempotencyKeyReused`] when the key came with another request.
    async fn created_under_key(
        &self,
        ctx: &RequestContext,
        key: &IdempotencyKey,
    ) -> Result<Option<CreatedOrder>, UseCaseError> {
        let user = ctx.actor.user_id().ok_or(UseCaseError::Forbidden)?;
        let Some((fingerprint, order)) = self
            .ports
            .orders
            .find_by_idempotency_key(ctx.tenant_id, user, &key.key, self.now() - key.ttl)
            .await?
        else {
            return Ok(None);
        };
        if fingerprint != key.fingerprint {
            return Err(UseCaseError::IdempotencyKeyReused);
        }
        let client_secret = if order.status().is_unpaid() {
            let intent = self
                .ports
                .payments
                .create_intent(
                    order.tenant_id(),
                    order.id(),
                    order.total(),
                    order.expires_at() + self.config.reservation.grace,
                    &order.id().to_string(),
                )
                .await?;
            intent.client_secret
        } else {
            None
        };
        Ok(Some(CreatedOrder {
            order,
            client_secret,
            replayed: true,
        }))
    }

    /// Releases the order's upstream hold; failures are left to the upstream TTL.
    pub(super) async fn release_hold(&self, order: &Order) {
        if let Some(hold) = order.hold_id() {
            self.release_hold_id(order, hold).await;
        } else if order.kind() == OrderKind::Goods {
            self.release_stock(order).await;
        }
    }

    /// Lets a ticket order's hold go at the ticket service; failures are left to the hold's own
    /// expiry.
    pub(super) async fn release_ticket_hold(&self, order: &Order) {
        if let Some(hold) = order.hold_id() {
            self.report_dropped(
                &[order.id()],
                "release the ticket hold",
                self.ports.tickets.release(hold).await,
            );
        }
    }

    /// Lets `hold` of `order` go upstream; failures are left to the hold's own expiry.
    pub(super) async fn release_hold_id(&self, order: &Order, hold: &crate::ids::HoldId) {
        match order.kind() {
            OrderKind::Ticket => self.report_dropped(
                &[order.id()],
                "release the ticket hold",
                self.ports.tickets.release(hold).await,
            ),
            OrderKind::Goods => self.release_stock(order).await,
        }
    }

    /// Stock reservations are keyed by order, not by hold.
    pub(super) async fn release_stock(&self, order: &Order) {
        self.report_dropped(
            &[order.id()],
            "release the stock reservation",
            self.ports
                .inventory
                .release(order.tenant_id(), order.id())
                .await,
        );
    }
}

/// A new order after saga step 1: its creation events and the hold the upstream placed.
pub(super) struct Held {
    pub(super) order: Order,
    pub(super) events: Vec<crate::events::OrderEvent>,
    pub(super) hold: Hold,
}

impl IdempotencyKey {
    /// What is stored with the order or refund this key's request creates at `now`.
    pub(super) fn record(&self, now: OffsetDateTime) -> IdempotencyRecord {
        IdempotencyRecord {
            key: self.key.clone(),
            fingerprint: self.fingerprint.clone(),
            reusable_before: now - self.ttl,
        }
    }
}

pub(super) fn field(path: impl Into<String>, code: &str, message: &str) -> Violations {
    Violations(vec![FieldError::new(path, code, message)])
}
