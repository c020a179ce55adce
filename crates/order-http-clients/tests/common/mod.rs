//! The simulator and client fixtures the client tests share.

#![allow(dead_code)] // each test binary uses its own subset

use order_domain::ids::*;
use order_domain::ports::*;
use order_http_clients::UpstreamConfig;
use order_simulator::{
    Catalog, SeedEvent, SeedPrice, SeedProduct, SeedTicketType, SeedVariant, Simulator,
};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

pub(crate) const KEY: &str = "test-service-key";

pub(crate) fn tenant() -> TenantId {
    TenantId::from_uuid(Uuid::from_u128(1))
}
pub(crate) fn event() -> EventId {
    EventId::from_uuid(Uuid::from_u128(2))
}
pub(crate) fn ticket_type() -> TicketTypeId {
    TicketTypeId::from_uuid(Uuid::from_u128(3))
}
pub(crate) fn pricing() -> TicketPricingId {
    TicketPricingId::from_uuid(Uuid::from_u128(4))
}

pub(crate) fn catalog(quota: u32) -> Catalog {
    Catalog {
        events: vec![SeedEvent {
            tenant_id: *tenant().as_uuid(),
            id: *event().as_uuid(),
            name: "Concert".into(),
            starts_at: OffsetDateTime::now_utc() + Duration::days(30),
            status: "SCHEDULED".into(),
            currency: "EUR".into(),
            ticket_types: vec![SeedTicketType {
                id: *ticket_type().as_uuid(),
                name: "GA".into(),
                quota,
                prices: vec![SeedPrice {
                    id: *pricing().as_uuid(),
                    name: "standard".into(),
                    amount: 10_000,
                }],
            }],
        }],
        products: vec![SeedProduct {
            tenant_id: *tenant().as_uuid(),
            id: *shirt().as_uuid(),
            sku: "TEE-1".into(),
            name: "T-shirt".into(),
            image_url: Some("https://img.example/tee.png".into()),
            price: 2_000,
            currency: "USD".into(),
            active: true,
            variants: vec![SeedVariant {
                attributes: [("size".to_owned(), "XL".to_owned())].into(),
                price: 2_500,
            }],
            stock: quota,
        }],
    }
}

/// The shop's product in [`catalog`]: its stock is the catalog's quota.
pub(crate) fn shirt() -> ProductId {
    ProductId::from_uuid(Uuid::from_u128(5))
}

pub(crate) fn config(base: &str) -> UpstreamConfig {
    UpstreamConfig {
        service_key: Some(KEY.into()),
        ..UpstreamConfig::new(base)
    }
}

pub(crate) async fn simulator(quota: u32) -> String {
    let (addr, _handle) = order_simulator::start(
        "127.0.0.1:0",
        Simulator::new(catalog(quota), Some(KEY.into())),
    )
    .expect("simulator");
    format!("http://{addr}")
}

pub(crate) fn line(quantity: u32) -> TicketLine {
    TicketLine {
        ticket_type_id: ticket_type(),
        ticket_pricing_id: pricing(),
        quantity,
    }
}
