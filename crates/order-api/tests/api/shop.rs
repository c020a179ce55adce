//! The shop through HTTP: anonymous and buyers' carts, prices from the product service,
//! availability, the preview, the merge at login, limits under concurrency, and goods orders from
//! the cart.

use futures_util::future::join_all;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

const SESSION: &str = "anon-session-0123456789abcdef";

pub(crate) fn product(n: u128) -> String {
    Uuid::from_u128(PRODUCT.as_u128() + n).to_string()
}

impl TestApp {
    /// A request of the anonymous session `session` of tenant A.
    pub(crate) fn anonymous(
        &self,
        method: reqwest::Method,
        path: &str,
        session: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header("X-Tenant-Id", tenant_a().to_string())
            .header("X-Session-Id", session)
    }
}

#[tokio::test]
async fn an_anonymous_cart_is_priced_by_the_catalog_and_joins_the_buyers_cart_at_login() {
    let app = spawn_app().await;
    let added = app
        .anonymous(reqwest::Method::POST, "/api/v1/cart/items", SESSION)
        .json(&json!({ "productId": product(0), "quantity": 2, "selectedAttributes": { "size": "XL" } }))
        .send()
        .await
        .expect("request");
    assert_eq!(added.status(), 201);
    let added: Value = added.json().await.expect("json");
    assert_eq!(
        added["cartItem"]["unitPrice"], 2_500,
        "the XL variant's catalog price"
    );
    assert_eq!(added["cartItem"]["totalPrice"], 5_000);
    assert_eq!(added["cart"]["itemCount"], 2);
    assert_eq!(added["cart"]["userId"], Value::Null);

    // The client cannot name a price.
    let priced_by_client = app
        .anonymous(reqwest::Method::POST, "/api/v1/cart/items", SESSION)
        .json(&json!({ "productId": product(0), "quantity": 1, "unitPrice": 1 }))
        .send()
        .await
        .expect("request");
    assert_problem(priced_by_client, 422, "validation_failed").await;

    let cart: Value = app
        .anonymous(
            reqwest::Method::GET,
            "/api/v1/cart?country=US&region=CA",
            SESSION,
        )
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let line = &cart["items"][0];
    assert_eq!(line["availability"]["inStock"], true);
    assert_eq!(line["availability"]["maxQuantity"], PRODUCT_STOCK);
    // 5 000 reaches standard shipping's free threshold (50.00); California's 8.715 % of 5 000
    // is 435.75 → 436.
    assert_eq!(cart["totals"]["shipping"], 0);
    assert_eq!(cart["totals"]["tax"], 436);
    assert_eq!(cart["totals"]["total"], 5_436);

    // Another session sees nothing of it.
    let other: Value = app
        .anonymous(
            reqwest::Method::GET,
            "/api/v1/cart",
            "another-session-0123456789",
        )
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(other["items"], json!([]));

    let buyer = customer(1);
    let merged = app
        .post(
            &buyer,
            "/api/v1/cart/merge",
            &json!({ "sessionId": SESSION }),
        )
        .await;
    assert_eq!(merged.status(), 200);
    let merged: Value = merged.json().await.expect("json");
    assert_eq!(merged["cart"]["itemCount"], 2);
    assert_eq!(merged["merge"]["added"], json!([product(0)]));
    let mine: Value = app
        .get(&buyer, "/api/v1/cart")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(mine["items"][0]["quantity"], 2);
    let left: Value = app
        .anonymous(reqwest::Method::GET, "/api/v1/cart", SESSION)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(
        left["items"],
        json!([]),
        "the session's cart is gone after the merge"
    );
}

#[tokio::test]
async fn lines_change_and_go_and_unknown_lines_are_not_found() {
    let app = spawn_app().await;
    let buyer = customer(2);
    let added: Value = app
        .post(
            &buyer,
            "/api/v1/cart/items",
            &json!({ "productId": product(1), "quantity": 1 }),
        )
        .await
        .json()
        .await
        .expect("json");
    let line = added["cartItem"]["id"]
        .as_str()
        .expect("line id")
        .to_owned();
    let changed: Value = app
        .client
        .patch(app.url(&format!("/api/v1/cart/items/{line}")))
        .bearer_auth(&buyer)
        .json(&json!({ "quantity": 4 }))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(changed["items"][0]["quantity"], 4);
    let too_many = app
        .client
        .patch(app.url(&format!("/api/v1/cart/items/{line}")))
        .bearer_auth(&buyer)
        .json(&json!({ "quantity": 11 }))
        .send()
        .await
        .expect("request");
    assert_problem(too_many, 422, "cart_invalid").await;
    let removed: Value = app
        .client
        .delete(app.url(&format!("/api/v1/cart/items/{line}")))
        .bearer_auth(&buyer)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(removed["items"], json!([]));
    let gone = app
        .client
        .delete(app.url(&format!("/api/v1/cart/items/{line}")))
        .bearer_auth(&buyer)
        .send()
        .await
        .expect("request");
    assert_problem(gone, 404, "not_found").await;
    let missing_session = app
        .client
        .get(app.url("/api/v1/cart"))
        .header("X-Tenant-Id", tenant_a().to_string())
        .send()
        .await
        .expect("request");
    let problem = assert_problem(missing_session, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["path"], "header.X-Session-Id");
}

#[tokio::test]
async fn concurrent_adds_never_put_more_lines_in_a_cart_than_max_cart_items() {
    let mut setup = Setup::default();
    setup.domain.limits.max_cart_lines = 3;
    let app = spawn_with(setup).await;
    let buyer = customer(3);
    let attempts = (0..10u128).map(|n| {
        let body = json!({ "productId": product(n), "quantity": 1 });
        let app = &app;
        let buyer = buyer.clone();
        async move {
            app.post(&buyer, "/api/v1/cart/items", &body)
                .await
                .status()
                .as_u16()
        }
    });
    let statuses = join_all(attempts).await;
    assert!(
        statuses.iter().all(|s| matches!(s, 201 | 409 | 422)),
        "no server errors: {statuses:?}"
    );
    let added = statuses.iter().filter(|s| **s == 201).count();
    let cart: Value = app
        .get(&buyer, "/api/v1/cart")
        .await
        .json()
        .await
        .expect("json");
    let lines = cart["items"].as_array().expect("items").len();
    assert_eq!(lines, added, "every accepted add is in the cart, no other");
    assert!(lines <= 3, "{lines} lines in a cart of at most 3");
    // Adds that lost every retry to the others' changes left room; one by one, the cart fills to
    // exactly the limit and no further.
    for n in 10..13u128 {
        app.post(&buyer, "/api/v1/cart/items", &json!({ "productId": product(n % 10), "quantity": 1, "selectedAttributes": { "size": format!("S{n}") } }))
            .await;
    }
    let cart: Value = app
        .get(&buyer, "/api/v1/cart")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(cart["items"].as_array().expect("items").len(), 3);
}

pub(crate) fn california() -> Value {
    json!({
        "firstName": "Ada", "lastName": "Lovelace", "street": "1 Market St", "city": "San Francisco",
        "state": "CA", "zipCode": "94105", "country": "US", "phone": "+14155550100"
    })
}

#[tokio::test]
async fn a_goods_order_from_the_cart_is_priced_reserved_and_empties_the_cart() {
    let app = spawn_app().await;
    let buyer = customer(4);
    for body in [
        json!({ "productId": product(0), "quantity": 2, "selectedAttributes": { "size": "XL" } }),
        json!({ "productId": product(1), "quantity": 1 }),
    ] {
        assert_eq!(
            app.post(&buyer, "/api/v1/cart/items", &body).await.status(),
            201
        );
    }
    let created = app
        .post(
            &buyer,
            "/api/v1/orders",
            &json!({ "shippingAddress": california(), "shippingMethod": "standard", "notes": "leave at the door" }),
        )
        .await;
    assert_eq!(created.status(), 201);
    assert!(created.headers().contains_key("location"));
    let created: Value = created.json().await.expect("json");
    let order = &created["order"];
    // 2 × 2 500 + 2 000 = 7 000: free standard shipping; California's 8.715 % is 610.05 → 610.
    assert_eq!(order["pricing"]["subtotal"], 7_000);
    assert_eq!(order["pricing"]["shipping"], 0);
    assert_eq!(order["pricing"]["tax"], 610);
    assert_eq!(order["pricing"]["total"], 7_610);
    assert_eq!(order["kind"], "GOODS");
    assert_eq!(order["status"], "RESERVED");
    assert_eq!(order["shippingAddress"]["city"], "San Francisco");
    assert_eq!(
        order["billingAddress"]["zipCode"], "94105",
        "billing defaults to shipping"
    );
    assert!(
        order["estimatedDelivery"]
            .as_str()
            .is_some_and(|d| d.len() == 10)
    );
    assert!(created["paymentIntent"]["clientSecret"].is_string());
    assert_eq!(created["paymentIntent"]["status"], "requires_confirmation");
    let id: uuid::Uuid = order["id"].as_str().expect("id").parse().expect("uuid");
    let raw: String = sqlx::query_scalar("SELECT to_jsonb(o)::text FROM orders o WHERE id = $1")
        .bind(id)
        .fetch_one(&app.owner)
        .await
        .expect("the row, read as the database owner");
    // The sealed values' random base64 may spell a short name by chance: search the rest.
    let mut row: Value = serde_json::from_str(&raw).expect("json");
    for column in row.as_object_mut().expect("a row").values_mut() {
        if let Some(sealed) = column
            .as_object_mut()
            .filter(|c| c.contains_key("ciphertext"))
        {
            sealed.remove("ciphertext");
            sealed.remove("nonce");
        }
    }
    let clear = row.to_string();
    assert!(
        clear.contains("\"kid\""),
        "the addresses are sealed: {clear}"
    );
    for personal in ["Ada", "Lovelace", "Market", "4155550100"] {
        assert!(
            !clear.contains(personal),
            "{personal:?} is readable at rest"
        );
    }

    let cart: Value = app
        .get(&buyer, "/api/v1/cart")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        cart["items"],
        json!([]),
        "the cart was emptied with the order"
    );
    let state = app.simulator_state().await;
    let reservations = state["shop"]["reservations"]
        .as_array()
        .expect("reservations");
    assert_eq!(reservations.len(), 1);
    assert_eq!(reservations[0]["status"], "RESERVED");
}

#[tokio::test]
async fn stock_that_ran_out_between_cart_and_order_refuses_the_order_and_keeps_the_cart() {
    let app = spawn_app().await;
    let buyer = customer(5);
    let rival = customer(6);
    for who in [&buyer, &rival] {
        let body = json!({ "productId": product(2), "quantity": PRODUCT_STOCK });
        assert_eq!(
            app.post(who, "/api/v1/cart/items", &body).await.status(),
            201
        );
    }
    let first = app
        .post(
            &rival,
            "/api/v1/orders",
            &json!({ "shippingAddress": california() }),
        )
        .await;
    assert_eq!(first.status(), 201, "the rival takes the whole stock");
    let late = app
        .post(
            &buyer,
            "/api/v1/orders",
            &json!({ "shippingAddress": california() }),
        )
        .await;
    assert_problem(late, 409, "out_of_stock").await;
    let cart: Value = app
        .get(&buyer, "/api/v1/cart")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(cart["items"][0]["availability"]["inStock"], false);
    assert_eq!(
        cart["items"][0]["quantity"], PRODUCT_STOCK,
        "the cart is kept"
    );
}

impl TestApp {
    /// A goods order of `buyer` for `quantity` units of product `n`; returns `{order, paymentIntent}`.
    pub(crate) async fn goods_order(&self, buyer: &str, n: u128, quantity: u32) -> Value {
        let body = json!({ "productId": product(n), "quantity": quantity });
        assert_eq!(
            self.post(buyer, "/api/v1/cart/items", &body).await.status(),
            201
        );
        let created = self
            .post(
                buyer,
                "/api/v1/orders",
                &json!({ "shippingAddress": california() }),
            )
            .await;
        assert_eq!(created.status(), 201);
        created.json().await.expect("json")
    }
}

#[tokio::test]
async fn confirm_payment_confirms_a_goods_order_once_and_commits_its_stock() {
    let app = spawn_app().await;
    let buyer = customer(7);
    let created = app.goods_order(&buyer, 3, 2).await;
    let id = created["order"]["id"].as_str().expect("id").to_owned();
    let intent = created["paymentIntent"]["id"].clone();
    let path = format!("/api/v1/orders/{id}/confirm-payment");
    let stranger = app
        .post(&customer(8), &path, &json!({ "paymentIntentId": intent }))
        .await;
    assert_problem(stranger, 404, "not_found").await;
    let wrong = app
        .post(
            &buyer,
            &path,
            &json!({ "paymentIntentId": "pi_someone_elses" }),
        )
        .await;
    assert_problem(wrong, 409, "payment_intent_mismatch").await;
    let confirmed = app
        .post(&buyer, &path, &json!({ "paymentIntentId": intent }))
        .await;
    assert_eq!(confirmed.status(), 200);
    let confirmed: Value = confirmed.json().await.expect("json");
    assert_eq!(confirmed["status"], "CONFIRMED");
    let again: Value = app
        .post(&buyer, &path, &json!({ "paymentIntentId": intent }))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        again["status"], "CONFIRMED",
        "confirming again answers the order"
    );
    assert_eq!(
        again["version"], confirmed["version"],
        "and changes nothing"
    );
    let state = app.simulator_state().await;
    assert_eq!(state["shop"]["reservations"][0]["status"], "COMMITTED");
}

#[tokio::test]
async fn a_declined_card_cancels_the_order_and_releases_its_stock() {
    let app = spawn_app().await;
    let buyer = customer(9);
    let created = app.goods_order(&buyer, 4, PRODUCT_STOCK).await;
    let id = created["order"]["id"].as_str().expect("id").to_owned();
    let intent = created["paymentIntent"]["id"]
        .as_str()
        .expect("intent")
        .to_owned();
    app.client
        .post(format!(
            "{}/_admin/payments/{intent}/decline",
            app.simulator
        ))
        .send()
        .await
        .expect("simulator");
    let declined = app
        .post(
            &buyer,
            &format!("/api/v1/orders/{id}/confirm-payment"),
            &json!({ "paymentIntentId": intent }),
        )
        .await;
    assert_problem(declined, 402, "payment_declined").await;
    let order: Value = app
        .get(&buyer, &format!("/api/v1/orders/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(order["status"], "CANCELLED");
    let state = app.simulator_state().await;
    assert_eq!(state["shop"]["reservations"][0]["status"], "RELEASED");
    let stock = state["shop"]["stock"]
        .as_array()
        .expect("stock")
        .iter()
        .find(|s| s["productId"] == product(4))
        .expect("the product")
        .clone();
    assert_eq!(
        stock["available"], PRODUCT_STOCK,
        "the units are free again"
    );
}

#[tokio::test]
async fn confirm_payment_confirms_a_ticket_order_too() {
    let app = spawn_app().await;
    let buyer = customer(10);
    let order = app.create_order(&buyer, &order_body(2)).await;
    assert_eq!(order.status(), 201);
    let order: Value = order.json().await.expect("json");
    let id = order["id"].as_str().expect("id");
    let confirmed: Value = app
        .post(
            &buyer,
            &format!("/api/v1/orders/{id}/confirm-payment"),
            &json!({ "paymentIntentId": order["paymentIntentId"] }),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(confirmed["status"], "CONFIRMED");
    assert_eq!(confirmed["ticketIds"].as_array().map(Vec::len), Some(2));
}

pub(crate) fn warehouse() -> String {
    token_with(
        tenant_a(),
        user(500),
        &[order_domain::actor::Role::Warehouse],
        time::OffsetDateTime::now_utc() + time::Duration::hours(1),
    )
}

impl TestApp {
    /// A paid goods order of `buyer`; returns its id.
    pub(crate) async fn paid_goods_order(&self, buyer: &str, n: u128) -> String {
        let created = self.goods_order(buyer, n, 1).await;
        let id = created["order"]["id"].as_str().expect("id").to_owned();
        let paid = self
            .post(
                buyer,
                &format!("/api/v1/orders/{id}/confirm-payment"),
                &json!({ "paymentIntentId": created["paymentIntent"]["id"] }),
            )
            .await;
        assert_eq!(paid.status(), 200);
        id
    }

    /// The warehouse starts, ships (with a label) and delivers the paid goods order `id`.
    pub(crate) async fn deliver(&self, id: &str) {
        for step in ["start", "ship", "deliver"] {
            let done = self
                .post(
                    &warehouse(),
                    &format!("/api/v1/orders/{id}/fulfillment/{step}"),
                    &json!({}),
                )
                .await;
            assert_eq!(done.status(), 200, "{step}");
        }
    }
}

#[tokio::test]
async fn the_warehouse_picks_ships_with_a_label_and_delivers_and_buyers_may_not() {
    let app = spawn_app().await;
    let buyer = customer(11);
    let id = app.paid_goods_order(&buyer, 5).await;
    let step = |name: &str| format!("/api/v1/orders/{id}/fulfillment/{name}");

    let by_buyer = app.post(&buyer, &step("start"), &json!({})).await;
    assert_problem(by_buyer, 403, "forbidden").await;
    let other_shop = token_with(
        tenant_b(),
        user(501),
        &[order_domain::actor::Role::Warehouse],
        time::OffsetDateTime::now_utc() + time::Duration::hours(1),
    );
    let elsewhere = app.post(&other_shop, &step("start"), &json!({})).await;
    assert_problem(elsewhere, 404, "not_found").await;

    let started = app.post(&warehouse(), &step("start"), &json!({})).await;
    assert_eq!(started.status(), 200);
    let started: Value = started.json().await.expect("json");
    assert_eq!(started["order"]["status"], "PROCESSING");
    assert_eq!(started["warehouse"], "WH-1");
    assert_eq!(started["pickList"][0]["productId"], product(5));
    assert_eq!(started["pickList"][0]["quantity"], 1);
    let again: Value = app
        .post(&warehouse(), &step("start"), &json!({}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        again["pickList"], started["pickList"],
        "starting again: the same pick list"
    );

    let shipped: Value = app
        .post(&warehouse(), &step("ship"), &json!({}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(shipped["status"], "SHIPPED");
    assert_eq!(
        shipped["shipment"]["carrier"], "USPS",
        "standard shipping's carrier"
    );
    assert!(
        shipped["shipment"]["trackingNumber"]
            .as_str()
            .is_some_and(|t| t.starts_with("SIM"))
    );
    assert!(
        shipped["shipment"]["labelUrl"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://"))
    );

    let delivered: Value = app
        .post(&warehouse(), &step("deliver"), &json!({}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(delivered["status"], "DELIVERED");
    let types = app.history_types(&buyer, &id).await;
    for expected in [
        "ORDER_CONFIRMED",
        "ORDER_PROCESSING",
        "ORDER_SHIPPED",
        "ORDER_DELIVERED",
    ] {
        assert!(
            types.iter().any(|t| t == expected),
            "{expected} in {types:?}"
        );
    }
}

#[tokio::test]
async fn a_shipment_with_the_carriers_own_tracking_needs_no_label() {
    let app = spawn_app().await;
    let id = app.paid_goods_order(&customer(12), 6).await;
    let step = |name: &str| format!("/api/v1/orders/{id}/fulfillment/{name}");
    app.post(&warehouse(), &step("start"), &json!({})).await;
    let half = app
        .post(
            &warehouse(),
            &step("ship"),
            &json!({ "trackingNumber": "1Z999" }),
        )
        .await;
    let problem = assert_problem(half, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["path"], "carrier");
    let shipped: Value = app
        .post(
            &warehouse(),
            &step("ship"),
            &json!({ "carrier": "DHL", "trackingNumber": "1Z999" }),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(shipped["shipment"]["carrier"], "DHL");
    assert_eq!(shipped["shipment"]["trackingNumber"], "1Z999");
    assert_eq!(shipped["shipment"]["labelUrl"], Value::Null);
}

#[tokio::test]
async fn a_processing_error_cancels_and_refunds_the_order_in_full() {
    let app = spawn_app().await;
    let id = app.paid_goods_order(&customer(13), 7).await;
    let step = |name: &str| format!("/api/v1/orders/{id}/fulfillment/{name}");
    app.post(&warehouse(), &step("start"), &json!({})).await;
    let failed = app
        .post(
            &warehouse(),
            &step("fail"),
            &json!({ "reason": "dropped the box" }),
        )
        .await;
    assert_eq!(failed.status(), 200);
    let failed: Value = failed.json().await.expect("json");
    assert_eq!(failed["status"], "CANCELLED");
    assert_eq!(failed["refundStatus"], "COMPLETED");
    let order: Value = app
        .get(&customer(13), &format!("/api/v1/orders/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        order["refundedAmount"], order["pricing"]["total"],
        "everything paid comes back"
    );
}

#[tokio::test]
async fn a_delivered_order_is_returned_by_its_buyer_and_refunded_but_shipping_when_received() {
    let app = spawn_app().await;
    let buyer = customer(14);
    // One unit of 2 000: below the free-shipping threshold, so shipping is charged and kept.
    let id = app.paid_goods_order(&buyer, 8).await;
    app.deliver(&id).await;
    let by_stranger = app
        .post(
            &customer(15),
            &format!("/api/v1/orders/{id}/returns"),
            &json!({}),
        )
        .await;
    assert_problem(by_stranger, 404, "not_found").await;
    let returned: Value = app
        .post(
            &buyer,
            &format!("/api/v1/orders/{id}/returns"),
            &json!({ "reason": "too small" }),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(returned["status"], "RETURNED");
    let by_buyer = app
        .post(
            &buyer,
            &format!("/api/v1/orders/{id}/returns/receive"),
            &json!({}),
        )
        .await;
    assert_problem(by_buyer, 403, "forbidden").await;
    let received = app
        .post(
            &warehouse(),
            &format!("/api/v1/orders/{id}/returns/receive"),
            &json!({}),
        )
        .await;
    assert_eq!(received.status(), 200);
    let received: Value = received.json().await.expect("json");
    let order = &received["order"];
    assert_eq!(order["status"], "REFUNDED");
    assert_eq!(received["refund"]["status"], "COMPLETED");
    let total = order["pricing"]["total"].as_i64().expect("total");
    let shipping = order["pricing"]["shipping"].as_i64().expect("shipping");
    assert!(shipping > 0, "shipping was charged");
    assert_eq!(
        received["refund"]["amount"].as_i64(),
        Some(total - shipping),
        "everything but shipping comes back"
    );
}

#[tokio::test]
async fn admins_manage_promo_codes_and_a_code_is_redeemed_exactly_its_usage_limit_times() {
    let app = spawn_app().await;
    let by_buyer = app
        .post(
            &customer(20),
            "/api/v1/admin/promo-codes",
            &json!({ "code": "X", "amountOff": 1 }),
        )
        .await;
    assert_problem(by_buyer, 403, "forbidden").await;
    let both = app
        .post(
            &admin(),
            "/api/v1/admin/promo-codes",
            &json!({ "code": "BOTH", "amountOff": 100, "percentOffBps": 1000 }),
        )
        .await;
    assert_problem(both, 422, "validation_failed").await;
    let created = app
        .post(
            &admin(),
            "/api/v1/admin/promo-codes",
            &json!({ "code": "three", "percentOffBps": 1000, "usageLimit": 3 }),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("json");
    assert_eq!(created["code"], "THREE", "stored upper-case");
    let again = app
        .post(
            &admin(),
            "/api/v1/admin/promo-codes",
            &json!({ "code": "THREE", "amountOff": 100 }),
        )
        .await;
    assert_problem(again, 409, "conflict").await;

    let buyers: Vec<String> = (0..8u128).map(|n| customer(30 + n)).collect();
    for (n, buyer) in buyers.iter().enumerate() {
        let body = json!({ "productId": product(n as u128), "quantity": 1 });
        assert_eq!(
            app.post(buyer, "/api/v1/cart/items", &body).await.status(),
            201
        );
    }
    let attempts = buyers.iter().map(|buyer| {
        let app = &app;
        async move {
            let response = app
                .post(
                    buyer,
                    "/api/v1/orders",
                    &json!({ "shippingAddress": california(), "promoCode": "three" }),
                )
                .await;
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or_default();
            (status, body)
        }
    });
    let results = join_all(attempts).await;
    // The others are told the code is used up, whether they priced it before or after.
    assert!(
        results
            .iter()
            .all(|(s, b)| *s == 201 || (*s == 422 && b["code"] == "promo_code_invalid")),
        "201 or promo_code_invalid: {:?}",
        results
            .iter()
            .map(|(s, b)| (s, b["code"].clone()))
            .collect::<Vec<_>>()
    );
    let redeemed: Vec<&Value> = results
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(redeemed.len(), 3, "exactly the usage limit");
    for order in &redeemed {
        assert_eq!(order["order"]["pricing"]["discount"], 200, "10 % of 2 000");
    }
    let listed: Value = app
        .get(&admin(), "/api/v1/admin/promo-codes")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed["promoCodes"][0]["timesUsed"], 3);

    let retired = app
        .client
        .delete(app.url("/api/v1/admin/promo-codes/three"))
        .bearer_auth(admin())
        .send()
        .await
        .expect("request");
    assert_eq!(retired.status(), 204);
    let unknown = app
        .client
        .delete(app.url("/api/v1/admin/promo-codes/NOPE"))
        .bearer_auth(admin())
        .send()
        .await
        .expect("request");
    assert_problem(unknown, 404, "not_found").await;
}
