//! Invoices and credit notes through HTTP: issued with the confirmation and the refund, numbered
//! without gaps under concurrency, served as JSON and as a PDF whose text a reader extracts.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::*;

fn year() -> i32 {
    time::OffsetDateTime::now_utc().year()
}

async fn documents(app: &TestApp, token: &str, id: &str) -> Value {
    let response = app
        .get(token, &format!("/api/v1/orders/{id}/documents"))
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

/// `pdf` as text, through Debian's `pdftotext` (poppler-utils, installed by `just services-up`).
async fn pdf_text(pdf: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("order-doc-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("document.pdf");
    std::fs::write(&file, pdf).expect("write pdf");
    let output = tokio::process::Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .await
        .expect("pdftotext (poppler-utils) is missing: run `just services-up`");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(output.status.success(), "pdftotext failed");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn a_paid_order_gets_an_invoice_and_its_refund_a_credit_note_as_json_and_pdf() {
    let app = spawn_app().await;
    let order = app.new_order(1, 2).await;
    let id = order["id"].as_str().expect("id");
    assert_eq!(
        documents(&app, &customer(1), id).await["documents"],
        json!([]),
        "nothing is issued before the payment"
    );
    app.pay(&order).await;
    assert_eq!(app.confirm(&order).await.status(), 200);
    let refund = app
        .post(
            &customer(1),
            &format!("/api/v1/orders/{id}/refund"),
            &json!({ "amount": 2_500, "reason": "one ticket less" }),
        )
        .await;
    assert_eq!(refund.status(), 200);

    let listed = documents(&app, &customer(1), id).await;
    let invoice_number = format!("INV-{}-000001", year());
    let credit_number = format!("CN-{}-000001", year());
    let total = order["pricing"]["total"].as_i64().expect("total");
    let summary: Vec<_> = listed["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .map(|d| (d["number"].clone(), d["kind"].clone(), d["total"].clone()))
        .collect();
    assert_eq!(
        summary,
        [
            (json!(invoice_number), json!("INVOICE"), json!(total)),
            (json!(credit_number), json!("CREDIT_NOTE"), json!(2_500)),
        ]
    );

    let invoice: Value = app
        .get(
            &customer(1),
            &format!("/api/v1/orders/{id}/documents/{invoice_number}"),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(invoice["orderNumber"], order["orderNumber"]);
    assert_eq!(invoice["lines"][0]["quantity"], 2);
    assert_eq!(invoice["seller"]["name"], "Order Service Seller");
    assert_eq!(invoice["taxRatePpm"], 80_000);
    let credit: Value = app
        .get(
            &admin(),
            &format!("/api/v1/orders/{id}/documents/{credit_number}"),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(credit["corrects"], json!(invoice_number));

    let pdf = app
        .client
        .get(app.url(&format!("/api/v1/orders/{id}/documents/{invoice_number}")))
        .bearer_auth(customer(1))
        .header("accept", "application/pdf")
        .send()
        .await
        .expect("request");
    assert_eq!(pdf.status(), 200);
    assert_eq!(
        pdf.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/pdf")
    );
    let text = pdf_text(&pdf.bytes().await.expect("body")).await;
    assert!(text.contains(&invoice_number), "{text}");
    let major = format!("{}.{:02} USD", total / 100, total % 100);
    assert!(text.contains(&format!("Total: {major}")), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_orders_confirmed_at_once_get_fifty_consecutive_invoice_numbers() {
    let app = spawn_app().await;
    let mut orders = Vec::new();
    for n in 0..50u128 {
        let order = app.new_order(100 + n, 1).await;
        app.pay(&order).await;
        orders.push(order);
    }
    let confirmations = orders.iter().map(|order| app.confirm(order));
    for response in futures_util::future::join_all(confirmations).await {
        assert_eq!(response.status(), 200);
    }
    let mut numbers = BTreeSet::new();
    for (n, order) in (100u128..).zip(&orders) {
        let listed = documents(&app, &customer(n), order["id"].as_str().expect("id")).await;
        let issued = listed["documents"].as_array().expect("documents");
        assert_eq!(issued.len(), 1, "one invoice per order");
        numbers.insert(issued[0]["number"].as_str().expect("number").to_owned());
    }
    let expected: BTreeSet<String> = (1..=50).map(|n| format!("INV-{}-{n:06}", year())).collect();
    assert_eq!(numbers, expected, "no gap, no duplicate");
}

#[tokio::test]
async fn unknown_numbers_and_other_buyers_find_no_document() {
    let app = spawn_app().await;
    let order = app.confirmed_order(1, 1).await;
    let id = order["id"].as_str().expect("id");
    let number = format!("INV-{}-000001", year());
    assert_problem(
        app.get(
            &customer(1),
            &format!("/api/v1/orders/{id}/documents/INV-1999-000009"),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get(
            &customer(2),
            &format!("/api/v1/orders/{id}/documents/{number}"),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get(&customer(2), &format!("/api/v1/orders/{id}/documents"))
            .await,
        404,
        "not_found",
    )
    .await;
}
