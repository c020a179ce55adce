//! Order edits end to end (docs/edits.md): previewed, applied with the difference claimed at
//! the ticket service, checked against the version the client saw, settled to the cent, listed.

use futures_util::future::join_all;
use order_domain::ids::{OrderId, OrderItemId};
use order_domain::order::{ItemProduct, NewOrderItem, Order, price_items};
use order_domain::ports::OrderRepository;
use order_domain::pricing::FeeSchedule;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

fn add_tickets(quantity: i64) -> Value {
    json!({ "type": "ADD_ITEM", "ticketTypeId": TICKET_TYPE, "ticketPricingId": PRICING, "quantity": quantity })
}

fn id_of(order: &Value) -> &str {
    order["id"].as_str().expect("id")
}

impl TestApp {
    async fn edit(&self, token: &str, order: &Value, body: &Value) -> reqwest::Response {
        self.post(
            token,
            &format!("/api/v1/orders/{}/edits", id_of(order)),
            body,
        )
        .await
    }

    async fn stored(&self, order: &Value) -> Order {
        self.store
            .find(
                tenant_a(),
                OrderId::from_uuid(id_of(order).parse().expect("uuid")),
            )
            .await
            .expect("find")
            .expect("present")
    }

    async fn tickets(&self) -> (i64, i64) {
        let state = self.simulator_state().await;
        let ticket = &state["availability"][0];
        (
            ticket["held"].as_i64().expect("held"),
            ticket["sold"].as_i64().expect("sold"),
        )
    }
}

/// What the order with `lines` (unit price, quantity) costs, priced as a new order would be.
fn priced_as_new(lines: &[(i64, u32)]) -> i64 {
    breakdown_as_new(lines).total().minor()
}

/// The breakdown of a new order with `lines` (unit price, quantity).
fn breakdown_as_new(lines: &[(i64, u32)]) -> order_domain::pricing::PriceBreakdown {
    let items: Vec<NewOrderItem> = lines
        .iter()
        .enumerate()
        .map(|(n, &(unit_price, quantity))| NewOrderItem {
            id: OrderItemId::from_uuid(Uuid::from_u128(n as u128 + 1)),
            product: ItemProduct::Ticket {
                ticket_type_id: order_domain::ids::TicketTypeId::from_uuid(TICKET_TYPE),
                ticket_pricing_id: order_domain::ids::TicketPricingId::from_uuid(PRICING),
            },
            quantity,
            unit_price,
        })
        .collect();
    price_items(
        &FeeSchedule::tickets(),
        order_domain::money::Currency::Usd,
        &items,
    )
    .expect("priced")
    .order
}

#[tokio::test]
async fn a_preview_reprices_the_order_and_changes_nothing() {
    let app = spawn_app().await;
    let buyer = customer(301);
    let order = app.new_order(301, 2).await;
    let before = app.tickets().await;
    let preview: Value = app
        .edit(
            &buyer,
            &order,
            &json!({ "changes": [add_tickets(1)], "preview": true }),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(preview["applied"], false);
    assert_eq!(
        preview["order"]["pricing"]["total"].as_i64(),
        Some(priced_as_new(&[(10_000, 2), (10_000, 1)]))
    );
    assert_eq!(
        preview["balance"]["difference"]["total"].as_i64(),
        Some(priced_as_new(&[(10_000, 2), (10_000, 1)]) - priced_as_new(&[(10_000, 2)]))
    );
    assert_eq!(preview["balance"]["difference"]["subtotal"], 10_000);
    assert_eq!(app.tickets().await, before, "nothing held");
    let stored = app.stored(&order).await;
    assert_eq!(stored.items().len(), 1);
    assert_eq!(
        stored.version(),
        order["version"].as_u64().expect("version")
    );
}

#[tokio::test]
async fn a_ticket_order_gains_a_line_and_loses_one_and_the_holds_follow() {
    let app = spawn_app().await;
    let buyer = customer(302);
    let order = app.new_order(302, 2).await;
    assert_eq!(app.tickets().await, (2, 0));
    let gained: Value = app
        .edit(
            &buyer,
            &order,
            &json!({ "changes": [add_tickets(3)], "reason": "friends" }),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(gained["applied"], true, "{gained}");
    assert_eq!(app.tickets().await, (5, 0), "three more held");
    let new_line = gained["order"]["items"][1]["id"]
        .as_str()
        .expect("line")
        .to_owned();
    assert_eq!(
        gained["order"]["pricing"]["total"].as_i64(),
        Some(priced_as_new(&[(10_000, 2), (10_000, 3)]))
    );
    // The payment intent follows the new total.
    let intent = gained["order"]["paymentIntentId"].as_str().expect("intent");
    assert_ne!(Some(intent), order["paymentIntentId"].as_str());
    assert!(gained["order"]["clientSecret"].is_string());

    let first_line = order["items"][0]["id"].as_str().expect("line");
    let lost: Value = app
        .edit(
            &buyer,
            &order,
            &json!({ "changes": [{ "type": "REMOVE_ITEM", "itemId": first_line }] }),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(lost["applied"], true, "{lost}");
    assert_eq!(
        app.tickets().await,
        (3, 0),
        "the two of the removed line are back"
    );
    assert_eq!(lost["order"]["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(lost["order"]["items"][0]["id"], new_line.as_str());
    assert_eq!(
        lost["order"]["pricing"]["total"].as_i64(),
        Some(priced_as_new(&[(10_000, 3)]))
    );
    let edits = lost["order"]["editIds"].as_array().expect("edit ids");
    assert_eq!(edits.len(), 2);

    // Listed, with the price before and after, and in the audit trail and the outbox.
    let listed: Value = app
        .get(&buyer, &format!("/api/v1/orders/{}/edits", id_of(&order)))
        .await
        .json()
        .await
        .expect("json");
    let entries = listed["edits"].as_array().expect("edits");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["eventType"], "ORDER_EDITED");
    assert_eq!(entries[0]["metadata"]["reason"], "friends");
    assert_eq!(entries[1]["metadata"]["removed"], json!([first_line]));
    assert_eq!(
        entries[1]["metadata"]["after"]["total"].as_i64(),
        Some(priced_as_new(&[(10_000, 3)]))
    );
    assert_eq!(listed["version"], lost["order"]["version"]);
    // The new intent is the one the order is paid with.
    let mut paid = lost["order"].clone();
    paid["id"] = json!(id_of(&order));
    app.pay(&paid).await;
    assert_eq!(app.confirm(&paid).await.status(), 200);
    assert_eq!(
        app.tickets().await,
        (0, 3),
        "the order's three tickets are sold"
    );
}

#[tokio::test]
async fn a_paid_ticket_order_reduced_by_one_ticket_is_refunded_exactly_that_tickets_share() {
    let app = spawn_app().await;
    let buyer = customer(303);
    let order = app.confirmed_order(303, 3).await;
    assert_eq!(app.tickets().await, (0, 3));
    let line = order["items"][0]["id"].as_str().expect("line");
    let edited: Value = app
        .edit(
            &buyer,
            &order,
            &json!({ "changes": [{ "type": "CHANGE_QUANTITY", "itemId": line, "quantity": 2 }] }),
        )
        .await
        .json()
        .await
        .expect("json");
    let difference = priced_as_new(&[(10_000, 3)]) - priced_as_new(&[(10_000, 2)]);
    // The ticket's share of every component, as the two orders' prices differ.
    let (three, two) = (
        breakdown_as_new(&[(10_000, 3)]),
        breakdown_as_new(&[(10_000, 2)]),
    );
    use order_domain::pricing::PriceBreakdown as B;
    for (field, part) in [
        (
            "subtotal",
            B::subtotal as fn(&B) -> order_domain::money::Money,
        ),
        ("discount", B::discount),
        ("platformFee", B::platform_fee),
        ("processingFee", B::processing_fee),
        ("shipping", B::shipping),
        ("tax", B::tax),
        ("total", B::total),
    ] {
        assert_eq!(
            edited["balance"]["difference"][field].as_i64(),
            Some(part(&two).minor() - part(&three).minor()),
            "{field}"
        );
    }
    assert_eq!(
        edited["refund"]["amount"].as_i64(),
        Some(difference),
        "{edited}"
    );
    assert_eq!(edited["refund"]["status"], "COMPLETED");
    assert_eq!(edited["order"]["status"], "CONFIRMED");
    assert_eq!(
        app.tickets().await,
        (0, 2),
        "the ticket is voided and on sale again"
    );
    // The ledger: the capture of three, the refund of one; net is the edited total.
    let ledger: Value = app
        .get(&buyer, &format!("/api/v1/orders/{}/ledger", id_of(&order)))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        ledger["balance"]["captured"].as_i64(),
        Some(priced_as_new(&[(10_000, 3)]))
    );
    assert_eq!(ledger["balance"]["refunded"].as_i64(), Some(difference));
    assert_eq!(
        ledger["balance"]["net"].as_i64(),
        Some(priced_as_new(&[(10_000, 2)]))
    );
    // A later cancellation refunds the edited total under the policy, not less.
    let stored = app.stored(&order).await;
    assert_eq!(stored.remaining_refundable(), priced_as_new(&[(10_000, 2)]));
}

#[tokio::test]
async fn a_stale_version_is_refused_and_the_current_one_accepted() {
    let app = spawn_app().await;
    let buyer = customer(304);
    let order = app.new_order(304, 1).await;
    let seen = order["version"].as_u64().expect("version");
    let path = format!("/api/v1/orders/{}/edits", id_of(&order));
    let first = app
        .post(
            &buyer,
            &path,
            &json!({ "changes": [add_tickets(1)], "version": seen }),
        )
        .await;
    assert_eq!(first.status(), 200);
    let stale = app
        .post(
            &buyer,
            &path,
            &json!({ "changes": [add_tickets(1)], "version": seen }),
        )
        .await;
    assert_problem(stale, 409, "conflict").await;
    let by_header = app
        .client
        .post(app.url(&path))
        .bearer_auth(&buyer)
        .header("if-match", format!("\"{}\"", seen + 1))
        .json(&json!({ "changes": [add_tickets(1)] }))
        .send()
        .await
        .expect("request");
    assert_eq!(by_header.status(), 200);
    assert_eq!(app.tickets().await.0, 3);
}

#[tokio::test]
async fn concurrent_edits_never_add_more_tickets_than_are_left() {
    let app = spawn_with(Setup {
        quota: 30,
        ..Setup::default()
    })
    .await;
    // Twenty orders of one ticket each: ten tickets left.
    let mut orders = Vec::new();
    for n in 0..20 {
        orders.push(app.new_order(400 + n, 1).await);
    }
    assert_eq!(app.tickets().await, (20, 0));
    let edits = orders.iter().enumerate().map(|(n, order)| {
        let app = &app;
        async move {
            app.edit(
                &customer(400 + n as u128),
                order,
                &json!({ "changes": [add_tickets(1)] }),
            )
            .await
            .status()
            .as_u16()
        }
    });
    let statuses = join_all(edits).await;
    let added = statuses.iter().filter(|s| **s == 200).count();
    let sold_out = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((added, sold_out), (10, 10), "{statuses:?}");
    assert_eq!(app.tickets().await, (30, 0));
    let mut lines = 0;
    for order in &orders {
        lines += app.stored(order).await.items().len();
    }
    assert_eq!(lines, 30, "ten orders gained a line, none more");
}

#[tokio::test]
async fn bad_edits_are_refused_with_the_path_of_the_change_at_fault() {
    let app = spawn_app().await;
    let buyer = customer(305);
    let order = app.new_order(305, 1).await;
    let other = app.new_order(306, 1).await;
    let line = order["items"][0]["id"].as_str().expect("line");
    let other_line = other["items"][0]["id"].as_str().expect("line");
    let cases = [
        (json!({ "changes": [] }), "changes", "too_few"),
        (
            json!({ "changes": [{ "type": "REMOVE_ITEM", "itemId": Uuid::from_u128(9) }] }),
            "changes[0].itemId",
            "unknown",
        ),
        (
            json!({ "changes": [{ "type": "REMOVE_ITEM", "itemId": other_line }] }),
            "changes[0].itemId",
            "unknown",
        ),
        (
            json!({ "changes": [{ "type": "CHANGE_QUANTITY", "itemId": line, "quantity": 0 }] }),
            "changes[0].quantity",
            "out_of_range",
        ),
        (
            json!({ "changes": [{ "type": "CHANGE_QUANTITY", "itemId": line, "quantity": 11 }] }),
            "changes[0].quantity",
            "out_of_range",
        ),
        (
            json!({ "changes": [add_tickets(1), { "type": "CHANGE_QUANTITY", "itemId": line }] }),
            "changes[1].quantity",
            "required",
        ),
        (
            json!({ "changes": [{ "type": "REMOVE_ITEM", "itemId": line }] }),
            "changes",
            "too_few",
        ),
    ];
    for (body, path, code) in cases {
        let refused = app.edit(&buyer, &order, &body).await;
        let problem = assert_problem(refused, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["path"], path, "{body}: {problem}");
        assert_eq!(problem["errors"][0]["code"], code, "{body}: {problem}");
    }
    let stranger = app
        .edit(
            &customer(307),
            &order,
            &json!({ "changes": [add_tickets(1)] }),
        )
        .await;
    assert_problem(stranger, 404, "not_found").await;
    assert_eq!(app.stored(&order).await.items().len(), 1, "nothing changed");
    assert_eq!(app.tickets().await.0, 2);
}

mod goods {
    use serde_json::{Value, json};

    use crate::helpers::*;
    use crate::shop::warehouse;

    fn quantity_of(order: &Value, quantity: i64) -> Value {
        let line = order["items"][0]["id"].as_str().expect("line");
        json!({ "changes": [{ "type": "CHANGE_QUANTITY", "itemId": line, "quantity": quantity }] })
    }

    #[tokio::test]
    async fn an_unpaid_goods_order_gains_a_unit_priced_like_a_new_order_and_its_stock_follows() {
        let app = spawn_app().await;
        let buyer = customer(311);
        let created = app.goods_order(&buyer, 3, 1).await;
        let order = &created["order"];
        let stock = i64::from(PRODUCT_STOCK);
        assert_eq!(app.stock_of(3).await, (stock, stock - 1));
        let edited: Value = app
            .post(
                &buyer,
                &format!("/api/v1/orders/{}/edits", order["id"].as_str().expect("id")),
                &quantity_of(order, 2),
            )
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(edited["applied"], true, "{edited}");
        assert_eq!(
            app.stock_of(3).await,
            (stock, stock - 2),
            "one more unit reserved"
        );
        // The oracle: the same two units ordered new by another buyer.
        let twin = app.goods_order(&customer(312), 3, 2).await;
        assert_eq!(edited["order"]["pricing"], twin["order"]["pricing"]);
        let paid = app
            .post(
                &buyer,
                &format!(
                    "/api/v1/orders/{}/confirm-payment",
                    order["id"].as_str().expect("id")
                ),
                &json!({ "paymentIntentId": edited["order"]["paymentIntentId"] }),
            )
            .await;
        assert_eq!(paid.status(), 200, "the new intent pays the edited order");
    }

    #[tokio::test]
    async fn a_paid_goods_order_loses_a_unit_and_gets_exactly_the_difference_back() {
        let app = spawn_app().await;
        let buyer = customer(313);
        let created = app.goods_order(&buyer, 4, 2).await;
        let id = created["order"]["id"].as_str().expect("id").to_owned();
        let paid = app
            .post(
                &buyer,
                &format!("/api/v1/orders/{id}/confirm-payment"),
                &json!({ "paymentIntentId": created["paymentIntent"]["id"] }),
            )
            .await;
        assert_eq!(paid.status(), 200);
        let stock = i64::from(PRODUCT_STOCK);
        assert_eq!(app.stock_of(4).await.0, stock - 2);
        let edited: Value = app
            .post(
                &buyer,
                &format!("/api/v1/orders/{id}/edits"),
                &quantity_of(&created["order"], 1),
            )
            .await
            .json()
            .await
            .expect("json");
        let before = created["order"]["pricing"]["total"]
            .as_i64()
            .expect("total");
        let after = edited["order"]["pricing"]["total"].as_i64().expect("total");
        assert!(after < before);
        assert_eq!(
            edited["refund"]["amount"].as_i64(),
            Some(before - after),
            "{edited}"
        );
        assert_eq!(edited["refund"]["status"], "COMPLETED");
        assert_eq!(
            app.stock_of(4).await.0,
            stock - 1,
            "the unit is back on hand"
        );
    }

    #[tokio::test]
    async fn a_goods_order_in_fulfillment_or_shipped_cannot_be_edited() {
        let app = spawn_app().await;
        let buyer = customer(314);
        let id = app.paid_goods_order(&buyer, 5).await;
        let order: Value = app
            .get(&buyer, &format!("/api/v1/orders/{id}"))
            .await
            .json()
            .await
            .expect("json");
        for (step, status) in [("start", "PROCESSING"), ("ship", "SHIPPED")] {
            let stepped = app
                .post(
                    &warehouse(),
                    &format!("/api/v1/orders/{id}/fulfillment/{step}"),
                    &json!({}),
                )
                .await;
            assert_eq!(stepped.status(), 200, "{step}");
            let refused = app
                .post(
                    &buyer,
                    &format!("/api/v1/orders/{id}/edits"),
                    &quantity_of(&order, 2),
                )
                .await;
            let problem = assert_problem(refused, 409, "order_not_editable").await;
            let detail = problem["detail"].as_str().expect("detail");
            assert!(detail.contains(status), "{detail}");
        }
    }
}

mod paid_increase {
    use serde_json::{Value, json};

    use crate::helpers::*;

    fn add_one_ticket() -> Value {
        json!({ "changes": [{ "type": "ADD_ITEM", "ticketTypeId": TICKET_TYPE, "ticketPricingId": PRICING, "quantity": 1 }] })
    }

    impl TestApp {
        async fn ledger_of(&self, token: &str, id: &str) -> Value {
            self.get(token, &format!("/api/v1/orders/{id}/ledger"))
                .await
                .json()
                .await
                .expect("json")
        }
    }

    #[tokio::test]
    async fn a_paid_ticket_order_gains_a_ticket_once_the_difference_is_paid_and_refunds_split_over_both_payments()
     {
        let app = spawn_app().await;
        let buyer = customer(321);
        let order = app.confirmed_order(321, 2).await;
        let id = order["id"].as_str().expect("id").to_owned();
        let before = order["pricing"]["total"].as_i64().expect("total");
        let waiting: Value = app
            .post(
                &buyer,
                &format!("/api/v1/orders/{id}/edits"),
                &add_one_ticket(),
            )
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(waiting["applied"], false, "{waiting}");
        let due = &waiting["paymentDue"];
        let difference = due["amount"].as_i64().expect("amount");
        assert_eq!(
            difference,
            waiting["balance"]["difference"]["total"]
                .as_i64()
                .expect("total")
        );
        assert!(difference > 0);
        assert_eq!(
            waiting["order"]["items"].as_array().map(Vec::len),
            Some(1),
            "unchanged until paid"
        );
        assert_eq!(
            waiting["order"]["pendingEdit"]["amount"].as_i64(),
            Some(difference)
        );
        let state = app.simulator_state().await;
        assert_eq!(
            state["availability"][0]["held"], 1,
            "the added ticket is held"
        );
        assert_eq!(state["availability"][0]["sold"], 2);

        // The payment service confirms the difference's intent.
        let intent = due["paymentIntentId"].as_str().expect("intent");
        app.pay(&json!({ "paymentIntentId": intent })).await;
        let settled = app
            .confirm(&json!({ "id": id, "paymentIntentId": intent }))
            .await;
        assert_eq!(settled.status(), 200);
        let now: Value = app
            .get(&buyer, &format!("/api/v1/orders/{id}"))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(now["items"].as_array().map(Vec::len), Some(2));
        assert_eq!(now["pricing"]["total"].as_i64(), Some(before + difference));
        assert_eq!(now["ticketIds"].as_array().map(Vec::len), Some(3));
        assert!(now["pendingEdit"].is_null());
        let state = app.simulator_state().await;
        assert_eq!(
            (
                state["availability"][0]["held"].as_i64(),
                state["availability"][0]["sold"].as_i64()
            ),
            (Some(0), Some(3))
        );
        let ledger = app.ledger_of(&buyer, &id).await;
        assert_eq!(
            ledger["balance"]["captured"].as_i64(),
            Some(before + difference)
        );

        // A full refund is paid back from both payments.
        let refunded: Value = app
            .post(
                &admin(),
                &format!("/api/v1/orders/{id}/refund"),
                &json!({ "reason": "event moved" }),
            )
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(refunded["status"], "COMPLETED", "{refunded}");
        let ledger = app.ledger_of(&buyer, &id).await;
        assert_eq!(
            ledger["balance"]["refunded"].as_i64(),
            refunded["amount"].as_i64(),
            "{ledger}"
        );
        assert!(
            refunded["amount"].as_i64().expect("amount") > before,
            "more than the first payment held"
        );
    }

    #[tokio::test]
    async fn a_paid_goods_order_gains_a_unit_held_until_paid_and_released_when_not() {
        let app = spawn_app().await;
        let buyer = customer(322);
        let id = app.paid_goods_order(&buyer, 6).await;
        let stock = i64::from(PRODUCT_STOCK);
        assert_eq!(app.stock_of(6).await.0, stock - 1);
        let order: Value = app
            .get(&buyer, &format!("/api/v1/orders/{id}"))
            .await
            .json()
            .await
            .expect("json");
        let line = order["items"][0]["id"].as_str().expect("line");
        let change =
            json!({ "changes": [{ "type": "CHANGE_QUANTITY", "itemId": line, "quantity": 2 }] });
        let waiting: Value = app
            .post(&buyer, &format!("/api/v1/orders/{id}/edits"), &change)
            .await
            .json()
            .await
            .expect("json");
        assert!(
            waiting["paymentDue"]["amount"].as_i64().expect("amount") > 0,
            "{waiting}"
        );
        assert_eq!(app.stock_of(6).await.0, stock - 2, "the unit is held");
        let again = app
            .post(&buyer, &format!("/api/v1/orders/{id}/edits"), &change)
            .await;
        assert_problem(again, 409, "order_not_editable").await;

        // Not paid: past its deadline (30 minutes for goods) and the grace period (2), the unit
        // goes back and the order is as it was.
        app.clock.advance(time::Duration::minutes(31));
        assert_eq!(
            app.service.lapse_due_edits().await.expect("lapse"),
            0,
            "in its grace period"
        );
        app.clock.advance(time::Duration::minutes(2));
        assert_eq!(app.service.lapse_due_edits().await.expect("lapse"), 1);
        assert_eq!(app.stock_of(6).await.0, stock - 1, "the unit is back");
        let lapsed: Value = app
            .get(&buyer, &format!("/api/v1/orders/{id}"))
            .await
            .json()
            .await
            .expect("json");
        assert!(lapsed["pendingEdit"].is_null());
        assert_eq!(lapsed["pricing"], order["pricing"]);
        let late = app
            .post(
                &buyer,
                &format!("/api/v1/orders/{id}/confirm-payment"),
                &json!({ "paymentIntentId": waiting["paymentDue"]["paymentIntentId"] }),
            )
            .await;
        assert!(
            late.status().is_client_error(),
            "a lapsed edit's intent pays nothing"
        );

        // Edited again and paid by the buyer this time.
        let waiting: Value = app
            .post(&buyer, &format!("/api/v1/orders/{id}/edits"), &change)
            .await
            .json()
            .await
            .expect("json");
        let paid = app
            .post(
                &buyer,
                &format!("/api/v1/orders/{id}/confirm-payment"),
                &json!({ "paymentIntentId": waiting["paymentDue"]["paymentIntentId"] }),
            )
            .await;
        assert_eq!(paid.status(), 200);
        let now: Value = app
            .get(&buyer, &format!("/api/v1/orders/{id}"))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(now["items"][0]["quantity"], 2);
        assert_eq!(app.stock_of(6).await.0, stock - 2);
        let ledger = app.ledger_of(&buyer, &id).await;
        assert_eq!(ledger["balance"]["captured"], now["pricing"]["total"]);
    }
}

#[tokio::test]
async fn a_paid_ticket_order_that_trades_tickets_for_fewer_sells_the_new_and_refunds_the_difference()
 {
    let app = spawn_app().await;
    let buyer = customer(308);
    let order = app.confirmed_order(308, 3).await;
    let line = order["items"][0]["id"].as_str().expect("line");
    let edited: Value = app
        .edit(
            &buyer,
            &order,
            &json!({ "changes": [
                { "type": "CHANGE_QUANTITY", "itemId": line, "quantity": 1 },
                add_tickets(1),
            ] }),
        )
        .await
        .json()
        .await
        .expect("json");
    let difference = priced_as_new(&[(10_000, 3)]) - priced_as_new(&[(10_000, 1), (10_000, 1)]);
    assert_eq!(edited["applied"], true, "{edited}");
    assert_eq!(edited["refund"]["amount"].as_i64(), Some(difference));
    assert_eq!(edited["refund"]["status"], "COMPLETED");
    assert_eq!(
        app.tickets().await,
        (0, 2),
        "two sold tickets voided, the added one sold"
    );
    assert_eq!(edited["order"]["items"].as_array().map(Vec::len), Some(2));
}
