//! Notifications (docs/product/events.md): each committed status change of an order is announced to
//! its buyer once, from the event stream after the commit, never inline in the request that changed
//! it.
//!
//! The [`Announcer`] is handed the order's own events by a consumer. It reads the order for the
//! recipient (the buyer and the address their token named at checkout), sends through the
//! [`Notifier`] with the event id as the notification id, then records the event in the inbox. A
//! crash between sending and recording sends again with the same id, which the notification
//! service treats as the same notification (docs/upstreams.md): each change reaches the buyer
//! once. An outage fails the announcement as retryable, so the consumer tries again later.

use std::sync::Arc;

use crate::events::EventEnvelope;
use crate::messages::MessageOutcome;
use crate::ports::{Inbox, Notification, Notifier, OrderRepository};
use crate::use_cases::UseCaseError;

/// Announces committed status changes; needs only the order reads, the inbox and the notifier.
#[derive(Clone)]
pub struct Announcer {
    orders: Arc<dyn OrderRepository>,
    inbox: Arc<dyn Inbox>,
    notifier: Arc<dyn Notifier>,
}

impl std::fmt::Debug for Announcer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Announcer").finish_non_exhaustive()
    }
}

impl Announcer {
    /// An announcer over these ports.
    pub fn new(
        orders: Arc<dyn OrderRepository>,
        inbox: Arc<dyn Inbox>,
        notifier: Arc<dyn Notifier>,
    ) -> Self {
        Self {
            orders,
            inbox,
            notifier,
        }
    }

    /// Sends the notification `envelope` calls for, once per `consumer`: every event that moves
    /// an order to another status, and an edit (the buyer learns the new lines and total). Other
    /// events that move nothing (creation, which is followed by the reservation, an extended
    /// hold, refund bookkeeping, tickets attached) need none.
    ///
    /// # Errors
    /// [`UseCaseError::Storage`] or [`UseCaseError::Upstream`] when the order cannot be read or
    /// the notifier is down ([`UseCaseError::is_retryable`] says whether to try again).
    pub async fn announce(
        &self,
        consumer: &str,
        envelope: &EventEnvelope,
    ) -> Result<MessageOutcome, UseCaseError> {
        let moved = envelope
            .event
            .status_change()
            .filter(|(from, to)| from != to)
            .map(|(_, to)| to);
        let edited = matches!(envelope.event, crate::events::OrderEvent::Edited(_));
        if moved.is_none() && !edited {
            return Ok(MessageOutcome::Ignored("no status change to announce"));
        }
        let tenant = envelope.tenant_id;
        let message_id = envelope.id.to_string();
        if self.inbox.contains(tenant, consumer, &message_id).await? {
            return Ok(MessageOutcome::Duplicate);
        }
        let Some(order) = self.orders.find(tenant, envelope.order_id).await? else {
            return Ok(MessageOutcome::Ignored("the order is not in this store"));
        };
        // An edit leaves the status as it is; the order is read after the change committed.
        let status = moved.unwrap_or(order.status());
        // So a shipped order has its shipment.
        let tracking_number = order.shipment().map(|s| s.tracking_number.clone());
        // The receipt names the invoice, issued by the confirmation's own commit.
        let invoice_number = if status == crate::order::OrderStatus::Confirmed {
            self.orders
                .documents(tenant, order.id())
                .await?
                .into_iter()
                .find(|d| d.content.kind == crate::documents::DocumentKind::Invoice)
                .map(|d| d.number)
        } else {
            None
        };
        let notification = Notification {
            id: envelope.id,
            tenant_id: tenant,
            user_id: order.user_id(),
            email: order.contact_email().cloned(),
            order_id: order.id(),
            order_number: order.number().clone(),
            template: envelope.event_type().to_owned(),
            status,
            tracking_number,
            invoice_number,
        };
        self.notifier.notify(&notification).await?;
        self.inbox.record(tenant, consumer, &message_id).await?;
        Ok(MessageOutcome::Applied)
    }
}
