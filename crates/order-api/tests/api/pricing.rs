//! Per-tenant pricing tables (`PRICING_FILE`): a shop with its own tax rates and shipping methods
//! prices its orders by them.

use std::collections::BTreeMap;

use order_domain::money::Rate;
use order_domain::pricing::goods::{ShippingMethod, TaxTable};
use order_domain::use_cases::{GoodsCatalogConfig, GoodsCatalogs};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;
use crate::shop::california;

#[tokio::test]
async fn a_shop_with_its_own_tables_prices_orders_by_its_tax_rates_and_shipping_methods() {
    let own = GoodsCatalogConfig {
        taxes: TaxTable::new().with_rate("US", Some("CA"), Rate::from_ppm(100_000)),
        shipping_methods: vec![ShippingMethod {
            code: "pickup".into(),
            price: 0,
            transit_days: 0,
            free_over: None,
        }],
    };
    let app = spawn_with(Setup {
        pricing: GoodsCatalogs {
            default: GoodsCatalogConfig::default(),
            tenants: BTreeMap::from([(tenant_a(), own)]),
        },
        ..Setup::default()
    })
    .await;
    let buyer = customer(51);
    let product = Uuid::from_u128(PRODUCT.as_u128() + 1).to_string();
    let added = app
        .post(
            &buyer,
            "/api/v1/cart/items",
            &json!({ "productId": product, "quantity": 1 }),
        )
        .await;
    assert_eq!(added.status(), 201);

    let not_offered = app
        .post(
            &buyer,
            "/api/v1/orders",
            &json!({ "shippingAddress": california(), "shippingMethod": "standard" }),
        )
        .await;
    assert_problem(not_offered, 422, "validation_failed").await;

    let created = app
        .post(
            &buyer,
            "/api/v1/orders",
            &json!({ "shippingAddress": california(), "shippingMethod": "pickup" }),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("json");
    let pricing = &created["order"]["pricing"];
    assert_eq!(pricing["subtotal"], 2_000);
    assert_eq!(pricing["shipping"], 0, "the shop's pickup is free");
    assert_eq!(pricing["tax"], 200, "the shop's 10 % for California");
    assert_eq!(pricing["total"], 2_200);
}
