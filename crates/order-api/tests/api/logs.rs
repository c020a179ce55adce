//! The running binary's JSON logs: one object per line with the ticketing API's fields, and never a
//! token, a key or a buyer's address — grepped from a real run that saw all of them.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;
use crate::shop::california;

#[tokio::test]
async fn json_logs_carry_the_seed_fields_and_no_secret_or_personal_data() {
    let db = order_postgres::setup::testing::fresh_database().await;
    let simulator = start_simulator(&Setup::default());
    let redis =
        std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:56379".into());
    let mut child = Command::new(env!("CARGO_BIN_EXE_order-api"))
        .arg("serve")
        .env_clear()
        .env("PORT", "0")
        .env("HOST", "127.0.0.1")
        .env("LOG_FORMAT", "json")
        .env("LOG_LEVEL", "debug")
        .env("RUN_JOBS", "false")
        .env("DATABASE_URL", &db.app_url)
        .env(
            "ADDRESS_ENCRYPTION_KEYS",
            order_postgres::setup::testing::TEST_ADDRESS_KEYS,
        )
        .env("JWT_SECRET", SECRET)
        .env("SERVICE_API_KEYS", format!("payment:{SERVICE_KEY}"))
        .env("SERVICE_KEY_SCOPES", "payment=confirm,expiring")
        .env("UPSTREAM_SERVICE_KEY", UPSTREAM_KEY)
        .env("REDIS_URL", &redis)
        .env(
            "REDIS_KEY_PREFIX",
            format!("test-{}", Uuid::new_v4().simple()),
        )
        .envs(
            [
                "TICKET",
                "PAYMENT",
                "EVENT",
                "PRODUCT",
                "INVENTORY",
                "SHIPPING",
                "NOTIFICATION",
            ]
            .map(|s| (format!("{s}_SERVICE_URL"), simulator.clone())),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("order-api starts");
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let stdout = child.stdout.take().expect("stdout");
    let seen = Arc::clone(&lines);
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            seen.lock().expect("lock").push(line);
        }
    });
    let mut port = None;
    for _ in 0..200 {
        port = lines.lock().expect("lock").iter().find_map(|l| {
            let v: Value = serde_json::from_str(l).ok()?;
            (v["message"] == "order-api listening").then(|| v["fields"]["port"].as_u64())?
        });
        if port.is_some() {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    let base = format!("http://127.0.0.1:{}", port.expect("the API logs its port"));
    let client = reqwest::Client::new();
    let buyer = customer(91);
    let added = client
        .post(format!("{base}/api/v1/cart/items"))
        .bearer_auth(&buyer)
        .json(&json!({ "productId": Uuid::from_u128(PRODUCT.as_u128() + 1), "quantity": 1 }))
        .send()
        .await
        .expect("request");
    assert_eq!(added.status(), 201);
    let created = client
        .post(format!("{base}/api/v1/orders"))
        .bearer_auth(&buyer)
        .json(&json!({ "shippingAddress": california() }))
        .send()
        .await
        .expect("request");
    assert_eq!(created.status(), 201);
    let bad = client
        .get(format!("{base}/api/v1/orders"))
        .bearer_auth("not-a-token-but-a-secret-looking-string")
        .send()
        .await
        .expect("request");
    assert_eq!(bad.status(), 401);
    let internal = client
        .get(format!("{base}/internal/v1/orders/expiring"))
        .header("authorization", format!("Service-Key {SERVICE_KEY}"))
        .header("x-tenant-id", tenant_a().to_string())
        .send()
        .await
        .expect("request");
    assert!(internal.status().is_success(), "{}", internal.status());
    tokio::time::sleep(StdDuration::from_millis(200)).await;
    let _ = child.kill();
    let _ = child.wait();

    let lines = lines.lock().expect("lock").clone();
    assert!(lines.len() >= 4, "{lines:?}");
    for line in &lines {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        for field in ["timestamp", "level", "service", "message"] {
            assert!(v.get(field).is_some(), "{field} missing: {line}");
        }
        assert_eq!(v["service"], "order-service");
    }
    let run = lines.join("\n");
    let requests: Vec<Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"] == "request")
        .collect();
    assert!(
        requests
            .iter()
            .any(|r| r["fields"]["route"] == "/api/v1/orders" && r["fields"]["status"] == 201),
        "the access log names the route template: {requests:?}"
    );
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
