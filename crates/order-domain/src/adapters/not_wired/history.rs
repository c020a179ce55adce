//! [`NotWired`] for the ports of the order's history: the audit's hash chains.

use async_trait::async_trait;
use time::{Date, OffsetDateTime};

use super::{NotWired, storage};
use crate::audit_chain::{AuditAnchor, AuditBreak};
use crate::ids::{OrderId, TenantId};
use crate::ports::{AuditChain, RepositoryError};

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
