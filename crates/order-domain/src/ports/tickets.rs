//! The ticket service's port: prices, holds and their changes, and the tickets sold under them.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::UpstreamError;
use crate::ids::{
    EventId, HoldId, OrderId, OrderItemId, TenantId, TicketId, TicketPricingId, TicketTypeId,
};
use crate::money::Money;

/// One line of what the ticket service is asked to price, hold or release: the port's own shape,
/// for every ticket-service adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketLine {
    /// Ticket type.
    pub ticket_type_id: TicketTypeId,
    /// Price point.
    pub ticket_pricing_id: TicketPricingId,
    /// Units.
    pub quantity: u32,
}

/// A ticket price from the ticket service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketPrice {
    /// Ticket type.
    pub ticket_type_id: TicketTypeId,
    /// Price point.
    pub ticket_pricing_id: TicketPricingId,
    /// Price of one ticket.
    pub price: Money,
    /// Tickets still available of this type.
    pub available: u32,
}

/// A hold placed upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hold {
    /// Upstream id.
    pub hold_id: HoldId,
    /// When the upstream lets it go by itself.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// Why tickets could not be held.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoldError {
    /// Not enough tickets left.
    #[error("sold out: {available} left of ticket type {ticket_type_id}")]
    SoldOut {
        /// The type that ran out.
        ticket_type_id: TicketTypeId,
        /// How many are left.
        available: u32,
    },
    /// The event is not on sale (cancelled, over or started): the ticket service decides at the
    /// moment of the hold, whatever a cached view of the event said.
    #[error("the event is not on sale")]
    NotOnSale,
    /// Any other failure.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
}

/// The ticket service (ticketing).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TicketService: Send + Sync {
    /// Current prices and availability of the requested lines.
    ///
    /// # Errors
    /// [`UpstreamError::NotFound`] when a ticket type or price point does not exist.
    async fn prices(
        &self,
        tenant: TenantId,
        event: EventId,
        lines: &[TicketLine],
    ) -> Result<Vec<TicketPrice>, UpstreamError>;

    /// Holds the tickets of `order` until `expires_at`. Idempotent per order: holding again
    /// returns the existing hold.
    ///
    /// # Errors
    /// [`HoldError::SoldOut`] when any line cannot be held, [`HoldError::NotOnSale`] when the
    /// event is not on sale now; nothing is held then.
    async fn hold(
        &self,
        tenant: TenantId,
        order: OrderId,
        event: EventId,
        lines: &[TicketLine],
        expires_at: OffsetDateTime,
    ) -> Result<Hold, HoldError>;

    /// Moves a hold's expiry.
    ///
    /// # Errors
    /// [`UpstreamError::NotFound`] when the hold has already expired.
    async fn extend(
        &self,
        hold: &HoldId,
        expires_at: OffsetDateTime,
    ) -> Result<Hold, UpstreamError>;

    /// Lets a hold go. Idempotent: releasing an unknown or released hold succeeds.
    ///
    /// # Errors
    /// [`UpstreamError::Unavailable`].
    async fn release(&self, hold: &HoldId) -> Result<(), UpstreamError>;

    /// Gives line `line` of a hold back to sale: `tickets` held, or already sold under the hold
    /// (their tickets are voided). Idempotent per line: releasing it again changes nothing.
    ///
    /// # Errors
    /// [`UpstreamError::Unavailable`]; [`UpstreamError::NotFound`] when the hold has no such
    /// tickets.
    async fn release_line(
        &self,
        hold: &HoldId,
        line: OrderItemId,
        tickets: &TicketLine,
    ) -> Result<(), UpstreamError>;

    /// Changes a hold for an order edit: `added` tickets are held under it too (only while it is
    /// not sold) and `released` ones go back to sale (held ones freed, sold ones voided), all or
    /// nothing, decided where the tickets are counted, so an edit claims only its difference.
    /// Idempotent per `key`: the same adjustment sent again changes nothing.
    ///
    /// # Errors
    /// [`HoldError::SoldOut`] when an added line cannot be held (nothing changes then);
    /// [`HoldError::Upstream`] with [`UpstreamError::NotFound`] when the hold was released or has
    /// expired, tickets are added to a sold hold, or it has not that many tickets to release.
    async fn adjust_hold(
        &self,
        hold: &HoldId,
        key: uuid::Uuid,
        added: &[TicketLine],
        released: &[TicketLine],
    ) -> Result<(), HoldError>;

    /// Holds the tickets an edit adds to a sold order, as a hold of their own keyed by the edit
    /// (holding again returns it), until `expires_at`; committed when the edit is paid, released
    /// or lapsed when it is not.
    ///
    /// # Errors
    /// As [`TicketService::hold`].
    async fn hold_for_edit(
        &self,
        tenant: TenantId,
        edit: crate::ids::OrderEditId,
        event: EventId,
        lines: &[TicketLine],
        expires_at: OffsetDateTime,
    ) -> Result<Hold, HoldError>;

    /// Lets many holds go in one call (the expiry job's batches). Idempotent like
    /// [`TicketService::release`].
    ///
    /// # Errors
    /// [`UpstreamError::Unavailable`]; the holds then lapse by their own expiry.
    async fn release_all(&self, holds: &[HoldId]) -> Result<(), UpstreamError>;

    /// Turns a hold into sold tickets (after payment).
    ///
    /// # Errors
    /// [`UpstreamError::NotFound`] when the hold expired meanwhile.
    async fn commit(&self, hold: &HoldId) -> Result<Vec<TicketId>, UpstreamError>;
}
