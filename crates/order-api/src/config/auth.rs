//! Who may call: the JWT verification key and the service keys.

use std::collections::{BTreeMap, BTreeSet};

use order_domain::ids::TenantId;
use secrecy::SecretString;
use serde::Deserialize;

use super::values::{ConfigError, Minutes};

/// How bearer tokens are verified.
#[derive(Debug, Clone)]
pub enum JwtKey {
    /// HS256 with `JWT_SECRET`.
    Hs256(SecretString),
    /// RS256 with the PEM public key in `JWT_PUBLIC_KEY`.
    Rs256(String),
}

/// JWT settings.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    /// Verification key.
    pub key: JwtKey,
    /// Required `iss`, when set (`JWT_ISSUER`).
    pub issuer: Option<String>,
    /// Required `aud`, when set (`JWT_AUDIENCE`).
    pub audience: Option<String>,
    /// HS256 secret used by `dev-token` (the same as the verification secret).
    pub signing_secret: Option<SecretString>,
    /// The longest a token may be valid, from `iat` (when given) and from now to `exp`
    /// (`JWT_MAX_LIFETIME_MINUTES`, 1440): a stolen long-lived token is refused.
    pub max_lifetime: time::Duration,
}

/// A service allowed on `/internal/v1/*`.
#[derive(Debug, Clone)]
pub struct ServiceKey {
    /// Name recorded as the actor.
    pub name: String,
    /// The key it sends as `Authorization: Service-Key <key>`.
    pub key: SecretString,
    /// The routes it may call (`SERVICE_KEY_SCOPES`).
    pub scopes: BTreeSet<ServiceScope>,
    /// The tenants it may act for (`SERVICE_KEY_TENANTS`); `None`: every tenant.
    pub tenants: Option<BTreeSet<TenantId>>,
}

/// What a service key may do: each scope opens one route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServiceScope {
    /// `POST /internal/v1/orders/{id}/confirm` (the payment service).
    Confirm,
    /// `POST /internal/v1/orders/{id}/expire` (the scheduler).
    Expire,
    /// `GET /internal/v1/orders/expiring`, across tenants (the scheduler).
    Expiring,
    /// `POST /internal/v1/orders/bulk/cancel` (the event service).
    BulkCancel,
    /// `GET /internal/v1/jobs/{id}`: the state of the caller's own jobs.
    Jobs,
    /// `GET /health/detailed` (monitoring).
    Health,
}

impl ServiceScope {
    /// Every scope.
    pub const ALL: [Self; 6] = [
        Self::Confirm,
        Self::Expire,
        Self::Expiring,
        Self::BulkCancel,
        Self::Jobs,
        Self::Health,
    ];

    /// Its name in `SERVICE_KEY_SCOPES`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::Expire => "expire",
            Self::Expiring => "expiring",
            Self::BulkCancel => "bulk_cancel",
            Self::Jobs => "jobs",
            Self::Health => "health",
        }
    }

    /// The scope a route (its template, as actix matched it) needs; `None` for a route no
    /// service key opens.
    pub fn of_route(template: &str) -> Option<Self> {
        Some(match template {
            "/internal/v1/orders/{id}/confirm" => Self::Confirm,
            "/internal/v1/orders/{id}/expire" => Self::Expire,
            "/internal/v1/orders/expiring" => Self::Expiring,
            "/internal/v1/orders/bulk/cancel" => Self::BulkCancel,
            "/internal/v1/jobs/{id}" => Self::Jobs,
            "/health/detailed" => Self::Health,
            _ => return None,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(super) struct AuthVars {
    jwt_secret: Option<SecretString>,
    jwt_public_key: Option<String>,
    jwt_issuer: Option<String>,
    jwt_audience: Option<String>,
    jwt_max_lifetime_minutes: Option<Minutes>,
    app_env: Option<String>,
    service_api_keys: Option<SecretString>,
    service_key_scopes: Option<String>,
    service_key_tenants: Option<String>,
}

impl AuthVars {
    pub(super) fn resolve(self) -> Result<(JwtConfig, Vec<ServiceKey>), ConfigError> {
        use secrecy::ExposeSecret;
        let key = match (&self.jwt_secret, self.jwt_public_key) {
            (_, Some(pem)) => JwtKey::Rs256(pem),
            (Some(secret), None) if secret.expose_secret().len() >= 32 => {
                JwtKey::Hs256(secret.clone())
            }
            (Some(_), None) => {
                return Err(ConfigError::new(
                    "JWT_SECRET",
                    "must be at least 32 characters",
                ));
            }
            (None, None) => {
                return Err(ConfigError::new(
                    "JWT_SECRET",
                    "is required (or JWT_PUBLIC_KEY for RS256)",
                ));
            }
        };
        let mut service_keys: Vec<ServiceKey> = match &self.service_api_keys {
            None => Vec::new(),
            Some(list) => list
                .expose_secret()
                .split(',')
                .map(service_key)
                .collect::<Result<_, _>>()?,
        };
        let scopes = per_service(
            "SERVICE_KEY_SCOPES",
            self.service_key_scopes.as_deref(),
            &service_keys,
            |name| {
                ServiceScope::ALL
                    .into_iter()
                    .find(|s| s.as_str() == name)
                    .ok_or_else(|| {
                        let known: Vec<_> = ServiceScope::ALL.iter().map(|s| s.as_str()).collect();
                        format!("unknown scope {name:?} (known: {})", known.join(", "))
                    })
            },
        )?;
        let tenants = per_service(
            "SERVICE_KEY_TENANTS",
            self.service_key_tenants.as_deref(),
            &service_keys,
            |id| {
                id.parse::<TenantId>()
                    .map_err(|_| format!("{id:?} is not a tenant id (a UUID)"))
            },
        )?;
        for key in &mut service_keys {
            key.scopes = scopes.get(&key.name).cloned().ok_or_else(|| {
                ConfigError::new(
                    "SERVICE_KEY_SCOPES",
                    format!(
                        "names no scopes for the service {:?}: give it the routes it calls, \
                         e.g. {}=confirm",
                        key.name, key.name
                    ),
                )
            })?;
            key.tenants = tenants.get(&key.name).cloned();
        }
        let production = match self.app_env.as_deref().map(str::trim) {
            None | Some("development") => false,
            Some("production") => true,
            Some(other) => {
                return Err(ConfigError::new(
                    "APP_ENV",
                    format!("must be development or production, not {other:?}"),
                ));
            }
        };
        if production {
            // Without them any token signed with the key is accepted, whoever it was issued for.
            for (variable, value) in [
                ("JWT_ISSUER", &self.jwt_issuer),
                ("JWT_AUDIENCE", &self.jwt_audience),
            ] {
                if value.as_deref().is_none_or(|v| v.trim().is_empty()) {
                    return Err(ConfigError::new(
                        variable,
                        "is required when APP_ENV=production: name the identity provider's \
                         issuer and this service's audience",
                    ));
                }
            }
        }
        Ok((
            JwtConfig {
                key,
                issuer: self.jwt_issuer,
                audience: self.jwt_audience,
                signing_secret: self.jwt_secret,
                max_lifetime: self
                    .jwt_max_lifetime_minutes
                    .map_or(time::Duration::hours(24), |m| m.0),
            },
            service_keys,
        ))
    }
}

/// One `name:key` entry of `SERVICE_API_KEYS`.
fn service_key(entry: &str) -> Result<ServiceKey, ConfigError> {
    let (name, key) = entry.trim().split_once(':').ok_or_else(|| {
        ConfigError::new(
            "SERVICE_API_KEYS",
            "must be a list of name:key pairs separated by commas",
        )
    })?;
    if key.len() < 16 {
        return Err(ConfigError::new(
            "SERVICE_API_KEYS",
            format!("the key of {name:?} must be at least 16 characters"),
        ));
    }
    Ok(ServiceKey {
        name: name.to_owned(),
        key: SecretString::from(key.to_owned()),
        scopes: BTreeSet::new(),
        tenants: None,
    })
}

/// `name=a,b;name=c` of `variable`, each value parsed by `parse`, for the services of `keys`.
fn per_service<T: Ord>(
    variable: &str,
    text: Option<&str>,
    keys: &[ServiceKey],
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<BTreeMap<String, BTreeSet<T>>, ConfigError> {
    let mut entries = BTreeMap::new();
    for entry in text
        .unwrap_or("")
        .split(';')
        .filter(|e| !e.trim().is_empty())
    {
        let (name, values) = entry.split_once('=').ok_or_else(|| {
            ConfigError::new(
                variable,
                "must be name=value,value entries separated by ';'",
            )
        })?;
        let name = name.trim();
        // A deployment may list the scopes of every service it knows and give keys to some:
        // an entry without a key opens nothing (and a misspelt one leaves its key without
        // scopes, which stops the start).
        if !keys.iter().any(|k| k.name == name) {
            continue;
        }
        let values = values
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(&parse)
            .collect::<Result<BTreeSet<T>, String>>()
            .map_err(|e| ConfigError::new(variable, e))?;
        entries.insert(name.to_owned(), values);
    }
    Ok(entries)
}
