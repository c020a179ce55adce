//! Who may call: the JWT verification key and the service keys.

use secrecy::SecretString;
use serde::Deserialize;

use super::values::ConfigError;

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
}

/// A service allowed on `/internal/v1/*`.
#[derive(Debug, Clone)]
pub struct ServiceKey {
    /// Name recorded as the actor.
    pub name: String,
    /// The key it sends as `Authorization: Service-Key <key>`.
    pub key: SecretString,
}

#[derive(Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(super) struct AuthVars {
    jwt_secret: Option<SecretString>,
    jwt_public_key: Option<String>,
    jwt_issuer: Option<String>,
    jwt_audience: Option<String>,
    service_api_keys: Option<SecretString>,
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
        let service_keys = match &self.service_api_keys {
            None => Vec::new(),
            Some(list) => list
                .expose_secret()
                .split(',')
                .map(service_key)
                .collect::<Result<_, _>>()?,
        };
        Ok((
            JwtConfig {
                key,
                issuer: self.jwt_issuer,
                audience: self.jwt_audience,
                signing_secret: self.jwt_secret,
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
    })
}
