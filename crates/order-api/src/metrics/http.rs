//! The HTTP middleware: request rate, errors and duration per method and route template, with
//! bounded labels (unknown methods are `OTHER`, unmatched paths `unmatched`).

use std::time::Instant;

use super::AppMetrics;

/// The `method` label: the methods HTTP defines, and `OTHER` for anything a client makes up, so
/// that nobody can add series by inventing methods.
fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method as M;
    match *method {
        M::GET => "GET",
        M::HEAD => "HEAD",
        M::POST => "POST",
        M::PUT => "PUT",
        M::PATCH => "PATCH",
        M::DELETE => "DELETE",
        M::OPTIONS => "OPTIONS",
        M::TRACE => "TRACE",
        M::CONNECT => "CONNECT",
        _ => "OTHER",
    }
}

/// Counts and times every HTTP request by its route template (`/api/v1/orders/{id}`), so that
/// ids never become label values; an unknown path is `unmatched`, an unknown method `OTHER`:
/// the label values are bounded by the routes we serve.
///
/// # Errors
/// What the rest of the pipeline returns.
pub async fn record_http(
    request: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let metrics = request
        .app_data::<actix_web::web::Data<AppMetrics>>()
        .map(|metrics| metrics.clone().into_inner());
    let method = method_label(request.method());
    let route = request
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let started = Instant::now();
    let response = next.call(request).await;
    if let Some(metrics) = metrics {
        let status = match &response {
            Ok(response) => response.status().as_u16(),
            Err(error) => error.as_response_error().status_code().as_u16(),
        };
        let elapsed = started.elapsed();
        metrics.http_request(method, &route, status, elapsed);
        // The access log: route templates only, so no id or query string reaches it.
        tracing::info!(
            method,
            route,
            status,
            latency_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            "request"
        );
    }
    response
}
