//! OpenAPI schemas of the domain's wire values. The domain crate knows nothing of OpenAPI, so
//! these marker types describe its enums, built from the domain's own lists and serde names, so
//! the document cannot drift from what the API sends.

use std::borrow::Cow;

use order_domain::money::Currency;
use order_domain::order::{OrderKind, OrderStatus, RefundStatus};
use serde::Serialize;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{RefOr, schema::SchemaType};
use utoipa::{PartialSchema, ToSchema};

/// A string enum of the serde names of `values`.
fn string_enum<T: Serialize>(values: &[T], description: &str) -> RefOr<Schema> {
    let names: Vec<serde_json::Value> = values
        .iter()
        .filter_map(|value| serde_json::to_value(value).ok())
        .collect();
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .enum_values(Some(names))
        .description(Some(description))
        .into()
}

macro_rules! domain_enum {
    ($marker:ident, $name:literal, $values:expr, $description:literal) => {
        #[doc = $description]
        #[derive(Debug)]
        pub struct $marker;

        impl PartialSchema for $marker {
            fn schema() -> RefOr<Schema> {
                string_enum(&$values, $description)
            }
        }

        impl ToSchema for $marker {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

domain_enum!(
    OrderStatusSchema,
    "OrderStatus",
    OrderStatus::ALL,
    "Where an order is in its lifecycle (docs/product/orders.md)."
);
domain_enum!(
    RefundStatusSchema,
    "RefundStatus",
    RefundStatus::ALL,
    "Where a refund is (docs/product/reservations-and-refunds.md)."
);
domain_enum!(
    DeliveryStatusSchema,
    "WebhookDeliveryStatus",
    order_domain::webhooks::DeliveryStatus::ALL,
    "Where a webhook delivery is."
);
domain_enum!(
    EventTypeSchema,
    "EventType",
    order_domain::events::EVENT_TYPES,
    "The name of an order event (docs/events.md)."
);
domain_enum!(
    OrderKindSchema,
    "OrderKind",
    OrderKind::ALL,
    "A ticket order (ticketing) or a goods order (the shop)."
);
domain_enum!(
    CurrencySchema,
    "Currency",
    Currency::ALL,
    "ISO 4217 code of a supported currency."
);

#[cfg(test)]
mod tests {
    use super::*;

    fn enum_names(schema: RefOr<Schema>) -> Vec<String> {
        let RefOr::T(Schema::Object(object)) = schema else {
            panic!("an object schema");
        };
        object
            .enum_values
            .unwrap_or_default()
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    }

    #[test]
    fn refund_statuses_are_the_wire_names_of_the_domain_list() {
        assert_eq!(
            enum_names(RefundStatusSchema::schema()),
            ["PENDING", "APPROVED", "REJECTED", "COMPLETED", "FAILED"]
        );
    }

    #[test]
    fn order_statuses_come_from_the_domain_list() {
        let names = enum_names(OrderStatusSchema::schema());
        assert_eq!(names.len(), OrderStatus::ALL.len());
        assert!(names.contains(&"RESERVED".to_owned()));
    }
}
