//! Authentication: JWT bearer tokens for people, service keys for other services.
//!
//! Tokens carry `sub`, `tenant_id`, `roles`, `vip` and `exp`; only the configured algorithm is
//! accepted, so `alg: none` and algorithm-confusion tokens fail like any tampered token.

use secrecy::ExposeSecret;
use std::net::IpAddr;

use actix_web::{HttpMessage, HttpRequest};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use order_domain::actor::{Actor, RequestContext, Role};
use order_domain::ids::{TenantId, UserId};
use order_domain::order::ContactEmail;
use serde::{Deserialize, Serialize};

use crate::client_ip::TrustedProxies;
use crate::config::{JwtConfig, JwtKey, ServiceKey, ServiceScope};
use crate::error::ApiError;

/// The claims we read from a bearer token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: UserId,
    /// The user's tenant.
    pub tenant_id: TenantId,
    /// `customer`, `admin`, `warehouse`.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// Longer reservations.
    #[serde(default)]
    pub vip: bool,
    /// The user's e-mail address: kept with the orders they place, for notifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Not valid before, seconds since the epoch (checked when given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

/// Verifies bearer tokens and service keys.
#[derive(Clone)]
pub struct Authenticator {
    decoding: DecodingKey,
    validation: Validation,
    service_keys: Vec<ServiceKey>,
    proxies: TrustedProxies,
    max_lifetime_seconds: i64,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").finish_non_exhaustive()
    }
}

impl Authenticator {
    /// From the JWT settings and the service keys.
    ///
    /// # Errors
    /// When the RS256 public key is not valid PEM.
    pub fn new(
        jwt: &JwtConfig,
        service_keys: Vec<ServiceKey>,
    ) -> Result<Self, jsonwebtoken::errors::Error> {
        let (decoding, algorithm) = match &jwt.key {
            JwtKey::Hs256(secret) => (
                DecodingKey::from_secret(secret.expose_secret().as_bytes()),
                Algorithm::HS256,
            ),
            JwtKey::Rs256(pem) => (DecodingKey::from_rsa_pem(pem.as_bytes())?, Algorithm::RS256),
        };
        let mut validation = Validation::new(algorithm);
        validation.leeway = 5;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        match &jwt.issuer {
            Some(issuer) => validation.set_issuer(&[issuer]),
            None => validation.iss = None,
        }
        match &jwt.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        Ok(Self {
            decoding,
            validation,
            service_keys,
            proxies: TrustedProxies::default(),
            max_lifetime_seconds: jwt.max_lifetime.whole_seconds(),
        })
    }

    /// Believes `X-Forwarded-For` from these proxies when recording the caller's address.
    #[must_use]
    pub fn with_trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.proxies = proxies;
        self
    }

    /// The caller's address for the audit trail ([`TrustedProxies::client_ip`]).
    pub fn client_ip(&self, request: &HttpRequest) -> Option<IpAddr> {
        self.proxies.of_request(request)
    }

    /// The caller of a public route, from `Authorization: Bearer <jwt>`; a valid `email` claim
    /// is left in the request's extensions as a [`ContactEmail`].
    ///
    /// # Errors
    /// [`ApiError::Unauthorized`] for a missing, malformed, expired, tampered or wrong-key token.
    pub fn user(&self, request: &HttpRequest) -> Result<RequestContext, ApiError> {
        let token = header(request)
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized("a bearer token is required"))?;
        self.verify_token(token, request).map(|(ctx, _)| ctx)
    }

    /// `token` checked as [`Authenticator::user`] checks a bearer token (the console's session
    /// holds one): the caller, and when the token expires (Unix seconds).
    ///
    /// # Errors
    /// [`ApiError::Unauthorized`] for a malformed, expired, tampered or wrong-key token.
    pub fn verify_token(
        &self,
        token: &str,
        request: &HttpRequest,
    ) -> Result<(RequestContext, i64), ApiError> {
        let claims = decode::<Claims>(token.trim(), &self.decoding, &self.validation)
            .map_err(|_| ApiError::Unauthorized("the token is invalid or expired"))?
            .claims;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let lifetime = claims
            .exp
            .saturating_sub(claims.iat.unwrap_or(now).min(now));
        if lifetime > self.max_lifetime_seconds {
            return Err(ApiError::Unauthorized(
                "the token is valid for longer than this service accepts (JWT_MAX_LIFETIME_MINUTES)",
            ));
        }
        // A malformed address is dropped rather than refused: notifications then go by user id.
        if let Some(email) = claims
            .email
            .as_deref()
            .and_then(|e| ContactEmail::parse(e).ok())
        {
            request.extensions_mut().insert(email);
        }
        Ok((
            RequestContext {
                tenant_id: claims.tenant_id,
                actor: Actor::User {
                    id: claims.sub,
                    roles: if claims.roles.is_empty() {
                        vec![Role::Customer]
                    } else {
                        claims.roles
                    },
                    vip: claims.vip,
                },
                ip: self.client_ip(request),
            },
            claims.exp,
        ))
    }

    /// The calling service of an internal route, from `Authorization: Service-Key <key>`; the
    /// tenant comes from `X-Tenant-Id` when the route needs one. The key must hold the route's
    /// [scope](ServiceScope), and a key limited to some tenants may name only those.
    ///
    /// # Errors
    /// [`ApiError::Unauthorized`] for a missing or unknown key; 403 for a route or tenant the key
    /// is not for.
    pub fn service(&self, request: &HttpRequest) -> Result<(String, Option<TenantId>), ApiError> {
        let given = header(request)
            .and_then(|h| h.strip_prefix("Service-Key "))
            .ok_or(ApiError::Unauthorized("a service key is required"))?
            .trim();
        // Compare against every key, each in constant time, so timing reveals nothing.
        let mut found = None;
        for service in &self.service_keys {
            if constant_time_eq(service.key.expose_secret().as_bytes(), given.as_bytes()) {
                found = Some(service);
            }
        }
        let service = found.ok_or(ApiError::Unauthorized("the service key is not valid"))?;
        let scope = request
            .match_pattern()
            .and_then(|template| ServiceScope::of_route(&template));
        if !scope.is_some_and(|scope| service.scopes.contains(&scope)) {
            return Err(ApiError::ServiceForbidden(format!(
                "the key of {:?} does not open this route (SERVICE_KEY_SCOPES)",
                service.name
            )));
        }
        let tenant = match request.headers().get("x-tenant-id") {
            None => None,
            Some(value) => Some(
                value
                    .to_str()
                    .ok()
                    .and_then(|v| v.parse::<TenantId>().ok())
                    .ok_or_else(|| {
                        ApiError::field("header.X-Tenant-Id", "invalid", "must be a UUID")
                    })?,
            ),
        };
        if let Some(allowed) = &service.tenants {
            // A key for some tenants acts in one of them, never across all.
            if !tenant.is_some_and(|tenant| allowed.contains(&tenant)) {
                return Err(ApiError::ServiceForbidden(format!(
                    "the key of {:?} is not for this tenant (SERVICE_KEY_TENANTS)",
                    service.name
                )));
            }
        }
        Ok((service.name.clone(), tenant))
    }
}

fn header(request: &HttpRequest) -> Option<&str> {
    request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
}

/// Equal-length comparison that does not stop at the first difference.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Signs an HS256 development token (`order-api dev-token`).
///
/// # Errors
/// When signing fails.
pub fn sign_dev_token(
    secret: &str,
    claims: &Claims,
) -> Result<String, jsonwebtoken::errors::Error> {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_comparison_matches_equality() {
        assert!(constant_time_eq(b"secret-key", b"secret-key"));
        assert!(!constant_time_eq(b"secret-key", b"secret-kex"));
        assert!(!constant_time_eq(b"secret", b"secret-key"));
    }
}
