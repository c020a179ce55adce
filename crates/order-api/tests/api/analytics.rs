//! The metrics job and `GET /api/v1/admin/analytics` over real orders.

use order_domain::actor::Role;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::helpers::*;

#[tokio::test]
async fn the_metrics_job_stores_figures_that_admins_read_per_tenant() {
    let app = spawn_app().await;
    // Two paid orders (one then refunded), one cancelled, one still reserved: 2 tickets each,
    // 23 370 each (the worked example).
    let mut paid = Vec::new();
    for n in 1..=2 {
        let order = app.new_order(n, 2).await;
        app.pay(&order).await;
        assert_eq!(app.confirm(&order).await.status(), 200);
        paid.push(order);
    }
    let refund = app
        .post(
            &customer(2),
            &format!(
                "/api/v1/orders/{}/refund",
                paid[1]["id"].as_str().expect("id")
            ),
            &json!({ "reason": "cannot come" }),
        )
        .await;
    assert_eq!(refund.status(), 200);
    let cancelled = app.new_order(3, 2).await;
    let cancel = app
        .post(
            &customer(3),
            &format!(
                "/api/v1/orders/{}/cancel",
                cancelled["id"].as_str().expect("id")
            ),
            &json!({ "reason": "changed my mind" }),
        )
        .await;
    assert_eq!(cancel.status(), 200);
    app.new_order(4, 2).await;

    let (refreshed, failed) = app
        .service
        .aggregate_metrics(Duration::days(30))
        .await
        .expect("job");
    assert_eq!((refreshed, failed.len()), (1, 0));

    let analytics: Value = app
        .get(&admin(), "/api/v1/admin/analytics")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(analytics["totalOrders"], 4);
    assert_eq!(analytics["statusBreakdown"]["CONFIRMED"], 1);
    assert_eq!(analytics["statusBreakdown"]["REFUNDED"], 1);
    assert_eq!(analytics["statusBreakdown"]["CANCELLED"], 1);
    assert_eq!(analytics["statusBreakdown"]["RESERVED"], 1);
    assert_eq!(analytics["statusBreakdown"]["SHIPPED"], 0);
    assert_eq!(
        analytics["conversion"],
        json!({ "reserved": 4, "confirmed": 2, "rateBps": 5000 })
    );
    assert_eq!(
        analytics["revenueByCurrency"],
        json!([{
            "currency": "USD",
            "paidOrders": 2,
            "gross": 46740,
            "refunded": 22840,
            "net": 23900,
            "averageOrderValue": 23370
        }])
    );
    assert_eq!(analytics["cancellationRateBps"], 2500);
    assert_eq!(analytics["refundRateBps"], 5000);
    assert_eq!(analytics["topEvents"][0]["eventId"], EVENT.to_string());
    assert_eq!(analytics["topEvents"][0]["revenue"], 23900);
    // Both paid today (UTC): one day, gross of both, the refund left to its own figures.
    let today = OffsetDateTime::now_utc().date().to_string();
    assert_eq!(
        analytics["revenueByDay"],
        json!([{ "day": today, "currency": "USD", "paidOrders": 2, "gross": 46740 }])
    );

    let forbidden = app.get(&customer(1), "/api/v1/admin/analytics").await;
    assert_problem(forbidden, 403, "forbidden").await;

    // Another tenant's admin sees only their own (empty) figures, computed on demand.
    let other_admin = token_with(
        tenant_b(),
        user(998),
        &[Role::Admin],
        OffsetDateTime::now_utc() + Duration::hours(1),
    );
    let other: Value = app
        .get(&other_admin, "/api/v1/admin/analytics")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(other["totalOrders"], 0);
    assert_eq!(other["revenueByCurrency"], json!([]));
}
