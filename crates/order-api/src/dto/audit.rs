//! The audit's checks on the wire: `GET /admin/audit/verify` and `GET /admin/audit/anchors`.

use garde::Validate;
use order_domain::audit_chain::{AuditAnchor, AuditBreak, AuditScope, AuditVerification};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};

use super::scope::{OrderOrRange, order_or_range};
use crate::error::ApiError;

/// `GET /admin/audit/verify`: one order (`orderId`), or a range (`from` and `to`).
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditVerifyQuery {
    /// Check this order's whole chain.
    #[garde(skip)]
    pub order_id: Option<uuid::Uuid>,
    /// Check the chains with an entry from this instant… (RFC 3339)
    #[garde(skip)]
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<OffsetDateTime>,
    /// …until before this one, and the anchors of the days between (at most 31 days).
    #[garde(skip)]
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<OffsetDateTime>,
}

impl AuditVerifyQuery {
    /// The scope asked for.
    ///
    /// # Errors
    /// 422 when neither or both of an order and a range are given, or half a range.
    pub fn scope(&self) -> Result<AuditScope, ApiError> {
        Ok(match order_or_range(self.order_id, self.from, self.to)? {
            OrderOrRange::Order(id) => AuditScope::Order(id),
            OrderOrRange::Range(from, to) => AuditScope::Range { from, to },
        })
    }
}

/// `GET /admin/audit/anchors`: UTC days `from..=to` (`YYYY-MM-DD`, at most 31 days).
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditAnchorsQuery {
    /// First day.
    #[garde(skip)]
    #[param(value_type = String, format = Date)]
    pub from: String,
    /// Last day.
    #[garde(skip)]
    #[param(value_type = String, format = Date)]
    pub to: String,
}

impl AuditAnchorsQuery {
    /// The days asked for.
    ///
    /// # Errors
    /// 422 naming the field that is not a `YYYY-MM-DD` day.
    pub fn days(&self) -> Result<(Date, Date), ApiError> {
        Ok((day("from", &self.from)?, day("to", &self.to)?))
    }
}

fn day(path: &str, text: &str) -> Result<Date, ApiError> {
    Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| ApiError::field(path, "invalid_date", "must be a day, YYYY-MM-DD"))
}

/// What a check covered and the first link that did not hold.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuditVerification)]
pub struct AuditVerificationResponse {
    /// Whether every link held.
    intact: bool,
    /// Orders whose whole chain was recomputed.
    orders_checked: u64,
    /// Daily anchors recomputed from the chains.
    anchors_checked: u32,
    /// The first link that did not hold: chains first (by order id, then place), then anchors
    /// by day.
    first_break: Option<AuditBreakBody>,
}

impl From<AuditVerification> for AuditVerificationResponse {
    fn from(report: AuditVerification) -> Self {
        Self {
            intact: report.intact(),
            orders_checked: report.orders_checked,
            anchors_checked: report.anchors_checked,
            first_break: report.first_break.map(AuditBreakBody::from),
        }
    }
}

/// A link that did not hold: an entry of an order's chain (`orderId`, `seq`, `entryId`) or a
/// day's anchor (`day` and the counts).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuditBreak)]
pub struct AuditBreakBody {
    /// `entry_missing`, `link_broken`, `address_changed`, `entry_changed` (an entry);
    /// `anchor_missing`, `anchor_link_broken`, `anchor_changed`, `entries_changed_since_anchor`
    /// (an anchor).
    problem: &'static str,
    /// The order whose chain broke.
    #[serde(skip_serializing_if = "Option::is_none")]
    order_id: Option<uuid::Uuid>,
    /// The entry's place in the chain, 1 for the first.
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u32>,
    /// The entry found there.
    #[serde(skip_serializing_if = "Option::is_none")]
    entry_id: Option<uuid::Uuid>,
    /// The anchor's UTC day.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    day: Option<String>,
    /// Chains and entries the anchor recorded, and as found now.
    #[serde(skip_serializing_if = "Option::is_none")]
    anchored_orders: Option<u32>,
    /// Entries the anchor recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    anchored_entries: Option<u64>,
    /// Chains that grew that day, as stored now.
    #[serde(skip_serializing_if = "Option::is_none")]
    found_orders: Option<u32>,
    /// Entries of that day, as stored now.
    #[serde(skip_serializing_if = "Option::is_none")]
    found_entries: Option<u64>,
}

impl From<AuditBreak> for AuditBreakBody {
    fn from(found: AuditBreak) -> Self {
        match found {
            AuditBreak::Entry {
                order_id,
                seq,
                entry_id,
                problem,
            } => Self {
                problem: problem.as_str(),
                order_id: Some(*order_id.as_uuid()),
                seq: Some(seq),
                entry_id: Some(*entry_id.as_uuid()),
                day: None,
                anchored_orders: None,
                anchored_entries: None,
                found_orders: None,
                found_entries: None,
            },
            AuditBreak::Anchor {
                day,
                problem,
                anchored_orders,
                anchored_entries,
                found_orders,
                found_entries,
            } => Self {
                problem: problem.as_str(),
                order_id: None,
                seq: None,
                entry_id: None,
                day: Some(day.to_string()),
                anchored_orders: Some(anchored_orders),
                anchored_entries: Some(anchored_entries),
                found_orders: Some(found_orders),
                found_entries: Some(found_entries),
            },
        }
    }
}

/// `GET /admin/audit/anchors`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuditAnchorList)]
pub struct AuditAnchorListResponse {
    /// Oldest first; days without entries have none.
    anchors: Vec<AuditAnchorBody>,
}

/// A tenant's anchor of one UTC day.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuditAnchor)]
pub struct AuditAnchorBody {
    /// The UTC day.
    #[schema(value_type = String, format = Date)]
    day: String,
    /// Chains that grew that day.
    orders: u32,
    /// Entries written that day.
    entries: u64,
    /// SHA-256 over the day's chain heads (order, place, hash), hex.
    digest: String,
    /// The anchor before this one, hex (zeros for the first).
    previous: String,
    /// SHA-256 over `previous`, the day, the counts and the digest, hex.
    anchor: String,
    /// When it was written.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    created_at: OffsetDateTime,
}

impl From<Vec<AuditAnchor>> for AuditAnchorListResponse {
    fn from(anchors: Vec<AuditAnchor>) -> Self {
        Self {
            anchors: anchors
                .into_iter()
                .map(|a| AuditAnchorBody {
                    day: a.day.to_string(),
                    orders: a.orders,
                    entries: a.entries,
                    digest: a.digest,
                    previous: a.previous,
                    anchor: a.anchor,
                    created_at: a.created_at,
                })
                .collect(),
        }
    }
}
