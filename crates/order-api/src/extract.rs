//! Request parsing that answers with problem+json: JSON bodies (content type, size, syntax, field
//! paths), query strings and path ids.

use actix_web::HttpRequest;
use actix_web::web;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Reads a body of at most `limit` bytes.
///
/// # Errors
/// 413 above the limit; 400 when the body cannot be read.
pub async fn read_body(mut payload: web::Payload, limit: usize) -> Result<web::Bytes, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| ApiError::MalformedJson("the body could not be read".into()))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Parses a JSON body. An empty body parses as `{}` when `empty_ok` (for commands whose fields
/// are all optional).
///
/// # Errors
/// 415 for another content type, 400 for broken JSON, 422 with the field path for JSON of the
/// wrong shape (unknown fields, wrong types, huge numbers).
pub fn json<T: DeserializeOwned>(
    request: &HttpRequest,
    body: &[u8],
    empty_ok: bool,
) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) && empty_ok {
        return parse(b"{}");
    }
    let content_type = request
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media != "application/json" && !media.ends_with("+json") {
        return Err(ApiError::UnsupportedMediaType);
    }
    parse(body)
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_data() {
            let path = if path == "." { "body".to_owned() } else { path };
            ApiError::field(path, "invalid", clean_message(&inner))
        } else {
            ApiError::MalformedJson(clean_message(&inner))
        }
    })?;
    deserializer
        .end()
        .map_err(|e| ApiError::MalformedJson(clean_message(&e)))?;
    Ok(value)
}

/// serde's message without the " at line 1 column 42" suffix.
fn clean_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.find(" at line ") {
        Some(index) => text[..index].to_owned(),
        None => text,
    }
}

/// Parses the query string.
///
/// # Errors
/// 422 naming the query parameter.
pub fn query<T: DeserializeOwned>(request: &HttpRequest) -> Result<T, ApiError> {
    web::Query::<T>::from_query(request.query_string())
        .map(web::Query::into_inner)
        .map_err(|e| ApiError::field("query", "invalid", e.to_string()))
}

/// The page of a list endpoint from its `limit` (1–100, default 50) and `offset` (0–1 000 000,
/// default 0) query parameters.
///
/// # Errors
/// 422 naming the parameter that is out of range.
pub fn page(
    limit: Option<i64>,
    offset: Option<i64>,
) -> Result<order_domain::ports::PageRequest, ApiError> {
    let limit = limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::field(
            "query.limit",
            "out_of_range",
            "between 1 and 100",
        ));
    }
    let offset = offset.unwrap_or(0);
    if !(0..=1_000_000).contains(&offset) {
        return Err(ApiError::field(
            "query.offset",
            "out_of_range",
            "between 0 and 1000000",
        ));
    }
    Ok(order_domain::ports::PageRequest {
        limit: u32::try_from(limit).unwrap_or(50),
        offset: u32::try_from(offset).unwrap_or(0),
    })
}

/// Parses an id from the path; an id that cannot exist is "not found".
///
/// # Errors
/// 404 when the text is not an id.
pub fn path_id<T: std::str::FromStr>(text: &str, what: &'static str) -> Result<T, ApiError> {
    text.parse().map_err(|_| ApiError::NotFound(what))
}
