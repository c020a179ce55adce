//! The role matrix of `docs/security.md`, cell by cell: each route against each kind of caller,
//! on an order in the state the route acts on. A caller who may act gets the route's success; one
//! who may not gets 401 (no token), 403 (the wrong role) or 404 (an order they may not know of).

use order_domain::actor::Role;
use reqwest::Method;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::helpers::*;
use crate::shop::{california, product, warehouse};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Owner,
    OtherBuyer,
    Warehouse,
    Admin,
    OtherTenantAdmin,
    OtherTenantWarehouse,
}

const CALLERS: [Caller; 7] = [
    Caller::Anonymous,
    Caller::Owner,
    Caller::OtherBuyer,
    Caller::Warehouse,
    Caller::Admin,
    Caller::OtherTenantAdmin,
    Caller::OtherTenantWarehouse,
];

/// The state of the order a route is tried on.
#[derive(Debug, Clone, Copy)]
enum Fixture {
    PendingTicket,
    ConfirmedTicket,
    PendingGoodsOfTwoLines,
    PaidGoods,
    ProcessingGoods,
    ShippedGoods,
    DeliveredGoods,
    ReturnedGoods,
}

/// One order made for one cell.
struct Made {
    id: String,
    owner: String,
    item: String,
    intent: Value,
}

/// One row of the matrix.
struct Row {
    method: Method,
    /// `{id}` and `{item}` are the fixture's.
    path: &'static str,
    body: Value,
    fixture: Fixture,
    /// The success status, and who gets it.
    success: u16,
    allowed: &'static [Caller],
    /// For list routes: whether an allowed caller finds the fixture's order in the answer.
    lists: Option<&'static [Caller]>,
}

use Caller::*;

const OWNER_AND_ADMIN: &[Caller] = &[Owner, Admin];
const FULFILLERS: &[Caller] = &[Warehouse, Admin];

fn rows() -> Vec<Row> {
    let read = |path, fixture| Row {
        method: Method::GET,
        path,
        body: Value::Null,
        fixture,
        success: 200,
        allowed: OWNER_AND_ADMIN,
        lists: None,
    };
    let act = |path, body, fixture, allowed| Row {
        method: Method::POST,
        path,
        body,
        fixture,
        success: 200,
        allowed,
        lists: None,
    };
    let list = |path, fixture, allowed, lists| Row {
        method: Method::GET,
        path,
        body: Value::Null,
        fixture,
        success: 200,
        allowed,
        lists: Some(lists),
    };
    let everyone: &'static [Caller] = &[
        Owner,
        OtherBuyer,
        Warehouse,
        Admin,
        OtherTenantAdmin,
        OtherTenantWarehouse,
    ];
    vec![
        read("/api/v1/orders/{id}", Fixture::PendingTicket),
        read("/api/v1/orders/{id}", Fixture::PaidGoods),
        read("/api/v1/orders/{id}/events", Fixture::PaidGoods),
        read("/api/v1/orders/{id}/ledger", Fixture::ConfirmedTicket),
        read("/api/v1/orders/{id}/documents", Fixture::ConfirmedTicket),
        act(
            "/api/v1/orders/{id}/reserve",
            json!({}),
            Fixture::PendingTicket,
            OWNER_AND_ADMIN,
        ),
        act(
            "/api/v1/orders/{id}/cancel",
            json!({ "reason": "changed my mind" }),
            Fixture::PendingTicket,
            OWNER_AND_ADMIN,
        ),
        act(
            "/api/v1/orders/{id}/refund",
            json!({ "amount": 100, "reason": "one less" }),
            Fixture::ConfirmedTicket,
            OWNER_AND_ADMIN,
        ),
        act(
            "/api/v1/orders/{id}/confirm-payment",
            Value::Null,
            Fixture::PendingTicket,
            &[Owner],
        ),
        act(
            "/api/v1/orders/{id}/items/{item}/cancel",
            json!({ "reason": "one is enough" }),
            Fixture::PendingGoodsOfTwoLines,
            OWNER_AND_ADMIN,
        ),
        act(
            "/api/v1/orders/{id}/returns",
            json!({ "reason": "too small" }),
            Fixture::DeliveredGoods,
            &[Owner],
        ),
        act(
            "/api/v1/orders/{id}/fulfillment/start",
            json!({}),
            Fixture::PaidGoods,
            FULFILLERS,
        ),
        act(
            "/api/v1/orders/{id}/fulfillment/ship",
            json!({}),
            Fixture::ProcessingGoods,
            FULFILLERS,
        ),
        act(
            "/api/v1/orders/{id}/fulfillment/deliver",
            json!({}),
            Fixture::ShippedGoods,
            FULFILLERS,
        ),
        act(
            "/api/v1/orders/{id}/fulfillment/fail",
            json!({ "reason": "dropped it" }),
            Fixture::ProcessingGoods,
            FULFILLERS,
        ),
        act(
            "/api/v1/orders/{id}/returns/receive",
            json!({}),
            Fixture::ReturnedGoods,
            FULFILLERS,
        ),
        // Warehouse staff have no tenant-wide list: their own orders only, like any buyer.
        list(
            "/api/v1/orders",
            Fixture::PaidGoods,
            everyone,
            &[Owner, Admin],
        ),
        list(
            "/api/v1/fulfillment/queue",
            Fixture::PaidGoods,
            &[Warehouse, Admin, OtherTenantAdmin, OtherTenantWarehouse],
            FULFILLERS,
        ),
        list(
            "/api/v1/admin/orders",
            Fixture::PaidGoods,
            &[Admin, OtherTenantAdmin],
            &[Admin],
        ),
    ]
}

/// What a caller who may not act gets.
fn refusal(row: &Row, caller: Caller) -> u16 {
    let fulfillment = row.allowed == FULFILLERS;
    match caller {
        Anonymous => 401,
        // Lists for a role the caller lacks.
        _ if row.lists.is_some() => 403,
        // Fulfillment for buyers; on an order they know of, a step that is not theirs (the
        // owner's fulfillment, the admin's payment or return).
        Owner | OtherBuyer if fulfillment => 403,
        Admin | Owner => 403,
        // An order they may not know of.
        _ => 404,
    }
}

impl TestApp {
    async fn made(&self, fixture: Fixture, serial: u128) -> Made {
        let owner = customer(100 + serial);
        let goods = |steps: &'static [&'static str]| {
            let owner = owner.clone();
            async move {
                // Products turn over so that no product runs out of its five units.
                let id = self.paid_goods_order(&owner, serial % 10).await;
                for step in steps {
                    let path = format!("/api/v1/orders/{id}/{step}");
                    // The buyer sends the goods back; the warehouse does the rest.
                    let (by, body) = if *step == "returns" {
                        (owner.clone(), json!({ "reason": "too small" }))
                    } else {
                        (warehouse(), json!({}))
                    };
                    let done = self.post(&by, &path, &body).await;
                    assert_eq!(done.status(), 200, "{step}");
                }
                id
            }
        };
        let (id, order) = match fixture {
            Fixture::PendingTicket => {
                let order: Value = self
                    .create_order(&owner, &order_body(1))
                    .await
                    .json()
                    .await
                    .expect("json");
                (order["id"].as_str().expect("id").to_owned(), order)
            }
            Fixture::ConfirmedTicket => {
                let order = self.new_order(100 + serial, 1).await;
                self.pay(&order).await;
                assert_eq!(self.confirm(&order).await.status(), 200);
                (order["id"].as_str().expect("id").to_owned(), order)
            }
            Fixture::PendingGoodsOfTwoLines => {
                for n in [serial % 10, (serial + 1) % 10] {
                    let body = json!({ "productId": product(n), "quantity": 1 });
                    let added = self.post(&owner, "/api/v1/cart/items", &body).await;
                    assert_eq!(added.status(), 201);
                }
                let body = json!({ "shippingAddress": california() });
                let created: Value = self
                    .post(&owner, "/api/v1/orders", &body)
                    .await
                    .json()
                    .await
                    .expect("json");
                let order = created["order"].clone();
                (order["id"].as_str().expect("id").to_owned(), order)
            }
            Fixture::PaidGoods => (goods(&[]).await, Value::Null),
            Fixture::ProcessingGoods => (goods(&["fulfillment/start"]).await, Value::Null),
            Fixture::ShippedGoods => (
                goods(&["fulfillment/start", "fulfillment/ship"]).await,
                Value::Null,
            ),
            Fixture::DeliveredGoods => (
                goods(&[
                    "fulfillment/start",
                    "fulfillment/ship",
                    "fulfillment/deliver",
                ])
                .await,
                Value::Null,
            ),
            Fixture::ReturnedGoods => (
                goods(&[
                    "fulfillment/start",
                    "fulfillment/ship",
                    "fulfillment/deliver",
                    "returns",
                ])
                .await,
                Value::Null,
            ),
        };
        Made {
            item: order["items"][0]["id"].as_str().unwrap_or("").to_owned(),
            intent: json!({ "paymentIntentId": order["paymentIntentId"] }),
            id,
            owner,
        }
    }

    async fn call(&self, row: &Row, made: &Made, caller: Caller) -> reqwest::Response {
        let hour = OffsetDateTime::now_utc() + Duration::hours(1);
        let token = match caller {
            Anonymous => None,
            Owner => Some(made.owner.clone()),
            OtherBuyer => Some(customer(99)),
            Warehouse => Some(warehouse()),
            Admin => Some(admin()),
            OtherTenantAdmin => Some(token_with(tenant_b(), user(998), &[Role::Admin], hour)),
            OtherTenantWarehouse => {
                Some(token_with(tenant_b(), user(997), &[Role::Warehouse], hour))
            }
        };
        let path = row
            .path
            .replace("{id}", &made.id)
            .replace("{item}", &made.item);
        let mut request = self.client.request(row.method.clone(), self.url(&path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if row.method == Method::POST {
            let body = if row.body.is_null() {
                made.intent.clone()
            } else {
                row.body.clone()
            };
            request = request.json(&body);
        }
        request.send().await.expect("request")
    }
}

#[tokio::test]
async fn every_cell_of_the_role_matrix_answers_as_documented() {
    let app = spawn_app().await;
    let mut serial = 0;
    let mut wrong = Vec::new();
    for row in rows() {
        serial += 1;
        // The refusals first, on one order: a refused call changes nothing.
        let shared = app.made(row.fixture, serial).await;
        for caller in CALLERS {
            let allowed = row.allowed.contains(&caller);
            if allowed && row.lists.is_none() {
                continue;
            }
            let response = app.call(&row, &shared, caller).await;
            let status = response.status().as_u16();
            let expected = if allowed {
                row.success
            } else {
                refusal(&row, caller)
            };
            if status != expected {
                wrong.push(format!(
                    "{} {} as {caller:?}: {status}, expected {expected}",
                    row.method, row.path
                ));
                continue;
            }
            if let (true, Some(lists)) = (allowed, row.lists) {
                let page: Value = response.json().await.expect("json");
                let found = page["orders"]
                    .as_array()
                    .expect("orders")
                    .iter()
                    .any(|o| o["id"] == shared.id.as_str());
                if found != lists.contains(&caller) {
                    wrong.push(format!(
                        "{} {} as {caller:?}: lists the order: {found}",
                        row.method, row.path
                    ));
                }
            }
        }
        // Each caller who may act, on an order of its own.
        if row.lists.is_none() {
            for &caller in row.allowed {
                serial += 1;
                let made = app.made(row.fixture, serial).await;
                let response = app.call(&row, &made, caller).await;
                let status = response.status().as_u16();
                if status != row.success {
                    let body = response.text().await.unwrap_or_default();
                    wrong.push(format!(
                        "{} {} as {caller:?}: {status}, expected {}: {body}",
                        row.method, row.path, row.success
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "cells that differ:\n{}", wrong.join("\n"));
}

#[tokio::test]
async fn the_warehouse_sees_where_an_order_ships_and_not_who_pays_or_the_metadata() {
    let app = spawn_app().await;
    let buyer = customer(120);
    let id = app.paid_goods_order(&buyer, 3).await;

    let queue: Value = app
        .get(&warehouse(), "/api/v1/fulfillment/queue")
        .await
        .json()
        .await
        .expect("json");
    let seen = &queue["orders"][0];
    assert_eq!(seen["id"], id.as_str());
    assert_eq!(seen["shippingAddress"]["city"], california()["city"]);
    assert!(seen.get("billingAddress").is_none(), "{seen}");
    assert!(seen["paymentIntentId"].is_null(), "{seen}");
    assert_eq!(seen["metadata"], json!({}));

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
    assert!(started["order"].get("billingAddress").is_none());
    let by_admin: Value = app
        .get(&admin(), &format!("/api/v1/orders/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert!(by_admin["billingAddress"].is_object(), "{by_admin}");

    let unknown = app
        .get(&warehouse(), "/api/v1/fulfillment/queue?status=PENDING")
        .await;
    assert_problem(unknown, 422, "validation_failed").await;
}

impl TestApp {
    async fn as_service(
        &self,
        key: &str,
        method: Method,
        path: &str,
        tenant: Option<order_domain::ids::TenantId>,
        body: &Value,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .request(method.clone(), self.url(path))
            .header("authorization", format!("Service-Key {key}"));
        if let Some(tenant) = tenant {
            request = request.header("x-tenant-id", tenant.to_string());
        }
        if method == Method::POST {
            request = request.json(body);
        }
        request.send().await.expect("request")
    }
}

#[tokio::test]
async fn a_service_key_opens_only_its_scopes_in_its_tenants() {
    let app = spawn_app().await;
    let order = app.new_order(130, 1).await;
    let id = order["id"].as_str().expect("id");
    let confirm = format!("/internal/v1/orders/{id}/confirm");
    let intent = json!({ "paymentIntentId": order["paymentIntentId"] });

    // The event service may not confirm payments, list across tenants or read operators' health.
    let refused = app
        .as_service(
            EVENTS_KEY,
            Method::POST,
            &confirm,
            Some(tenant_a()),
            &intent,
        )
        .await;
    let problem = assert_problem(refused, 403, "service_forbidden").await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("SERVICE_KEY_SCOPES")),
        "{problem}"
    );
    let expiring = app
        .as_service(
            EVENTS_KEY,
            Method::GET,
            "/internal/v1/orders/expiring",
            None,
            &Value::Null,
        )
        .await;
    assert_problem(expiring, 403, "service_forbidden").await;
    let health = app
        .as_service(
            EVENTS_KEY,
            Method::GET,
            "/health/detailed",
            None,
            &Value::Null,
        )
        .await;
    assert_eq!(health.status(), 401, "not an operator");

    // It cancels events in bulk, in its own tenant only.
    let cancel = json!({ "eventId": EVENT, "reason": "storm" });
    let elsewhere = app
        .as_service(
            EVENTS_KEY,
            Method::POST,
            "/internal/v1/orders/bulk/cancel",
            Some(tenant_b()),
            &cancel,
        )
        .await;
    let problem = assert_problem(elsewhere, 403, "service_forbidden").await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("SERVICE_KEY_TENANTS")),
        "{problem}"
    );
    let stored: Value = app
        .get(&customer(130), &format!("/api/v1/orders/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        stored["status"], "RESERVED",
        "nothing the refused keys asked happened"
    );
    let cancelled = app
        .as_service(
            EVENTS_KEY,
            Method::POST,
            "/internal/v1/orders/bulk/cancel",
            Some(tenant_a()),
            &cancel,
        )
        .await;
    assert!(cancelled.status().is_success(), "{}", cancelled.status());

    // A key with the scope confirms.
    let order = app.new_order(131, 1).await;
    app.pay(&order).await;
    assert_eq!(app.confirm(&order).await.status(), 200);
}

#[tokio::test]
async fn a_buyer_sees_what_the_staff_did_to_their_order_but_not_who_or_from_where() {
    let app = spawn_app().await;
    let order = app.new_order(140, 1).await;
    let id = order["id"].as_str().expect("id");
    let cancelled = app
        .post(
            &admin(),
            &format!("/api/v1/orders/{id}/cancel"),
            &json!({ "reason": "duplicate order" }),
        )
        .await;
    assert_eq!(cancelled.status(), 200);
    let history = |token: String| {
        let path = format!("/api/v1/orders/{id}/events");
        let app = &app;
        async move {
            let page: Value = app.get(&token, &path).await.json().await.expect("json");
            page["events"].as_array().expect("events").clone()
        }
    };

    let by_buyer = history(customer(140)).await;
    let created = &by_buyer[0];
    assert_eq!(created["actor"]["type"], "user", "the buyer's own step");
    assert_eq!(created["actor"]["id"], user(140).to_string());
    let cancel = by_buyer.last().expect("the cancellation");
    assert_eq!(cancel["eventType"], "ORDER_CANCELLED");
    assert_eq!(cancel["actor"], json!({ "type": "staff" }), "{cancel}");
    assert!(cancel["ipAddress"].is_null(), "{cancel}");
    let text = serde_json::to_string(&by_buyer).expect("json");
    assert!(
        !text.contains(&user(999).to_string()),
        "the admin's id: {text}"
    );

    let by_admin = history(admin()).await;
    let cancel = by_admin.last().expect("the cancellation");
    assert_eq!(cancel["actor"]["type"], "user");
    assert_eq!(cancel["actor"]["id"], user(999).to_string());
    assert_eq!(cancel["actor"]["roles"], json!(["admin"]));
    assert!(cancel["ipAddress"].is_string(), "{cancel}");
}
