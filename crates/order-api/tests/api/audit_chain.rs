//! The tamper-evident audit (docs/audit.md): every entry chained to the one before it in its
//! order, daily anchors over the chains; the database owner's changes behind the service's back
//! are each reported at the first link they break, by the API and by `order-api audit verify`.

use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::cli::order_api;
use crate::helpers::*;

fn id_of(order: &Value) -> Uuid {
    order["id"].as_str().expect("id").parse().expect("uuid")
}

/// A confirmed order cancelled by its buyer: four entries in its chain.
async fn order_with_history(app: &TestApp, n: u128) -> Uuid {
    let order = app.confirmed_order(n, 1).await;
    let id = id_of(&order);
    let cancelled = app
        .post(
            &customer(n),
            &format!("/api/v1/orders/{id}/cancel"),
            &json!({ "reason": "plans changed" }),
        )
        .await;
    assert_eq!(cancelled.status(), 200, "{:?}", cancelled.text().await);
    id
}

async fn verify_order(app: &TestApp, id: Uuid) -> Value {
    let response = app
        .get(
            &admin(),
            &format!("/api/v1/admin/audit/verify?orderId={id}"),
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

async fn entries(app: &TestApp, id: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM order_events WHERE order_id = $1")
        .bind(id)
        .fetch_one(&app.owner)
        .await
        .expect("count")
}

fn first_break(report: &Value) -> (&str, i64) {
    let found = &report["firstBreak"];
    (
        found["problem"].as_str().expect("a break"),
        found["seq"].as_i64().unwrap_or(0),
    )
}

#[tokio::test]
async fn an_untouched_chain_verifies_and_every_change_behind_the_service_is_reported() {
    let app = spawn_app().await;
    let [changed, deleted, reordered, untouched] = [
        order_with_history(&app, 1).await,
        order_with_history(&app, 2).await,
        order_with_history(&app, 3).await,
        order_with_history(&app, 4).await,
    ];
    assert!(entries(&app, untouched).await >= 4, "a chain worth testing");
    for id in [changed, deleted, reordered, untouched] {
        let report = verify_order(&app, id).await;
        assert_eq!(report["intact"], true, "{report}");
        assert_eq!(report["ordersChecked"], 1);
    }

    // A column of the second entry rewritten.
    sqlx::query(
        "UPDATE order_events SET metadata = metadata || '{\"total\": 1}' WHERE order_id = $1 AND seq = 2",
    )
    .bind(changed)
    .execute(&app.owner)
    .await
    .expect("tamper");
    let report = verify_order(&app, changed).await;
    assert_eq!(report["intact"], false);
    assert_eq!(first_break(&report), ("entry_changed", 2), "{report}");

    // The second entry deleted: the third's place follows nothing.
    sqlx::query("DELETE FROM order_events WHERE order_id = $1 AND seq = 2")
        .bind(deleted)
        .execute(&app.owner)
        .await
        .expect("tamper");
    assert_eq!(
        first_break(&verify_order(&app, deleted).await),
        ("entry_missing", 3)
    );

    // The first two entries swapped, places and all.
    for (from, to) in [(1, -1), (2, 1), (-1, 2)] {
        sqlx::query("UPDATE order_events SET seq = $3 WHERE order_id = $1 AND seq = $2")
            .bind(reordered)
            .bind(from)
            .bind(to)
            .execute(&app.owner)
            .await
            .expect("tamper");
    }
    assert_eq!(
        first_break(&verify_order(&app, reordered).await),
        ("link_broken", 1)
    );

    // Untouched chains still verify, and the command line agrees with the API.
    assert_eq!(verify_order(&app, untouched).await["intact"], true);
    let cli = |order: Uuid| {
        order_api()
            .env("DATABASE_URL", &app.database_url)
            .env(
                "REDIS_URL",
                std::env::var("TEST_REDIS_URL")
                    .unwrap_or_else(|_| "redis://127.0.0.1:56379".into()),
            )
            .args(["audit", "verify", "--tenant", &tenant_a().to_string()])
            .args(["--order", &order.to_string()])
            .output()
            .expect("runs")
    };
    let intact = cli(untouched);
    assert!(
        intact.status.success(),
        "{}",
        String::from_utf8_lossy(&intact.stderr)
    );
    let broken = cli(changed);
    assert_eq!(broken.status.code(), Some(1));
    let printed: Value = serde_json::from_slice(&broken.stdout).expect("a JSON report");
    assert_eq!(first_break(&printed), ("entry_changed", 2));
}

#[tokio::test]
async fn an_order_deleted_outright_no_longer_adds_up_to_its_days_anchor() {
    let app = spawn_app().await;
    let kept = order_with_history(&app, 1).await;
    let removed = id_of(&app.new_order(2, 1).await);
    let today = OffsetDateTime::now_utc().date();
    let range = format!(
        "/api/v1/admin/audit/verify?from={}T00:00:00Z&to={}T00:00:00Z",
        today,
        today.next_day().expect("tomorrow")
    );
    // Nothing is anchored before the day has ended (and its grace hour passed).
    assert_eq!(app.service.anchor_audit_days().await.expect("anchors"), 0);
    app.clock.advance(Duration::days(1) + Duration::hours(2));
    assert_eq!(app.service.anchor_audit_days().await.expect("anchors"), 1);
    assert_eq!(
        app.service.anchor_audit_days().await.expect("anchors"),
        0,
        "once"
    );

    let report: Value = app.get(&admin(), &range).await.json().await.expect("json");
    assert_eq!(report["intact"], true, "{report}");
    assert_eq!(report["ordersChecked"], 2);
    assert_eq!(report["anchorsChecked"], 1);
    let anchors: Value = app
        .get(
            &admin(),
            &format!("/api/v1/admin/audit/anchors?from={today}&to={today}"),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(anchors["anchors"][0]["orders"], 2, "{anchors}");
    assert_eq!(
        anchors["anchors"][0]["anchor"].as_str().map(str::len),
        Some(64)
    );

    let removed_entries = entries(&app, removed).await;
    sqlx::query("DELETE FROM orders WHERE id = $1")
        .bind(removed)
        .execute(&app.owner)
        .await
        .expect("the owner deletes an order");
    let report: Value = app.get(&admin(), &range).await.json().await.expect("json");
    let found = &report["firstBreak"];
    assert_eq!(found["problem"], "entries_changed_since_anchor", "{report}");
    assert_eq!(found["day"], today.to_string());
    assert_eq!(found["anchoredOrders"], 2);
    assert_eq!(found["foundOrders"], 1);
    assert_eq!(
        found["anchoredEntries"].as_i64().expect("count")
            - found["foundEntries"].as_i64().expect("count"),
        removed_entries
    );
    assert_eq!(verify_order(&app, kept).await["intact"], true);
}

#[tokio::test]
async fn audit_checks_are_for_admins_and_refuse_what_they_cannot_check() {
    let app = spawn_app().await;
    let order = id_of(&app.new_order(1, 1).await);
    let verify = "/api/v1/admin/audit/verify";
    assert_problem(
        app.get(&customer(1), &format!("{verify}?orderId={order}"))
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get(&admin(), &format!("{verify}?orderId={}", Uuid::now_v7()))
            .await,
        404,
        "not_found",
    )
    .await;
    for query in [
        String::new(),
        format!("?orderId={order}&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z"),
        "?from=2026-01-01T00:00:00Z".into(),
        "?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z".into(),
        "?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z".into(),
    ] {
        assert_problem(
            app.get(&admin(), &format!("{verify}{query}")).await,
            422,
            "validation_failed",
        )
        .await;
    }
    let malformed = app.get(&admin(), &format!("{verify}?orderId=nope")).await;
    assert!(
        malformed.status().is_client_error(),
        "{}",
        malformed.status()
    );
    for query in [
        "?from=yesterday&to=2026-01-01",
        "?from=2026-01-01&to=2026-03-01",
    ] {
        assert_problem(
            app.get(&admin(), &format!("/api/v1/admin/audit/anchors{query}"))
                .await,
            422,
            "validation_failed",
        )
        .await;
    }
}
