//! The OpenAPI 3.1 document (`/openapi.json`), which the interactive reference at `/docs`
//! ([`crate::api_reference`]) shows.
//!
//! The document is generated: utoipa-actix-web collects every route registered in
//! [`crate::routes::configure`] together with its `#[utoipa::path]` contract and the schemas of
//! its request and response types. [`finish`] then adds what every route of a kind shares —
//! the problem+json body of every error answer, the answers of authentication, body parsing and
//! the command pipeline, the `Idempotency-Key` header — and writes the configured limits into the
//! schemas, so the document states what this instance enforces.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::{Value, json};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, RefOr};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};
use utoipa_actix_web::AppExt;

use crate::error::PROBLEM_CODES;

/// The document's fixed parts; the paths come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Order service",
        description = "Orders, reservations, payments, cancellations and refunds. Amounts are integer minor units. Errors are application/problem+json with a stable `code`."
    ),
    components(schemas(ProblemSchema)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "cart", description = "The shopper's cart (a buyer's or an anonymous session's)"),
        (name = "orders", description = "Buyers' orders"),
        (name = "fulfillment", description = "Warehouse staff: from the shelf to the door"),
        (name = "admin", description = "The tenant's admins"),
        (name = "webhooks", description = "Admins: webhook subscriptions, the delivery log, replays (docs/webhooks.md)"),
        (name = "internal", description = "Other services (service key)"),
        (name = "operations", description = "Health and the API description"),
    )
)]
struct BaseDocument;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "JWT with sub, tenant_id, roles (customer, admin, warehouse), vip, exp",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "serviceKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "Service-Key <key> (SERVICE_API_KEYS)",
            ))),
        );
    }
}

/// An RFC 9457 problem, as every error answer carries it.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Problem)]
#[allow(dead_code)] // Describes `error::Problem`, which borrows and so cannot derive the schema.
struct ProblemSchema {
    r#type: String,
    title: String,
    status: u16,
    #[schema(value_type = ProblemCode)]
    code: String,
    detail: String,
    /// Field errors of a `validation_failed` or `limit_exceeded` answer.
    errors: Option<Vec<FieldErrorSchema>>,
    /// For `invalid_transition`: the order's status.
    from_status: Option<String>,
    /// For `invalid_transition`: the refused target.
    to_status: Option<String>,
}

/// One field error.
#[derive(ToSchema)]
#[schema(as = FieldError)]
#[allow(dead_code)] // Describes `order_domain::policy::FieldError`.
struct FieldErrorSchema {
    /// The JSON path of the field as sent (`items[2].quantity`, `query.limit`).
    #[schema(example = "items[2].quantity")]
    path: String,
    /// Stable code (`out_of_range`, `too_long`, `required`, …).
    code: String,
    message: String,
}

/// The stable problem codes.
struct ProblemCode;

impl PartialSchema for ProblemCode {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .enum_values(Some(PROBLEM_CODES.iter().copied()))
            .description(Some("Stable machine code of the problem"))
            .into()
    }
}

impl ToSchema for ProblemCode {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ProblemCode")
    }
}

/// Configured limits the document states (defaults in brackets are the ticketing API's).
#[derive(Debug, Clone, Copy)]
pub struct DocumentedLimits {
    /// `MAX_ITEMS_PER_ORDER` (50).
    pub max_line_items: usize,
    /// `MAX_QUANTITY_PER_ITEM` (10).
    pub max_quantity_per_item: u32,
    /// `MAX_BODY_BYTES` (65536).
    pub max_body_bytes: usize,
}

pub use crate::state::ApiDocument;

impl ApiDocument {
    /// Generated from the routes, with `limits`.
    pub fn generate(limits: DocumentedLimits) -> Self {
        let (_, paths) = actix_web::App::new()
            .into_utoipa_app()
            .openapi(BaseDocument::openapi())
            .configure(crate::routes::configure)
            .split_for_parts();
        Self {
            json: finish(&paths, limits),
        }
    }
}

/// The answers every route of a kind can give besides its own.
fn shared_problems(method: &str, secured: bool, has_body: bool) -> Vec<(u16, &'static str)> {
    let mut codes = Vec::new();
    if !secured {
        return codes;
    }
    codes.extend([
        (401, "unauthorized"),
        (500, "internal_error"),
        (503, "storage_unavailable"),
    ]);
    if method != "get" {
        // Commands wait their turn (crate::admission) and may be refused when it never comes.
        codes.push((503, "overloaded"));
    }
    if method == "post" {
        codes.extend([
            (409, "idempotency_in_flight"),
            (422, "idempotency_key_reused"),
            (413, "payload_too_large"),
        ]);
    }
    if has_body {
        codes.extend([
            (400, "malformed_json"),
            (413, "payload_too_large"),
            (415, "unsupported_media_type"),
        ]);
    }
    codes
}

/// The generated document with the shared answers, the `Idempotency-Key` header and the
/// configured limits.
pub fn finish(generated: &Document, limits: DocumentedLimits) -> Value {
    let mut doc = serde_json::to_value(generated).unwrap_or_else(|_| json!({}));
    doc["info"]["version"] = json!(env!("CARGO_PKG_VERSION"));
    if let Some(paths) = doc["paths"].as_object_mut() {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                complete_operation(method, op, limits);
            }
        }
    }
    let schemas = &mut doc["components"]["schemas"];
    schemas["CreateOrder"]["properties"]["items"]["maxItems"] = json!(limits.max_line_items);
    schemas["CreateOrderItem"]["properties"]["quantity"]["maximum"] =
        json!(limits.max_quantity_per_item);
    doc
}

fn complete_operation(method: &str, op: &mut Value, limits: DocumentedLimits) {
    let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
    let has_body = op.get("requestBody").is_some();
    let mut codes: BTreeMap<u16, Vec<String>> = BTreeMap::new();
    for (status, code) in shared_problems(method, secured, has_body) {
        codes.entry(status).or_default().push(code.to_owned());
    }
    let responses = op["responses"].as_object_mut();
    let Some(responses) = responses else { return };
    for (status, codes) in codes {
        let entry = responses
            .entry(status.to_string())
            .or_insert_with(|| json!({ "description": "" }));
        let own = entry["description"].as_str().unwrap_or("").to_owned();
        let mut all: Vec<String> = if own.is_empty() { vec![] } else { vec![own] };
        for code in codes {
            if !all_contains(&all, &code) {
                all.push(code);
            }
        }
        entry["description"] = json!(all.join(", "));
    }
    for (status, response) in responses.iter_mut() {
        let is_error = status.parse::<u16>().is_ok_and(|s| s >= 400);
        if is_error && response.get("content").is_none() {
            response["content"] = json!({
                "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } }
            });
        }
    }
    if has_body {
        let own = op["requestBody"]["description"]
            .as_str()
            .unwrap_or("")
            .trim_end_matches('.')
            .to_owned();
        let limit = format!("At most {} bytes (MAX_BODY_BYTES).", limits.max_body_bytes);
        op["requestBody"]["description"] = json!(if own.is_empty() {
            limit
        } else {
            format!("{own}. {limit}")
        });
    }
    if secured && method == "post" {
        let parameters = op["parameters"].as_array_mut();
        let header = json!({
            "name": "Idempotency-Key", "in": "header", "required": false,
            "schema": { "type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$" },
            "description": "Same key + same body replays the stored answer, headers included (Idempotent-Replayed: true); another body is 422 idempotency_key_reused; a key in flight is 409 idempotency_in_flight. Kept IDEMPOTENCY_TTL_MINUTES (30), per tenant and caller."
        });
        match parameters {
            Some(parameters) => parameters.push(header),
            None => op["parameters"] = json!([header]),
        }
    }
}

fn all_contains(descriptions: &[String], code: &str) -> bool {
    descriptions
        .iter()
        .any(|d| d.split([',', ':', ' ']).any(|word| word == code))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Value {
        ApiDocument::generate(DocumentedLimits {
            max_line_items: 7,
            max_quantity_per_item: 3,
            max_body_bytes: 1024,
        })
        .json
    }

    #[test]
    fn the_configured_limits_are_in_the_schemas() {
        let doc = document();
        if let Ok(path) = std::env::var("OPENAPI_DUMP") {
            let _ = std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        let schemas = &doc["components"]["schemas"];
        assert_eq!(schemas["CreateOrder"]["properties"]["items"]["maxItems"], 7);
        assert_eq!(
            schemas["CreateOrderItem"]["properties"]["quantity"]["maximum"],
            3
        );
    }

    /// Generated clients name their functions after operationIds: each must be unique (OpenAPI
    /// requires it; a duplicate made a TypeScript client type `POST /orders` as a webhook) and
    /// say what it does.
    #[test]
    fn every_operation_has_its_own_camel_case_operation_id() {
        let doc = document();
        let mut seen = std::collections::BTreeMap::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                let id = op["operationId"].as_str().unwrap_or_default();
                assert!(
                    id.len() > 4
                        && id.starts_with(|c: char| c.is_ascii_lowercase())
                        && id.chars().all(|c| c.is_ascii_alphanumeric()),
                    "{method} {path}: operationId {id:?} is not a camelCase name"
                );
                if let Some(other) = seen.insert(id.to_owned(), format!("{method} {path}")) {
                    panic!("{id} names both {other} and {method} {path}");
                }
            }
        }
        assert!(seen.len() >= 55, "{} operations", seen.len());
    }

    #[test]
    fn every_error_answer_is_a_problem_and_commands_take_an_idempotency_key() {
        let doc = document();
        let paths = doc["paths"].as_object().expect("paths");
        for (path, item) in paths {
            for (method, op) in item.as_object().expect("path item") {
                for (status, answer) in op["responses"].as_object().expect("responses") {
                    if status.starts_with(['4', '5']) {
                        assert!(
                            answer["content"].is_object(),
                            "{method} {path} {status} has a body"
                        );
                    }
                }
                let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
                if secured {
                    assert!(
                        op["responses"]["401"]["description"]
                            .as_str()
                            .is_some_and(|d| d.contains("unauthorized")),
                        "{method} {path} answers 401"
                    );
                }
                if secured && method == "post" {
                    let takes_key = op["parameters"]
                        .as_array()
                        .is_some_and(|p| p.iter().any(|p| p["name"] == "Idempotency-Key"));
                    assert!(takes_key, "{method} {path} takes an Idempotency-Key");
                }
            }
        }
    }
}
