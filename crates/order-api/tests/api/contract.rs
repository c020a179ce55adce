//! The served contract: every route of the product's route contract is documented and served,
//! nothing else is, and the health routes and the document itself answer.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::*;

/// The routes of docs/product/routes.md this service serves today (the ticketing half, the cart,
/// operations).
const CONTRACT: &[(&str, &str)] = &[
    ("get", "/api/v1/cart"),
    ("delete", "/api/v1/cart"),
    ("post", "/api/v1/cart/items"),
    ("patch", "/api/v1/cart/items/{id}"),
    ("delete", "/api/v1/cart/items/{id}"),
    ("post", "/api/v1/cart/merge"),
    ("post", "/api/v1/orders"),
    ("get", "/api/v1/orders"),
    ("get", "/api/v1/orders/{id}"),
    ("get", "/api/v1/orders/{id}/events"),
    ("get", "/api/v1/orders/{id}/ledger"),
    ("get", "/api/v1/orders/{id}/documents"),
    ("get", "/api/v1/orders/{id}/documents/{number}"),
    ("post", "/api/v1/admin/reconciliation/runs"),
    ("get", "/api/v1/admin/reconciliation/runs"),
    ("get", "/api/v1/admin/reconciliation/runs/{id}"),
    ("post", "/api/v1/orders/{id}/reserve"),
    ("post", "/api/v1/orders/{id}/cancel"),
    ("post", "/api/v1/orders/{id}/items/{itemId}/cancel"),
    ("post", "/api/v1/orders/{id}/edits"),
    ("get", "/api/v1/orders/{id}/edits"),
    ("get", "/api/v1/admin/webhooks"),
    ("post", "/api/v1/admin/webhooks"),
    ("get", "/api/v1/admin/webhooks/{id}"),
    ("patch", "/api/v1/admin/webhooks/{id}"),
    ("delete", "/api/v1/admin/webhooks/{id}"),
    ("post", "/api/v1/admin/webhooks/{id}/rotate-secret"),
    ("get", "/api/v1/admin/webhooks/{id}/deliveries"),
    (
        "post",
        "/api/v1/admin/webhooks/{id}/deliveries/{deliveryId}/replay",
    ),
    ("post", "/api/v1/orders/{id}/refund"),
    ("post", "/api/v1/orders/{id}/confirm-payment"),
    ("get", "/api/v1/fulfillment/queue"),
    ("post", "/api/v1/orders/{id}/fulfillment/start"),
    ("post", "/api/v1/orders/{id}/fulfillment/ship"),
    ("post", "/api/v1/orders/{id}/fulfillment/deliver"),
    ("post", "/api/v1/orders/{id}/fulfillment/fail"),
    ("post", "/api/v1/orders/{id}/returns"),
    ("post", "/api/v1/orders/{id}/returns/receive"),
    ("get", "/api/v1/admin/orders"),
    ("get", "/api/v1/admin/refunds"),
    ("post", "/api/v1/admin/refunds/{id}/approve"),
    ("post", "/api/v1/admin/refunds/{id}/reject"),
    ("post", "/api/v1/admin/refunds/{id}/retry"),
    ("get", "/api/v1/admin/analytics"),
    ("get", "/api/v1/admin/promo-codes"),
    ("post", "/api/v1/admin/promo-codes"),
    ("delete", "/api/v1/admin/promo-codes/{code}"),
    ("get", "/api/v1/admin/audit/verify"),
    ("get", "/api/v1/admin/audit/anchors"),
    ("get", "/api/v1/me/export"),
    ("get", "/api/v1/admin/customers/{userId}/export"),
    ("post", "/api/v1/admin/customers/{userId}/erase"),
    ("post", "/api/v1/admin/events/replay"),
    ("get", "/api/v1/admin/events/replay/{id}"),
    ("post", "/internal/v1/orders/{id}/confirm"),
    ("post", "/internal/v1/orders/{id}/expire"),
    ("get", "/internal/v1/orders/expiring"),
    ("post", "/internal/v1/orders/bulk/cancel"),
    ("get", "/internal/v1/jobs/{id}"),
    ("get", "/health/liveness"),
    ("get", "/health/readiness"),
    ("get", "/metrics"),
    ("get", "/health/detailed"),
    ("get", "/openapi.json"),
    ("get", "/docs"),
];

#[tokio::test]
async fn health_and_openapi_describe_the_service() {
    let app = spawn_app().await;
    assert_eq!(
        app.client
            .get(app.url("/health/liveness"))
            .send()
            .await
            .expect("request")
            .status(),
        200
    );
    let ready = app
        .client
        .get(app.url("/health/readiness"))
        .send()
        .await
        .expect("request");
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().await.expect("json");
    assert_eq!(
        ready["checks"],
        serde_json::json!({ "database": "ok", "redis": "ok" }),
        "an instance without jobs needs no broker"
    );
    let doc: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(doc["openapi"], "3.1.0");
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("path item")
                .keys()
                .map(|method| (method.clone(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let contract: BTreeSet<(String, String)> = CONTRACT
        .iter()
        .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    let undocumented: Vec<_> = contract.difference(&documented).collect();
    let beyond_contract: Vec<_> = documented.difference(&contract).collect();
    assert!(
        undocumented.is_empty(),
        "served but undocumented: {undocumented:?}"
    );
    assert!(
        beyond_contract.is_empty(),
        "documented beyond the contract: {beyond_contract:?}"
    );
    for (method, path) in &documented {
        // Every documented route is served: anything but the 404 of an unknown route.
        let nil = uuid::Uuid::nil().to_string();
        let url = app.url(
            &path
                .replace("{id}", &nil)
                .replace("{itemId}", &nil)
                .replace("{deliveryId}", &nil),
        );
        let response = app
            .client
            .request(method.to_uppercase().parse().expect("method"), url)
            .send()
            .await
            .expect("request");
        if response.status() == 404 {
            let body: Value = response.json().await.expect("json");
            assert_ne!(
                body["detail"], "route not found",
                "{method} {path} is served"
            );
        }
    }
    // An undocumented route is not served either: the same probe of a path outside the document
    // meets the unknown-route answer, so the probe above can tell the two apart.
    let unknown: Value = app
        .client
        .post(app.url("/api/v1/orders/00000000-0000-0000-0000-000000000000/teleport"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(unknown["detail"], "route not found");
    // The interactive reference loads its files from this instance, under a policy without
    // inline script (tests/api/browser.rs runs it in Chromium).
    let docs = app
        .client
        .get(app.url("/docs"))
        .send()
        .await
        .expect("request");
    let policy = docs.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        policy.contains("script-src 'self'") && !policy.contains("unsafe"),
        "{policy}"
    );
    let page = docs.text().await.expect("text");
    for file in ["swagger-ui-bundle.js", "swagger-ui.css", "api-reference.js"] {
        let path = format!("/docs/assets/{file}");
        assert!(page.contains(&path), "the page loads {path}");
        let served = app.client.get(app.url(&path)).send().await.expect("asset");
        assert_eq!(served.status(), 200, "{path}");
    }
    let missing = app
        .client
        .get(app.url("/docs/assets/nothing.js"))
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), 404);
}
