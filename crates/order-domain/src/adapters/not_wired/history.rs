//! [`NotWired`] for the ports of the order's history: the audit's hash chains, a customer's
//! personal data, event replays and stored events.

use async_trait::async_trait;
use time::{Date, OffsetDateTime};

use super::{NotWired, storage};
use crate::actor::Actor;
use crate::audit_chain::{AuditAnchor, AuditBreak};
use crate::events::EventEnvelope;
use crate::ids::ReplayId;
use crate::ids::UserId;
use crate::ids::{OrderId, TenantId};
use crate::order::Order;
use crate::personal_data::{OrderRecords, StoredErasure};
use crate::ports::{
    AuditChain, EventReplays, OutboxRecord, PersonalData, RepositoryError, StoredEvents,
};
use crate::replay::EventReplay;

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

#[async_trait]
impl EventReplays for NotWired {
    async fn begin_replay(&self, _replay: &EventReplay) -> Result<bool, RepositoryError> {
        Err(storage("EventReplays"))
    }

    async fn replay(
        &self,
        _tenant: TenantId,
        _id: ReplayId,
    ) -> Result<Option<EventReplay>, RepositoryError> {
        Err(storage("EventReplays"))
    }

    async fn lease_replay(
        &self,
        _now: OffsetDateTime,
        _until: OffsetDateTime,
        _token: uuid::Uuid,
    ) -> Result<Option<EventReplay>, RepositoryError> {
        Err(storage("EventReplays"))
    }

    async fn replay_events(
        &self,
        _replay: &EventReplay,
        _limit: u32,
    ) -> Result<Vec<(OffsetDateTime, OutboxRecord)>, RepositoryError> {
        Err(storage("EventReplays"))
    }

    async fn save_replay(
        &self,
        _replay: &EventReplay,
        _token: uuid::Uuid,
        _until: OffsetDateTime,
    ) -> Result<bool, RepositoryError> {
        Err(storage("EventReplays"))
    }
}

#[async_trait]
impl StoredEvents for NotWired {
    async fn tenant_of(&self, _order: OrderId) -> Result<Option<TenantId>, RepositoryError> {
        Err(storage("StoredEvents"))
    }

    async fn events_of(
        &self,
        _tenant: TenantId,
        _order: OrderId,
    ) -> Result<Vec<EventEnvelope>, RepositoryError> {
        Err(storage("StoredEvents"))
    }

    async fn every_order(
        &self,
        _after: Option<OrderId>,
        _limit: u32,
    ) -> Result<Vec<OrderId>, RepositoryError> {
        Err(storage("StoredEvents"))
    }
}
