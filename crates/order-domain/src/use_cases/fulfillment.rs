//! Goods fulfillment for warehouse staff and admins: start (the stock allocated at a warehouse,
//! the pick list answered) → ship (a label from the shipping service, or the carrier's own
//! tracking number) → deliver, the processing-error path (cancelled and refunded in full), and
//! returns. Repeating a step that already happened answers the order as it is, so a retried
//! request never fails on its own success.

use super::{CancelOutcome, Extras, OrderService, UseCaseError};
use crate::actor::RequestContext;
use crate::ids::{OrderId, OrderItemId};
use crate::order::{Order, OrderKind, OrderStatus, Shipment, check_transition};
use crate::policy::{FieldError, RefundReason, Violations};
use crate::ports::{Allocation, OrderFilter, OrderPage, OrderPageRequest};

/// A shipment the warehouse already has a tracking number for (no label is bought).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualShipment {
    /// The carrier.
    pub carrier: String,
    /// Its tracking number.
    pub tracking_number: String,
}

impl OrderService {
    /// CONFIRMED → PROCESSING (warehouse or admin): the paid stock is allocated at a warehouse
    /// and its pick list answered. Again on a PROCESSING order: the same pick list.
    ///
    /// # Ports
    /// `inventory`, `orders`, `unit_of_work`.
    ///
    /// # Errors
    /// [`UseCaseError::Forbidden`], [`UseCaseError::NotFound`], [`UseCaseError::InvalidTransition`];
    /// upstream errors (the order is unchanged).
    pub async fn start_fulfillment(
        &self,
        ctx: &RequestContext,
        id: OrderId,
    ) -> Result<(Order, Allocation), UseCaseError> {
        let mut order = self.load_for_fulfillment(ctx, id).await?;
        let repeated = order.status() == OrderStatus::Processing;
        if !repeated {
            check_transition(order.kind(), order.status(), OrderStatus::Processing)?;
        }
        // Upstream first: nothing is stored unless the warehouse has the stock.
        let allocation = self
            .ports
            .inventory
            .allocate(order.tenant_id(), order.id())
            .await?;
        if !repeated {
            let events = order.start_fulfillment(self.now())?;
            self.persist(ctx, &mut order, events, Extras::default())
                .await?;
        }
        Ok((order, allocation))
    }

    /// PROCESSING → SHIPPED: with `manual`, the carrier and tracking number the warehouse gives;
    /// otherwise a label bought from the shipping service (carrier, tracking number, label URL).
    /// The delivery estimate is recorded. Again on a SHIPPED order: the order as it is.
    ///
    /// # Ports
    /// `orders`, `shipping`, `unit_of_work`.
    ///
    /// # Errors
    /// As [`OrderService::start_fulfillment`], plus upstream errors (the order is unchanged).
    pub async fn ship(
        &self,
        ctx: &RequestContext,
        id: OrderId,
        manual: Option<ManualShipment>,
    ) -> Result<Order, UseCaseError> {
        let mut order = self.load_for_fulfillment(ctx, id).await?;
        if order.status() == OrderStatus::Shipped {
            return Ok(order);
        }
        check_transition(order.kind(), order.status(), OrderStatus::Shipped)?;
        let goods = &order.goods();
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
        let (carrier, tracking_number, label_url) = match manual {
            Some(given) => (given.carrier, given.tracking_number, None),
            None => {
                let label = self
                    .ports
                    .shipping
                    .create_label(ctx.tenant_id, order.id(), &address, &method_code)
                    .await?;
                (label.carrier, label.tracking_number, Some(label.label_url))
            }
        };
        let now = self.now();
        let estimated_delivery = self
            .goods
            .for_tenant(order.tenant_id())
            .shipping_method(Some(&method_code))
            .map(|m| m.estimated_delivery(now.date()));
        let events = order.ship(
            Shipment {
                carrier,
                tracking_number,
                label_url,
                estimated_delivery,
            },
            now,
        )?;
        self.persist(ctx, &mut order, events, Extras::default())
            .await?;
        Ok(order)
    }

    /// SHIPPED → DELIVERED. Again on a DELIVERED order: the order as it is.
    ///
    /// # Ports
    /// `orders`, `unit_of_work`.
    ///
    /// # Errors
    /// As [`OrderService::start_fulfillment`].
    pub async fn deliver(&self, ctx: &RequestContext, id: OrderId) -> Result<Order, UseCaseError> {
        let mut order = self.load_for_fulfillment(ctx, id).await?;
        if order.status() == OrderStatus::Delivered {
            return Ok(order);
        }
        let events = order.deliver(self.now())?;
        self.persist(ctx, &mut order, events, Extras::default())
            .await?;
        Ok(order)
    }

    /// PROCESSING → CANCELLED after a processing error (the shop): refunded in full and its
    /// stock reservation let go.
    ///
    /// # Ports
    /// `events`, `incidents`, `inventory`, `orders`, `payments`, `tickets`, `unit_of_work`.
    ///
    /// # Errors
    /// As [`OrderService::start_fulfillment`]; refund and storage errors.
    pub async fn fail_fulfillment(
        &self,
        ctx: &RequestContext,
        id: OrderId,
        reason: &str,
    ) -> Result<CancelOutcome, UseCaseError> {
        let order = self.load_for_fulfillment(ctx, id).await?;
        check_transition(order.kind(), order.status(), OrderStatus::Cancelled)?;
        if order.status() != OrderStatus::Processing {
            return Err(UseCaseError::InvalidTransition(
                crate::order::InvalidTransition {
                    kind: order.kind(),
                    from: order.status(),
                    to: OrderStatus::Cancelled,
                },
            ));
        }
        let why = format!("processing error: {reason}");
        self.cancel_loaded(ctx, order, &why, Some(RefundReason::GoodsCancelled), None)
            .await
    }

    /// `POST /orders/{id}/returns` by the owner: SHIPPED/DELIVERED → RETURNED within the window.
    ///
    /// # Ports
    /// `orders`, `unit_of_work`.
    ///
    /// # Errors
    /// [`UseCaseError::Order`] (`ReturnWindowClosed`), [`UseCaseError::InvalidTransition`],
    /// [`UseCaseError::NotFound`]; [`UseCaseError::Forbidden`] for anyone but the owner.
    pub async fn request_return(
        &self,
        ctx: &RequestContext,
        id: OrderId,
        reason: &str,
        items: &[OrderItemId],
    ) -> Result<Order, UseCaseError> {
        let mut order = self.load_visible(ctx, id).await?;
        // The buyer sends the goods back; nobody else can say they did.
        if ctx.actor.user_id() != Some(order.user_id()) {
            return Err(UseCaseError::Forbidden);
        }
        let events =
            order.request_return(reason, items, self.config.refund.return_window, self.now())?;
        self.persist(ctx, &mut order, events, Extras::default())
            .await?;
        Ok(order)
    }

    /// The order a fulfillment step acts on. Warehouse staff reach paid goods orders only; any
    /// other order is "not found" to them, as another buyer's order is to a buyer.
    pub(super) async fn load_for_fulfillment(
        &self,
        ctx: &RequestContext,
        id: OrderId,
    ) -> Result<Order, UseCaseError> {
        if !ctx.actor.can_fulfill() {
            return Err(UseCaseError::Forbidden);
        }
        if ctx.actor.is_privileged() {
            return Ok(self.load_visible(ctx, id).await?);
        }
        self.ports
            .orders
            .find(ctx.tenant_id, id)
            .await?
            .filter(Order::is_fulfillment_work)
            .ok_or(UseCaseError::NotFound { what: "order" })
    }

    /// The warehouse's queue: paid goods orders in `status` (one that
    /// [awaits the warehouse](OrderStatus::awaits_warehouse)), newest first.
    ///
    /// # Ports
    /// `orders`.
    ///
    /// # Errors
    /// [`UseCaseError::Forbidden`] unless warehouse or admin; [`UseCaseError::Validation`] for a
    /// status that does not await the warehouse; storage errors.
    pub async fn fulfillment_queue(
        &self,
        ctx: &RequestContext,
        status: OrderStatus,
        page: OrderPageRequest,
    ) -> Result<OrderPage, UseCaseError> {
        if !ctx.actor.can_fulfill() {
            return Err(UseCaseError::Forbidden);
        }
        if !status.awaits_warehouse() {
            return Err(Violations(vec![FieldError::new(
                "query.status",
                "invalid",
                "not a status of the fulfillment queue (CONFIRMED, PROCESSING, SHIPPED, RETURNED)",
            )])
            .into());
        }
        let filter = OrderFilter {
            status: Some(status),
            kind: Some(OrderKind::Goods),
            ..OrderFilter::default()
        };
        Ok(self.ports.orders.list(ctx.tenant_id, &filter, page).await?)
    }
}
