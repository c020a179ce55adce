//! Carts, promotions and promo codes.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{MemoryStore, State};
use crate::cart::{Cart, CartOwner, CartRecord};
use crate::ids::{CartId, TenantId, UserId};
use crate::ports::{CartRepository, PromotionRepository, RepositoryError};
use crate::pricing::goods::{PromoCode, Promotion};

impl State {
    /// Stores `record` as the next version of its cart: inserted at version 0 unless the id or
    /// the owner has a cart already, updated only from the stored version.
    fn save_cart(&mut self, record: &CartRecord) -> Result<(), RepositoryError> {
        let conflict = RepositoryError::Conflict {
            expected: record.version,
        };
        if record.version == 0 {
            let owner_taken = self
                .carts
                .values()
                .any(|c| c.tenant_id == record.tenant_id && c.owner == record.owner);
            if self.carts.contains_key(&record.id) || owner_taken {
                return Err(conflict);
            }
        } else if self.carts.get(&record.id).is_none_or(|stored| {
            stored.version != record.version || stored.tenant_id != record.tenant_id
        }) {
            return Err(conflict);
        }
        let mut stored = record.clone();
        stored.version += 1;
        self.carts.insert(stored.id, stored);
        Ok(())
    }
}

#[async_trait]
impl CartRepository for MemoryStore {
    async fn find_by_owner(
        &self,
        tenant: TenantId,
        owner: &CartOwner,
    ) -> Result<Option<Cart>, RepositoryError> {
        Ok(self
            .state()
            .carts
            .values()
            .find(|c| c.tenant_id == tenant && &c.owner == owner)
            .cloned()
            .map(Cart::restore))
    }

    async fn save(&self, cart: &Cart) -> Result<(), RepositoryError> {
        self.state().save_cart(&cart.to_record())
    }

    async fn delete(&self, tenant: TenantId, id: CartId) -> Result<(), RepositoryError> {
        let mut state = self.state();
        if state.carts.get(&id).is_some_and(|c| c.tenant_id == tenant) {
            state.carts.remove(&id);
        }
        Ok(())
    }

    async fn save_merged(&self, merged: &Cart, absorbed: CartId) -> Result<(), RepositoryError> {
        let record = merged.to_record();
        let mut state = self.state();
        let Some(taken) = state
            .carts
            .remove(&absorbed)
            .filter(|c| c.tenant_id == record.tenant_id)
        else {
            return Err(RepositoryError::Conflict {
                expected: record.version,
            });
        };
        if let Err(error) = state.save_cart(&record) {
            // Nothing is written when the merged cart is stale: the session's cart stays.
            state.carts.insert(taken.id, taken);
            return Err(error);
        }
        Ok(())
    }
}

#[async_trait]
impl PromotionRepository for MemoryStore {
    async fn active_promotions(
        &self,
        tenant: TenantId,
        now: OffsetDateTime,
    ) -> Result<Vec<Promotion>, RepositoryError> {
        let state = self.state();
        let mut running: Vec<Promotion> = state
            .promotions
            .get(&tenant)
            .into_iter()
            .flatten()
            .filter(|p| {
                p.starts_at.is_none_or(|at| at <= now) && p.ends_at.is_none_or(|at| at > now)
            })
            .cloned()
            .collect();
        running.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(running)
    }

    async fn find_code(
        &self,
        tenant: TenantId,
        code: &str,
        user: UserId,
    ) -> Result<Option<(PromoCode, u32)>, RepositoryError> {
        let state = self.state();
        Ok(state.codes.get(&(tenant, code.to_owned())).map(|found| {
            let uses = state
                .code_uses
                .get(&(tenant, code.to_owned(), user))
                .copied()
                .unwrap_or(0);
            (found.clone(), uses)
        }))
    }

    async fn list_codes(&self, tenant: TenantId) -> Result<Vec<PromoCode>, RepositoryError> {
        Ok(self
            .state()
            .codes
            .range((tenant, String::new())..)
            .take_while(|((owner, _), _)| *owner == tenant)
            .map(|(_, code)| code.clone())
            .collect())
    }

    async fn create_code(&self, tenant: TenantId, code: &PromoCode) -> Result<(), RepositoryError> {
        let mut state = self.state();
        let key = (tenant, code.code.clone());
        if state.codes.contains_key(&key) {
            return Err(RepositoryError::Duplicate {
                what: "promo_codes_pkey".to_owned(),
            });
        }
        state.codes.insert(
            key,
            PromoCode {
                times_used: 0,
                ..code.clone()
            },
        );
        Ok(())
    }

    async fn retire_code(
        &self,
        tenant: TenantId,
        code: &str,
        at: OffsetDateTime,
    ) -> Result<bool, RepositoryError> {
        let mut state = self.state();
        let Some(found) = state.codes.get_mut(&(tenant, code.to_owned())) else {
            return Ok(false);
        };
        found.valid_until = Some(found.valid_until.map_or(at, |until| until.min(at)));
        Ok(true)
    }
}
