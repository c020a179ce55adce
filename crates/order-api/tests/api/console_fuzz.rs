//! The console under random input. It is no part of the OpenAPI document, so the schemathesis run
//! of `just fuzz` never reaches it: this test sends 600 requests built from a seeded generator —
//! malformed ids, dates, statuses, cursors, e-mails, control characters, 4 000-character fields,
//! unknown fields, missing or wrong CSRF values, no session, a buyer's session — to every page
//! and form, and requires that none answers a 5xx or shows a trace, and that the service still
//! answers afterwards.

use reqwest::header::{CONTENT_TYPE, COOKIE};
use reqwest::redirect::Policy;
use time::{Duration, OffsetDateTime};

use order_domain::actor::Role;

use crate::helpers::*;

/// The console's routes, `{}` standing for a path segment the generator fills.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/console"),
    ("GET", "/console/sign-in"),
    ("POST", "/console/sign-in"),
    ("POST", "/console/sign-out"),
    ("GET", "/console/orders/{}"),
    ("GET", "/console/refunds"),
    ("POST", "/console/refunds/{}/approve"),
    ("POST", "/console/refunds/{}/reject"),
    ("POST", "/console/refunds/{}/retry"),
    ("GET", "/console/warehouse"),
    ("POST", "/console/warehouse/{}/start"),
    ("POST", "/console/warehouse/{}/ship"),
    ("POST", "/console/warehouse/{}/deliver"),
    ("GET", "/console/analytics"),
    ("GET", "/console/webhooks"),
    ("GET", "/console/webhooks/{}"),
    ("POST", "/console/webhooks/{}/deliveries/{}/replay"),
    ("GET", "/console/reconciliation"),
    ("POST", "/console/reconciliation"),
    ("GET", "/console/reconciliation/{}"),
];

/// Field names the forms and searches read, and some they do not.
const FIELDS: &[&str] = &[
    "orderNumber",
    "userId",
    "email",
    "status",
    "eventId",
    "from",
    "to",
    "cursor",
    "token",
    "reason",
    "carrier",
    "trackingNumber",
    "days",
    "csrf",
    "limit",
    "unknown",
    "",
];

const REQUESTS: usize = 600;

/// splitmix64: a fixed sequence, so a failure replays exactly.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n).expect("small")).expect("small")
    }

    fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
        &from[self.below(from.len())]
    }

    /// A string of up to `max` characters from every plane that matters: ASCII, controls,
    /// separators the forms split on, and characters outside the BMP.
    fn text(&mut self, max: usize) -> String {
        let alphabet = [
            'a', 'Z', '0', '9', '-', '_', '@', '.', '%', '&', '=', '+', ';', '/', '\\', '"', '\'',
            '<', '>', ' ', '\0', '\n', '\u{7f}', 'é', 'ß', '中', '😀', '\u{202e}',
        ];
        let len = self.below(max + 1);
        (0..len).map(|_| *self.pick(&alphabet)).collect()
    }
}

fn percent_encoded(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn random_input_to_every_console_page_and_form_never_meets_a_5xx() {
    let app = spawn_app().await;
    let order = app.confirmed_order(1, 1).await;
    let order_id = order["id"].as_str().expect("id").to_owned();
    let number = order["orderNumber"].as_str().expect("number").to_owned();
    let known: Vec<String> = vec![
        String::new(),
        order_id,
        number,
        uuid::Uuid::nil().to_string(),
        uuid::Uuid::now_v7().to_string(),
        "not-an-id".into(),
        "-1".into(),
        "99999999999999999999999".into(),
        "2026-12-07".into(),
        "2026-13-45".into(),
        "0000-01-01".into(),
        "9999-12-31".into(),
        "CONFIRMED".into(),
        "shipped".into(),
        "REFUNDED".into(),
        "ada@example.org".into(),
        "@".into(),
        "eyJjcmVhdGVkQXQiOiJ4In0".into(),
        "<script>alert(1)</script>".into(),
        "' OR 1=1 --".into(),
        "x".repeat(4_000),
    ];
    // Operators of their own, so the 60 actions a minute each may take do not turn every form
    // into a 429 before its handler runs.
    let operators: Vec<String> = (0..12)
        .map(|n| {
            token_with(
                tenant_a(),
                user(2_000 + n),
                &[Role::Admin],
                OffsetDateTime::now_utc() + Duration::hours(1),
            )
        })
        .chain([customer(1), crate::shop::warehouse()])
        .collect();
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client");

    let mut random = Seeded(0x5EED_C0DE);
    let mut by_status = std::collections::BTreeMap::<u16, usize>::new();
    for n in 0..REQUESTS {
        let (method, template) = *random.pick(ROUTES);
        let mut path = String::new();
        for (i, piece) in template.split("{}").enumerate() {
            if i > 0 {
                let segment = if random.below(3) == 0 {
                    random.text(40)
                } else {
                    random.pick(&known).clone()
                };
                path.push_str(&percent_encoded(&segment));
            }
            path.push_str(piece);
        }
        let csrf = "fuzz-csrf-value";
        let mut fields: Vec<(String, String)> = (0..random.below(6))
            .map(|_| {
                let value = if random.below(2) == 0 {
                    random.text(60)
                } else {
                    random.pick(&known).clone()
                };
                ((*random.pick(FIELDS)).to_owned(), value)
            })
            .collect();
        if method == "POST" && random.below(5) > 0 {
            fields.push(("csrf".into(), csrf.into()));
        }
        let encoded = serde_urlencoded::to_string(&fields).expect("form");
        let mut request = if method == "GET" {
            client.get(app.url(&format!("{path}?{encoded}")))
        } else {
            client
                .post(app.url(&path))
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(encoded)
        };
        let session = match random.below(6) {
            0 => None,
            1 => Some(random.text(30)),
            _ => Some(random.pick(&operators).clone()),
        };
        if let Some(session) = session {
            request = request.header(
                COOKIE,
                format!(
                    "order_console_csrf={csrf}; order_console_session={}",
                    percent_encoded(&session)
                ),
            );
        }
        let answer = request.send().await.expect("an answer");
        let status = answer.status().as_u16();
        let body = answer.text().await.unwrap_or_default();
        assert!(
            status < 500 && !body.contains("panicked") && !body.contains("stack backtrace"),
            "request {n}: {method} {path} with {fields:?} answered {status}: {body}"
        );
        *by_status.entry(status).or_default() += 1;
    }
    eprintln!("console fuzz: answers by status {by_status:?}");
    // Not every request bounced off the same check: pages, refusals and form errors all ran.
    for expected in [200, 303, 403, 404] {
        assert!(
            by_status.get(&expected).copied().unwrap_or(0) > 0,
            "some answered {expected}: {by_status:?}"
        );
    }
    let alive = client
        .get(app.url("/health/liveness"))
        .send()
        .await
        .expect("liveness");
    assert_eq!(alive.status(), 200);
}
