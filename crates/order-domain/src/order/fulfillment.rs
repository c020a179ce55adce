//! The fulfillment commands of goods orders: start, ship, deliver, and the return within its
//! window.

use time::OffsetDateTime;

use super::{Order, OrderError, OrderStatus, RefundError, Shipment, check_transition};
use crate::events::{OrderEvent, OrderReturned, OrderShipped};
use crate::ids::OrderItemId;

impl Order {
    /// CONFIRMED → PROCESSING (goods).
    ///
    /// # Errors
    /// [`OrderError::InvalidTransition`] from any other status or kind.
    pub fn start_fulfillment(
        &mut self,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let change = self.transition(OrderStatus::Processing, now)?;
        Ok(vec![OrderEvent::FulfillmentStarted(change)])
    }

    /// PROCESSING → SHIPPED with carrier and tracking number.
    ///
    /// # Errors
    /// [`OrderError::InvalidTransition`] from any other status or kind.
    pub fn ship(
        &mut self,
        shipment: Shipment,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let change = self.transition(OrderStatus::Shipped, now)?;
        let event = OrderEvent::Shipped(OrderShipped {
            change,
            carrier: shipment.carrier.clone(),
            tracking_number: shipment.tracking_number.clone(),
            estimated_delivery: shipment.estimated_delivery,
        });
        self.record.shipment = Some(shipment);
        Ok(vec![event])
    }

    /// SHIPPED → DELIVERED.
    ///
    /// # Errors
    /// [`OrderError::InvalidTransition`] from any other status or kind.
    pub fn deliver(&mut self, now: OffsetDateTime) -> Result<Vec<OrderEvent>, OrderError> {
        let change = self.transition(OrderStatus::Delivered, now)?;
        Ok(vec![OrderEvent::Delivered(change)])
    }

    /// SHIPPED/DELIVERED → RETURNED, while `return_window` after delivery has not passed: the
    /// lines `items` (each once, in the order given), or the whole order when `items` is empty.
    ///
    /// # Errors
    /// [`OrderError::ReturnWindowClosed`], [`OrderError::InvalidTransition`],
    /// [`RefundError::UnknownItem`] for a line that is not on the order, or
    /// [`OrderError::ItemAlreadyCancelled`] for a cancelled line.
    pub fn request_return(
        &mut self,
        reason: &str,
        items: &[OrderItemId],
        return_window: time::Duration,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        check_transition(self.kind(), self.status(), OrderStatus::Returned)?;
        let mut returned: Vec<OrderItemId> = Vec::with_capacity(items.len());
        for id in items {
            if !self.record.items.iter().any(|item| item.id == *id) {
                return Err(RefundError::UnknownItem(*id).into());
            }
            if self.is_line_cancelled(*id) {
                return Err(OrderError::ItemAlreadyCancelled(*id));
            }
            if !returned.contains(id) {
                returned.push(*id);
            }
        }
        if self.record.cancelled_items.is_empty() {
            // Every line named is the whole order: one way to store it.
            if returned.len() == self.record.items.len() {
                returned.clear();
            }
        } else if returned.is_empty() {
            // The whole order, once lines were cancelled, is the lines still ordered: their
            // shares are refunded, not what the cancelled lines were already refunded.
            returned = self.active_items().map(|item| item.id).collect();
        }
        if let Some(delivered) = self.record.milestones.delivered_at {
            let deadline = delivered + return_window;
            if now > deadline {
                return Err(OrderError::ReturnWindowClosed { deadline });
            }
        }
        let change = self.transition(OrderStatus::Returned, now)?;
        self.record.return_reason = Some(reason.to_owned());
        self.record.return_items = returned.clone();
        Ok(vec![OrderEvent::Returned(OrderReturned {
            change,
            reason: reason.to_owned(),
            item_ids: returned,
        })])
    }
}
