//! The unit of work: every check of a change decided first, then every write, under one lock.

use async_trait::async_trait;

use super::{MemoryStore, State, StoredKey, StoredRefundKey, corrupt};
use crate::documents::{Document, DocumentKind};
use crate::ids::TenantId;
use crate::ledger::LedgerEntryKind;
use crate::order::Order;
use crate::policy::QuotaExceeded;
use crate::ports::{KeyedRefund, OrderChange, RefundKey, RepositoryError, UnitOfWork, check_batch};

fn refund_key_of(change: &OrderChange, key: &RefundKey) -> (TenantId, String, String) {
    (
        change.order.tenant_id(),
        key.caller.clone(),
        key.record.key.clone(),
    )
}

impl State {
    /// Refuses `change` of a new order unless every claim it makes holds.
    fn check_insert(&self, change: &OrderChange) -> Result<(), RepositoryError> {
        let order = change.order.record();
        if !order.refunds.is_empty() || !order.ticket_ids.is_empty() {
            return Err(corrupt("a new order has no refunds and no tickets yet"));
        }
        if let Some(quota) = change.quota {
            let today = self
                .orders_per_day
                .get(&(order.tenant_id, order.user_id, quota.day))
                .copied()
                .unwrap_or(0);
            if today >= quota.max_orders_per_day {
                return Err(QuotaExceeded::OrdersPerDay {
                    limit: quota.max_orders_per_day,
                }
                .into());
            }
            if let Some((event, max)) = quota.active_for_event {
                let active = self
                    .active_per_event
                    .get(&(order.tenant_id, order.user_id, event))
                    .copied()
                    .unwrap_or(0);
                if active >= max {
                    return Err(QuotaExceeded::ActiveOrdersPerEvent { limit: max }.into());
                }
            }
        }
        if self.orders.contains_key(&order.id) {
            return Err(RepositoryError::Conflict { expected: 0 });
        }
        if self
            .orders
            .values()
            .any(|o| o.tenant_id() == order.tenant_id && o.number() == &order.number)
        {
            return Err(RepositoryError::OrderNumberTaken);
        }
        if let Some(key) = &change.idempotency {
            let held = self
                .idempotency
                .get(&(order.tenant_id, order.user_id, key.key.clone()))
                .is_some_and(|stored| stored.created_at >= key.reusable_before);
            if held {
                return Err(RepositoryError::IdempotencyKeyTaken);
            }
        }
        if let Some((cart, version)) = change.consumed_cart
            && self.carts.get(&cart).is_none_or(|c| c.version != version)
        {
            return Err(RepositoryError::Conflict { expected: 0 });
        }
        if let Some(redemption) = &change.promo_redemption {
            let code_key = (order.tenant_id, redemption.code.clone());
            let Some(code) = self.codes.get(&code_key) else {
                return Err(RepositoryError::Rejected {
                    constraint: "the redeemed promo code exists".to_owned(),
                });
            };
            let used_by_user = self
                .code_uses
                .get(&(order.tenant_id, redemption.code.clone(), redemption.user_id))
                .copied()
                .unwrap_or(0);
            let code_full = code
                .usage_limit
                .is_some_and(|limit| code.times_used >= limit);
            let user_full = code
                .per_user_limit
                .is_some_and(|limit| used_by_user >= limit);
            if code_full || user_full {
                return Err(RepositoryError::PromoCodeUsedUp);
            }
        }
        self.check_inbox(change)
    }

    /// Refuses a refund request's key the caller used already (and that has not outlived its
    /// TTL).
    fn check_refund_key(&self, change: &OrderChange) -> Result<(), RepositoryError> {
        let Some(key) = &change.refund_key else {
            return Ok(());
        };
        let held = self
            .refund_keys
            .get(&refund_key_of(change, key))
            .is_some_and(|stored| stored.created_at >= key.record.reusable_before);
        if held {
            Err(RepositoryError::IdempotencyKeyTaken)
        } else {
            Ok(())
        }
    }

    /// Refuses a second capture of an order by one intent or a second payout entry of a refund
    /// (the unique keys of the PostgreSQL ledger).
    fn check_ledger(&self, change: &OrderChange) -> Result<(), RepositoryError> {
        let stored = self.ledger.get(&change.order.id());
        let key_of = |e: &crate::ledger::LedgerEntry| match e.kind {
            LedgerEntryKind::PaymentCaptured => Some((e.kind, None, e.reference.clone())),
            LedgerEntryKind::RefundPaid => Some((e.kind, e.refund_id, None)),
            LedgerEntryKind::FeeRetained => None,
        };
        let mut seen = Vec::new();
        for entry in &change.ledger {
            let Some(key) = key_of(entry) else {
                continue;
            };
            let taken = seen.contains(&key)
                || stored
                    .is_some_and(|entries| entries.iter().any(|e| key_of(e) == Some(key.clone())));
            if taken {
                return Err(RepositoryError::Duplicate {
                    what: "ledger entry".to_owned(),
                });
            }
            seen.push(key);
        }
        Ok(())
    }

    fn check_inbox(&self, change: &OrderChange) -> Result<(), RepositoryError> {
        match &change.inbox {
            Some(message)
                if self.inbox.contains(&(
                    change.order.tenant_id(),
                    message.consumer.clone(),
                    message.message_id.clone(),
                )) =>
            {
                Err(RepositoryError::Duplicate {
                    what: "inbox_pkey".to_owned(),
                })
            }
            _ => Ok(()),
        }
    }

    /// Whether `change` applies to the stored order (the version it was loaded with).
    fn is_current(&self, change: &OrderChange) -> bool {
        let order = &change.order;
        self.orders.get(&order.id()).is_some_and(|stored| {
            stored.tenant_id() == order.tenant_id() && stored.version() == order.version()
        })
    }

    /// Writes a checked change of a new order.
    fn insert(&mut self, change: &OrderChange) {
        let order = change.order.record();
        if let Some(quota) = change.quota {
            *self
                .orders_per_day
                .entry((order.tenant_id, order.user_id, quota.day))
                .or_default() += 1;
            // Only a claimed place counts, as in PostgreSQL: an order stored without a claim
            // takes none (and gives none back below zero when it leaves).
            if let Some((event, _)) = quota.active_for_event {
                *self
                    .active_per_event
                    .entry((order.tenant_id, order.user_id, event))
                    .or_default() += 1;
            }
        }
        if let Some(key) = &change.idempotency {
            self.idempotency.insert(
                (order.tenant_id, order.user_id, key.key.clone()),
                StoredKey {
                    fingerprint: key.fingerprint.clone(),
                    order_id: order.id,
                    created_at: order.milestones.created_at,
                },
            );
        }
        if let Some((cart, _)) = change.consumed_cart
            && let Some(cart) = self.carts.get_mut(&cart)
        {
            cart.lines.clear();
            cart.version += 1;
        }
        if let Some(redemption) = &change.promo_redemption {
            if let Some(code) = self
                .codes
                .get_mut(&(order.tenant_id, redemption.code.clone()))
            {
                code.times_used += 1;
            }
            *self
                .code_uses
                .entry((order.tenant_id, redemption.code.clone(), redemption.user_id))
                .or_default() += 1;
        }
        self.store(change);
    }

    /// Writes the order's new state, audit, outbox and inbox record; a stored order's place in
    /// its event's quota moves with its status.
    fn store(&mut self, change: &OrderChange) {
        let order = &change.order;
        if let (Some(event), Some(was)) = (order.event_id(), order.stored_status()) {
            let was = was.is_active();
            let is = order.status().is_active();
            let place = self
                .active_per_event
                .entry((order.tenant_id(), order.user_id(), event))
                .or_default();
            match (was, is) {
                (false, true) => *place += 1,
                (true, false) => *place = place.saturating_sub(1),
                _ => {}
            }
        }
        if let Some(message) = &change.inbox {
            self.inbox.insert((
                change.order.tenant_id(),
                message.consumer.clone(),
                message.message_id.clone(),
            ));
        }
        if let Some(key) = &change.refund_key {
            self.refund_keys.insert(
                refund_key_of(change, key),
                StoredRefundKey {
                    refund: KeyedRefund {
                        fingerprint: key.record.fingerprint.clone(),
                        order_id: order.id(),
                        refund_id: key.refund_id,
                    },
                    created_at: order.record().milestones.updated_at,
                },
            );
        }
        self.audit
            .entry(order.id())
            .or_default()
            .extend(change.audit.iter().cloned());
        self.ledger
            .entry(order.id())
            .or_default()
            .extend(change.ledger.iter().cloned());
        for content in &change.documents {
            let last = self
                .document_counters
                .entry((order.tenant_id(), content.kind, content.year()))
                .or_default();
            *last += 1;
            let number = content.kind.number(content.year(), *last);
            let documents = self.documents.entry(order.id()).or_default();
            let corrects = (content.kind == DocumentKind::CreditNote)
                .then(|| {
                    documents
                        .iter()
                        .find(|d| d.content.kind == DocumentKind::Invoice)
                        .map(|d| d.number.clone())
                })
                .flatten();
            documents.push(Document {
                number,
                corrects,
                content: content.clone(),
            });
        }
        self.outbox.extend(
            change
                .outbox
                .iter()
                .cloned()
                .map(|envelope| super::OutboxRow {
                    envelope,
                    published: false,
                    claimed_until: None,
                }),
        );
        let mut stored: Order = order.clone();
        stored.mark_committed();
        self.orders.insert(stored.id(), stored);
    }
}

#[async_trait]
impl UnitOfWork for MemoryStore {
    async fn commit(&self, change: &OrderChange) -> Result<(), RepositoryError> {
        let mut state = self.state();
        if change.order.version() == 0 {
            state.check_insert(change)?;
            state.insert(change);
            return Ok(());
        }
        if change.claims_creation_extras() {
            return Err(corrupt(
                "carts, promo codes, quotas and idempotency keys go with a new order only",
            ));
        }
        if !state.is_current(change) {
            return Err(RepositoryError::Conflict {
                expected: change.order.version(),
            });
        }
        state.check_inbox(change)?;
        state.check_refund_key(change)?;
        state.check_ledger(change)?;
        state.store(change);
        Ok(())
    }

    async fn commit_batch(&self, changes: &[OrderChange]) -> Result<Vec<bool>, RepositoryError> {
        check_batch(changes)?;
        let mut state = self.state();
        Ok(changes
            .iter()
            .map(|change| {
                let current = state.is_current(change);
                if current {
                    state.store(change);
                }
                current
            })
            .collect())
    }
}
