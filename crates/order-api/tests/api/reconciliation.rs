//! Reconciliation through HTTP against the simulator's payment service, with drift made on
//! purpose: a payout the ledger lacks (repaired), a payout the payment service lost (reported),
//! a payment captured for an order cancelled unpaid (refunded); and the route's bad inputs.

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::helpers::*;

fn window() -> Value {
    let now = OffsetDateTime::now_utc();
    let rfc = |t: OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .expect("rfc3339")
    };
    json!({ "from": rfc(now - time::Duration::hours(1)), "to": rfc(now + time::Duration::minutes(1)) })
}

async fn simulator_post(app: &TestApp, path: &str, body: &Value) {
    let response = app
        .client
        .post(format!("{}{path}", app.simulator))
        .json(body)
        .send()
        .await
        .expect("simulator");
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
}

async fn run(app: &TestApp) -> Value {
    let response = app
        .post(&admin(), "/api/v1/admin/reconciliation/runs", &window())
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.expect("json")
}

fn kinds(run: &Value) -> Vec<(String, bool)> {
    let mut kinds: Vec<_> = run["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap_or("").to_owned(),
                d["repaired"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    kinds.sort();
    kinds
}

#[tokio::test]
async fn a_run_repairs_what_is_certain_and_reports_the_rest() {
    let app = spawn_app().await;

    // 1. A refund the payment service refused, then paid after all without telling us.
    let (unpaid, failed) = order_with_failed_refund(&app).await;
    let intent = unpaid["paymentIntentId"].as_str().expect("intent");
    simulator_post(
        &app,
        &format!("/_admin/payments/{intent}/payouts"),
        &json!({ "refundId": failed["refundId"], "amount": failed["amount"] }),
    )
    .await;

    // 2. A refund paid and recorded, whose payout the payment service then lost.
    let lost = app.confirmed_order(2, 1).await;
    let lost_id = lost["id"].as_str().expect("id");
    let refund: Value = app
        .post(
            &customer(2),
            &format!("/api/v1/orders/{lost_id}/refund"),
            &json!({ "amount": 1_000 }),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(refund["status"], "COMPLETED");
    simulator_post(
        &app,
        &format!(
            "/_admin/payments/{}/refunds/{}/lose",
            lost["paymentIntentId"].as_str().expect("intent"),
            refund["refundId"].as_str().expect("refund")
        ),
        &json!({}),
    )
    .await;

    // 3. An order cancelled unpaid whose buyer paid anyway; the message never reached us.
    let closed = app.new_order(3, 1).await;
    let closed_id = closed["id"].as_str().expect("id");
    let cancelled = app
        .post(
            &customer(3),
            &format!("/api/v1/orders/{closed_id}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(cancelled.status(), 200);
    simulator_post(
        &app,
        &format!(
            "/_admin/payments/{}/succeed",
            closed["paymentIntentId"].as_str().expect("intent")
        ),
        &json!({}),
    )
    .await;

    let first = run(&app).await;
    assert_eq!(first["ordersChecked"], 3, "{first}");
    assert_eq!(
        kinds(&first),
        [
            ("CAPTURE_ON_CLOSED_ORDER".to_owned(), true),
            ("PAYOUT_MISSING_HERE".to_owned(), true),
            ("PAYOUT_UNKNOWN_UPSTREAM".to_owned(), false),
        ]
    );
    let stored: Value = app
        .get(
            &admin(),
            &format!(
                "/api/v1/admin/reconciliation/runs/{}",
                first["id"].as_str().expect("id")
            ),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(stored, first, "the run is stored as answered");

    // The repairs went through the money trail.
    let repaired: Value = app
        .get(
            &customer(1),
            &format!(
                "/api/v1/orders/{}/ledger",
                unpaid["id"].as_str().expect("id")
            ),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(repaired["entries"][1]["kind"], "REFUND_PAID");
    assert_eq!(repaired["entries"][1]["refundId"], failed["refundId"]);
    let returned: Value = app
        .get(&customer(3), &format!("/api/v1/orders/{closed_id}/ledger"))
        .await
        .json()
        .await
        .expect("json");
    let total = closed["pricing"]["total"].as_i64().expect("total");
    assert_eq!(
        returned["balance"],
        json!({"captured": total, "refunded": total, "net": 0, "outstanding": 0})
    );

    // What was repaired is in order now; what needs a person is reported again.
    let second = run(&app).await;
    assert_eq!(
        kinds(&second),
        [("PAYOUT_UNKNOWN_UPSTREAM".to_owned(), false)]
    );

    // The latest runs, newest first, counted.
    let listed: Value = app
        .get(&admin(), "/api/v1/admin/reconciliation/runs?limit=5")
        .await
        .json()
        .await
        .expect("json");
    let counts: Vec<(Value, Value, Value)> = listed["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| {
            (
                r["id"].clone(),
                r["differences"].clone(),
                r["repaired"].clone(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            (second["id"].clone(), json!(1), json!(0)),
            (first["id"].clone(), json!(3), json!(2))
        ]
    );
    assert_problem(
        app.get(&customer(1), "/api/v1/admin/reconciliation/runs")
            .await,
        403,
        "forbidden",
    )
    .await;

    // The console shows the same runs, and a run's differences lead to their orders.
    let console = |path: String| {
        let client = reqwest::Client::new();
        let url = app.url(&path);
        async move {
            client
                .get(url)
                .header("cookie", format!("order_console_session={}", admin()))
                .send()
                .await
                .expect("page")
                .text()
                .await
                .expect("html")
        }
    };
    let runs_page = console("/console/reconciliation".into()).await;
    for id in [&first["id"], &second["id"]] {
        let id = id.as_str().expect("id");
        assert!(
            runs_page.contains(&format!("/console/reconciliation/{id}")),
            "{runs_page}"
        );
    }
    let run_page = console(format!(
        "/console/reconciliation/{}",
        first["id"].as_str().expect("id")
    ))
    .await;
    for shown in [
        "PAYOUT_UNKNOWN_UPSTREAM",
        "CAPTURE_ON_CLOSED_ORDER",
        "needs a person",
    ] {
        assert!(run_page.contains(shown), "{shown} on the run page");
    }
    assert!(run_page.contains(&format!("/console/orders/{closed_id}")));
}

#[tokio::test]
async fn runs_refuse_bad_windows_strangers_and_unknown_ids() {
    let app = spawn_app().await;
    let now = "2026-12-07T12:00:00Z";
    let path = "/api/v1/admin/reconciliation/runs";
    assert_problem(
        app.post(&admin(), path, &json!({ "from": now, "to": now }))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.post(
            &admin(),
            path,
            &json!({ "from": "2026-10-01T00:00:00Z", "to": now }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.post(&admin(), path, &json!({ "from": "yesterday", "to": now }))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.post(&customer(1), path, &window()).await,
        403,
        "forbidden",
    )
    .await;
    let run = run(&app).await;
    let id = run["id"].as_str().expect("id");
    let other_admin = token_with(
        tenant_b(),
        user(998),
        &[order_domain::actor::Role::Admin],
        OffsetDateTime::now_utc() + time::Duration::hours(1),
    );
    assert_problem(
        app.get(&other_admin, &format!("{path}/{id}")).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get(&admin(), &format!("{path}/{}", uuid::Uuid::now_v7()))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get(&admin(), &format!("{path}/not-a-uuid")).await,
        404,
        "not_found",
    )
    .await;
}
