//! Partial returns end to end: the buyer sends back some lines, the warehouse receives them and
//! exactly those lines' shares (less their share of shipping) are paid back.

use order_domain::ids::{OrderId, OrderItemId};
use order_domain::order::RefundTerms;
use order_domain::ports::OrderRepository;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;
use crate::shop::{california, warehouse};

fn product(n: u128) -> String {
    Uuid::from_u128(PRODUCT.as_u128() + n).to_string()
}

#[tokio::test]
async fn a_partial_return_refunds_exactly_the_returned_lines_share() {
    let app = spawn_app().await;
    let buyer = customer(41);
    // 2 000 + 2 000 stays below the 5 000 free-shipping threshold: shipping is charged.
    for (n, quantity) in [(1, 1), (2, 1)] {
        let body = json!({ "productId": product(n), "quantity": quantity });
        let added = app.post(&buyer, "/api/v1/cart/items", &body).await;
        assert_eq!(added.status(), 201);
    }
    let created: Value = app
        .post(
            &buyer,
            "/api/v1/orders",
            &json!({ "shippingAddress": california() }),
        )
        .await
        .json()
        .await
        .expect("json");
    let id = created["order"]["id"].as_str().expect("id").to_owned();
    let paid = app
        .post(
            &buyer,
            &format!("/api/v1/orders/{id}/confirm-payment"),
            &json!({ "paymentIntentId": created["paymentIntent"]["id"] }),
        )
        .await;
    assert_eq!(paid.status(), 200);
    app.deliver(&id).await;
    let items = created["order"]["items"].as_array().expect("items");
    let line = items
        .iter()
        .find(|i| i["productId"] == product(2).as_str())
        .expect("the line of product 2")["id"]
        .as_str()
        .expect("line id")
        .to_owned();

    let unknown = app
        .post(
            &buyer,
            &format!("/api/v1/orders/{id}/returns"),
            &json!({ "itemIds": [Uuid::from_u128(7)] }),
        )
        .await;
    assert_problem(unknown, 422, "validation_failed").await;
    let returned: Value = app
        .post(
            &buyer,
            &format!("/api/v1/orders/{id}/returns"),
            &json!({ "reason": "one was enough", "itemIds": [line] }),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(returned["status"], "RETURNED");
    assert_eq!(returned["returnedItemIds"], json!([line]));

    // The domain's allocation of this very order is the oracle for the amount.
    let order_id = OrderId::from_uuid(id.parse().expect("uuid"));
    let stored = app
        .store
        .find(tenant_a(), order_id)
        .await
        .expect("find")
        .expect("present");
    let shipping = stored.pricing().shipping().minor();
    assert!(shipping > 0, "shipping was charged, so some of it is kept");
    let line_id = OrderItemId::from_uuid(line.parse().expect("uuid"));
    let (_, expected) = stored
        .line_refund_amounts(RefundTerms {
            refundable_max: stored.total().minor() - shipping,
            retained: shipping,
        })
        .into_iter()
        .find(|(item, _)| *item == line_id)
        .expect("the line's share");
    let line_total = stored
        .items()
        .iter()
        .find(|i| i.id == line_id)
        .expect("line")
        .pricing
        .total()
        .minor();
    assert!(
        expected < line_total,
        "the line keeps its share of shipping"
    );

    let received: Value = app
        .post(
            &warehouse(),
            &format!("/api/v1/orders/{id}/returns/receive"),
            &json!({}),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(received["order"]["status"], "REFUNDED");
    assert_eq!(received["refund"]["status"], "COMPLETED");
    assert_eq!(received["refund"]["amount"].as_i64(), Some(expected));
    assert_eq!(received["refund"]["itemIds"], json!([line]));
    assert_eq!(received["order"]["refundedAmount"].as_i64(), Some(expected));
}
