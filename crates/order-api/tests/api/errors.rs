//! Errors of the request itself, as problem+json: bad tokens, malformed bodies, unknown things,
//! rejected transitions and an unreachable upstream; tenants and owners see only their own orders.
//! Business rules have their own file (`business_errors.rs`), the route contract its own
//! (`contract.rs`).

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use order_domain::actor::Role;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::helpers::*;

#[tokio::test]
async fn bad_tokens_are_401() {
    let app = spawn_app().await;
    let no_token = app
        .client
        .get(app.url("/api/v1/orders"))
        .send()
        .await
        .expect("request");
    assert_problem(no_token, 401, "unauthorized").await;
    let expired = token_with(
        tenant_a(),
        user(1),
        &[Role::Customer],
        OffsetDateTime::now_utc() - Duration::hours(1),
    );
    assert_problem(
        app.get(&expired, "/api/v1/orders").await,
        401,
        "unauthorized",
    )
    .await;
    let mut tampered = customer(1);
    tampered.pop();
    tampered.push('x');
    assert_problem(
        app.get(&tampered, "/api/v1/orders").await,
        401,
        "unauthorized",
    )
    .await;
    let claims = json!({ "sub": user(1), "tenant_id": tenant_a(), "roles": ["admin"], "exp": OffsetDateTime::now_utc().unix_timestamp() + 3600 });
    let wrong_key = encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(b"another-secret-another-secret-xx"),
    )
    .expect("token");
    assert_problem(
        app.get(&wrong_key, "/api/v1/orders").await,
        401,
        "unauthorized",
    )
    .await;
    // alg: none — header {"alg":"none","typ":"JWT"}, no signature.
    use base64_url as b64;
    let unsigned = format!(
        "{}.{}.",
        b64::encode(br#"{"alg":"none","typ":"JWT"}"#),
        b64::encode(claims.to_string().as_bytes())
    );
    assert_problem(
        app.get(&unsigned, "/api/v1/orders").await,
        401,
        "unauthorized",
    )
    .await;
    let internal = app
        .client
        .post(app.url("/internal/v1/orders/bulk/cancel"))
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    assert_problem(internal, 401, "unauthorized").await;
    let wrong_service = app
        .client
        .post(app.url("/internal/v1/orders/bulk/cancel"))
        .header("authorization", "Service-Key not-the-key-at-all")
        .json(&json!({ "eventId": EVENT }))
        .send()
        .await
        .expect("request");
    assert_problem(wrong_service, 401, "unauthorized").await;
}

/// URL-safe base64 without padding, enough for a hand-made JWT.
mod base64_url {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    pub(super) fn encode(input: &[u8]) -> String {
        let mut out = String::new();
        for chunk in input.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            let chars = chunk.len() + 1;
            for i in 0..chars {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            }
        }
        out
    }
}

#[tokio::test]
async fn malformed_bodies_are_4xx_with_field_paths() {
    let app = spawn_app().await;
    let token = customer(1);
    let broken = app
        .client
        .post(app.url("/api/v1/orders"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"eventId\": ")
        .send()
        .await
        .expect("request");
    assert_problem(broken, 400, "malformed_json").await;
    let text = app
        .client
        .post(app.url("/api/v1/orders"))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body(order_body(1).to_string())
        .send()
        .await
        .expect("request");
    assert_problem(text, 415, "unsupported_media_type").await;
    let huge = app
        .client
        .post(app.url("/api/v1/orders"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(format!(
            "{{\"eventId\":\"{EVENT}\",\"pad\":\"{}\"}}",
            "x".repeat(20_000)
        ))
        .send()
        .await
        .expect("request");
    assert_problem(huge, 413, "payload_too_large").await;

    let mut unknown = order_body(1);
    unknown["surprise"] = json!(true);
    let body = assert_problem(
        app.create_order(&token, &unknown).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("surprise"))
    );

    let big_number = json!({ "eventId": EVENT, "items": [{ "ticketTypeId": TICKET_TYPE, "ticketPricingId": PRICING, "quantity": 1e30 }] });
    let body = assert_problem(
        app.create_order(&token, &big_number).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["path"], "items[0].quantity");

    let mut two_lines = order_body(-1);
    two_lines["items"]
        .as_array_mut()
        .expect("items")
        .push(json!({ "ticketTypeId": TICKET_TYPE, "ticketPricingId": PRICING, "quantity": 11 }));
    let body = assert_problem(
        app.create_order(&token, &two_lines).await,
        422,
        "validation_failed",
    )
    .await;
    let paths: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["path"].as_str())
        .collect();
    assert_eq!(paths, ["items[0].quantity", "items[1].quantity"]);

    let bad_uuid = json!({ "eventId": "not-a-uuid", "items": [] });
    let body = assert_problem(
        app.create_order(&token, &bad_uuid).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["path"], "eventId");
    let bad_query = app.get(&token, "/api/v1/orders?limit=1000").await;
    let body = assert_problem(bad_query, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["path"], "query.limit");
    let bad_currency =
        json!({ "eventId": EVENT, "items": order_body(1)["items"], "currency": "EUR" });
    assert_problem(
        app.create_order(&token, &bad_currency).await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn unknown_things_are_404_and_other_tenants_orders_do_not_exist() {
    let app = spawn_app().await;
    let order = app.new_order(1, 1).await;
    let id = order["id"].as_str().expect("id");
    assert_problem(
        app.get(&customer(1), "/api/v1/orders/not-an-id").await,
        404,
        "not_found",
    )
    .await;
    let missing = uuid::Uuid::new_v4();
    assert_problem(
        app.get(&customer(1), &format!("/api/v1/orders/{missing}"))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get(&customer(1), "/api/v1/nowhere").await,
        404,
        "not_found",
    )
    .await;

    let other_tenant_admin = token_with(
        tenant_b(),
        user(1),
        &[Role::Admin],
        OffsetDateTime::now_utc() + Duration::hours(1),
    );
    assert_problem(
        app.get(&other_tenant_admin, &format!("/api/v1/orders/{id}"))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get(&customer(2), &format!("/api/v1/orders/{id}")).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.post(
            &customer(2),
            &format!("/api/v1/orders/{id}/cancel"),
            &json!({}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        app.get(&admin(), &format!("/api/v1/orders/{id}"))
            .await
            .status(),
        200
    );
    let listed: Value = app
        .get(&other_tenant_admin, "/api/v1/orders")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed["pagination"]["total"], 0);
}

#[tokio::test]
async fn every_rejected_transition_is_409_naming_both_states() {
    let app = spawn_app().await;
    let order = app.new_order(1, 1).await;
    let id = order["id"].as_str().expect("id").to_owned();
    app.pay(&order).await;
    assert_eq!(app.confirm(&order).await.status(), 200);
    // CONFIRMED → RESERVED, CONFIRMED → CONFIRMED, CONFIRMED → EXPIRED.
    let body = assert_problem(
        app.post(
            &customer(1),
            &format!("/api/v1/orders/{id}/reserve"),
            &json!({}),
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(
        (body["fromStatus"].as_str(), body["toStatus"].as_str()),
        (Some("CONFIRMED"), Some("RESERVED"))
    );
    let body = assert_problem(app.confirm(&order).await, 409, "invalid_transition").await;
    assert_eq!(body["toStatus"], "CONFIRMED");
    let expire = app
        .internal(
            &format!("/internal/v1/orders/{id}/expire"),
            Some(tenant_a()),
            &json!({}),
        )
        .await;
    let body = assert_problem(expire, 409, "invalid_transition").await;
    assert_eq!(body["toStatus"], "EXPIRED");

    // CANCELLED → anything.
    let other = app.new_order(2, 1).await;
    let other_id = other["id"].as_str().expect("id").to_owned();
    assert_eq!(
        app.post(
            &customer(2),
            &format!("/api/v1/orders/{other_id}/cancel"),
            &json!({})
        )
        .await
        .status(),
        200
    );
    for (response, to) in [
        (
            app.post(
                &customer(2),
                &format!("/api/v1/orders/{other_id}/reserve"),
                &json!({}),
            )
            .await,
            "RESERVED",
        ),
        (
            app.post(
                &customer(2),
                &format!("/api/v1/orders/{other_id}/cancel"),
                &json!({}),
            )
            .await,
            "CANCELLED",
        ),
        (app.confirm(&other).await, "CONFIRMED"),
        (
            app.post(
                &customer(2),
                &format!("/api/v1/orders/{other_id}/refund"),
                &json!({}),
            )
            .await,
            "REFUNDED",
        ),
        (
            app.internal(
                &format!("/internal/v1/orders/{other_id}/expire"),
                Some(tenant_a()),
                &json!({}),
            )
            .await,
            "EXPIRED",
        ),
    ] {
        let body = assert_problem(response, 409, "invalid_transition").await;
        assert_eq!(
            (body["fromStatus"].as_str(), body["toStatus"].as_str()),
            (Some("CANCELLED"), Some(to))
        );
    }
    // A RESERVED order is not expired before its window ends.
    let fresh = app.new_order(3, 1).await;
    let fresh_id = fresh["id"].as_str().expect("id");
    let early = app
        .internal(
            &format!("/internal/v1/orders/{fresh_id}/expire"),
            Some(tenant_a()),
            &json!({}),
        )
        .await;
    assert_problem(early, 409, "not_yet_expired").await;
}

#[tokio::test]
async fn an_unreachable_ticket_service_is_503_with_retry_after() {
    let app = spawn_with(Setup {
        dead_ticket_service: true,
        ..Setup::default()
    })
    .await;
    let response = app.create_order(&customer(1), &order_body(1)).await;
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("5")
    );
    let body = assert_problem(response, 503, "upstream_unavailable").await;
    assert!(
        !body["detail"].as_str().unwrap_or("").contains("127.0.0.1"),
        "no upstream details leak"
    );
}

#[tokio::test]
async fn tokens_not_yet_valid_or_valid_for_too_long_are_401() {
    let app = spawn_app().await;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let signed = |claims: Value| {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .expect("token")
    };
    let claims = |extra: Value| {
        let mut claims = json!({ "sub": user(1), "tenant_id": tenant_a(), "roles": ["customer"] });
        claims
            .as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        signed(claims)
    };
    let accepted = claims(json!({ "exp": now + 3_600, "iat": now, "nbf": now - 10 }));
    assert_eq!(app.get(&accepted, "/api/v1/orders").await.status(), 200);

    let not_yet = claims(json!({ "exp": now + 3_600, "nbf": now + 600 }));
    let too_long = claims(json!({ "exp": now + 48 * 3_600 }));
    let issued_long_ago = claims(json!({ "exp": now + 3_600, "iat": now - 30 * 3_600 }));
    for (token, why) in [
        (not_yet, "nbf in ten minutes"),
        (too_long, "valid for two days from now"),
        (issued_long_ago, "issued for 31 hours"),
    ] {
        let refused = app.get(&token, "/api/v1/orders").await;
        assert_eq!(refused.status(), 401, "{why}");
    }
}
