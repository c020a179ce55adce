//! A customer's personal data (docs/personal-data.md): what an export holds besides the orders
//! themselves, and what an erasure did.

use time::OffsetDateTime;

use crate::audit::AuditEntry;
use crate::documents::Document;
use crate::ids::{OrderId, OrderNumber, UserId};
use crate::ledger::LedgerEntry;

/// What the service holds about one order besides the order: its history, its money and the
/// notifications its buyer was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecords {
    /// The order.
    pub order_id: OrderId,
    /// Its audit trail, oldest first.
    pub audit: Vec<AuditEntry>,
    /// Its ledger, oldest first.
    pub ledger: Vec<LedgerEntry>,
    /// Its invoices and credit notes.
    pub documents: Vec<Document>,
    /// The notifications sent about it, oldest first.
    pub notifications: Vec<SentNotification>,
}

/// A notification the buyer was sent: the event it announced, and when it went out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentNotification {
    /// The event's id (the notification's id at the notification service).
    pub event_id: uuid::Uuid,
    /// The event's stable name.
    pub event_type: String,
    /// When the change happened.
    pub occurred_at: OffsetDateTime,
    /// When the notification was handed over (while the inbox keeps the record).
    pub sent_at: OffsetDateTime,
}

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureReport {
    /// Whose data.
    pub user_id: UserId,
    /// Orders whose personal data this erasure overwrote.
    pub orders_erased: u32,
    /// Carts deleted.
    pub carts_deleted: u32,
    /// Stored idempotent answers deleted from the guard store.
    pub stored_answers_deleted: u64,
    /// The first erasure of this customer.
    pub first_erased_at: OffsetDateTime,
    /// This one.
    pub erased_at: OffsetDateTime,
}

/// How a storage erasure ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredErasure {
    /// Done (the guard store's answers are the use case's to delete).
    Erased(ErasureReport),
    /// Refused: these orders are still open (unpaid, unshipped, or owed a refund).
    OpenOrders(Vec<OrderNumber>),
}
