//! Webhook deliveries over HTTP, signed as the Standard Webhooks specification says
//! (docs/webhooks.md), and the receiver-address rules that keep them from reaching inside the
//! network (SSRF).
//!
//! In production a receiver must be https and resolve to public addresses only. The check runs
//! when a subscription is made and again inside the client's own DNS resolver at every delivery,
//! so a name that starts answering with a private address later is refused at connect time, with
//! the very answer the connection would use. Redirects are never followed and no proxy is used.
//! Development mode allows http to loopback and private addresses.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use order_domain::ports::{UrlRefused, WebhookRequest, WebhookResponse, WebhookTransport};
use order_domain::webhooks::{AttemptRecord, WebhookSecret};
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tracing::Instrument;

/// How deliveries are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookTransportConfig {
    /// The timeout of one attempt, connecting included.
    pub timeout: Duration,
    /// Development mode: http to loopback and private addresses allowed.
    pub allow_private: bool,
}

impl Default for WebhookTransportConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            allow_private: false,
        }
    }
}

/// [`WebhookTransport`] over reqwest.
#[derive(Debug, Clone)]
pub struct HttpWebhookTransport {
    client: reqwest::Client,
    config: WebhookTransportConfig,
}

impl HttpWebhookTransport {
    /// A transport with its own client (no redirects, no proxy, the guarded resolver).
    ///
    /// # Errors
    /// When the HTTP client cannot be built (TLS setup).
    pub fn new(config: WebhookTransportConfig) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent("order-service-webhooks/1")
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: config.allow_private,
            }))
            .build()?;
        Ok(Self { client, config })
    }

    /// The URL's parts as the rules see them, or why it is refused without resolving it.
    fn parse(&self, url: &str) -> Result<(Url, Option<IpAddr>), UrlRefused> {
        let parsed = Url::parse(url).map_err(|e| UrlRefused(format!("not a URL: {e}")))?;
        let host = parsed
            .host_str()
            .ok_or_else(|| UrlRefused("the URL has no host".into()))?;
        let literal: Option<IpAddr> = host.trim_matches(['[', ']']).parse().ok();
        let loopback =
            literal.is_some_and(|ip| ip.is_loopback()) || host.eq_ignore_ascii_case("localhost");
        match parsed.scheme() {
            "https" => {}
            "http" if self.config.allow_private && loopback => {}
            "http" => {
                return Err(UrlRefused(
                    "receivers must use https (http only to loopback in development mode)".into(),
                ));
            }
            other => return Err(UrlRefused(format!("unsupported scheme {other:?}"))),
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(UrlRefused("credentials do not belong in the URL".into()));
        }
        if let Some(ip) = literal.filter(|ip| !self.config.allow_private && !is_public(*ip)) {
            return Err(UrlRefused(format!("{ip} is not a public address")));
        }
        Ok((parsed, literal))
    }
}

#[async_trait]
impl WebhookTransport for HttpWebhookTransport {
    async fn check_url(&self, url: &str) -> Result<(), UrlRefused> {
        let (parsed, literal) = self.parse(url)?;
        if literal.is_some() || self.config.allow_private {
            return Ok(());
        }
        let host = parsed.host_str().unwrap_or_default();
        let port = parsed.port_or_known_default().unwrap_or(443);
        // A resolver that never answers must not hold the admin's request open.
        let lookup =
            tokio::time::timeout(self.config.timeout, tokio::net::lookup_host((host, port)))
                .await
                .map_err(|_| {
                    UrlRefused(format!(
                        "{host} did not resolve within {:?}",
                        self.config.timeout
                    ))
                })?;
        let addresses: Vec<SocketAddr> = lookup
            .map_err(|e| UrlRefused(format!("{host} does not resolve: {e}")))?
            .collect();
        refuse_private(host, &addresses).map_err(UrlRefused)
    }

    fn new_secret(&self) -> WebhookSecret {
        let mut key = [0u8; 32];
        // The system's random source does not fail on the platforms we run on; an all-zero key
        // would be worse than stopping.
        aws_lc_rs::rand::fill(&mut key).expect("the system random source is available");
        WebhookSecret::new(format!("whsec_{}", STANDARD.encode(key)))
    }

    async fn send(&self, request: &WebhookRequest) -> Result<WebhookResponse, String> {
        // IP literals never reach the resolver: the same rule applies to them here.
        self.parse(&request.url).map_err(|refused| refused.0)?;
        let timestamp = request.timestamp.unix_timestamp();
        let id = request.webhook_id.to_string();
        let signatures: Vec<String> = request
            .secrets
            .iter()
            .map(|secret| sign(secret, &id, timestamp, &request.body))
            .collect::<Result<_, _>>()?;
        // The attempt continues the trace its event was handled in, and passes it on.
        let span = tracing::info_span!(
            "webhook delivery",
            otel.kind = "client",
            webhook.id = %id,
            http.response.status_code = tracing::field::Empty,
        );
        order_trace_context::adopt(&span, request.traceparent.as_deref());
        async {
            let outgoing = self
                .client
                .post(&request.url)
                .header("content-type", "application/json")
                .header("webhook-id", &id)
                .header("webhook-timestamp", timestamp.to_string())
                .header("webhook-signature", signatures.join(" "))
                .body(request.body.clone());
            let response = crate::with_trace_context(outgoing)
                .send()
                .await
                .map_err(|e| describe(&e))?;
            let status = response.status().as_u16();
            tracing::Span::current().record("http.response.status_code", status);
            Ok(WebhookResponse {
                status,
                body: read_start(response).await,
            })
        }
        .instrument(span)
        .await
    }
}

/// `v1,` + base64 of HMAC-SHA256 over `{id}.{timestamp}.{body}` with the secret's key bytes (the
/// base64 after `whsec_`), as the Standard Webhooks specification defines the signature.
///
/// # Errors
/// When the secret is not `whsec_` + base64.
pub fn sign(
    secret: &WebhookSecret,
    id: &str,
    timestamp: i64,
    body: &str,
) -> Result<String, String> {
    let encoded = secret
        .expose()
        .strip_prefix("whsec_")
        .ok_or("a signing secret must start with whsec_")?;
    let key_bytes = STANDARD
        .decode(encoded)
        .map_err(|_| "a signing secret must be whsec_ + base64")?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key_bytes);
    let tag = hmac::sign(&key, format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!("v1,{}", STANDARD.encode(tag.as_ref())))
}

/// The start of a receiver's answer, never more than the log keeps (a huge body is not read).
async fn read_start(mut response: reqwest::Response) -> String {
    let limit = AttemptRecord::MAX_BODY_CHARS * 4;
    let mut bytes = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        bytes.extend_from_slice(&chunk);
        if bytes.len() >= limit {
            break;
        }
    }
    AttemptRecord::truncate(&String::from_utf8_lossy(&bytes))
}

fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    // The resolver's refusal is the innermost cause; say it.
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    let mut innermost = None;
    while let Some(cause) = source {
        innermost = Some(cause.to_string());
        source = cause.source();
    }
    match innermost {
        Some(cause) => format!("{kind}: {cause}"),
        None => kind.to_owned(),
    }
}

/// Resolves receiver names and refuses private answers outside development mode.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addresses: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !allow_private {
                refuse_private(&host, &addresses)?;
            }
            let addrs: Addrs = Box::new(addresses.into_iter());
            Ok(addrs)
        })
    }
}

fn refuse_private(host: &str, addresses: &[SocketAddr]) -> Result<(), String> {
    if addresses.is_empty() {
        return Err(format!("{host} has no address"));
    }
    match addresses.iter().find(|a| !is_public(a.ip())) {
        Some(private) => Err(format!(
            "{host} resolves to {}, which is not a public address",
            private.ip()
        )),
        None => Ok(()),
    }
}

/// Whether `ip` is on the public internet. Refused: every IPv4 range IANA marks as not globally
/// reachable (this network, private, shared CGNAT, loopback, link-local, IETF protocol
/// assignments, documentation, benchmarking, multicast, reserved and broadcast), and for IPv6
/// the same plus every form that carries an IPv4 address a gateway would translate — NAT64
/// (`64:ff9b::/96`, `64:ff9b:1::/48`), 6to4 (`2002::/16`), Teredo (`2001::/32`) and the
/// deprecated IPv4-compatible `::a.b.c.d` — since the address behind it cannot be vouched for.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(a == 0
                || a == 10
                || (a == 100 && (64..128).contains(&b))
                || a == 127
                || (a == 169 && b == 254)
                || (a == 172 && (16..32).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 192 && b == 0 && c == 2)
                || (a == 192 && b == 88 && c == 99)
                || (a == 192 && b == 168)
                || (a == 198 && (18..20).contains(&b))
                || (a == 198 && b == 51 && c == 100)
                || (a == 203 && b == 0 && c == 113)
                || a >= 224)
        }
        IpAddr::V6(v6) => {
            if let Some(mapped) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(mapped));
            }
            let s = v6.segments();
            let embeds_ipv4 = s[..6] == [0; 6];
            !(embeds_ipv4
                || (s[0] == 0x64 && s[1] == 0xff9b && (s[2..6] == [0; 4] || s[2] == 1))
                || (s[0] == 0x100 && s[1..4] == [0; 3])
                || (s[0] == 0x2001 && s[1] < 0x200)
                || (s[0] == 0x2001 && s[1] == 0xdb8)
                || s[0] == 0x2002
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] & 0xff00) == 0xff00)
        }
    }
}

#[cfg(test)]
mod tests {
    use order_domain::ids::WebhookDeliveryId;

    use super::*;

    fn transport(allow_private: bool) -> HttpWebhookTransport {
        HttpWebhookTransport::new(WebhookTransportConfig {
            timeout: Duration::from_secs(1),
            allow_private,
        })
        .expect("client")
    }

    #[tokio::test]
    async fn production_refuses_http_and_private_loopback_and_link_local_addresses() {
        let production = transport(false);
        for url in [
            "http://example.com/hook",
            "https://127.0.0.1/hook",
            "https://10.1.2.3/hook",
            "https://192.168.0.7/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/hook",
            "https://[fd00::1]/hook",
            "https://100.64.0.1/hook",
            "https://localhost/hook",
            "https://user:pw@example.com/hook",
            "ftp://example.com/hook",
        ] {
            assert!(production.check_url(url).await.is_err(), "{url} is refused");
        }
        assert!(
            production
                .check_url("https://93.184.215.14/hook")
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn development_allows_http_to_loopback_only() {
        let development = transport(true);
        assert!(
            development
                .check_url("http://127.0.0.1:9/hook")
                .await
                .is_ok()
        );
        assert!(
            development
                .check_url("http://localhost:9/hook")
                .await
                .is_ok()
        );
        assert!(
            development
                .check_url("http://example.com/hook")
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn a_delivery_to_a_private_address_is_refused_at_send_time_too() {
        let request = WebhookRequest {
            url: "https://10.0.0.1/hook".into(),
            webhook_id: WebhookDeliveryId::from_uuid(uuid::Uuid::from_u128(1)),
            timestamp: time::OffsetDateTime::now_utc(),
            body: "{}".into(),
            secrets: vec![transport(false).new_secret()],
            traceparent: None,
        };
        let refused = transport(false).send(&request).await.expect_err("refused");
        assert!(refused.contains("not a public address"), "{refused}");
    }

    #[test]
    fn every_range_that_is_not_the_public_internet_is_refused() {
        let refused = [
            ("0.1.2.3", "this network"),
            ("10.0.0.1", "private"),
            ("100.64.0.1", "shared (CGNAT)"),
            ("100.127.255.254", "shared (CGNAT)"),
            ("127.0.0.1", "loopback"),
            ("169.254.169.254", "link-local (cloud metadata)"),
            ("172.16.0.1", "private"),
            ("172.31.255.254", "private"),
            ("192.0.0.8", "IETF protocol assignments"),
            ("192.0.2.1", "documentation"),
            ("192.88.99.1", "6to4 relay anycast"),
            ("192.168.1.1", "private"),
            ("198.18.0.1", "benchmarking"),
            ("198.19.255.254", "benchmarking"),
            ("198.51.100.1", "documentation"),
            ("203.0.113.1", "documentation"),
            ("224.0.0.1", "multicast"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.255", "broadcast"),
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("::ffff:10.0.0.1", "IPv4-mapped private"),
            ("::ffff:127.0.0.1", "IPv4-mapped loopback"),
            ("::10.0.0.1", "IPv4-compatible"),
            ("::8.8.8.8", "IPv4-compatible (deprecated, translated)"),
            ("64:ff9b::a00:1", "NAT64"),
            ("64:ff9b::808:808", "NAT64 of a public address"),
            ("64:ff9b:1::1", "local-use NAT64"),
            ("100::1", "discard-only"),
            ("2001::1", "Teredo"),
            ("2001:0:4136:e378::1", "Teredo"),
            ("2001:10::1", "ORCHID"),
            ("2001:db8::1", "documentation"),
            ("2002:a00:1::1", "6to4"),
            ("2002:808:808::1", "6to4 of a public address"),
            ("fc00::1", "unique local"),
            ("fd12:3456::1", "unique local"),
            ("fe80::1", "link-local"),
            ("fec0::1", "site-local"),
            ("ff02::1", "multicast"),
        ];
        for (ip, range) in refused {
            let ip: IpAddr = ip.parse().expect(ip);
            assert!(!is_public(ip), "{ip} ({range}) must be refused");
        }
        let public = [
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "192.0.1.1",
            "198.17.255.255",
            "198.20.0.1",
            "223.255.255.254",
            "::ffff:8.8.8.8",
            "2001:4860:4860::8888",
            "2606:4700:4700::1111",
            "2a00:1450::1",
        ];
        for ip in public {
            let parsed: IpAddr = ip.parse().expect(ip);
            assert!(is_public(parsed), "{ip} is public");
        }
    }

    #[test]
    fn the_signature_matches_the_specifications_example() {
        // The example of the Standard Webhooks specification.
        let secret = WebhookSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let signature = sign(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        )
        .expect("signed");
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn new_secrets_are_whsec_and_32_random_bytes() {
        let t = transport(false);
        let (a, b) = (t.new_secret(), t.new_secret());
        assert_ne!(a, b);
        let key = STANDARD
            .decode(a.expose().strip_prefix("whsec_").expect("prefix"))
            .expect("base64");
        assert_eq!(key.len(), 32);
    }
}
