//! Use cases: the application services the API, the consumers and the jobs call.
//!
//! [`OrderService`] depends on the ports only (as `Arc<dyn Port>`). Each use case loads what it
//! needs, calls upstream services *outside* any database transaction, lets the aggregate decide,
//! and stores the new state with its audit entries and outbox events in one
//! [`UnitOfWork::commit`].
//!
//! Creation is a saga (docs/product/upstreams.md): hold → payment intent → persist; a failing step
//! undoes the earlier ones in reverse. After a commit, releasing holds and paying refunds are
//! follow-ups whose failure never undoes the stored change (holds expire upstream; a failed refund
//! stays FAILED and retryable).
//!
//! Each use case's `# Ports` section names the fields of [`Ports`] (for [`WebhookService`], of
//! [`WebhookPorts`]) it calls on some path, `clock` and `ids` aside, which every `Ports` has: a
//! service that wires those through [`Ports::builder`] never meets a
//! [`NotWired`](crate::adapters::NotWired) port. A test derives the lists from the code, so they
//! stay true.
//!
//! # Code map
//! [`OrderService`]'s methods live in the file of the work they do:
//!
//! | file | methods |
//! |---|---|
//! | `create.rs` | `create_ticket_order` (the saga of a ticket order) |
//! | `create_goods.rs` | `create_goods_order` (a cart becomes an order) |
//! | `carts.rs` | `view_cart`, `add_to_cart`, `change_cart_line`, `remove_cart_line`, `clear_cart`, `merge_carts` |
//! | `lifecycle.rs` | `reserve`, `confirm`, `confirm_payment`, `attach_tickets`, `cancel`, `expire`, `expire_with`, `list_expiring` |
//! | `line_cancellation.rs` | `cancel_line` |
//! | `fulfillment.rs` | `fulfillment_queue`, `start_fulfillment`, `ship`, `deliver`, `fail_fulfillment`, `request_return` |
//! | `refunds.rs` | `request_refund`, `approve_refund`, `reject_refund`, `retry_refund`, `retry_due_refunds`, `list_refunds`, `complete_return_refund` |
//! | `queries.rs` | `get_order`, `list_orders`, `search_orders`, `order_history`, `order_ledger`, `order_documents`, `order_document` |
//! | `messages.rs` | `apply_message` (payment and ticket messages, once each) |
//! | `expiry.rs` | `due_for_expiry`, `expire_batch` (the expiry job) |
//! | `bulk_cancel.rs` | `request_bulk_cancel`, `bulk_job`, `run_bulk_jobs` |
//! | `reconciliation.rs` | `reconcile`, `reconcile_all`, `reconciliation_run` |
//! | `promotions.rs` | `list_promo_codes`, `create_promo_code`, `retire_promo_code` |
//! | `analytics.rs` | `analytics`, `aggregate_metrics` |
//! | `mod.rs` | `new`, `config`, `for_tenant`, `shipping_method` |
//!
//! Beside it: [`WebhookService`] (`webhooks.rs`), [`Announcer`] (`notifications.rs`), the
//! errors (`error.rs`) and the wiring of [`Ports`] (`wiring.rs`).

mod analytics;
mod audit_checks;
mod bulk_cancel;
mod carts;
mod create;
mod create_goods;
mod edit_payments;
mod edit_pricing;
mod edits;
mod error;
mod expiry;
mod fulfillment;
mod lifecycle;
mod line_cancellation;
mod messages;
mod notifications;
mod personal_data;
mod problem;
mod promotions;
mod queries;
mod rebuild;
mod reconciliation;
mod refunds;
mod replays;
mod webhooks;
mod wiring;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use time::OffsetDateTime;

pub use self::audit_checks::ANCHOR_GRACE;
pub use self::bulk_cancel::{BulkRunner, DescribeFailure};
pub use self::carts::{CART_TTL, CartAddition, CartLineView, CartPreview, CartScope, CartView};
pub use self::create::{CreateTicketOrder, CreatedOrder, IdempotencyKey, TicketItemRequest};
pub use self::create_goods::CreateGoodsOrder;
pub use self::edit_payments::EDITS_PER_PASS;
pub use self::edits::{EditOrder, EditOutcome, PaymentDue, RequestedChange};
pub use self::error::{ReadError, UseCaseError, WebhookError};
pub use self::fulfillment::ManualShipment;
pub use self::lifecycle::CancelOutcome;
pub use self::line_cancellation::LineCancelOutcome;
pub use self::notifications::Announcer;
pub use self::personal_data::{ARCHIVE_BATCH, EXPORT_PAGE, ExportPage};
pub use self::problem::{Problem, ProblemKind};
pub use self::queries::OrderLedger;
pub use self::rebuild::RebuildReport;
pub use self::reconciliation::{MAX_ORDERS_PER_RUN, MAX_RUNS_LISTED, MAX_WINDOW};
pub use self::refunds::{RefundRetryReport, RequestedRefund};
pub use self::replays::{REPLAY_BATCH, REPLAY_LEASE, ReplayRequest};
pub use self::webhooks::{
    DELIVERY_LEASE, DELIVERY_LOG_RETENTION, SubscriptionView, WebhookPorts, WebhookService,
};
pub use self::wiring::PortsBuilder;
use crate::actor::RequestContext;
use crate::audit::AuditEntry;
use crate::events::{EventEnvelope, OrderEvent};
use crate::ids::{AuditEntryId, DomainEventId, OrderId};
use crate::order::Order;
use crate::policy::DomainConfig;
use crate::ports::{
    AnalyticsStore, AuditChain, AuditLog, BulkJobs, CartRepository, Clock, DistributedLock,
    EventCatalog, EventReplays, IdGenerator, IdempotencyRecord, Inbox, InboxMessage, Incidents,
    InventoryService, OrderChange, OrderRepository, OrderScans, PaymentGateway, PersonalData,
    ProductCatalog, PromoRedemption, PromotionRepository, QuotaClaim, Reconciliations,
    RefundRepository, ShippingService, StoredEvents, TicketService, UnitOfWork,
};
use crate::pricing::goods::{ShippingMethod, TaxTable};

/// The ports the use cases need, shared by every request. Build them field by field, or with
/// [`Ports::builder`] from the ones a service wires.
#[derive(Clone)]
#[allow(missing_docs)]
pub struct Ports {
    pub orders: Arc<dyn OrderRepository>,
    /// The background jobs' queries (expiry, refund retries, bulk cancellation).
    pub scans: Arc<dyn OrderScans>,
    /// The history route's reads.
    pub audit: Arc<dyn AuditLog>,
    /// The audit's hash chains and anchors.
    pub audit_chain: Arc<dyn AuditChain>,
    /// A customer's data across orders: export, erasure, retention.
    pub personal_data: Arc<dyn PersonalData>,
    /// Durable replays of stored events.
    pub event_replays: Arc<dyn EventReplays>,
    /// One order's stored events, for rebuilding it.
    pub stored_events: Arc<dyn StoredEvents>,
    pub refunds: Arc<dyn RefundRepository>,
    pub carts: Arc<dyn CartRepository>,
    pub promotions: Arc<dyn PromotionRepository>,
    pub unit_of_work: Arc<dyn UnitOfWork>,
    pub inbox: Arc<dyn Inbox>,
    pub analytics: Arc<dyn AnalyticsStore>,
    pub locks: Arc<dyn DistributedLock>,
    pub tickets: Arc<dyn TicketService>,
    pub inventory: Arc<dyn InventoryService>,
    pub products: Arc<dyn ProductCatalog>,
    pub payments: Arc<dyn PaymentGateway>,
    pub events: Arc<dyn EventCatalog>,
    pub shipping: Arc<dyn ShippingService>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    pub incidents: Arc<dyn Incidents>,
    /// Reconciliation runs and their differences.
    pub reconciliations: Arc<dyn Reconciliations>,
    /// Durable bulk cancellations.
    pub bulk_jobs: Arc<dyn BulkJobs>,
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ports").finish_non_exhaustive()
    }
}

/// Goods-pricing tables besides the fee schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoodsCatalogConfig {
    /// Tax rates by destination.
    pub taxes: TaxTable,
    /// Shipping methods offered.
    pub shipping_methods: Vec<ShippingMethod>,
}

impl GoodsCatalogConfig {
    /// The method `code` names; without a code, `standard` when offered, else the first method.
    pub fn shipping_method(&self, code: Option<&str>) -> Option<&ShippingMethod> {
        match code {
            Some(code) => self.shipping_methods.iter().find(|m| m.code == code),
            None => self
                .shipping_methods
                .iter()
                .find(|m| m.code == "standard")
                .or_else(|| self.shipping_methods.first()),
        }
    }
}

impl Default for GoodsCatalogConfig {
    fn default() -> Self {
        Self {
            taxes: TaxTable::standard(),
            shipping_methods: ShippingMethod::defaults(),
        }
    }
}

/// The goods-pricing tables of every tenant: a tenant with tables of its own prices by them, every
/// other tenant by the default tables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoodsCatalogs {
    /// The tables of tenants without their own.
    pub default: GoodsCatalogConfig,
    /// Tenants' own tables.
    pub tenants: std::collections::BTreeMap<crate::ids::TenantId, GoodsCatalogConfig>,
}

impl GoodsCatalogs {
    /// The tables `tenant` prices by.
    pub fn for_tenant(&self, tenant: crate::ids::TenantId) -> &GoodsCatalogConfig {
        self.tenants.get(&tenant).unwrap_or(&self.default)
    }
}

impl From<GoodsCatalogConfig> for GoodsCatalogs {
    fn from(default: GoodsCatalogConfig) -> Self {
        Self {
            default,
            tenants: std::collections::BTreeMap::new(),
        }
    }
}

/// Every use case of the order service.
#[derive(Debug, Clone)]
pub struct OrderService {
    ports: Ports,
    config: Arc<DomainConfig>,
    goods: Arc<GoodsCatalogs>,
}

/// Extra writes that go into the same transaction as an order change.
#[derive(Debug, Default, Clone)]
pub(crate) struct Extras {
    pub(crate) consumed_cart: Option<(crate::ids::CartId, u64)>,
    pub(crate) promo_redemption: Option<PromoRedemption>,
    pub(crate) inbox: Option<InboxMessage>,
    pub(crate) quota: Option<QuotaClaim>,
    pub(crate) idempotency: Option<IdempotencyRecord>,
    pub(crate) refund_key: Option<crate::ports::RefundKey>,
}

impl Extras {
    /// Just the consumed message (if any) whose effect the change is.
    pub(crate) fn inbox(inbox: Option<InboxMessage>) -> Self {
        Self {
            inbox,
            ..Self::default()
        }
    }
}

impl OrderService {
    /// A service over `ports` with `config`, pricing goods by `goods` (one set of tables, or
    /// [`GoodsCatalogs`] per tenant).
    pub fn new(ports: Ports, config: DomainConfig, goods: impl Into<GoodsCatalogs>) -> Self {
        Self {
            ports,
            config: Arc::new(config),
            goods: Arc::new(goods.into()),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &DomainConfig {
        &self.config
    }

    fn now(&self) -> OffsetDateTime {
        self.ports.clock.now()
    }

    /// Reports the failure of a step the use case does not undo or return (a compensation, a
    /// lock release), so that it reaches the operators' log with the orders it concerns.
    fn report_dropped<T, E: std::error::Error>(
        &self,
        orders: &[OrderId],
        action: &'static str,
        outcome: Result<T, E>,
    ) {
        if let Err(error) = outcome {
            self.ports.incidents.dropped(orders, action, &error);
        }
    }

    /// Loads an order the caller may see; another user's or tenant's order is "not found" so
    /// that ids leak nothing.
    async fn load_visible(&self, ctx: &RequestContext, id: OrderId) -> Result<Order, ReadError> {
        let order = self
            .ports
            .orders
            .find(ctx.tenant_id, id)
            .await?
            .ok_or(ReadError::NotFound { what: "order" })?;
        if ctx.actor.can_see_order_of(order.user_id()) {
            Ok(order)
        } else {
            Err(ReadError::NotFound { what: "order" })
        }
    }

    /// Stores `order` with one audit entry and one outbox event per domain event, atomically.
    async fn persist(
        &self,
        ctx: &RequestContext,
        order: &mut Order,
        events: Vec<OrderEvent>,
        extras: Extras,
    ) -> Result<(), UseCaseError> {
        let change = self.change_for(ctx, order, events, extras);
        self.ports.unit_of_work.commit(&change).await?;
        order.mark_committed();
        Ok(())
    }

    /// The change that stores `order` with one audit entry and one outbox event per domain
    /// event, and `extras`.
    fn change_for(
        &self,
        ctx: &RequestContext,
        order: &Order,
        events: Vec<OrderEvent>,
        extras: Extras,
    ) -> OrderChange {
        let now = self.now();
        let audit = events
            .iter()
            .map(|event| {
                let (from_status, to_status) = match (event, event.status_change()) {
                    (OrderEvent::Created(_), _) => (None, Some(crate::order::OrderStatus::Pending)),
                    (_, Some((from, to))) => (Some(from), Some(to)),
                    (_, None) => (None, None),
                };
                AuditEntry {
                    id: AuditEntryId::from_uuid(self.ports.ids.uuid()),
                    tenant_id: order.tenant_id(),
                    order_id: order.id(),
                    event_type: event.name().to_owned(),
                    from_status,
                    to_status,
                    actor: ctx.actor.clone(),
                    ip: ctx.ip,
                    metadata: event.payload(),
                    occurred_at: now,
                }
            })
            .collect();
        let ledger = crate::ledger::entries_for(order, &events, now, || {
            crate::ids::LedgerEntryId::from_uuid(self.ports.ids.uuid())
        });
        let documents = crate::documents::documents_for(
            order,
            &events,
            &self.config.seller,
            || self.tax_rate(order),
            now,
        );
        let outbox = events
            .into_iter()
            .map(|event| {
                EventEnvelope::new(
                    DomainEventId::from_uuid(self.ports.ids.uuid()),
                    order.tenant_id(),
                    order.id(),
                    now,
                    event,
                )
            })
            .collect();
        OrderChange {
            order: order.clone(),
            audit,
            outbox,
            consumed_cart: extras.consumed_cart,
            promo_redemption: extras.promo_redemption,
            inbox: extras.inbox,
            quota: extras.quota,
            idempotency: extras.idempotency,
            refund_key: extras.refund_key,
            ledger,
            documents,
        }
    }

    /// The rate `order` was taxed at: the ticket schedule's, or the destination's in the
    /// tenant's goods tables (as creation priced it).
    fn tax_rate(&self, order: &Order) -> crate::money::Rate {
        match order.kind() {
            crate::order::OrderKind::Ticket => self.config.ticket_fees.default_tax_rate,
            crate::order::OrderKind::Goods => {
                let goods = &order.goods();
                goods
                    .shipping_address
                    .as_ref()
                    .and_then(|a| {
                        self.goods
                            .for_tenant(order.tenant_id())
                            .taxes
                            .rate_for(&a.country, a.region.as_deref())
                    })
                    .unwrap_or(self.config.goods_fees.default_tax_rate)
            }
        }
    }

    fn actor_label(ctx: &RequestContext) -> String {
        match &ctx.actor {
            crate::actor::Actor::User { id, .. } => id.to_string(),
            crate::actor::Actor::Service { name } | crate::actor::Actor::System { name } => {
                name.clone()
            }
        }
    }
}
