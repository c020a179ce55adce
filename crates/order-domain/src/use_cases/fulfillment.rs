//! Goods fulfillment: processing → shipped (label and tracking) → delivered, and returns.

use super::{Extras, OrderService, UseCaseError};
use crate::actor::{RequestContext, Role};
use crate::ids::OrderId;
use crate::order::{Order, OrderStatus, Shipment, check_transition};

impl OrderService {
    /// CONFIRMED → PROCESSING (warehouse or admin).
    ///
    /// # Errors
    /// [`UseCaseError::Forbidden`], [`UseCaseError::NotFound`], [`UseCaseError::InvalidTransition`].
    pub async fn start_fulfillment(
        &self,
        ctx: &RequestContext,
        id: OrderId,
    ) -> Result<Order, UseCaseError> {
        let mut order = self.load_for_fulfillment(ctx, id).await?;
        let events = order.start_fulfillment(self.now())?;
        self.persist(ctx, &mut order, events, Extras::default())
            .await?;
        Ok(order)
    }

    /// PROCESSING → SHIPPED: buys a label from the shipping service and records carrier,
    /// tracking number and the delivery estimate.
    ///
    /// # Errors
    /// As [`OrderService::start_fulfillment`], plus upstream errors (the order is unchanged).
    pub async fn ship(&self, ctx: &RequestContext, id: OrderId) -> Result<Order, UseCaseError> {
        let mut order = self.load_for_fulfillment(ctx, id).await?;
        check_transition(order.kind(), order.status(), OrderStatus::Shipped)?;
        let goods = &order.record().goods;
        let address = goods
            .shipping_address
            .clone()
            .ok_or(UseCaseError::NotFound {
                what: "shipping address",
            })?;
        let method_code = goods
            .shipping_method
            .clone()
            .unwrap_or_else(|| "standard".to_owned());
        let label = self
            .ports
            .shipping
            .create_label(ctx.tenant_id, order.id(), &address, &method_code)
            .await?;
        let now = self.now();
        let estimated_delivery = self
            .goods
            .shipping_methods
            .iter()
            .find(|m| m.code == method_code)
            .map(|m| m.estimated_delivery(now.date()));
        let events = order.ship(
            Shipment {
                carrier: label.carrier,
                tracking_number: label.tracking_number,
                label_url: Some(label.label_url),
                estimated_delivery,
            },
            now,
        )?;
        self.persist(ctx, &mut order, events, Extras::default())
            .await?;
        Ok(order)
    }

    /// SHIPPED → DELIVERED.
    ///
    /// # Errors
    /// As [`OrderService::start_fulfillment`].
    pub async fn deliver(&self, ctx: &RequestContext, id: OrderId) -> Result<Order, UseCaseError> {
        let mut order = self.load_for_fulfillment(ctx, id).await?;
        let events = order.deliver(self.now())?;
        self.persist(ctx, &mut order, events, Extras::default())
            .await?;
        Ok(order)
    }

    /// `POST /orders/{id}/returns` by the owner: SHIPPED/DELIVERED → RETURNED within the window.
    ///
    /// # Errors
    /// [`UseCaseError::Order`] (`ReturnWindowClosed`), [`UseCaseError::InvalidTransition`],
    /// [`UseCaseError::NotFound`].
    pub async fn request_return(
        &self,
        ctx: &RequestContext,
        id: OrderId,
        reason: &str,
    ) -> Result<Order, UseCaseError> {
        let mut order = self.load_visible(ctx, id).await?;
        if !ctx.actor.is_privileged() && ctx.actor.user_id() != Some(order.user_id()) {
            return Err(UseCaseError::Forbidden);
        }
        let events = order.request_return(reason, self.config.refund.return_window, self.now())?;
        self.persist(ctx, &mut order, events, Extras::default())
            .await?;
        Ok(order)
    }

    async fn load_for_fulfillment(
        &self,
        ctx: &RequestContext,
        id: OrderId,
    ) -> Result<Order, UseCaseError> {
        if !(ctx.actor.is_privileged() || ctx.actor.has_role(Role::Warehouse)) {
            return Err(UseCaseError::Forbidden);
        }
        self.load_visible(ctx, id).await
    }
}
