//! The operator console over HTTP: sign-in with the API's own tokens into a strict cookie, CSRF
//! on every form, the same authority as the API for what a page shows, security headers.

use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::{Client, Response};

use crate::helpers::*;
use crate::shop::warehouse;

const FORM: &str = "application/x-www-form-urlencoded";

fn browser() -> Client {
    Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

/// `name=value` of a `Set-Cookie` of `response`, with its attributes.
fn set_cookie(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

fn value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, v)| v.to_owned())
        .expect("a value")
}

/// Signs in with `token`; answers the sign-in's response and the cookies to send after it.
async fn sign_in(app: &TestApp, token: &str) -> (Response, String) {
    let client = browser();
    let form = client
        .get(app.url("/console/sign-in"))
        .send()
        .await
        .expect("sign-in page");
    assert_eq!(form.status(), 200);
    let csrf_cookie = set_cookie(&form, "order_console_csrf").expect("a CSRF cookie");
    let csrf = value(&csrf_cookie);
    let answer = client
        .post(app.url("/console/sign-in"))
        .header(COOKIE, format!("order_console_csrf={csrf}"))
        .header(CONTENT_TYPE, FORM)
        .body(
            serde_urlencoded::to_string([("token", token), ("csrf", csrf.as_str())]).expect("form"),
        )
        .send()
        .await
        .expect("sign in");
    let session = set_cookie(&answer, "order_console_session").map(|c| value(&c));
    let cookies = match session {
        Some(session) => format!("order_console_csrf={csrf}; order_console_session={session}"),
        None => format!("order_console_csrf={csrf}"),
    };
    (answer, cookies)
}

/// The CSRF value the console's forms repeat, from the cookies `sign_in` answered.
fn csrf_in(cookies: &str) -> String {
    cookies
        .split("; ")
        .find_map(|c| c.strip_prefix("order_console_csrf="))
        .expect("a CSRF cookie")
        .to_owned()
}

/// Posts a console form with `fields` and the session's `cookies`.
async fn submit(app: &TestApp, cookies: &str, path: &str, fields: &[(&str, &str)]) -> Response {
    browser()
        .post(app.url(path))
        .header(COOKIE, cookies)
        .header(CONTENT_TYPE, FORM)
        .body(serde_urlencoded::to_string(fields).expect("form"))
        .send()
        .await
        .expect("post")
}

async fn page(app: &TestApp, cookies: &str, path: &str) -> (u16, String) {
    let response = browser()
        .get(app.url(path))
        .header(COOKIE, cookies)
        .send()
        .await
        .expect("page");
    let status = response.status().as_u16();
    (status, response.text().await.expect("html"))
}

#[tokio::test]
async fn an_admin_signs_in_finds_an_order_by_number_and_reads_its_timeline() {
    let app = spawn_app().await;
    let order = app.new_order(1, 2).await;
    let number = order["orderNumber"].as_str().expect("number");
    let id = order["id"].as_str().expect("id");

    let signed_out = browser()
        .get(app.url("/console"))
        .send()
        .await
        .expect("console");
    assert_eq!(signed_out.status(), 303);
    assert_eq!(signed_out.headers()[LOCATION], "/console/sign-in");

    let (answer, cookies) = sign_in(&app, &admin()).await;
    assert_eq!(answer.status(), 303, "{:?}", answer.text().await);
    let session = set_cookie(&answer, "order_console_session").expect("a session cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/console", "Max-Age="] {
        assert!(session.contains(flag), "{flag} in {session}");
    }
    assert!(
        !session.contains("Secure"),
        "plain http on loopback: {session}"
    );

    let (status, html) = page(&app, &cookies, &format!("/console?orderNumber={number}")).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains(number) && html.contains(&format!("/console/orders/{id}")),
        "{html}"
    );
    assert!(html.contains("1 order(s)"), "{html}");

    let (status, html) = page(&app, &cookies, &format!("/console/orders/{id}")).await;
    assert_eq!(status, 200);
    for shown in [number, "ORDER_CREATED", "ORDER_RESERVED", "RESERVED"] {
        assert!(html.contains(shown), "{shown} on the order page");
    }
    let (status, _) = page(
        &app,
        &cookies,
        &format!("/console/orders/{}", uuid::Uuid::now_v7()),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_search_finds_orders_by_contact_e_mail_and_by_day_and_names_a_bad_field() {
    let app = spawn_app().await;
    let mine = app.new_order(1, 1).await;
    app.new_order(2, 1).await;
    let (_, cookies) = sign_in(&app, &admin()).await;
    let address = format!("{}%40Example.COM", user(1).as_uuid().simple());

    let (status, html) = page(&app, &cookies, &format!("/console?email={address}")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("1 order(s)"), "{html}");
    assert!(html.contains(mine["orderNumber"].as_str().expect("number")));

    let created = mine["createdAt"].as_str().expect("createdAt");
    let day = &created[..10];
    let (_, html) = page(&app, &cookies, &format!("/console?from={day}&to={day}")).await;
    assert!(
        html.contains("2 order(s)"),
        "the day `to` names is included: {html}"
    );
    let (_, html) = page(&app, &cookies, "/console?to=2000-01-01").await;
    assert!(html.contains("0 order(s)"), "{html}");

    let (status, html) = page(&app, &cookies, "/console?from=yesterday").await;
    assert_eq!(status, 422);
    assert!(html.contains("a date like"), "{html}");
    let (status, html) = page(&app, &cookies, "/console?email=nobody").await;
    assert_eq!(status, 422);
    assert!(html.contains("not an e-mail address"), "{html}");
}

#[tokio::test]
async fn buyers_are_refused_forms_need_their_csrf_token_and_pages_carry_the_security_headers() {
    let app = spawn_app().await;
    let (refused, _) = sign_in(&app, &customer(1)).await;
    assert_eq!(refused.status(), 403);
    assert!(set_cookie(&refused, "order_console_session").is_none());
    assert!(
        refused
            .text()
            .await
            .expect("html")
            .contains("admins and warehouse staff")
    );

    let (bad, _) = sign_in(&app, "not-a-token").await;
    assert_eq!(bad.status(), 401);

    // A sign-in posted from elsewhere carries no CSRF token.
    let forged = browser()
        .post(app.url("/console/sign-in"))
        .header(CONTENT_TYPE, FORM)
        .body(
            serde_urlencoded::to_string([("token", admin().as_str()), ("csrf", "guess")])
                .expect("form"),
        )
        .send()
        .await
        .expect("post");
    assert_eq!(forged.status(), 403);
    assert!(set_cookie(&forged, "order_console_session").is_none());

    let (_, cookies) = sign_in(&app, &admin()).await;
    let session_only = cookies
        .split("; ")
        .find(|c| c.starts_with("order_console_session="))
        .expect("session")
        .to_owned();
    let forged_out = browser()
        .post(app.url("/console/sign-out"))
        .header(COOKIE, &session_only)
        .header(CONTENT_TYPE, FORM)
        .body(serde_urlencoded::to_string([("csrf", "")]).expect("form"))
        .send()
        .await
        .expect("post");
    assert_eq!(forged_out.status(), 403);

    let response = browser()
        .get(app.url("/console"))
        .header(COOKIE, &cookies)
        .send()
        .await
        .expect("page");
    let headers = response.headers();
    let csp = headers["content-security-policy"].to_str().expect("csp");
    assert!(
        csp.contains("frame-ancestors 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-content-type-options"], "nosniff");

    // Signing out with the form's token ends the session.
    let csrf = csrf_in(&cookies);
    let out = submit(
        &app,
        &cookies,
        "/console/sign-out",
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(out.status(), 303);
    let cleared = set_cookie(&out, "order_console_session").expect("cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
}

#[tokio::test]
async fn warehouse_staff_sign_in_and_the_search_answers_as_the_api_would() {
    let app = spawn_app().await;
    let (answer, cookies) = sign_in(&app, &warehouse()).await;
    assert_eq!(answer.status(), 303);
    let api = app
        .get(&warehouse(), "/api/v1/admin/orders")
        .await
        .status()
        .as_u16();
    let (status, html) = page(&app, &cookies, "/console").await;
    assert_eq!(status, api, "one authority for both: {html}");
    if status == 403 {
        assert!(html.contains("Your role does not allow this."), "{html}");
    }
    assert!(!html.to_lowercase().contains("panicked"));
}

#[tokio::test]
async fn an_admin_approves_a_pending_refund_in_the_queue_and_the_timeline_shows_it_completed() {
    let mut setup = Setup::default();
    setup.domain.refund.auto_approve_below = 1_000;
    let app = spawn_with(setup).await;
    let order = app.confirmed_order(1, 1).await;
    let id = order["id"].as_str().expect("id");
    let refund: serde_json::Value = app
        .post(
            &customer(1),
            &format!("/api/v1/orders/{id}/refund"),
            &serde_json::json!({ "amount": 5000 }),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(refund["status"], "PENDING");
    let refund_id = refund["refundId"].as_str().expect("refund id");

    let (_, cookies) = sign_in(&app, &admin()).await;
    let (status, html) = page(&app, &cookies, "/console/refunds").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("/console/refunds/{refund_id}/approve")),
        "{html}"
    );
    let csrf = csrf_in(&cookies);

    // Without the form's token nothing is decided.
    let forged = browser()
        .post(app.url(&format!("/console/refunds/{refund_id}/approve")))
        .header(COOKIE, &cookies)
        .header(CONTENT_TYPE, FORM)
        .body("csrf=")
        .send()
        .await
        .expect("post");
    assert_eq!(forged.status(), 403);
    let (_, still) = page(&app, &cookies, "/console/refunds").await;
    assert!(still.contains(refund_id), "still pending");

    let approved = submit(
        &app,
        &cookies,
        &format!("/console/refunds/{refund_id}/approve"),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(approved.status(), 303);
    assert_eq!(
        approved.headers()[LOCATION],
        format!("/console/orders/{id}").as_str()
    );
    let (_, timeline) = page(&app, &cookies, &format!("/console/orders/{id}")).await;
    for shown in ["REFUND_APPROVED", "REFUND_COMPLETED"] {
        assert!(timeline.contains(shown), "{shown} in the timeline");
    }
    // The money trail beside it, as the API's ledger and documents read it.
    let ledger: serde_json::Value = app
        .get(&admin(), &format!("/api/v1/orders/{id}/ledger"))
        .await
        .json()
        .await
        .expect("json");
    let documents: serde_json::Value = app
        .get(&admin(), &format!("/api/v1/orders/{id}/documents"))
        .await
        .json()
        .await
        .expect("json");
    for section in [
        "<h2>Price</h2>",
        "<h2>Refunds</h2>",
        "<h2>Ledger</h2>",
        "<h2>Documents</h2>",
    ] {
        assert!(timeline.contains(section), "{section} on the order page");
    }
    for kind in ["PAYMENT_CAPTURED", "REFUND_PAID", "COMPLETED"] {
        assert!(timeline.contains(kind), "{kind} on the order page");
    }
    for document in documents["documents"].as_array().expect("documents") {
        let number = document["number"].as_str().expect("number");
        assert!(timeline.contains(number), "{number} on the order page");
    }
    assert!(
        ledger["entries"].as_array().is_some_and(|e| e.len() >= 2),
        "{ledger}"
    );
    // The decision is the operator's in the audit, as through the API.
    let history: serde_json::Value = app
        .get(&admin(), &format!("/api/v1/orders/{id}/events"))
        .await
        .json()
        .await
        .expect("json");
    let approval = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["eventType"] == "REFUND_APPROVED")
        .expect("approved");
    assert_eq!(approval["actor"]["id"], user(999).to_string());

    // Twice: the use case refuses, the page says so.
    let again = submit(
        &app,
        &cookies,
        &format!("/console/refunds/{refund_id}/approve"),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(again.status(), 409);
}

#[tokio::test]
async fn warehouse_staff_start_ship_and_deliver_a_paid_goods_order_from_the_queue() {
    let app = spawn_app().await;
    let id = app.paid_goods_order(&customer(3), 2).await;
    let (answer, cookies) = sign_in(&app, &warehouse()).await;
    assert_eq!(answer.status(), 303);
    let csrf = csrf_in(&cookies);
    let step = |path: String, fields: Vec<(&'static str, String)>| {
        let cookies = cookies.clone();
        let app_url = app.url(&path);
        async move {
            browser()
                .post(app_url)
                .header(COOKIE, cookies)
                .header(CONTENT_TYPE, FORM)
                .body(serde_urlencoded::to_string(fields).expect("form"))
                .send()
                .await
                .expect("post")
        }
    };

    let (status, html) = page(&app, &cookies, "/console/warehouse").await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains(&format!("/console/warehouse/{id}/start")),
        "{html}"
    );

    let started = step(
        format!("/console/warehouse/{id}/start"),
        vec![("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(started.status(), 200);
    let pick_list = started.text().await.expect("html");
    assert!(
        pick_list.contains("Pick list for") && pick_list.contains("T-shirt 2"),
        "{pick_list}"
    );

    let shipped = step(
        format!("/console/warehouse/{id}/ship"),
        vec![
            ("csrf", csrf.clone()),
            ("carrier", String::new()),
            ("trackingNumber", String::new()),
        ],
    )
    .await;
    assert_eq!(shipped.status(), 303);
    let delivered = step(
        format!("/console/warehouse/{id}/deliver"),
        vec![("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(delivered.status(), 303);

    let order: serde_json::Value = app
        .get(&admin(), &format!("/api/v1/orders/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(order["status"], "DELIVERED");
    assert!(
        order["shipment"]["trackingNumber"].is_string(),
        "a label was made: {order}"
    );

    // A step out of order is the use case's refusal, shown with its status.
    let again = step(
        format!("/console/warehouse/{id}/start"),
        vec![("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(again.status(), 409);
    // And a buyer's order is not the warehouse's to read through the admin pages.
    let (status, _) = page(&app, &cookies, &format!("/console/orders/{id}")).await;
    assert_eq!(
        status,
        app.get(&warehouse(), &format!("/api/v1/orders/{id}"))
            .await
            .status()
            .as_u16()
    );
}

#[tokio::test]
async fn analytics_draw_their_charts_on_the_server_for_admins_only() {
    let app = spawn_app().await;
    app.confirmed_order(1, 2).await;
    app.new_order(2, 1).await;
    let (_, cookies) = sign_in(&app, &admin()).await;
    let (status, html) = page(&app, &cookies, "/console/analytics").await;
    assert_eq!(status, 200, "{html}");
    for shown in [
        "<svg",
        "Orders by status",
        "CONFIRMED",
        "RESERVED",
        "Top events by revenue",
        "USD",
        "Revenue per day, USD",
    ] {
        assert!(html.contains(shown), "{shown} on the analytics page");
    }
    assert!(!html.contains("<script"), "no script");
    let (_, warehouse_cookies) = sign_in(&app, &warehouse()).await;
    let (status, html) = page(&app, &warehouse_cookies, "/console/analytics").await;
    assert_eq!(status, 403, "{html}");
    assert!(html.contains("Your role does not allow this."));
}

#[tokio::test]
async fn admins_read_a_subscriptions_delivery_log_and_send_a_delivery_again() {
    let app = spawn_app().await;
    let subscribed: serde_json::Value = app
        .post(
            &admin(),
            "/api/v1/admin/webhooks",
            &serde_json::json!({ "url": "http://127.0.0.1:9/hooks" }),
        )
        .await
        .json()
        .await
        .expect("json");
    let webhook = subscribed["webhook"]["id"].as_str().expect("id").to_owned();
    let order = app.new_order(1, 1).await;
    // The order's first event, handed to the webhooks as the consumer would.
    let payload: serde_json::Value = sqlx::query_scalar(
        "SELECT payload FROM outbox WHERE order_id = $1::uuid ORDER BY position LIMIT 1",
    )
    .bind(order["id"].as_str().expect("id"))
    .fetch_one(&app.owner)
    .await
    .expect("an event");
    let envelope: order_domain::events::EventEnvelope =
        serde_json::from_value(payload).expect("an envelope");
    let config = test_config(&Setup::default(), &app.database_url, &app.simulator);
    order_api::startup::build_webhooks(&app.store, &config)
        .expect("webhooks")
        .enqueue(&envelope)
        .await
        .expect("queued");

    let (_, cookies) = sign_in(&app, &admin()).await;
    let (status, html) = page(&app, &cookies, "/console/webhooks").await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("http://127.0.0.1:9/hooks") && html.contains("enabled"),
        "{html}"
    );
    let (status, log) = page(&app, &cookies, &format!("/console/webhooks/{webhook}")).await;
    assert_eq!(status, 200, "{log}");
    assert!(
        log.contains("order.created") && log.contains("PENDING"),
        "{log}"
    );
    let delivery = log
        .split("/deliveries/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("a delivery's replay form")
        .to_owned();
    let csrf = csrf_in(&cookies);
    let again = browser()
        .post(app.url(&format!(
            "/console/webhooks/{webhook}/deliveries/{delivery}/replay"
        )))
        .header(COOKIE, &cookies)
        .header(CONTENT_TYPE, FORM)
        .body(serde_urlencoded::to_string([("csrf", csrf.as_str())]).expect("form"))
        .send()
        .await
        .expect("post");
    assert_eq!(again.status(), 303);
    assert_eq!(
        again.headers()[LOCATION],
        format!("/console/webhooks/{webhook}").as_str()
    );

    let (_, warehouse_cookies) = sign_in(&app, &warehouse()).await;
    let (status, _) = page(&app, &warehouse_cookies, "/console/webhooks").await;
    assert_eq!(status, 403);
}
