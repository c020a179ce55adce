//! The whole life of a ticket order through HTTP.

use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::helpers::*;

#[tokio::test]
async fn the_fee_worked_example_comes_out_of_a_seeded_price_of_10000_times_2() {
    let app = spawn_app().await;
    let order = app.new_order(1, 2).await;
    assert_eq!(order["status"], "RESERVED");
    assert_eq!(order["currency"], "USD");
    assert_eq!(
        order["pricing"],
        json!({ "subtotal": 20000, "discount": 0, "platformFee": 1000, "processingFee": 639, "shipping": 0, "tax": 1731, "total": 23370 })
    );
    assert!(
        order["paymentIntentId"]
            .as_str()
            .is_some_and(|p| p.starts_with("pi_"))
    );
    assert!(order["reservationExpiresAt"].is_string());
    assert!(
        order["orderNumber"]
            .as_str()
            .is_some_and(|n| n.starts_with("ORD-"))
    );
    let state = app.simulator_state().await;
    assert_eq!(state["availability"][0]["held"], 2);
}

#[tokio::test]
async fn create_reserve_confirm_refund_is_recorded_step_by_step() {
    let app = spawn_app().await;
    let order = app.new_order(1, 2).await;
    let id = order["id"].as_str().expect("id").to_owned();

    let reserved = app
        .post(
            &customer(1),
            &format!("/api/v1/orders/{id}/reserve"),
            &json!({}),
        )
        .await;
    assert_eq!(reserved.status(), 200);
    let reserved: Value = reserved.json().await.expect("json");
    assert_eq!(reserved["status"], "RESERVED");

    app.pay(&order).await;
    let confirmed = app.confirm(&order).await;
    assert_eq!(confirmed.status(), 200);
    let confirmed: Value = confirmed.json().await.expect("json");
    assert_eq!(confirmed["status"], "CONFIRMED");
    assert_eq!(confirmed["ticketIds"].as_array().map(Vec::len), Some(2));

    let refund = app
        .post(
            &customer(1),
            &format!("/api/v1/orders/{id}/refund"),
            &json!({ "reason": "cannot come" }),
        )
        .await;
    assert_eq!(refund.status(), 200);
    let refund: Value = refund.json().await.expect("json");
    // 23 370 − (2.5 % of 20 000 + 30) = 22 840, below the auto-approval threshold: paid at once.
    assert_eq!(refund["amount"], 22840);
    assert_eq!(refund["status"], "COMPLETED");

    let stored: Value = app
        .get(&customer(1), &format!("/api/v1/orders/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(stored["status"], "REFUNDED");
    assert_eq!(stored["refundedAmount"], 22840);

    let history: Value = app
        .get(&customer(1), &format!("/api/v1/orders/{id}/events"))
        .await
        .json()
        .await
        .expect("json");
    let types: Vec<&str> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["eventType"].as_str())
        .collect();
    assert_eq!(
        types,
        [
            "ORDER_CREATED",
            "ORDER_RESERVED",
            "ORDER_RESERVED",
            "ORDER_CONFIRMED",
            "TICKETS_ALLOCATED",
            "REFUND_REQUESTED",
            "REFUND_APPROVED",
            "REFUND_COMPLETED",
            "ORDER_REFUNDED"
        ]
    );
    assert_eq!(history["events"][0]["ipAddress"], "127.0.0.1");
}

#[tokio::test]
async fn cancelling_an_unpaid_order_releases_its_tickets() {
    let app = spawn_app().await;
    let order = app.new_order(1, 3).await;
    let id = order["id"].as_str().expect("id");
    let cancelled = app
        .post(
            &customer(1),
            &format!("/api/v1/orders/{id}/cancel"),
            &json!({ "reason": "changed my mind" }),
        )
        .await;
    assert_eq!(cancelled.status(), 200);
    let body: Value = cancelled.json().await.expect("json");
    assert_eq!(
        (body["status"].as_str(), body["refundStatus"].as_str()),
        (Some("CANCELLED"), Some("NONE"))
    );
    assert_eq!(app.simulator_state().await["availability"][0]["held"], 0);
}

#[tokio::test]
async fn large_refunds_wait_for_an_admin_who_approves_or_rejects_them() {
    let mut setup = Setup::default();
    setup.domain.refund.auto_approve_below = 1_000;
    let app = spawn_with(setup).await;
    let order = app.new_order(1, 1).await;
    let id = order["id"].as_str().expect("id");
    app.pay(&order).await;
    assert_eq!(app.confirm(&order).await.status(), 200);
    let refund: Value = app
        .post(
            &customer(1),
            &format!("/api/v1/orders/{id}/refund"),
            &json!({ "amount": 5000 }),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(refund["status"], "PENDING");
    let queue: Value = app
        .get(&admin(), "/api/v1/admin/refunds?status=PENDING")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(queue["refunds"].as_array().map(Vec::len), Some(1));
    let refund_id = refund["refundId"].as_str().expect("refund id");

    let forbidden = app
        .post(
            &customer(1),
            &format!("/api/v1/admin/refunds/{refund_id}/approve"),
            &json!({}),
        )
        .await;
    assert_problem(forbidden, 403, "forbidden").await;
    let approved = app
        .post(
            &admin(),
            &format!("/api/v1/admin/refunds/{refund_id}/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(approved.status(), 200);
    let approved: Value = approved.json().await.expect("json");
    assert_eq!(approved["refund"]["status"], "COMPLETED");

    let second: Value = app
        .post(
            &customer(1),
            &format!("/api/v1/orders/{id}/refund"),
            &json!({ "amount": 2000 }),
        )
        .await
        .json()
        .await
        .expect("json");
    let second_id = second["refundId"].as_str().expect("refund id");
    let rejected = app
        .post(
            &admin(),
            &format!("/api/v1/admin/refunds/{second_id}/reject"),
            &json!({ "reason": "duplicate" }),
        )
        .await;
    let rejected: Value = rejected.json().await.expect("json");
    assert_eq!(rejected["refund"]["status"], "REJECTED");
}

#[tokio::test]
async fn orders_are_listed_with_filters_and_pagination() {
    let app = spawn_app().await;
    for _ in 0..3 {
        app.new_order(1, 1).await;
    }
    app.new_order(2, 1).await;
    let page: Value = app
        .get(&customer(1), "/api/v1/orders?limit=2&status=RESERVED")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(page["orders"].as_array().map(Vec::len), Some(2));
    let cursor = page["pagination"]["nextCursor"]
        .as_str()
        .expect("a cursor while more follow")
        .to_owned();
    assert_eq!(
        page["pagination"],
        json!({ "total": 3, "totalIsEstimate": false, "limit": 2, "offset": 0, "hasMore": true,
                "nextCursor": cursor })
    );
    let rest: Value = app
        .get(
            &customer(1),
            &format!("/api/v1/orders?limit=2&status=RESERVED&cursor={cursor}"),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(rest["orders"].as_array().map(Vec::len), Some(1));
    assert_eq!(rest["pagination"]["hasMore"], false);
    assert_eq!(rest["pagination"]["nextCursor"], Value::Null);
    let mut ids: Vec<&Value> = page["orders"]
        .as_array()
        .into_iter()
        .chain(rest["orders"].as_array())
        .flatten()
        .map(|o| &o["id"])
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 3, "the cursor continues where the page ended");
    let both = app
        .get(
            &customer(1),
            &format!("/api/v1/orders?offset=1&cursor={cursor}"),
        )
        .await;
    assert_problem(both, 422, "validation_failed").await;
    let bad = app
        .get(&customer(1), "/api/v1/orders?cursor=nonsense")
        .await;
    let problem = assert_problem(bad, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["path"], "query.cursor");
    let all: Value = app
        .get(&admin(), &format!("/api/v1/orders?eventId={EVENT}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(all["pagination"]["total"], 4);
    let none: Value = app
        .get(&customer(1), "/api/v1/orders?status=CONFIRMED")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(none["pagination"]["total"], 0);
}

#[tokio::test]
async fn admins_search_the_tenant_by_buyer_and_order_number_and_buyers_may_not() {
    let app = spawn_app().await;
    let first = app.new_order(1, 1).await;
    app.new_order(1, 1).await;
    app.new_order(2, 1).await;
    let by_buyer: Value = app
        .get(
            &admin(),
            &format!("/api/v1/admin/orders?userId={}", user(1)),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(by_buyer["pagination"]["total"], 2);
    let number = first["orderNumber"].as_str().expect("number");
    let by_number: Value = app
        .get(
            &admin(),
            &format!("/api/v1/admin/orders?orderNumber={number}"),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(by_number["orders"][0]["id"], first["id"]);
    assert_eq!(by_number["pagination"]["total"], 1);
    assert_problem(
        app.get(&customer(1), "/api/v1/admin/orders").await,
        403,
        "forbidden",
    )
    .await;
    let snooping = app
        .get(&customer(1), &format!("/api/v1/orders?userId={}", user(2)))
        .await;
    let problem = assert_problem(snooping, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["code"], "admin_only");
}

#[tokio::test]
async fn admins_find_orders_by_contact_e_mail_in_any_case_and_the_address_is_never_stored_in_clear()
{
    let app = spawn_app().await;
    let first = app.new_order(1, 1).await;
    let second = app.new_order(1, 1).await;
    app.new_order(2, 1).await;
    // The tokens carry `<user id without dashes>@example.com`.
    let address = format!("{}@EXAMPLE.com", user(1).as_uuid().simple()).to_uppercase();
    let found: Value = app
        .get(
            &admin(),
            &format!("/api/v1/admin/orders?email={}", address.replace('@', "%40")),
        )
        .await
        .json()
        .await
        .expect("json");
    let ids: Vec<&Value> = found["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .map(|o| &o["id"])
        .collect();
    assert_eq!(ids, [&second["id"], &first["id"]]);
    let stranger: Value = app
        .get(&admin(), "/api/v1/admin/orders?email=nobody%40example.com")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(stranger["pagination"]["total"], 0);
    let raw: String = sqlx::query_scalar("SELECT string_agg(to_jsonb(o)::text, '') FROM orders o")
        .fetch_one(&app.owner)
        .await
        .expect("rows");
    assert!(
        !raw.to_lowercase().contains("example.com"),
        "no address is stored in clear"
    );

    let malformed = app
        .get(&admin(), "/api/v1/admin/orders?email=not-an-address")
        .await;
    let problem = assert_problem(malformed, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["path"], "query.email");
    let snooping = app
        .get(&customer(1), "/api/v1/orders?email=someone%40example.com")
        .await;
    let problem = assert_problem(snooping, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["code"], "admin_only");
}

#[tokio::test]
async fn internal_routes_expire_list_and_bulk_cancel() {
    let mut setup = Setup::default();
    setup.domain.reservation.ticket_hold = time::Duration::seconds(1);
    let app = spawn_with(setup).await;
    let paid = app.new_order(1, 1).await;
    app.pay(&paid).await;
    assert_eq!(app.confirm(&paid).await.status(), 200);
    let unpaid = app.new_order(2, 1).await;

    let expiring: Value = app
        .client
        .get(app.url("/internal/v1/orders/expiring?minutes=5&limit=10"))
        .header("authorization", format!("Service-Key {SERVICE_KEY}"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(expiring["orders"].as_array().map(Vec::len), Some(1));
    assert_eq!(expiring["orders"][0]["id"], unpaid["id"]);

    let (status, bulk) = bulk_cancel(&app).await;
    assert_eq!(status, 200, "{bulk}");
    assert_eq!(
        (
            bulk["results"]["total"].as_u64(),
            bulk["results"]["succeeded"].as_u64()
        ),
        (Some(2), Some(2))
    );
    let refunded: Value = app
        .get(
            &customer(1),
            &format!("/api/v1/orders/{}", paid["id"].as_str().expect("id")),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(refunded["status"], "CANCELLED");
    assert_eq!(
        refunded["refundedAmount"], paid["pricing"]["total"],
        "a cancelled event refunds everything"
    );
}

#[tokio::test]
async fn an_event_cancelled_while_its_details_are_cached_sells_nothing_more() {
    let app = spawn_app().await;
    app.new_order(1, 1).await;
    // The organiser cancels the event; the API still has it cached as on sale.
    let mut catalog = app.simulator_state().await["catalog"].clone();
    catalog["events"][0]["status"] = json!("CANCELLED");
    let seeded = app
        .client
        .put(format!("{}/_admin/seed", app.simulator))
        .json(&catalog)
        .send()
        .await
        .expect("simulator");
    assert!(seeded.status().is_success());
    let refused = app.create_order(&customer(2), &order_body(1)).await;
    let problem = assert_problem(refused, 422, "validation_failed").await;
    assert_eq!(
        (&problem["errors"][0]["path"], &problem["errors"][0]["code"]),
        (&json!("eventId"), &json!("not_on_sale"))
    );
    let state = app.simulator_state().await;
    assert_eq!(state["availability"][0]["held"], 0, "nothing held");
    assert_eq!(
        state["payments"].as_array().map(Vec::len),
        Some(0),
        "no intent"
    );
}

/// Creates an order with `X-Forwarded-For: 203.0.113.7, 10.0.0.2` and answers the address its
/// audit trail recorded.
async fn audited_address_behind_a_proxy(trusted_proxies: &'static str) -> Value {
    let app = spawn_with(Setup {
        trusted_proxies,
        ..Setup::default()
    })
    .await;
    let created: Value = app
        .client
        .post(app.url("/api/v1/orders"))
        .bearer_auth(customer(1))
        .header("x-forwarded-for", "203.0.113.7, 10.0.0.2")
        .json(&order_body(1))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let id = created["id"].as_str().expect("id");
    let history: Value = app
        .get(&customer(1), &format!("/api/v1/orders/{id}/events"))
        .await
        .json()
        .await
        .expect("json");
    history["events"][0]["ipAddress"].clone()
}

#[tokio::test]
async fn the_audit_believes_x_forwarded_for_only_from_a_trusted_proxy() {
    assert_eq!(
        audited_address_behind_a_proxy("").await,
        "127.0.0.1",
        "anyone can write the header"
    );
    assert_eq!(
        audited_address_behind_a_proxy("127.0.0.1, 10.0.0.0/8").await,
        "203.0.113.7"
    );
}

impl TestApp {
    /// Asks for the bulk cancellation of [`EVENT`]; answers the job's id (asserting 202).
    pub(crate) async fn request_bulk_cancel(&self) -> String {
        let answer = self
            .internal(
                "/internal/v1/orders/bulk/cancel",
                Some(tenant_a()),
                &json!({ "eventId": EVENT, "reason": "storm" }),
            )
            .await;
        assert_eq!(answer.status(), 202);
        let location = answer
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .expect("location");
        let job: Value = answer.json().await.expect("json");
        let id = job["id"].as_str().expect("id").to_owned();
        assert_eq!(location, format!("/internal/v1/jobs/{id}"));
        id
    }

    /// Runs the bulk jobs as the background runner does, with `runner`; answers the orders tried.
    pub(crate) async fn run_bulk_jobs(&self, runner: order_domain::use_cases::BulkRunner) -> u32 {
        self.service
            .run_bulk_jobs(runner, &order_api::jobs::describe_failure)
            .await
            .expect("the runner works")
    }

    /// The job's report: its status and body.
    pub(crate) async fn bulk_job(&self, id: &str) -> (u16, Value) {
        let answer = self
            .client
            .get(self.url(&format!("/internal/v1/jobs/{id}")))
            .header("authorization", format!("Service-Key {SERVICE_KEY}"))
            .header("x-tenant-id", tenant_a().to_string())
            .send()
            .await
            .expect("request");
        let status = answer.status().as_u16();
        (status, answer.json().await.expect("json"))
    }
}

/// Asks for the bulk cancellation of [`EVENT`], runs the job to its end and answers its report.
async fn bulk_cancel(app: &TestApp) -> (u16, Value) {
    let id = app.request_bulk_cancel().await;
    app.run_bulk_jobs(order_domain::use_cases::BulkRunner::default())
        .await;
    app.bulk_job(&id).await
}

#[tokio::test]
/// (200, every order cancelled, is `internal_routes_expire_list_and_bulk_cancel`.)
async fn a_bulk_job_reports_207_when_some_orders_fail_and_runs_once_however_often_it_is_asked() {
    let app = spawn_app().await;
    let paid = app.new_order(1, 1).await;
    app.pay(&paid).await;
    assert_eq!(app.confirm(&paid).await.status(), 200);
    let unpaid = app.new_order(2, 1).await;
    // The event service is down: a paid order's refund terms need the event's start, an unpaid
    // order needs nothing from it.
    app.set_faults(json!({"events": {"errorPercent": 100}}))
        .await;

    let id = app.request_bulk_cancel().await;
    let (status, running) = app.bulk_job(&id).await;
    assert_eq!(status, 202, "running until a runner works it: {running}");
    assert_eq!(running["status"], "RUNNING");
    app.run_bulk_jobs(order_domain::use_cases::BulkRunner::default())
        .await;
    let (status, partial) = app.bulk_job(&id).await;
    assert_eq!(status, 207, "{partial}");
    let results = &partial["results"];
    assert_eq!(
        (&results["total"], &results["succeeded"], &results["failed"]),
        (&json!(2), &json!(1), &json!(1))
    );
    assert_eq!(results["errors"][0]["orderId"], paid["id"]);
    assert_eq!(results["errors"][0]["status"], 503);
    let status_of = |order: &Value| {
        let path = format!("/api/v1/orders/{}", order["id"].as_str().expect("id"));
        let app = &app;
        async move {
            let stored: Value = app.get(&admin(), &path).await.json().await.expect("json");
            stored["status"].clone()
        }
    };
    assert_eq!(status_of(&unpaid).await, "CANCELLED");
    assert_eq!(
        status_of(&paid).await,
        "CONFIRMED",
        "a failed cancel leaves nothing half-done"
    );

    // Asked again: the same job, nothing tried again.
    assert_eq!(app.request_bulk_cancel().await, id);
    assert_eq!(
        app.run_bulk_jobs(order_domain::use_cases::BulkRunner::default())
            .await,
        0
    );
    assert_eq!(app.bulk_job(&id).await.1["results"], partial["results"]);
}

#[tokio::test]
async fn a_bulk_job_pages_past_failures_and_reports_500_when_nothing_could_be_cancelled() {
    let app = spawn_app().await;
    let mut paid = Vec::new();
    for n in 0..5 {
        paid.push(app.confirmed_order(20 + n, 1).await);
    }
    app.set_faults(json!({"events": {"errorPercent": 100}}))
        .await;
    let id = app.request_bulk_cancel().await;
    // Pages of two: the failures at the head of each page never hide the orders after them.
    let runner = order_domain::use_cases::BulkRunner {
        page: 2,
        ..order_domain::use_cases::BulkRunner::default()
    };
    assert_eq!(app.run_bulk_jobs(runner).await, 5);
    let (status, none) = app.bulk_job(&id).await;
    assert_eq!(status, 500, "{none}");
    assert_eq!(
        (
            &none["results"]["total"],
            &none["results"]["succeeded"],
            &none["results"]["failed"]
        ),
        (&json!(5), &json!(0), &json!(5))
    );
}

#[tokio::test]
async fn a_bulk_job_whose_runner_died_is_resumed_and_counts_the_order_it_was_cancelling() {
    use order_domain::ports::BulkJobs;

    let app = spawn_app().await;
    let orders: Vec<Value> =
        futures_util::future::join_all((0..3).map(|n| app.new_order(30 + n, 1))).await;
    let id = app.request_bulk_cancel().await;

    // A runner leases the job, starts cancelling the first order in id order and dies after
    // the order's cancellation committed but before it saved the outcome.
    let now = time::OffsetDateTime::now_utc();
    let leased = app
        .store
        .lease(now, now + time::Duration::hours(1))
        .await
        .expect("lease")
        .expect("the job is due");
    assert_eq!(
        app.run_bulk_jobs(order_domain::use_cases::BulkRunner::default())
            .await,
        0,
        "leased to the other runner"
    );
    let mut ids: Vec<&str> = orders
        .iter()
        .map(|o| o["id"].as_str().expect("id"))
        .collect();
    ids.sort_unstable();
    let first = order_domain::ids::OrderId::from_uuid(ids[0].parse().expect("uuid"));
    let mut job = leased.job.clone();
    job.trying(first, now);
    assert!(app.store.save(&job, leased.token, now).await.expect("save"));
    let cancelled = app
        .post(
            &admin(),
            &format!("/api/v1/orders/{}/cancel", ids[0]),
            &json!({ "reason": "storm" }),
        )
        .await;
    assert_eq!(cancelled.status(), 200);

    // Its lease has run out: the next runner resumes where it was.
    assert_eq!(
        app.run_bulk_jobs(order_domain::use_cases::BulkRunner::default())
            .await,
        2
    );
    let (status, done) = app.bulk_job(&id).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(
        (&done["results"]["total"], &done["results"]["succeeded"]),
        (&json!(3), &json!(3)),
        "the order in hand counts once"
    );
}

#[tokio::test]
async fn metadata_given_at_creation_is_stored_and_returned() {
    let app = spawn_app().await;
    let mut body = order_body(1);
    body["metadata"] = json!({ "source": "mobile", "campaign": { "id": 7 } });
    let created = app.create_order(&customer(1), &body).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("json");
    assert_eq!(created["metadata"], body["metadata"]);
    let id = created["id"].as_str().expect("id");
    let stored: Value = app
        .get(&customer(1), &format!("/api/v1/orders/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(stored["metadata"], body["metadata"]);
    // Without metadata: an empty object.
    assert_eq!(app.new_order(2, 1).await["metadata"], json!({}));
}

#[tokio::test]
async fn metadata_must_be_an_object_of_bounded_size() {
    let app = spawn_app().await;
    for (metadata, code) in [
        (json!(["mobile"]), "invalid"),
        (json!({ "note": "x".repeat(5_000) }), "too_large"),
    ] {
        let mut body = order_body(1);
        body["metadata"] = metadata;
        let refused = app.create_order(&customer(1), &body).await;
        let problem = assert_problem(refused, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["path"], "metadata");
        assert_eq!(problem["errors"][0]["code"], code);
    }
    let orders: Value = app
        .get(&customer(1), "/api/v1/orders")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(orders["orders"], json!([]), "nothing was created");
}

#[tokio::test]
async fn a_running_reservation_expires_only_when_an_operator_forces_it_with_a_reason() {
    let app = spawn_app().await;
    let order = app.new_order(1, 1).await;
    let id = order["id"].as_str().expect("id");
    let path = format!("/internal/v1/orders/{id}/expire");
    let early = app
        .internal(&path, Some(tenant_a()), &json!({ "reason": "scheduler" }))
        .await;
    assert_problem(early, 409, "not_yet_expired").await;
    let unexplained = app
        .internal(&path, Some(tenant_a()), &json!({ "force": true }))
        .await;
    let problem = assert_problem(unexplained, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["path"], "reason");

    let forced = app
        .internal(
            &path,
            Some(tenant_a()),
            &json!({ "force": true, "reason": "fraud review" }),
        )
        .await;
    assert_eq!(forced.status(), 200);
    let history: Value = app
        .get(&customer(1), &format!("/api/v1/orders/{id}/events"))
        .await
        .json()
        .await
        .expect("json");
    let expired = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["eventType"] == "RESERVATION_EXPIRED")
        .expect("expired");
    assert_eq!(expired["metadata"]["forcedReason"], "fraud review");
    assert_eq!(expired["actor"]["type"], "service");
}

#[tokio::test]
async fn an_admin_retries_a_failed_refund_and_it_is_paid_once() {
    let app = spawn_app().await;
    let (order, refund) = order_with_failed_refund(&app).await;
    let id = order["id"].as_str().expect("id");
    let refund_id = refund["refundId"].as_str().expect("refund id");
    let retry_path = format!("/api/v1/admin/refunds/{refund_id}/retry");
    assert_problem(
        app.post(&customer(1), &retry_path, &json!({})).await,
        403,
        "forbidden",
    )
    .await;

    let retried = app.post(&admin(), &retry_path, &json!({})).await;
    assert_eq!(retried.status(), 200);
    let retried: Value = retried.json().await.expect("json");
    assert_eq!(retried["refund"]["status"], "COMPLETED", "{retried}");
    // Paid: nothing is left to retry.
    assert_problem(
        app.post(&admin(), &retry_path, &json!({})).await,
        409,
        "invalid_transition",
    )
    .await;
    let mut attempts = app.history_types(&customer(1), id).await;
    attempts.retain(|t| t.starts_with("REFUND_"));
    assert_eq!(
        attempts,
        [
            "REFUND_REQUESTED",
            "REFUND_APPROVED",
            "REFUND_FAILED",
            "REFUND_COMPLETED"
        ]
    );
    let state = app.simulator_state().await;
    let payment = state["payments"]
        .as_array()
        .expect("payments")
        .iter()
        .find(|p| p["id"] == order["paymentIntentId"])
        .expect("the order's payment");
    assert_eq!(
        payment["refunds"].as_array().map(Vec::len),
        Some(1),
        "paid out once"
    );
}

#[tokio::test]
async fn a_list_sums_up_what_the_matching_paid_orders_came_to() {
    let app = spawn_app().await;
    let first = app.new_order(1, 1).await;
    let second = app.new_order(1, 2).await;
    app.new_order(1, 1).await;
    app.new_order(2, 3).await;
    for order in [&first, &second] {
        assert_eq!(app.confirm(order).await.status(), 200);
    }
    let total = |order: &Value| order["pricing"]["total"].as_i64().expect("total");
    let spent = total(&first) + total(&second);
    let page: Value = app
        .get(&customer(1), "/api/v1/orders?limit=1")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        page["summary"],
        json!({ "totalOrders": 3, "totalSpent": spent, "averageOrderValue": (spent * 2 + 3) / 6,
                "currency": "USD" }),
        "the unpaid order counts but adds nothing; the other buyer's orders are not in it"
    );
    let paid: Value = app
        .get(&customer(1), "/api/v1/orders?status=CONFIRMED")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(paid["summary"]["totalOrders"], 2);
    assert_eq!(paid["summary"]["averageOrderValue"], (spent + 1) / 2);
    let none: Value = app
        .get(&customer(3), "/api/v1/orders")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        none["summary"],
        json!({ "totalOrders": 0, "totalSpent": 0, "averageOrderValue": 0, "currency": null })
    );
}

#[tokio::test]
async fn a_reservation_is_extended_three_times_at_most_and_never_past_twice_its_length() {
    let app = spawn_app().await;
    let order = app.new_order(70, 1).await;
    let id = order["id"].as_str().expect("id").to_owned();
    let created = OffsetDateTime::parse(
        order["createdAt"].as_str().expect("createdAt"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("time");
    let (buyer, path, empty) = (
        customer(70),
        format!("/api/v1/orders/{id}/reserve"),
        json!({}),
    );
    let reserve = || app.post(&buyer, &path, &empty);

    // A ticket order is held from its creation; three extensions.
    for _ in 0..3 {
        let held: Value = reserve().await.json().await.expect("json");
        let until = OffsetDateTime::parse(
            held["reservationExpiresAt"]
                .as_str()
                .expect("reservationExpiresAt"),
            &time::format_description::well_known::Rfc3339,
        )
        .expect("time");
        assert!(until <= created + Duration::minutes(30), "{held}");
    }
    let refused = assert_problem(reserve().await, 409, "hold_limit_reached").await;
    assert!(
        refused["detail"]
            .as_str()
            .is_some_and(|d| d.contains("extended 3 times of 3")),
        "{refused}"
    );
}

#[tokio::test]
async fn a_hold_that_reached_its_total_time_cannot_be_extended() {
    let mut setup = Setup::default();
    setup.domain.reservation.max_hold_multiple = 1;
    let app = spawn_with(setup).await;
    let order = app.new_order(71, 1).await;
    let id = order["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/orders/{id}/reserve");

    assert_eq!(
        order["status"], "RESERVED",
        "held from creation for 15 minutes"
    );
    let extended = app.post(&customer(71), &path, &json!({})).await;
    assert_problem(extended, 409, "hold_limit_reached").await;
}
