//! Cancelling one line end to end (decision 0050): its stock or tickets go back upstream, a paid
//! order gets exactly the line's share back, and a line cancelled before payment is refunded
//! when the buyer pays.

use order_domain::ids::{OrderId, OrderItemId};
use order_domain::order::{Order, RefundTerms};
use order_domain::policy::{RefundPolicy, RefundReason};
use order_domain::ports::OrderRepository;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::helpers::*;
use crate::shop::{california, warehouse};

fn product(n: u128) -> String {
    Uuid::from_u128(PRODUCT.as_u128() + n).to_string()
}

impl TestApp {
    /// A goods order of `buyer` for one unit of product 1 and two of product 2.
    async fn two_line_goods_order(&self, buyer: &str) -> Value {
        for (n, quantity) in [(1, 1), (2, 2)] {
            let body = json!({ "productId": product(n), "quantity": quantity });
            let added = self.post(buyer, "/api/v1/cart/items", &body).await;
            assert_eq!(added.status(), 201);
        }
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

    async fn stored_order(&self, id: &str) -> Order {
        self.store
            .find(tenant_a(), OrderId::from_uuid(id.parse().expect("uuid")))
            .await
            .expect("find")
            .expect("present")
    }

    /// Units of product `n` on hand and free at the inventory service.
    pub(crate) async fn stock_of(&self, n: u128) -> (i64, i64) {
        let state = self.simulator_state().await;
        let entry = state["shop"]["stock"]
            .as_array()
            .expect("stock")
            .iter()
            .find(|s| s["productId"] == product(n).as_str())
            .cloned()
            .expect("product");
        (
            entry["onHand"].as_i64().expect("on hand"),
            entry["available"].as_i64().expect("available"),
        )
    }

    async fn outbox_types(&self, id: &str) -> Vec<String> {
        sqlx::query_scalar("SELECT event_type FROM outbox WHERE order_id = $1 ORDER BY position")
            .bind(id.parse::<Uuid>().expect("uuid"))
            .fetch_all(&self.owner)
            .await
            .expect("outbox")
    }
}

fn line_of(order: &Value, key: &str, value: &str) -> String {
    order["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i[key] == value)
        .expect("the line")["id"]
        .as_str()
        .expect("line id")
        .to_owned()
}

fn share(order: &Order, line: &str, terms: RefundTerms) -> i64 {
    let line = OrderItemId::from_uuid(line.parse().expect("uuid"));
    order
        .line_refund_amounts(terms)
        .into_iter()
        .find_map(|(item, amount)| (item == line).then_some(amount))
        .expect("the line's share")
}

#[tokio::test]
async fn a_paid_goods_line_goes_back_to_stock_and_exactly_its_share_is_refunded() {
    let app = spawn_app().await;
    let buyer = customer(61);
    let created = app.two_line_goods_order(&buyer).await;
    let id = created["order"]["id"].as_str().expect("id").to_owned();
    let paid = app
        .post(
            &buyer,
            &format!("/api/v1/orders/{id}/confirm-payment"),
            &json!({ "paymentIntentId": created["paymentIntent"]["id"] }),
        )
        .await;
    assert_eq!(paid.status(), 200);
    assert_eq!(app.stock_of(2).await.0, i64::from(PRODUCT_STOCK) - 2);
    let line = line_of(&created["order"], "productId", &product(2));
    let path = format!("/api/v1/orders/{id}/items/{line}/cancel");

    let stranger = app.post(&customer(62), &path, &json!({})).await;
    assert_problem(stranger, 404, "not_found").await;
    let unknown = app
        .post(
            &buyer,
            &format!("/api/v1/orders/{id}/items/{}/cancel", Uuid::from_u128(7)),
            &json!({}),
        )
        .await;
    assert_problem(unknown, 404, "not_found").await;

    let cancelled: Value = app
        .post(&buyer, &path, &json!({ "reason": "two is too many" }))
        .await
        .json()
        .await
        .expect("json");
    // Goods lines come back in full; the domain's allocation of this very order is the oracle.
    let stored = app.stored_order(&id).await;
    let expected = share(
        &stored,
        &line,
        RefundTerms {
            refundable_max: stored.total().minor(),
            retained: 0,
        },
    );
    assert_eq!(cancelled["order"]["status"], "CONFIRMED");
    assert_eq!(cancelled["order"]["cancelledItemIds"], json!([line]));
    assert_eq!(cancelled["refundStatus"], "COMPLETED");
    assert_eq!(cancelled["refund"]["amount"].as_i64(), Some(expected));
    assert_eq!(cancelled["refund"]["itemIds"], json!([line]));
    assert_eq!(
        cancelled["order"]["refundedAmount"].as_i64(),
        Some(expected)
    );
    assert_eq!(
        app.stock_of(2).await.0,
        i64::from(PRODUCT_STOCK),
        "the two units are back on hand"
    );

    let again = app.post(&buyer, &path, &json!({})).await;
    assert_problem(again, 409, "item_already_cancelled").await;
    let types = app.history_types(&buyer, &id).await;
    assert!(
        types.iter().any(|t| t == "ORDER_ITEM_CANCELLED"),
        "{types:?}"
    );
    let outbox = app.outbox_types(&id).await;
    assert!(
        outbox.iter().any(|t| t == "order.item_cancelled"),
        "{outbox:?}"
    );

    // The warehouse picks only what is still ordered.
    let started: Value = app
        .post(
            &warehouse(),
            &format!("/api/v1/orders/{id}/fulfillment/start"),
            &json!({}),
        )
        .await
        .json()
        .await
        .expect("json");
    let picks = started["pickList"].as_array().expect("picks");
    assert_eq!(picks.len(), 1, "{picks:?}");
    assert_eq!(picks[0]["productId"], product(1).as_str());
    let shipped_line = line_of(&created["order"], "productId", &product(1));
    let after_start = app
        .post(
            &buyer,
            &format!("/api/v1/orders/{id}/items/{shipped_line}/cancel"),
            &json!({}),
        )
        .await;
    // The last line is the whole order: a PROCESSING order is cancelled with a full refund.
    let last: Value = after_start.json().await.expect("json");
    assert_eq!(last["order"]["status"], "CANCELLED");
    assert_eq!(
        last["order"]["refundedAmount"].as_i64(),
        Some(stored.total().minor()),
        "both lines together: the whole payment"
    );
}

#[tokio::test]
async fn a_paid_ticket_line_goes_back_on_sale_and_its_share_less_the_retention_is_refunded() {
    let app = spawn_app().await;
    let buyer = customer(63);
    let body = json!({
        "eventId": EVENT,
        "items": [
            { "ticketTypeId": TICKET_TYPE, "ticketPricingId": PRICING, "quantity": 2 },
            { "ticketTypeId": TICKET_TYPE, "ticketPricingId": PRICING, "quantity": 1 },
        ]
    });
    let created = app.create_order(&buyer, &body).await;
    assert_eq!(created.status(), 201);
    let order: Value = created.json().await.expect("json");
    app.pay(&order).await;
    assert_eq!(app.confirm(&order).await.status(), 200);
    let sold = |state: &Value| state["availability"][0]["sold"].as_i64().expect("sold");
    assert_eq!(sold(&app.simulator_state().await), 3);
    let id = order["id"].as_str().expect("id");
    let line = order["items"][1]["id"]
        .as_str()
        .expect("line id")
        .to_owned();

    let cancelled: Value = app
        .post(
            &buyer,
            &format!("/api/v1/orders/{id}/items/{line}/cancel"),
            &json!({ "reason": "a friend cannot come" }),
        )
        .await
        .json()
        .await
        .expect("json");
    let stored = app.stored_order(id).await;
    let now = OffsetDateTime::now_utc();
    let terms = RefundPolicy::default()
        .terms(
            &stored,
            RefundReason::Customer,
            Some(now + Duration::days(30)),
            now,
        )
        .expect("inside the cutoff");
    let expected = share(&stored, &line, terms);
    let line_total = stored.items()[1].pricing.total().minor();
    assert!(
        expected < line_total,
        "the line keeps its share of the retention"
    );
    assert_eq!(cancelled["order"]["status"], "CONFIRMED");
    assert_eq!(cancelled["refund"]["amount"].as_i64(), Some(expected));
    assert_eq!(cancelled["refundStatus"], "COMPLETED");
    assert_eq!(
        sold(&app.simulator_state().await),
        2,
        "the cancelled ticket is on sale again"
    );
}

#[tokio::test]
async fn a_line_cancelled_before_payment_is_released_at_once_and_refunded_when_the_buyer_pays() {
    let app = spawn_app().await;
    let buyer = customer(64);
    let created = app.two_line_goods_order(&buyer).await;
    let id = created["order"]["id"].as_str().expect("id").to_owned();
    let line = line_of(&created["order"], "productId", &product(2));
    assert_eq!(app.stock_of(2).await.1, i64::from(PRODUCT_STOCK) - 2);

    let cancelled: Value = app
        .post(
            &buyer,
            &format!("/api/v1/orders/{id}/items/{line}/cancel"),
            &json!({}),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(cancelled["refundStatus"], "NONE");
    assert_eq!(cancelled["order"]["status"], "RESERVED");
    assert_eq!(
        app.stock_of(2).await.1,
        i64::from(PRODUCT_STOCK),
        "the reserved units are free again"
    );

    let paid: Value = app
        .post(
            &buyer,
            &format!("/api/v1/orders/{id}/confirm-payment"),
            &json!({ "paymentIntentId": created["paymentIntent"]["id"] }),
        )
        .await
        .json()
        .await
        .expect("json");
    let stored = app.stored_order(&id).await;
    let line_total = stored
        .items()
        .iter()
        .find(|i| i.id.to_string() == line)
        .expect("line")
        .pricing
        .total()
        .minor();
    assert_eq!(paid["status"], "CONFIRMED");
    assert_eq!(paid["refundedAmount"].as_i64(), Some(line_total));
    assert_eq!(paid["refunds"][0]["itemIds"], json!([line]));
    assert_eq!(paid["refunds"][0]["status"], "COMPLETED");
}
