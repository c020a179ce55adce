//! The interactive API reference at `/docs` (docs/http-api.md): Swagger UI over this instance's
//! `/openapi.json`, every file served by us from the binary.
//!
//! Swagger UI is vendored from the npm registry at a pinned version (`static/swagger-ui/`, made by
//! `deploy/vendor/swagger-ui.sh`, checksums in its `SHA256SUMS`), so the page loads nothing from
//! a CDN and works offline. The page starts it from a script file of its own: the Content Security
//! Policy allows scripts and styles from this origin only, never inline script.

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::middleware::DefaultHeaders;
use actix_web::web::{self, ServiceConfig};
use actix_web::{HttpResponse, get};

/// Content Security Policy of the reference: scripts and styles of this origin only (no inline
/// script), requests only to this instance, Swagger UI's icons as data URLs, no frames.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// The page `/docs` answers.
pub const PAGE: &str = include_str!("../static/api-reference.html");

/// The files the page loads, by name under `/docs/assets/`.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "swagger-ui-bundle.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../static/swagger-ui/swagger-ui-bundle.js"),
    ),
    (
        "swagger-ui.css",
        "text/css; charset=utf-8",
        include_bytes!("../static/swagger-ui/swagger-ui.css"),
    ),
    (
        "api-reference.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../static/api-reference.js"),
    ),
    (
        "api-reference.css",
        "text/css; charset=utf-8",
        include_bytes!("../static/api-reference.css"),
    ),
];

/// The headers of the page and of its files.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("content-security-policy", CONTENT_SECURITY_POLICY))
        .add(("referrer-policy", "no-referrer"))
        .add(("x-content-type-options", "nosniff"))
        .add(("x-frame-options", "DENY"))
}

/// Mounts the page's files under `/docs/assets` (the page itself is a documented route).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        web::scope("/docs/assets")
            .wrap(security_headers())
            .service(asset),
    );
}

/// One of the page's files. They change only with the binary, so a day of caching is safe.
#[get("/{file}")]
async fn asset(file: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|(name, _, _)| *name == file.as_str()) {
        Some((_, content_type, bytes)) => HttpResponse::Ok()
            .content_type(*content_type)
            .insert_header(CacheControl(vec![
                CacheDirective::Public,
                CacheDirective::MaxAge(86_400),
            ]))
            .body(*bytes),
        None => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("no such file of the API reference"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vendored files are the release `deploy/vendor/swagger-ui.sh` fetched, unedited.
    #[test]
    fn the_vendored_swagger_ui_matches_its_recorded_checksums() {
        let sums = include_str!("../static/swagger-ui/SHA256SUMS");
        let mut checked = 0;
        for line in sums.lines().filter(|l| !l.trim().is_empty()) {
            let (expected, name) = line.split_once("  ").expect("`sum  name` lines");
            let (_, _, bytes) = ASSETS
                .iter()
                .find(|(served, _, _)| *served == name)
                .unwrap_or_else(|| panic!("{name} is served"));
            use sha2::Digest;
            let actual: String = sha2::Sha256::digest(bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(actual, expected, "{name} was changed after vendoring");
            checked += 1;
        }
        assert_eq!(checked, 2);
    }

    #[test]
    fn the_page_loads_only_files_of_its_own_and_no_inline_script() {
        for (name, _, _) in ASSETS {
            assert!(PAGE.contains(&format!("/docs/assets/{name}")), "{name}");
        }
        assert!(!PAGE.contains("<script>"), "no inline script");
        assert!(!PAGE.contains("http://") && !PAGE.contains("https://"));
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe"));
    }
}
