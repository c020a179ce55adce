//! The fulfillment commands of goods orders: start, ship, deliver, and the return within its
//! window.

use time::OffsetDateTime;

use super::{Order, OrderError, OrderStatus, Shipment, check_transition};
use crate::events::{OrderEvent, OrderReturned, OrderShipped};

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

    /// SHIPPED/DELIVERED → RETURNED, while `return_window` after delivery has not passed.
    ///
    /// # Errors
    /// [`OrderError::ReturnWindowClosed`] or [`OrderError::InvalidTransition`].
    pub fn request_return(
        &mut self,
        reason: &str,
        return_window: time::Duration,
        now: OffsetDateTime,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        check_transition(self.kind(), self.status(), OrderStatus::Returned)?;
        if let Some(delivered) = self.record.milestones.delivered_at {
            let deadline = delivered + return_window;
            if now > deadline {
                return Err(OrderError::ReturnWindowClosed { deadline });
            }
        }
        let change = self.transition(OrderStatus::Returned, now)?;
        self.record.return_reason = Some(reason.to_owned());
        Ok(vec![OrderEvent::Returned(OrderReturned {
            change,
            reason: reason.to_owned(),
        })])
    }
}
