//! [`NotWired`] for the ports of the order's history: the audit's hash chains, a customer's
//! personal data.

use async_trait::async_trait;
use time::{Date, OffsetDateTime};

use super::{NotWired, storage};
use crate::actor::Actor;
use crate::audit_chain::{AuditAnchor, AuditBreak};
use crate::ids::UserId;
use crate::ids::{OrderId, TenantId};
use crate::order::Order;
use crate::personal_data::{OrderRecords, StoredErasure};
use crate::ports::{AuditChain, PersonalData, RepositoryError};

#[async_trait]
impl AuditChain for NotWired {
    async fn chain_break(
        &self,
        _tenant: TenantId,
        _orders: &[OrderId],
    ) -> Result<Option<AuditBreak>, RepositoryError> {
        Err(storage("AuditChain"))
    }

    async fn orders_with_entries(
        &self,
        _tenant: TenantId,
        _from: OffsetDateTime,
        _to: OffsetDateTime,
        _after: Option<OrderId>,
        _limit: u32,
    ) -> Result<Vec<OrderId>, RepositoryError> {
        Err(storage("AuditChain"))
    }

    async fn anchor_break(
        &self,
        _tenant: TenantId,
        _from: Date,
        _to: Date,
    ) -> Result<(u32, Option<AuditBreak>), RepositoryError> {
        Err(storage("AuditChain"))
    }

    async fn anchors(
        &self,
        _tenant: TenantId,
        _from: Date,
        _to: Date,
    ) -> Result<Vec<AuditAnchor>, RepositoryError> {
        Err(storage("AuditChain"))
    }

    async fn anchor_days(&self, _before: Date, _max_days: u32) -> Result<u32, RepositoryError> {
        Err(storage("AuditChain"))
    }
}

#[async_trait]
impl PersonalData for NotWired {
    async fn knows_customer(
        &self,
        _tenant: TenantId,
        _user: UserId,
    ) -> Result<bool, RepositoryError> {
        Err(storage("PersonalData"))
    }

    async fn customer_orders(
        &self,
        _tenant: TenantId,
        _user: UserId,
        _after: Option<OrderId>,
        _limit: u32,
    ) -> Result<Vec<Order>, RepositoryError> {
        Err(storage("PersonalData"))
    }

    async fn order_records(
        &self,
        _tenant: TenantId,
        _orders: &[OrderId],
    ) -> Result<Vec<OrderRecords>, RepositoryError> {
        Err(storage("PersonalData"))
    }

    async fn erase_customer(
        &self,
        _tenant: TenantId,
        _user: UserId,
        _by: &Actor,
        _at: OffsetDateTime,
    ) -> Result<StoredErasure, RepositoryError> {
        Err(storage("PersonalData"))
    }

    async fn archive_finished(
        &self,
        _before: OffsetDateTime,
        _now: OffsetDateTime,
        _limit: u32,
        _retention_days: u32,
    ) -> Result<u32, RepositoryError> {
        Err(storage("PersonalData"))
    }
}
