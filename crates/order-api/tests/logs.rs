//! The JSON logs: one object per line with the ticketing API's fields, and never a token, a key or
//! a buyer's address — read from a run that saw all of them. A test binary of its own because it
//! installs the process-wide subscriber, writing into memory instead of standard output.

#[path = "api/helpers.rs"]
#[allow(dead_code, unused_imports)]
mod helpers;

use std::time::Duration as StdDuration;

use order_api::telemetry::{BoxMakeWriter, MemorySink};
use serde_json::{Value, json};
use uuid::Uuid;

use helpers::*;

/// The request lines logged so far.
fn requests(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"] == "request")
        .collect()
}

#[tokio::test]
async fn json_logs_carry_their_fields_and_no_secret_or_personal_data() {
    let sink = MemorySink::default();
    let writer = sink.clone();
    order_api::telemetry::init_into(
        "debug",
        true,
        None,
        BoxMakeWriter::new(move || writer.clone()),
    );
    let app = spawn_app().await;
    let buyer = customer(91);
    let added = app
        .post(
            &buyer,
            "/api/v1/cart/items",
            &json!({ "productId": Uuid::from_u128(PRODUCT.as_u128() + 1), "quantity": 1 }),
        )
        .await;
    assert_eq!(added.status(), 201);
    let address = json!({
        "firstName": "Ada", "lastName": "Lovelace", "street": "1 Market St", "city": "San Francisco",
        "state": "CA", "zipCode": "94105", "country": "US", "phone": "+14155550100"
    });
    let created = app
        .post(
            &buyer,
            "/api/v1/orders",
            &json!({ "shippingAddress": address }),
        )
        .await;
    assert_eq!(created.status(), 201);
    let bad = app
        .get("not-a-token-but-a-secret-looking-string", "/api/v1/orders")
        .await;
    assert_eq!(bad.status(), 401);
    let internal = app
        .client
        .get(app.url("/internal/v1/orders/expiring"))
        .header("authorization", format!("Service-Key {SERVICE_KEY}"))
        .header("x-tenant-id", tenant_a().to_string())
        .send()
        .await
        .expect("request");
    assert!(internal.status().is_success(), "{}", internal.status());

    // A request's line is written when its span closes, just after the answer left.
    let lines = eventually(
        "the four requests are logged",
        StdDuration::from_secs(5),
        || async {
            let lines: Vec<String> = sink.text().lines().map(str::to_owned).collect();
            (requests(&lines).len() >= 4).then_some(lines)
        },
    )
    .await;
    for line in &lines {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        for field in ["timestamp", "level", "service", "message"] {
            assert!(v.get(field).is_some(), "{field} missing: {line}");
        }
        assert_eq!(v["service"], "order-service");
    }
    assert!(
        requests(&lines)
            .iter()
            .any(|r| r["fields"]["route"] == "/api/v1/orders" && r["fields"]["status"] == 201),
        "the access log names the route template: {lines:?}"
    );
    let run = lines.join("\n");
    for secret in [
        buyer.as_str(),
        "not-a-token-but-a-secret-looking-string",
        SERVICE_KEY,
        UPSTREAM_KEY,
        SECRET,
        "dGVzdC1hZGRyZXNzLWtleS0zMi1ieXRlcy1sb25nISE=",
        "1 Market St",
        "Lovelace",
        "+14155550100",
    ] {
        assert!(!run.contains(secret), "{secret} was logged");
    }
}
