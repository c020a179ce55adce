//! The business rules (docs/product/: pricing, limits, refunds) with the ticketing API's variable
//! names: limits, reservation windows, the refund policy and the ticket fee schedule. Defaults are
//! the domain's own.

use order_domain::policy::DomainConfig;
use serde::Deserialize;

use super::values::{
    Amount, ConfigError, Count, Hours, Minutes, Percent, Rounding, Seconds, Size, in_range,
};

#[derive(Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(super) struct RuleVars {
    max_order_value_cents: Option<Amount>,
    min_order_value_cents: Option<Amount>,
    max_items_per_order: Option<Size>,
    max_quantity_per_item: Option<Count>,
    max_tickets_per_type: Option<Count>,
    max_total_quantity: Option<Count>,
    max_orders_per_user_per_day: Option<Count>,
    max_active_orders_per_event: Option<Count>,
    max_cart_items: Option<Size>,
    reservation_duration_minutes: Option<Minutes>,
    vip_reservation_duration_minutes: Option<Minutes>,
    reservation_grace_period_minutes: Option<Minutes>,
    reservation_max_hold_multiple: Option<Count>,
    reservation_max_extensions: Option<Count>,
    order_timeout_minutes: Option<Minutes>,
    refund_cutoff_hours: Option<Hours>,
    refund_processing_fee_retention: Option<Percent>,
    refund_auto_approve_threshold_cents: Option<Amount>,
    refund_payout_lease_seconds: Option<Seconds>,
    platform_fee_percent: Option<Percent>,
    processing_fee_percent: Option<Percent>,
    processing_fee_fixed_cents: Option<Amount>,
    tax_rate_percent: Option<Percent>,
    rounding_mode: Option<Rounding>,
    seller_legal_name: Option<String>,
    seller_address: Option<String>,
    seller_tax_id: Option<String>,
}

/// `slot = value` when the variable was given.
fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}

impl RuleVars {
    pub(super) fn resolve(self) -> Result<DomainConfig, ConfigError> {
        let mut rules = DomainConfig::default();
        let limits = &mut rules.limits;
        set(
            &mut limits.max_order_value,
            self.max_order_value_cents.map(|a| a.0),
        );
        set(
            &mut limits.min_order_value,
            self.min_order_value_cents.map(|a| a.0),
        );
        set(
            &mut limits.max_line_items,
            self.max_items_per_order.map(|s| s.0),
        );
        set(
            &mut limits.max_quantity_per_item,
            self.max_quantity_per_item.map(|c| c.0),
        );
        set(
            &mut limits.max_per_ticket_type,
            self.max_tickets_per_type.map(|c| c.0),
        );
        set(
            &mut limits.max_total_quantity,
            self.max_total_quantity.map(|c| c.0),
        );
        set(
            &mut limits.max_orders_per_user_per_day,
            self.max_orders_per_user_per_day.map(|c| c.0),
        );
        set(
            &mut limits.max_active_orders_per_user_per_event,
            self.max_active_orders_per_event.map(|c| c.0),
        );
        set(&mut limits.max_cart_lines, self.max_cart_items.map(|s| s.0));
        let reservation = &mut rules.reservation;
        set(
            &mut reservation.ticket_hold,
            self.reservation_duration_minutes.map(|m| m.0),
        );
        set(
            &mut reservation.vip_ticket_hold,
            self.vip_reservation_duration_minutes.map(|m| m.0),
        );
        set(
            &mut reservation.grace,
            self.reservation_grace_period_minutes.map(|m| m.0),
        );
        if let Some(multiple) = self.reservation_max_hold_multiple {
            reservation.max_hold_multiple = in_range(
                "RESERVATION_MAX_HOLD_MULTIPLE",
                multiple.0,
                1..=100,
                "a whole number of hold lengths from 1 to 100",
            )?;
        }
        set(
            &mut reservation.max_extensions,
            self.reservation_max_extensions.map(|c| c.0),
        );
        set(
            &mut reservation.goods_payment_window,
            self.order_timeout_minutes.map(|m| m.0),
        );
        let refund = &mut rules.refund;
        set(
            &mut refund.cutoff,
            self.refund_cutoff_hours.map(|h| time::Duration::hours(h.0)),
        );
        set(
            &mut refund.retention_rate,
            self.refund_processing_fee_retention.map(|p| p.0),
        );
        set(
            &mut refund.auto_approve_below,
            self.refund_auto_approve_threshold_cents.map(|a| a.0),
        );
        if let Some(lease) = self.refund_payout_lease_seconds {
            refund.payout_lease = time::Duration::seconds(
                i64::try_from(in_range(
                    "REFUND_PAYOUT_LEASE_SECONDS",
                    lease.0,
                    1..=86_400,
                    "a number of seconds from 1 to 86400",
                )?)
                .unwrap_or(300),
            );
        }
        let seller = &mut rules.seller;
        if let Some(name) = self.seller_legal_name {
            if name.trim().is_empty() {
                return Err(ConfigError::new(
                    "SELLER_LEGAL_NAME",
                    "must name the seller (it is printed on every invoice)",
                ));
            }
            seller.legal_name = name.trim().to_owned();
        }
        if let Some(address) = self.seller_address {
            // Lines separated by `;`, as one environment variable holds them.
            seller.address = address
                .split(';')
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(str::to_owned)
                .collect();
        }
        seller.tax_id = self.seller_tax_id.filter(|id| !id.trim().is_empty());
        let fees = &mut rules.ticket_fees;
        set(
            &mut fees.platform_rate,
            self.platform_fee_percent.map(|p| p.0),
        );
        set(
            &mut fees.processing_rate,
            self.processing_fee_percent.map(|p| p.0),
        );
        set(
            &mut fees.processing_fixed,
            self.processing_fee_fixed_cents.map(|a| a.0),
        );
        set(
            &mut fees.default_tax_rate,
            self.tax_rate_percent.map(|p| p.0),
        );
        set(&mut fees.rounding, self.rounding_mode.map(|r| r.0));
        Ok(rules)
    }
}
