//! The tamper-evident audit trail (docs/audit.md): what a check of the hash chains and the daily
//! anchors covered, and the first link that did not hold.
//!
//! Storage links every audit entry to the one before it in its order's chain (SHA-256 over the
//! previous hash and the entry's content) and anchors each tenant's day over the heads of the
//! chains that grew in it; these types are how a check reports on them.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::ids::{AuditEntryId, OrderId, TenantId};

wire_enum! {
    /// Why an entry's link does not hold.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum EntryProblem ("entry problem") {
        /// The place before this one in the chain is empty: an entry was deleted.
        EntryMissing = "entry_missing",
        /// The entry names a previous hash that is not the previous entry's: entries were
        /// deleted, reordered or inserted.
        LinkBroken = "link_broken",
        /// The address does not match the commitment the chain hashed.
        AddressChanged = "address_changed",
        /// The content no longer hashes to the stored hash: a column was changed.
        EntryChanged = "entry_changed",
    }
}

wire_enum! {
    /// Why a day's anchor does not hold.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum AnchorProblem ("anchor problem") {
        /// A day with entries before the anchoring mark has no anchor.
        AnchorMissing = "anchor_missing",
        /// The anchor does not chain to the tenant's anchor before it.
        AnchorLinkBroken = "anchor_link_broken",
        /// The anchor's own fields no longer hash to it.
        AnchorChanged = "anchor_changed",
        /// The day's chains no longer add up to the anchor: an order or an entry was deleted,
        /// or an entry changed.
        EntriesChangedSinceAnchor = "entries_changed_since_anchor",
    }
}

/// The first link that did not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum AuditBreak {
    /// An entry of an order's chain.
    #[serde(rename_all = "camelCase")]
    Entry {
        /// The order whose chain broke.
        order_id: OrderId,
        /// The entry's place in the chain (1 for the first).
        seq: u32,
        /// The entry found at that place.
        entry_id: AuditEntryId,
        /// What does not hold.
        problem: EntryProblem,
    },
    /// A tenant's daily anchor.
    #[serde(rename_all = "camelCase")]
    Anchor {
        /// The UTC day.
        day: Date,
        /// What does not hold.
        problem: AnchorProblem,
        /// Chains and entries the anchor recorded (0 when it is missing).
        anchored_orders: u32,
        /// Entries the anchor recorded.
        anchored_entries: u64,
        /// Chains that grew that day, as stored now.
        found_orders: u32,
        /// Entries of that day, as stored now.
        found_entries: u64,
    },
}

/// What a check covered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditVerification {
    /// Orders whose whole chain was recomputed.
    pub orders_checked: u64,
    /// Anchors recomputed from the chains.
    pub anchors_checked: u32,
    /// The first link that did not hold: an order's chain first (by order id, then place), then
    /// the anchors by day. `None` when everything held.
    pub first_break: Option<AuditBreak>,
}

impl AuditVerification {
    /// Whether every link held.
    pub fn intact(&self) -> bool {
        self.first_break.is_none()
    }
}

/// A tenant's anchor of one UTC day, as exported for keeping a copy outside the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditAnchor {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The UTC day.
    pub day: Date,
    /// Chains that grew that day.
    pub orders: u32,
    /// Entries written that day.
    pub entries: u64,
    /// SHA-256 over the day's chain heads (order, place, hash), hex.
    pub digest: String,
    /// The tenant's anchor before this one (hex; zeros for the first).
    pub previous: String,
    /// SHA-256 over `previous`, the day, the counts and the digest, hex.
    pub anchor: String,
    /// When it was written.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What a check covers: one order's chain, or a tenant's time range (the chains of the orders
/// with an entry in it, and the anchors of its days).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditScope {
    /// One order's whole chain.
    Order(OrderId),
    /// `from..to` (at most [`MAX_RANGE`]).
    Range {
        /// Start, inclusive.
        from: OffsetDateTime,
        /// End, exclusive.
        to: OffsetDateTime,
    },
}

/// The longest range one check covers.
pub const MAX_RANGE: time::Duration = time::Duration::days(31);
