//! Extractors that answer with problem+json: JSON bodies (content type, size, syntax, field
//! paths, garde rules), query strings and path ids.
//!
//! A handler names what it needs — `Json<CreateOrderBody>`, `Query<ListQuery>` — and receives
//! a value that has passed every structural rule, or the request never reaches it.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use garde::Validate;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;
use crate::validation::validate;

type Extracted<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// A JSON body of type `T` that passed its garde rules.
#[derive(Debug)]
pub struct Json<T>(pub T);

/// Like [`Json`], but an empty body means `{}` (commands whose fields are all optional).
#[derive(Debug)]
pub struct JsonOrEmpty<T>(pub T);

impl<T: DeserializeOwned + Validate<Context = ()> + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Extracted<Self>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = body_of(request, payload, false);
        Box::pin(async move { body.await.map(Json) })
    }
}

impl<T: DeserializeOwned + Validate<Context = ()> + 'static> FromRequest for JsonOrEmpty<T> {
    type Error = ApiError;
    type Future = Extracted<Self>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = body_of(request, payload, true);
        Box::pin(async move { body.await.map(JsonOrEmpty) })
    }
}

fn body_of<T: DeserializeOwned + Validate<Context = ()> + 'static>(
    request: &HttpRequest,
    payload: &mut Payload,
    empty_ok: bool,
) -> Extracted<T> {
    let request = request.clone();
    let payload = payload.take();
    Box::pin(async move {
        let raw = read_body(payload, max_body_bytes(&request)).await?;
        let value: T = json(&request, &raw, empty_ok)?;
        validate(&value, "")?;
        Ok(value)
    })
}

fn max_body_bytes(request: &HttpRequest) -> usize {
    request
        .app_data::<web::Data<AppState>>()
        .map_or(64 * 1024, |state| state.max_body_bytes)
}

/// A JSON body whose type the handler decides from its top-level fields (`POST /orders`:
/// tickets or goods): read once; [`RawJson::has_field`] skims the keys without building the
/// values and [`RawJson::parse`] reads it as the chosen type, with the field paths and rules of
/// [`Json`].
#[derive(Debug)]
pub struct RawJson {
    request: HttpRequest,
    bytes: web::Bytes,
}

impl RawJson {
    /// Whether the body's object has the top-level field `name`.
    ///
    /// # Errors
    /// 415, 400, or 422 at `body` for JSON that is not an object, as [`Json`].
    pub fn has_field(&self, name: &str) -> Result<bool, ApiError> {
        let keys: std::collections::HashMap<String, serde::de::IgnoredAny> =
            json(&self.request, &self.bytes, false)?;
        Ok(keys.contains_key(name))
    }

    /// The body as a `T` that passed its garde rules.
    ///
    /// # Errors
    /// As [`Json`].
    pub fn parse<T: DeserializeOwned + Validate<Context = ()>>(&self) -> Result<T, ApiError> {
        let value: T = json(&self.request, &self.bytes, false)?;
        validate(&value, "")?;
        Ok(value)
    }
}

impl FromRequest for RawJson {
    type Error = ApiError;
    type Future = Extracted<Self>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let request = request.clone();
        let payload = payload.take();
        Box::pin(async move {
            let bytes = read_body(payload, max_body_bytes(&request)).await?;
            Ok(RawJson { request, bytes })
        })
    }
}

/// A query string of type `T` that passed its garde rules.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned + Validate<Context = ()>> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(query(request).and_then(|value: T| {
            validate(&value, "query.")?;
            Ok(Query(value))
        }))
    }
}

/// Reads a body of at most `limit` bytes.
///
/// # Errors
/// 413 above the limit; 400 when the body cannot be read.
pub async fn read_body(mut payload: Payload, limit: usize) -> Result<web::Bytes, ApiError> {
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

/// Parses a JSON body. An empty body parses as `{}` when `empty_ok`.
///
/// # Errors
/// 415 for another content type, 400 for broken JSON, 422 with the field path for JSON of the
/// wrong shape (unknown fields, wrong types, huge numbers).
fn json<T: DeserializeOwned>(
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
fn query<T: DeserializeOwned>(request: &HttpRequest) -> Result<T, ApiError> {
    web::Query::<T>::from_query(request.query_string())
        .map(web::Query::into_inner)
        .map_err(|e| ApiError::field("query", "invalid", e.to_string()))
}

/// Parses an id from the path; an id that cannot exist is "not found".
///
/// # Errors
/// 404 when the text is not an id.
pub fn path_id<T: std::str::FromStr>(text: &str, what: &'static str) -> Result<T, ApiError> {
    let id = text.parse().map_err(|_| ApiError::NotFound(what))?;
    if what == "order" {
        // The use-case span declared the field (crate::spans); elsewhere this records nothing.
        tracing::Span::current().record("order_id", text);
    }
    Ok(id)
}
