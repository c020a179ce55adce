//! Order limits (docs/product/limits.md): one [`FieldError`] per violated field, with its path.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One violated rule, with the path of the field in the request (`items[2].quantity`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// JSON path of the field, as the client sent it.
    pub path: String,
    /// Stable machine code (`out_of_range`, `too_many`, …).
    pub code: String,
    /// Human explanation.
    pub message: String,
}

impl FieldError {
    /// A violation of `code` at `path`.
    pub fn new(path: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// Every violated rule of one request.
#[derive(Debug, Clone, PartialEq, Eq, Default, thiserror::Error, Serialize, Deserialize)]
#[error("{} field(s) failed validation", .0.len())]
pub struct Violations(pub Vec<FieldError>);

impl Violations {
    /// `Ok(())` when nothing was violated.
    ///
    /// # Errors
    /// The collected violations otherwise.
    pub fn into_result(self) -> Result<(), Violations> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }

    /// Adds one violation.
    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }
}

/// The limits of docs/product/limits.md, configurable; [`Default`] gives the seed's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLimits {
    /// Highest order total, minor units (`MAX_ORDER_VALUE_CENTS`).
    pub max_order_value: i64,
    /// Lowest order total, minor units (`MIN_ORDER_VALUE_CENTS`).
    pub min_order_value: i64,
    /// Most lines per order.
    pub max_line_items: usize,
    /// Most units on one line.
    pub max_quantity_per_item: u32,
    /// Most tickets of one ticket type per order.
    pub max_per_ticket_type: u32,
    /// Most units per order.
    pub max_total_quantity: u32,
    /// Most orders one user may place per day.
    pub max_orders_per_user_per_day: u32,
    /// Most active (PENDING, RESERVED, CONFIRMED) orders per user and event.
    pub max_active_orders_per_user_per_event: u32,
    /// Most lines in a cart.
    pub max_cart_lines: usize,
}

/// The ticketing API's limits: orders of 100 to 10 000 000 minor units, 1–50 lines, 1–10 per line,
/// 20 per ticket type, 100 in all, 20 orders per buyer and day, 5 active orders per buyer and
/// event, 50 cart lines.
impl Default for OrderLimits {
    fn default() -> Self {
        Self {
            max_order_value: 10_000_000,
            min_order_value: 100,
            max_line_items: 50,
            max_quantity_per_item: 10,
            max_per_ticket_type: 20,
            max_total_quantity: 100,
            max_orders_per_user_per_day: 20,
            max_active_orders_per_user_per_event: 5,
            max_cart_lines: 50,
        }
    }
}

/// The per-line facts the limits look at, for ticket and goods lines alike (`group` is the
/// ticket type, or the product).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineQuantity<K> {
    /// What counts toward the per-type limit (the ticket type; any key for goods).
    pub group: K,
    /// Units asked for (signed so that a negative request is reported, not wrapped).
    pub quantity: i64,
}

/// A per-user quota that is used up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QuotaExceeded {
    /// `max_orders_per_user_per_day`.
    #[error("at most {limit} orders per day")]
    OrdersPerDay {
        /// The limit.
        limit: u32,
    },
    /// `max_active_orders_per_user_per_event`.
    #[error("at most {limit} active orders per event")]
    ActiveOrdersPerEvent {
        /// The limit.
        limit: u32,
    },
}

impl QuotaExceeded {
    /// The violation as a field error: the per-event quota at `eventId`, the daily one at the
    /// request as a whole (path `""`).
    pub fn field_error(&self) -> FieldError {
        match self {
            Self::OrdersPerDay { .. } => FieldError::new("", "orders_per_day", self.to_string()),
            Self::ActiveOrdersPerEvent { .. } => {
                FieldError::new("eventId", "active_orders_per_event", self.to_string())
            }
        }
    }
}

impl OrderLimits {
    /// Checks line count, quantities, per-group and total quantity, and answers the quantities
    /// as the unsigned counts the rest of the order works with (each in `1..=max_quantity_per_item`).
    /// Paths are `items`, `items[i].quantity`, …
    ///
    /// # Errors
    /// Every violation found.
    pub fn check_lines<K: Ord + Copy>(
        &self,
        lines: &[LineQuantity<K>],
    ) -> Result<Vec<u32>, Violations> {
        let mut violations = Violations::default();
        if lines.is_empty() {
            violations.push(FieldError::new(
                "items",
                "too_few",
                "an order needs at least one item",
            ));
        }
        if lines.len() > self.max_line_items {
            violations.push(FieldError::new(
                "items",
                "too_many",
                format!("at most {} items per order", self.max_line_items),
            ));
        }
        let mut per_group: BTreeMap<K, (i64, usize)> = BTreeMap::new();
        let mut total = 0i64;
        let mut checked = Vec::with_capacity(lines.len());
        for (index, line) in lines.iter().enumerate() {
            match u32::try_from(line.quantity) {
                Ok(quantity) if (1..=self.max_quantity_per_item).contains(&quantity) => {
                    checked.push(quantity);
                }
                _ => violations.push(FieldError::new(
                    format!("items[{index}].quantity"),
                    "out_of_range",
                    format!(
                        "quantity must be between 1 and {}",
                        self.max_quantity_per_item
                    ),
                )),
            }
            let quantity = line.quantity.max(0);
            let entry = per_group.entry(line.group).or_insert((0, index));
            entry.0 = entry.0.saturating_add(quantity);
            entry.1 = index;
            total = total.saturating_add(quantity);
        }
        for (count, last_index) in per_group.values() {
            if *count > i64::from(self.max_per_ticket_type) {
                violations.push(FieldError::new(
                    format!("items[{last_index}].quantity"),
                    "per_type_limit",
                    format!(
                        "at most {} of one ticket type per order",
                        self.max_per_ticket_type
                    ),
                ));
            }
        }
        if total > i64::from(self.max_total_quantity) {
            violations.push(FieldError::new(
                "items",
                "total_quantity_limit",
                format!("at most {} units per order", self.max_total_quantity),
            ));
        }
        violations.into_result()?;
        Ok(checked)
    }

    /// Checks the order total against the minimum and maximum value.
    ///
    /// # Errors
    /// A violation at `total`.
    pub fn check_total(&self, total: i64) -> Result<(), Violations> {
        if total > self.max_order_value {
            return Err(Violations(vec![FieldError::new(
                "total",
                "above_maximum",
                format!(
                    "the order total may be at most {} minor units",
                    self.max_order_value
                ),
            )]));
        }
        if total < self.min_order_value {
            return Err(Violations(vec![FieldError::new(
                "total",
                "below_minimum",
                format!(
                    "the order total must be at least {} minor units",
                    self.min_order_value
                ),
            )]));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(group: u8, quantity: i64) -> LineQuantity<u8> {
        LineQuantity { group, quantity }
    }

    #[test]
    fn each_violated_field_is_reported_with_its_path() {
        let limits = OrderLimits::default();
        let result = limits.check_lines(&[line(1, 2), line(2, 0), line(3, 11), line(4, -1)]);
        let paths: Vec<String> = result
            .expect_err("violations")
            .0
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(
            paths,
            [
                "items[1].quantity",
                "items[2].quantity",
                "items[3].quantity"
            ]
        );
    }

    #[test]
    fn limits_per_ticket_type_total_and_line_count() {
        let limits = OrderLimits::default();
        let per_type = limits
            .check_lines(&[line(1, 10), line(1, 10), line(1, 1)])
            .expect_err("per type");
        assert_eq!(per_type.0[0].code, "per_type_limit");
        assert_eq!(per_type.0[0].path, "items[2].quantity");
        let many: Vec<_> = (0..11).map(|g| line(g, 10)).collect();
        let total = limits.check_lines(&many).expect_err("total");
        assert_eq!(total.0[0].code, "total_quantity_limit");
        let lines: Vec<_> = (0..51).map(|g| line(g, 1)).collect();
        assert_eq!(
            limits.check_lines(&lines).expect_err("count").0[0].code,
            "too_many"
        );
        assert_eq!(
            limits.check_lines::<u8>(&[]).expect_err("none").0[0].code,
            "too_few"
        );
        assert_eq!(
            limits.check_lines(&[line(1, 10), line(2, 10)]),
            Ok(vec![10, 10])
        );
    }

    #[test]
    fn order_value_bounds() {
        let limits = OrderLimits::default();
        assert_eq!(
            limits.check_total(99).expect_err("min").0[0].code,
            "below_minimum"
        );
        assert_eq!(
            limits.check_total(10_000_001).expect_err("max").0[0].code,
            "above_maximum"
        );
        assert_eq!(limits.check_total(100), Ok(()));
        assert_eq!(limits.check_total(10_000_000), Ok(()));
    }

    #[test]
    fn quota_violations_name_their_field() {
        let event = QuotaExceeded::ActiveOrdersPerEvent { limit: 5 }.field_error();
        assert_eq!(
            (event.path.as_str(), event.code.as_str()),
            ("eventId", "active_orders_per_event")
        );
        let day = QuotaExceeded::OrdersPerDay { limit: 20 }.field_error();
        assert_eq!(
            (day.path.as_str(), day.code.as_str()),
            ("", "orders_per_day")
        );
        assert_eq!(day.message, "at most 20 orders per day");
    }
}
