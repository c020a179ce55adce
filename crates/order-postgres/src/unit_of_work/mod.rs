//! The unit of work: an order's new state, its audit entries, outbox events, and the cart,
//! promo-code, inbox and refund-key writes that belong to it, in one statement of one
//! transaction.
//!
//! An edit's lines and price follow the order's update in the same transaction
//! ([`lines::rewrite_lines`]).
//!
//! Three statements, each checked against the schema at compile time: [`insert::insert_order`] stores a
//! new order (claiming its quota places first), [`update::update_order`] stores the change of one stored
//! order, [`update::update_batch`] the status changes of many (the expiry job). Values are bound as typed parameters — the columns of
//! [`crate::columns`] — never as a document the SQL would take apart.

use async_trait::async_trait;
use order_domain::policy::QuotaExceeded;
use order_domain::ports::{OrderChange, RepositoryError, UnitOfWork, check_batch};

use crate::{PgStore, corrupt_data};

mod insert;
mod lines;
mod update;

use self::insert::insert_order;
use self::update::{Updated, update_batch, update_order};

#[async_trait]
impl UnitOfWork for PgStore {
    #[tracing::instrument(
        name = "db.transaction",
        skip_all,
        fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "commit", order_id = %change.order.id())
    )]
    async fn commit(&self, change: &OrderChange) -> Result<(), RepositoryError> {
        let order = change.order.record();
        let mut tx = self.tenant_tx(order.tenant_id).await?;
        // Dropping the transaction without committing rolls every part back.
        if order.version == 0 {
            let outcome = insert_order(&mut tx, change, &self.address_keys).await?;
            if !outcome.day_ok {
                return Err(QuotaExceeded::OrdersPerDay {
                    limit: change.quota.map_or(0, |q| q.max_orders_per_day),
                }
                .into());
            }
            if !outcome.event_ok {
                return Err(QuotaExceeded::ActiveOrdersPerEvent {
                    limit: change
                        .quota
                        .and_then(|q| q.active_for_event)
                        .map_or(0, |(_, max)| max),
                }
                .into());
            }
            if !outcome.idempotency_ok {
                return Err(RepositoryError::IdempotencyKeyTaken);
            }
            if !outcome.saved || !outcome.cart_ok {
                return Err(RepositoryError::Conflict { expected: 0 });
            }
            if !outcome.promo_ok {
                return Err(RepositoryError::PromoCodeUsedUp);
            }
        } else {
            if change.claims_creation_extras() {
                return Err(corrupt_data(
                    "carts, promo codes, quotas and idempotency keys go with a new order only",
                ));
            }
            match update_order(&mut tx, change, &self.address_keys).await? {
                Updated::Stored if change.rewrites_lines() => {
                    self::lines::rewrite_lines(&mut tx, change).await?;
                }
                Updated::Stored => {}
                Updated::StaleVersion => {
                    return Err(RepositoryError::Conflict {
                        expected: order.version,
                    });
                }
                Updated::KeyTaken => return Err(RepositoryError::IdempotencyKeyTaken),
            }
        }
        // Past this point the server may have committed even if the answer never arrives.
        tx.commit().await.map_err(|error| {
            RepositoryError::CommitOutcomeUnknown(order_domain::cause::Cause::new(error))
        })
    }

    #[tracing::instrument(
        name = "db.transaction",
        skip_all,
        fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "commit_batch", changes = changes.len())
    )]
    async fn commit_batch(&self, changes: &[OrderChange]) -> Result<Vec<bool>, RepositoryError> {
        check_batch(changes)?;
        let Some(first) = changes.first() else {
            return Ok(Vec::new());
        };
        let tenant = first.order.tenant_id();
        let mut tx = self.tenant_tx(tenant).await?;
        let stored = update_batch(&mut tx, *tenant.as_uuid(), changes).await?;
        tx.commit().await.map_err(|error| {
            RepositoryError::CommitOutcomeUnknown(order_domain::cause::Cause::new(error))
        })?;
        Ok(changes
            .iter()
            .map(|change| stored.contains(change.order.id().as_uuid()))
            .collect())
    }
}
