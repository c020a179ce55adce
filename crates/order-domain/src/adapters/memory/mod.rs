//! In-memory storage (feature `memory`): every storage port the order path uses, on one shared
//! state behind one mutex, for services that build on the domain and for their tests.
//!
//! [`MemoryStore`] keeps the contracts the PostgreSQL adapter keeps — version conflicts, tenant
//! scoping, quotas, idempotency keys, promo-code limits, the outbox's per-order ordering — and
//! is checked by the same contract tests
//! (`storage_contract_tests!`, feature `contract-tests`). A
//! commit decides every check before it writes anything, under the one lock, so concurrent
//! commits never exceed a limit and a refused change leaves nothing behind.
//!
//! What it leaves out: [`AnalyticsStore`](crate::ports::AnalyticsStore) and
//! [`WebhookRepository`](crate::ports::WebhookRepository) (wire
//! [`NotWired`](super::NotWired) or your own), durability, and the personal-data sealing of the
//! PostgreSQL adapter — it is storage for tests and single-process tools, not a database.

mod carts;
mod orders;
mod outbox;
mod unit_of_work;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use time::{Date, OffsetDateTime};

use crate::audit::AuditEntry;
use crate::cart::CartRecord;
use crate::cause::Cause;
use crate::events::EventEnvelope;
use crate::ids::{CartId, EventId, OrderId, TenantId, UserId};
use crate::order::Order;
use crate::ports::{Clock, RepositoryError};
use crate::pricing::goods::{PromoCode, Promotion};

/// Orders, carts, promotions, outbox and inbox in memory; cheap to clone (clones share the
/// state), so one store can stand behind every storage port of a
/// [`Ports`](crate::use_cases::Ports).
///
/// ```
/// use std::sync::Arc;
/// use order_domain::adapters::{ManualClock, MemoryStore};
/// use order_domain::ids::{OrderId, TenantId};
/// use order_domain::ports::OrderRepository;
/// use order_domain::uuid::Uuid;
/// use time::macros::datetime;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = MemoryStore::new(Arc::new(ManualClock::at(datetime!(2026-12-01 12:00 UTC))));
/// let tenant = TenantId::from_uuid(Uuid::from_u128(1));
/// let runtime = tokio::runtime::Builder::new_current_thread().build()?;
/// let missing = runtime.block_on(store.find(tenant, OrderId::from_uuid(Uuid::from_u128(2))))?;
/// assert_eq!(missing, None);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
    /// The time outbox leases are measured against (the database's `now()` in PostgreSQL).
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state();
        f.debug_struct("MemoryStore")
            .field("orders", &state.orders.len())
            .field("carts", &state.carts.len())
            .field("outbox", &state.outbox.len())
            .finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// An empty store whose outbox leases run on `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            state: Arc::new(Mutex::new(State::default())),
            clock,
        }
    }

    /// Adds a promotion to `tenant`'s (the storage ports only read them; an admin tool or a
    /// test seeds them here).
    pub fn add_promotion(&self, tenant: TenantId, promotion: Promotion) {
        self.state()
            .promotions
            .entry(tenant)
            .or_default()
            .push(promotion);
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every write checks first and mutates after, without panicking in between: a panic
        // elsewhere cannot leave the state half-written, so a poisoned lock is still sound.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn corrupt(problem: &str) -> RepositoryError {
    RepositoryError::Corrupt(Cause::from(problem))
}

/// Everything stored, keyed the way the PostgreSQL schema's unique keys are.
#[derive(Default)]
struct State {
    /// Orders as stored (version and stored status as a reload would give them).
    orders: HashMap<OrderId, Order>,
    audit: HashMap<OrderId, Vec<AuditEntry>>,
    ledger: HashMap<OrderId, Vec<crate::ledger::LedgerEntry>>,
    documents: HashMap<OrderId, Vec<crate::documents::Document>>,
    /// The last document number by tenant, kind and year.
    document_counters: HashMap<(TenantId, crate::documents::DocumentKind, i32), i64>,
    /// In commit order; `position` is the index plus one.
    outbox: Vec<OutboxRow>,
    /// `(consumer, message id)` of consumed messages.
    inbox: HashSet<(TenantId, String, String)>,
    idempotency: HashMap<(TenantId, UserId, String), StoredKey>,
    /// Refund requests' keys by tenant, caller and key.
    refund_keys: HashMap<(TenantId, String, String), StoredRefundKey>,
    orders_per_day: HashMap<(TenantId, UserId, Date), u32>,
    active_per_event: HashMap<(TenantId, UserId, EventId), u32>,
    carts: HashMap<CartId, CartRecord>,
    promotions: HashMap<TenantId, Vec<Promotion>>,
    /// By tenant, then code (list order).
    codes: BTreeMap<(TenantId, String), PromoCode>,
    code_uses: HashMap<(TenantId, String, UserId), u32>,
}

struct StoredKey {
    fingerprint: String,
    order_id: OrderId,
    created_at: OffsetDateTime,
}

struct StoredRefundKey {
    refund: crate::ports::KeyedRefund,
    created_at: OffsetDateTime,
}

struct OutboxRow {
    envelope: EventEnvelope,
    published: bool,
    claimed_until: Option<OffsetDateTime>,
}

#[cfg(test)]
mod contract {
    //! The storage contract on a fresh in-memory store per test.
    use std::sync::Arc;

    use super::MemoryStore;
    use crate::adapters::ManualClock;

    crate::storage_contract_tests!(MemoryStore::new(Arc::new(ManualClock::at(
        time::macros::datetime!(2026-11-22 12:00 UTC)
    ))));
}
