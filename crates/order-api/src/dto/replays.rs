//! Event replay on the wire: `POST /admin/events/replay` and its progress.

use garde::Validate;
use order_domain::replay::{EventReplay, ReplayScope, ReplayTarget};
use order_domain::use_cases::ReplayRequest;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::scope::{OrderOrRange, order_or_range};
use crate::error::ApiError;

/// Where the events go.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = ReplayTarget)]
pub enum ReplayTargetBody {
    /// The broker's exchange (consumers dedupe on the message id).
    Broker,
    /// The tenant's webhook subscriptions (receivers dedupe on `webhook-id`).
    Webhooks,
}

impl From<ReplayTargetBody> for ReplayTarget {
    fn from(target: ReplayTargetBody) -> Self {
        match target {
            ReplayTargetBody::Broker => Self::Broker,
            ReplayTargetBody::Webhooks => Self::Webhooks,
        }
    }
}

/// `POST /admin/events/replay`: one order's events (`orderId`), or the tenant's in `from..to`
/// (at most 31 days); optionally only some `types`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = NewReplay)]
pub struct ReplayBody {
    /// Every event of this order.
    #[garde(skip)]
    #[serde(default)]
    pub order_id: Option<uuid::Uuid>,
    /// Events that occurred from this instant…
    #[garde(skip)]
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub from: Option<OffsetDateTime>,
    /// …until before this one.
    #[garde(skip)]
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub to: Option<OffsetDateTime>,
    /// Only these event types (`order.confirmed`, …); all when absent or empty.
    #[garde(length(max = 20))]
    #[serde(default)]
    #[schema(max_items = 20)]
    pub types: Vec<String>,
    /// `broker` or `webhooks`.
    #[garde(skip)]
    pub target: ReplayTargetBody,
}

impl ReplayBody {
    /// The use case's request.
    ///
    /// # Errors
    /// 422 when neither or both of an order and a range are given, or half a range.
    pub fn into_request(self) -> Result<ReplayRequest, ApiError> {
        let scope = match order_or_range(self.order_id, self.from, self.to)? {
            OrderOrRange::Order(id) => ReplayScope::Order(id),
            OrderOrRange::Range(from, to) => ReplayScope::Range { from, to },
        };
        Ok(ReplayRequest {
            scope,
            types: self.types,
            target: self.target.into(),
        })
    }
}

/// A replay and its progress.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Replay)]
pub struct ReplayResponse {
    #[schema(value_type = uuid::Uuid)]
    id: String,
    /// `RUNNING` or `DONE`.
    #[schema(example = "RUNNING")]
    status: &'static str,
    target: ReplayTargetBody,
    /// The order replayed, for an order's replay.
    #[serde(skip_serializing_if = "Option::is_none")]
    order_id: Option<uuid::Uuid>,
    /// The range, for a range replay.
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    from: Option<OffsetDateTime>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    to: Option<OffsetDateTime>,
    /// Only these types (all when empty).
    types: Vec<String>,
    /// Events sent so far.
    replayed: u64,
    /// How far in time a range replay has got.
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    reached: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    updated_at: OffsetDateTime,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    finished_at: Option<OffsetDateTime>,
}

impl From<&EventReplay> for ReplayResponse {
    fn from(replay: &EventReplay) -> Self {
        let (order_id, from, to) = match replay.scope {
            ReplayScope::Order(order) => (Some(*order.as_uuid()), None, None),
            ReplayScope::Range { from, to } => (None, Some(from), Some(to)),
        };
        Self {
            id: replay.id.to_string(),
            status: replay.status.as_str(),
            target: match replay.target {
                ReplayTarget::Broker => ReplayTargetBody::Broker,
                ReplayTarget::Webhooks => ReplayTargetBody::Webhooks,
            },
            order_id,
            from,
            to,
            types: replay.types.clone(),
            replayed: replay.replayed,
            reached: replay.cursor.at,
            created_at: replay.created_at,
            updated_at: replay.updated_at,
            finished_at: replay.finished_at,
        }
    }
}
