//! The OpenAPI 3 document of every route (served at `/openapi.json`) and a self-contained docs
//! page (`/docs`, no external assets). [`ROUTES`] is the single list both are built from; a test
//! checks that it matches the routes the app serves.

use serde_json::{Value, json};

/// How a route authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `Authorization: Bearer <jwt>`.
    Bearer,
    /// `Authorization: Service-Key <key>`.
    ServiceKey,
    /// None.
    Open,
}

/// One documented operation.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// HTTP method, lower case.
    pub method: &'static str,
    /// Path with `{id}` parameters.
    pub path: &'static str,
    /// One line.
    pub summary: &'static str,
    /// Authentication.
    pub security: Security,
    /// Request body schema name.
    pub request: Option<&'static str>,
    /// Success status and body schema name.
    pub response: (u16, &'static str),
    /// Problem codes it can answer with besides the common ones.
    pub errors: &'static [(u16, &'static str)],
}

const ID_ERRORS: &[(u16, &str)] = &[(404, "not_found")];

/// Every route of the API.
pub const ROUTES: &[Route] = &[
    Route {
        method: "post",
        path: "/api/v1/orders",
        summary: "Create a ticket order: price it, hold the tickets, create the payment intent",
        security: Security::Bearer,
        request: Some("CreateOrder"),
        response: (201, "Order"),
        errors: &[
            (409, "sold_out"),
            (422, "validation_failed"),
            (422, "limit_exceeded"),
            (402, "payment_declined"),
            (503, "upstream_unavailable"),
        ],
    },
    Route {
        method: "get",
        path: "/api/v1/orders",
        summary: "List the caller's orders (admins: the tenant's) with status, eventId, from/to filters",
        security: Security::Bearer,
        request: None,
        response: (200, "OrderPage"),
        errors: &[(422, "validation_failed")],
    },
    Route {
        method: "get",
        path: "/api/v1/admin/orders",
        summary: "Admins: search the tenant's orders by status, userId, eventId, orderNumber, from/to",
        security: Security::Bearer,
        request: None,
        response: (200, "OrderPage"),
        errors: &[(403, "forbidden"), (422, "validation_failed")],
    },
    Route {
        method: "get",
        path: "/api/v1/orders/{id}",
        summary: "One order",
        security: Security::Bearer,
        request: None,
        response: (200, "Order"),
        errors: ID_ERRORS,
    },
    Route {
        method: "post",
        path: "/api/v1/orders/{id}/reserve",
        summary: "Hold a PENDING order's tickets, or extend a RESERVED order's hold",
        security: Security::Bearer,
        request: None,
        response: (200, "Reservation"),
        errors: &[
            (404, "not_found"),
            (409, "invalid_transition"),
            (409, "order_locked"),
            (409, "sold_out"),
        ],
    },
    Route {
        method: "post",
        path: "/api/v1/orders/{id}/cancel",
        summary: "Cancel an order; paid orders are refunded under the refund policy",
        security: Security::Bearer,
        request: Some("Reason"),
        response: (200, "Cancellation"),
        errors: &[
            (404, "not_found"),
            (409, "invalid_transition"),
            (422, "refund_not_allowed"),
        ],
    },
    Route {
        method: "post",
        path: "/api/v1/orders/{id}/refund",
        summary: "Request a full, amount or per-line refund of a confirmed order",
        security: Security::Bearer,
        request: Some("RefundRequest"),
        response: (200, "Refund"),
        errors: &[
            (404, "not_found"),
            (409, "invalid_transition"),
            (422, "refund_not_allowed"),
            (422, "refund_exceeds_maximum"),
            (422, "nothing_to_refund"),
        ],
    },
    Route {
        method: "get",
        path: "/api/v1/orders/{id}/events",
        summary: "The order's audit trail",
        security: Security::Bearer,
        request: None,
        response: (200, "History"),
        errors: ID_ERRORS,
    },
    Route {
        method: "get",
        path: "/api/v1/admin/analytics",
        summary: "The tenant's analytics (AOV, conversion, top events, status breakdown, revenue by currency, cancellation and refund rates), admins only",
        security: Security::Bearer,
        request: None,
        response: (200, "Analytics"),
        errors: &[(403, "forbidden")],
    },
    Route {
        method: "get",
        path: "/api/v1/admin/refunds",
        summary: "Refunds by status (default PENDING), admins only",
        security: Security::Bearer,
        request: None,
        response: (200, "RefundList"),
        errors: &[(403, "forbidden"), (422, "validation_failed")],
    },
    Route {
        method: "post",
        path: "/api/v1/admin/refunds/{id}/approve",
        summary: "Approve a PENDING refund and pay it",
        security: Security::Bearer,
        request: None,
        response: (200, "RefundDecision"),
        errors: &[
            (403, "forbidden"),
            (404, "not_found"),
            (409, "invalid_transition"),
        ],
    },
    Route {
        method: "post",
        path: "/api/v1/admin/refunds/{id}/retry",
        summary: "Pay a FAILED refund out again (never twice: the refund id is the payment's idempotency key)",
        security: Security::Bearer,
        request: None,
        response: (200, "RefundDecision"),
        errors: &[
            (403, "forbidden"),
            (404, "not_found"),
            (409, "invalid_transition"),
        ],
    },
    Route {
        method: "post",
        path: "/api/v1/admin/refunds/{id}/reject",
        summary: "Reject a PENDING refund with a reason",
        security: Security::Bearer,
        request: Some("Reject"),
        response: (200, "RefundDecision"),
        errors: &[
            (403, "forbidden"),
            (404, "not_found"),
            (409, "invalid_transition"),
        ],
    },
    Route {
        method: "post",
        path: "/internal/v1/orders/{id}/confirm",
        summary: "Payment succeeded: commit the hold and confirm (needs X-Tenant-Id)",
        security: Security::ServiceKey,
        request: Some("Confirm"),
        response: (200, "Confirmation"),
        errors: &[
            (404, "not_found"),
            (409, "invalid_transition"),
            (409, "conflict"),
            (409, "payment_intent_mismatch"),
        ],
    },
    Route {
        method: "post",
        path: "/internal/v1/orders/{id}/expire",
        summary: "Expire an order whose hold ran out, or any unpaid one with force and a reason (needs X-Tenant-Id)",
        security: Security::ServiceKey,
        request: Some("Expire"),
        response: (200, "Expiry"),
        errors: &[
            (404, "not_found"),
            (409, "invalid_transition"),
            (409, "not_yet_expired"),
            (409, "conflict"),
            (422, "validation_failed"),
        ],
    },
    Route {
        method: "get",
        path: "/internal/v1/orders/expiring",
        summary: "Unpaid orders whose hold ends within ?minutes (all tenants)",
        security: Security::ServiceKey,
        request: None,
        response: (200, "ExpiringList"),
        errors: &[(422, "validation_failed")],
    },
    Route {
        method: "post",
        path: "/internal/v1/orders/bulk/cancel",
        summary: "Cancel every active order of a cancelled event with full refunds: 200 all, 207 some, 500 none",
        security: Security::ServiceKey,
        request: Some("BulkCancel"),
        response: (200, "BulkCancelResult"),
        errors: &[(422, "validation_failed")],
    },
    Route {
        method: "get",
        path: "/health/liveness",
        summary: "The process is up",
        security: Security::Open,
        request: None,
        response: (200, "Health"),
        errors: &[],
    },
    Route {
        method: "get",
        path: "/health/readiness",
        summary: "The database answers (503 otherwise)",
        security: Security::Open,
        request: None,
        response: (200, "Health"),
        errors: &[],
    },
    Route {
        method: "get",
        path: "/openapi.json",
        summary: "This document",
        security: Security::Open,
        request: None,
        response: (200, "Object"),
        errors: &[],
    },
    Route {
        method: "get",
        path: "/docs",
        summary: "Human-readable API reference",
        security: Security::Open,
        request: None,
        response: (200, "Object"),
        errors: &[],
    },
];

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/problem+json": { "schema": schema_ref("Problem") } }
    })
}

fn operation(route: &Route) -> Value {
    let mut responses = serde_json::Map::new();
    responses.insert(
        route.response.0.to_string(),
        json!({
            "description": "Success",
            "content": { "application/json": { "schema": schema_ref(route.response.1) } }
        }),
    );
    let mut codes: Vec<(u16, &str)> = route.errors.to_vec();
    if route.method == "post" && route.security != Security::Open {
        codes.push((409, "idempotency_in_flight"));
        codes.push((422, "idempotency_key_reused"));
    }
    if route.security == Security::Bearer
        && route.method == "post"
        && !route.path.contains("/admin/")
    {
        codes.push((429, "rate_limited"));
    }
    match route.security {
        Security::Bearer | Security::ServiceKey => {
            codes.push((401, "unauthorized"));
            codes.push((400, "malformed_json"));
            codes.push((413, "payload_too_large"));
            codes.push((415, "unsupported_media_type"));
            codes.push((500, "internal_error"));
            codes.push((503, "storage_unavailable"));
        }
        Security::Open => {}
    }
    codes.sort_unstable();
    let mut by_status: std::collections::BTreeMap<u16, Vec<&str>> =
        std::collections::BTreeMap::new();
    for (status, code) in codes {
        by_status.entry(status).or_default().push(code);
    }
    for (status, codes) in by_status {
        responses
            .entry(status.to_string())
            .or_insert_with(|| problem_response(&format!("Problem codes: {}", codes.join(", "))));
    }
    let mut op = json!({
        "summary": route.summary,
        "operationId": format!("{}_{}", route.method, route.path.trim_start_matches('/').replace(['/', '{', '}'], "_")),
        "responses": responses,
    });
    let mut parameters = Vec::new();
    if route.path.contains("{id}") {
        parameters.push(json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } }));
    }
    if route.security == Security::ServiceKey && route.path != "/internal/v1/orders/expiring" {
        parameters.push(json!({ "name": "X-Tenant-Id", "in": "header", "required": true, "schema": { "type": "string", "format": "uuid" } }));
    }
    if route.method == "post" && route.security != Security::Open {
        parameters.push(json!({ "name": "Idempotency-Key", "in": "header", "required": false, "schema": { "type": "string" },
            "description": "Same key + same body replays the stored answer (Idempotent-Replayed: true); another body is 422 idempotency_key_reused; a key in flight is 409 idempotency_in_flight. 30 min, per tenant and caller." }));
    }
    let admin_search = route.path == "/api/v1/admin/orders";
    if (route.path == "/api/v1/orders" && route.method == "get") || admin_search {
        if admin_search {
            parameters.push(json!({ "name": "userId", "in": "query", "schema": { "type": "string", "format": "uuid" } }));
            parameters.push(
                json!({ "name": "orderNumber", "in": "query", "schema": { "type": "string" } }),
            );
        }
        parameters.push(json!({ "name": "cursor", "in": "query", "schema": { "type": "string" },
            "description": "pagination.nextCursor of the previous page (keyset; exclusive with offset)" }));
        for (name, schema) in [
            (
                "status",
                json!({ "$ref": "#/components/schemas/OrderStatus" }),
            ),
            ("eventId", json!({ "type": "string", "format": "uuid" })),
            ("from", json!({ "type": "string", "format": "date-time" })),
            ("to", json!({ "type": "string", "format": "date-time" })),
            (
                "limit",
                json!({ "type": "integer", "minimum": 1, "maximum": 100, "default": 50 }),
            ),
            (
                "offset",
                json!({ "type": "integer", "minimum": 0, "maximum": 1_000_000, "default": 0 }),
            ),
        ] {
            parameters.push(json!({ "name": name, "in": "query", "schema": schema }));
        }
    }
    if !parameters.is_empty() {
        op["parameters"] = Value::Array(parameters);
    }
    if let Some(request) = route.request {
        op["requestBody"] = json!({
            "required": request != "Reason",
            "content": { "application/json": { "schema": schema_ref(request) } }
        });
    }
    match route.security {
        Security::Bearer => op["security"] = json!([{ "bearer": [] }]),
        Security::ServiceKey => op["security"] = json!([{ "serviceKey": [] }]),
        Security::Open => op["security"] = json!([]),
    }
    op
}

fn schemas() -> Value {
    let money = json!({ "type": "integer", "format": "int64", "description": "minor units" });
    let uuid = json!({ "type": "string", "format": "uuid" });
    let time = json!({ "type": "string", "format": "date-time" });
    json!({
        "OrderStatus": { "type": "string", "enum": ["PENDING", "RESERVED", "CONFIRMED", "PROCESSING", "SHIPPED", "DELIVERED", "CANCELLED", "EXPIRED", "RETURNED", "REFUNDED"] },
        "RefundStatus": { "type": "string", "enum": ["PENDING", "APPROVED", "REJECTED", "COMPLETED", "FAILED"] },
        "Pricing": { "type": "object", "properties": {
            "subtotal": money, "discount": money, "platformFee": money, "processingFee": money,
            "shipping": money, "tax": money, "total": money } },
        "OrderItem": { "type": "object", "properties": {
            "id": uuid, "type": { "type": "string", "enum": ["ticket", "goods"] }, "ticketTypeId": uuid,
            "ticketPricingId": uuid, "quantity": { "type": "integer" }, "unitPrice": money,
            "pricing": schema_ref("Pricing") } },
        "Refund": { "type": "object", "properties": {
            "refundId": uuid, "orderId": uuid, "amount": money, "currency": { "type": "string" },
            "status": schema_ref("RefundStatus"), "reason": { "type": "string" },
            "itemIds": { "type": "array", "items": uuid }, "requestedAt": time, "completedAt": time,
            "failureReason": { "type": "string" } } },
        "Order": { "type": "object", "properties": {
            "id": uuid, "orderNumber": { "type": "string", "example": "ORD-20261122-7K3QXA" }, "userId": uuid,
            "eventId": uuid, "kind": { "type": "string", "enum": ["TICKET", "GOODS"] },
            "status": schema_ref("OrderStatus"), "items": { "type": "array", "items": schema_ref("OrderItem") },
            "pricing": schema_ref("Pricing"), "currency": { "type": "string" },
            "paymentIntentId": { "type": "string" }, "clientSecret": { "type": "string" },
            "reservationExpiresAt": time, "ticketIds": { "type": "array", "items": { "type": "string" } },
            "refunds": { "type": "array", "items": schema_ref("Refund") }, "refundedAmount": money,
            "metadata": { "type": "object", "description": "the client's own data, as given at creation" },
            "version": { "type": "integer" }, "createdAt": time, "updatedAt": time, "reservedAt": time,
            "confirmedAt": time, "cancelledAt": time, "expiredAt": time, "refundedAt": time } },
        "OrderPage": { "type": "object", "properties": {
            "orders": { "type": "array", "items": schema_ref("Order") },
            "pagination": { "type": "object", "properties": {
                "total": { "type": "integer", "description": "exact up to 1000 matching orders; above, 1000 with totalIsEstimate" },
                "totalIsEstimate": { "type": "boolean" },
                "limit": { "type": "integer" }, "offset": { "type": "integer" },
                "hasMore": { "type": "boolean" },
                "nextCursor": { "type": ["string", "null"], "description": "pass as cursor for the next page" } } } } },
        "CreateOrder": { "type": "object", "required": ["eventId", "items"], "additionalProperties": false, "properties": {
            "eventId": uuid, "currency": { "type": "string", "enum": ["USD", "EUR", "GBP", "CAD", "AUD"] },
            "metadata": { "type": "object", "description": "the client's own data, stored and returned as given; at most 4096 bytes of JSON" },
            "items": { "type": "array", "minItems": 1, "maxItems": 50, "items": { "type": "object",
                "required": ["ticketTypeId", "ticketPricingId", "quantity"], "additionalProperties": false,
                "properties": { "ticketTypeId": uuid, "ticketPricingId": uuid,
                    "quantity": { "type": "integer", "minimum": 1, "maximum": 10 } } } } } },
        "Reason": { "type": "object", "additionalProperties": false, "properties": { "reason": { "type": "string", "maxLength": 500 } } },
        "Expire": { "type": "object", "additionalProperties": false, "properties": {
            "reason": { "type": "string", "maxLength": 500, "description": "required with force; recorded in the audit" },
            "force": { "type": "boolean", "description": "expire even while the reservation runs (an operator's decision)" } } },
        "Reject": { "type": "object", "required": ["reason"], "additionalProperties": false, "properties": { "reason": { "type": "string", "maxLength": 500 } } },
        "RefundRequest": { "type": "object", "additionalProperties": false, "properties": {
            "amount": money, "itemIds": { "type": "array", "items": uuid }, "reason": { "type": "string", "maxLength": 500 } } },
        "Confirm": { "type": "object", "required": ["paymentIntentId"], "additionalProperties": false, "properties": { "paymentIntentId": { "type": "string" } } },
        "BulkCancel": { "type": "object", "required": ["eventId"], "additionalProperties": false, "properties": { "eventId": uuid, "reason": { "type": "string" } } },
        "Reservation": { "type": "object", "properties": { "orderId": uuid, "status": schema_ref("OrderStatus"), "reservationExpiresAt": time, "reservedAt": time, "order": schema_ref("Order") } },
        "Cancellation": { "type": "object", "properties": { "orderId": uuid, "status": schema_ref("OrderStatus"), "cancelledAt": time,
            "refundStatus": { "type": "string", "enum": ["NONE", "INITIATED", "COMPLETED", "FAILED"] }, "refund": schema_ref("Refund") } },
        "History": { "type": "object", "properties": { "events": { "type": "array", "items": { "type": "object", "properties": {
            "id": uuid, "orderId": uuid, "eventType": { "type": "string", "example": "ORDER_CREATED" }, "fromStatus": schema_ref("OrderStatus"),
            "toStatus": schema_ref("OrderStatus"), "actor": { "type": "object" }, "ipAddress": { "type": "string" },
            "metadata": { "type": "object" }, "createdAt": time } } } } },
        "Analytics": {
            "type": "object",
            "description": "Figures over the orders created since windowStart; money in minor units per currency, rates in basis points (1 % = 100)",
            "properties": {
                "windowStart": time, "computedAt": time,
                "totalOrders": { "type": "integer" },
                "statusBreakdown": { "type": "object", "additionalProperties": { "type": "integer" } },
                "revenueByCurrency": { "type": "array", "items": { "type": "object", "properties": {
                    "currency": { "type": "string" }, "paidOrders": { "type": "integer" },
                    "gross": money, "refunded": money, "net": money, "averageOrderValue": money } } },
                "conversion": { "type": "object", "properties": {
                    "reserved": { "type": "integer" }, "confirmed": { "type": "integer" }, "rateBps": { "type": "integer" } } },
                "cancellationRateBps": { "type": "integer" },
                "refundRateBps": { "type": "integer" },
                "topEvents": { "type": "array", "items": { "type": "object", "properties": {
                    "eventId": uuid, "currency": { "type": "string" }, "paidOrders": { "type": "integer" }, "revenue": money } } }
            }
        },
        "RefundList": { "type": "object", "properties": { "refunds": { "type": "array", "items": schema_ref("Refund") } } },
        "RefundDecision": { "type": "object", "properties": { "refund": schema_ref("Refund"), "order": schema_ref("Order") } },
        "Confirmation": { "type": "object", "properties": { "orderId": uuid, "status": schema_ref("OrderStatus"), "confirmedAt": time, "ticketIds": { "type": "array", "items": { "type": "string" } } } },
        "Expiry": { "type": "object", "properties": { "message": { "type": "string" }, "orderId": uuid, "status": schema_ref("OrderStatus") } },
        "ExpiringList": { "type": "object", "properties": { "orders": { "type": "array", "items": { "type": "object", "properties": {
            "id": uuid, "tenantId": uuid, "status": schema_ref("OrderStatus"), "reservationExpiresAt": time, "minutesUntilExpiration": { "type": "integer" } } } } } },
        "BulkCancelResult": { "type": "object", "properties": { "eventId": uuid, "total": { "type": "integer" }, "succeeded": { "type": "integer" },
            "failed": { "type": "integer" }, "results": { "type": "array", "items": { "type": "object", "properties": {
                "orderId": uuid, "success": { "type": "boolean" }, "status": {}, "code": { "type": "string" } } } } } },
        "Health": { "type": "object", "properties": { "status": { "type": "string" }, "checks": { "type": "object" } } },
        "Object": { "type": "object" },
        "Problem": { "type": "object", "required": ["type", "title", "status", "code", "detail"], "properties": {
            "type": { "type": "string" }, "title": { "type": "string" }, "status": { "type": "integer" },
            "code": { "type": "string", "description": "stable machine code", "enum": PROBLEM_CODES },
            "detail": { "type": "string" },
            "errors": { "type": "array", "items": { "type": "object", "properties": {
                "path": { "type": "string", "example": "items[2].quantity" }, "code": { "type": "string" }, "message": { "type": "string" } } } },
            "fromStatus": schema_ref("OrderStatus"), "toStatus": schema_ref("OrderStatus") } }
    })
}

/// Every problem code the API can answer with.
pub const PROBLEM_CODES: &[&str] = &[
    "unauthorized",
    "forbidden",
    "not_found",
    "malformed_json",
    "unsupported_media_type",
    "payload_too_large",
    "validation_failed",
    "invalid_transition",
    "conflict",
    "order_locked",
    "limit_exceeded",
    "sold_out",
    "out_of_stock",
    "refund_not_allowed",
    "refund_exceeds_maximum",
    "nothing_to_refund",
    "item_already_refunded",
    "promo_code_invalid",
    "cart_invalid",
    "payment_declined",
    "payment_intent_mismatch",
    "not_yet_expired",
    "return_window_closed",
    "wrong_order_kind",
    "upstream_unavailable",
    "upstream_error",
    "guard_unavailable",
    "idempotency_in_flight",
    "idempotency_key_reused",
    "rate_limited",
    "storage_unavailable",
    "internal_error",
];

/// The OpenAPI 3.1 document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for route in ROUTES {
        let entry = paths.entry(route.path).or_insert_with(|| json!({}));
        entry[route.method] = operation(route);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Order service",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Orders, reservations, payments, cancellations and refunds. Amounts are integer minor units. Errors are application/problem+json with a stable `code`."
        },
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" },
                "serviceKey": { "type": "apiKey", "in": "header", "name": "Authorization", "description": "Service-Key <key>" }
            }
        }
    })
}

/// The docs page: every route with its summary, auth and answers.
pub fn html() -> String {
    let mut rows = String::new();
    for route in ROUTES {
        let auth = match route.security {
            Security::Bearer => "Bearer JWT",
            Security::ServiceKey => "Service-Key",
            Security::Open => "none",
        };
        let errors: Vec<String> = route
            .errors
            .iter()
            .map(|(s, c)| format!("{s} {c}"))
            .collect();
        rows.push_str(&format!(
            "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td></tr>\n",
            route.method.to_uppercase(),
            route.path,
            route.summary,
            auth,
            route.response.0,
            route.response.1,
            errors.join(", ")
        ));
    }
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Order service API</title>\
         <style>body{{font-family:sans-serif;margin:2em}}td,th{{border-bottom:1px solid #ddd;padding:.4em;text-align:left;vertical-align:top}}</style>\
         </head><body><h1>Order service API</h1><p>Machine-readable: <a href=\"/openapi.json\">/openapi.json</a>. \
         Errors are <code>application/problem+json</code> with codes: {}.</p>\
         <table><tr><th>Method</th><th>Path</th><th>What</th><th>Auth</th><th>Success</th><th>Errors</th></tr>\n{}</table></body></html>",
        PROBLEM_CODES.join(", "),
        rows
    )
}
