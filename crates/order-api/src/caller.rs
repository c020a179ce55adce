//! Who is calling, as extractors: [`User`] (a person with a JWT), [`Service`] (another service
//! with a service key, acting in the tenant of `X-Tenant-Id`), [`AnyTenantService`] (a service
//! on a cross-tenant route) and [`Shopper`] (a signed-in buyer, or an anonymous [`Session`] named
//! by `X-Tenant-Id` + `X-Session-Id`, for the cart routes).
//!
//! The command pipeline ([`crate::guards`]) authenticates first — its rate limits and idempotency
//! keys are scoped to the caller — and leaves the context in the request's extensions; these
//! extractors take it from there, or authenticate themselves on routes without the pipeline.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use order_domain::actor::{Actor, RequestContext};
use order_domain::cart::CartOwner;
use order_domain::ids::{SessionId, TenantId};
use order_domain::order::ContactEmail;

use crate::error::ApiError;
use crate::state::AppState;

/// Which kind of caller a route admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerKind {
    /// `Authorization: Bearer <jwt>`.
    User,
    /// `Authorization: Service-Key <key>` with `X-Tenant-Id`.
    Service,
    /// A buyer's bearer token, or an anonymous session (`X-Tenant-Id` + `X-Session-Id`).
    Shopper,
}

/// An identified caller: a context with an actor, or an anonymous shopping session.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A user or a service.
    Known(RequestContext),
    /// A shopper without an account.
    Anonymous(Session),
}

impl Caller {
    /// The part of idempotency and rate-limit keys that names the caller: tenant plus user,
    /// service or session.
    pub fn scope(&self) -> String {
        match self {
            Self::Known(ctx) => {
                let who = match &ctx.actor {
                    Actor::User { id, .. } => format!("user:{id}"),
                    Actor::Service { name } | Actor::System { name } => format!("service:{name}"),
                };
                format!("{}:{who}", ctx.tenant_id)
            }
            Self::Anonymous(session) => {
                format!("{}:session:{}", session.tenant_id, session.session_id)
            }
        }
    }

    /// Leaves the caller in the request's extensions for the handler's extractors.
    pub fn remember(self, extensions: &mut actix_web::dev::Extensions) {
        match self {
            Self::Known(ctx) => {
                extensions.insert(ctx);
            }
            Self::Anonymous(session) => {
                extensions.insert(session);
            }
        }
    }
}

impl CallerKind {
    /// Identifies the caller of `request` as this kind admits.
    ///
    /// # Errors
    /// 401 for missing or bad credentials; 422 for a missing or malformed tenant or session.
    pub fn identify(self, request: &HttpRequest) -> Result<Caller, ApiError> {
        match self {
            Self::Shopper if !request.headers().contains_key("authorization") => {
                Session::of(request).map(Caller::Anonymous)
            }
            Self::Shopper => Self::User.authenticate(request).map(Caller::Known),
            known => known.authenticate(request).map(Caller::Known),
        }
    }

    /// Authenticates `request` as a user or a service.
    ///
    /// # Errors
    /// 401 for missing or bad credentials; 422 for a service call without a valid tenant.
    fn authenticate(self, request: &HttpRequest) -> Result<RequestContext, ApiError> {
        let state = state(request)?;
        match self {
            Self::User | Self::Shopper => state.auth.user(request),
            Self::Service => {
                let (name, tenant) = state.auth.service(request)?;
                let tenant_id = tenant.ok_or_else(|| {
                    ApiError::field(
                        "header.X-Tenant-Id",
                        "required",
                        "internal order routes need the tenant",
                    )
                })?;
                Ok(RequestContext {
                    tenant_id,
                    actor: Actor::Service { name },
                    ip: state.auth.client_ip(request),
                })
            }
        }
    }

    /// The context the pipeline stored, or a fresh authentication.
    fn context(self, request: &HttpRequest) -> Result<RequestContext, ApiError> {
        if let Some(ctx) = request.extensions().get::<RequestContext>() {
            return Ok(ctx.clone());
        }
        self.authenticate(request)
    }
}

fn state(request: &HttpRequest) -> Result<&web::Data<AppState>, ApiError> {
    request
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal("the application state is not configured".into()))
}

/// The e-mail address the caller's token named (its `email` claim), when it names a valid one.
#[derive(Debug, Clone)]
pub struct Contact(pub Option<ContactEmail>);

impl FromRequest for Contact {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Authenticating leaves the address in the extensions; the pipeline usually did already.
        let authenticated = CallerKind::User.context(request);
        ready(authenticated.map(|_| Contact(request.extensions().get::<ContactEmail>().cloned())))
    }
}

/// A person calling a public route.
#[derive(Debug, Clone)]
pub struct User(pub RequestContext);

impl FromRequest for User {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(CallerKind::User.context(request).map(User))
    }
}

/// A service calling an internal route of one tenant (`X-Tenant-Id`).
#[derive(Debug, Clone)]
pub struct Service(pub RequestContext);

impl FromRequest for Service {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(CallerKind::Service.context(request).map(Service))
    }
}

/// A service calling a cross-tenant internal route; the name of the service.
#[derive(Debug, Clone)]
pub struct AnyTenantService(pub String);

impl FromRequest for AnyTenantService {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(state(request).and_then(|state| {
            let (name, _) = state.auth.service(request)?;
            Ok(AnyTenantService(name))
        }))
    }
}

/// An operator: a service with a key, or an admin of a tenant (`/health/detailed`).
#[derive(Debug, Clone)]
pub struct Operator;

impl FromRequest for Operator {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let service_key = state(request).and_then(|state| state.auth.service(request));
        if service_key.is_ok() {
            return ready(Ok(Operator));
        }
        ready(CallerKind::User.context(request).and_then(|ctx| {
            if ctx.actor.has_role(order_domain::actor::Role::Admin) {
                Ok(Operator)
            } else {
                Err(ApiError::UseCase(
                    order_domain::use_cases::UseCaseError::Forbidden,
                ))
            }
        }))
    }
}

/// The shortest and longest session id accepted (docs/product/routes.md: an opaque random string of
/// at least 16 characters).
const SESSION_ID_LENGTH: std::ops::RangeInclusive<usize> = 16..=128;

/// Whether `id` could carry 64 random bits: as many as a random string of its length over the
/// characters it uses would (`length × log2(distinct characters) ≥ 64`). A UUID (36 characters,
/// 17 distinct) passes with room; `aaaaaaaaaaaaaaaaaaaa` or `abababababababab…` do not, since
/// another shopper could guess them and read that cart.
fn looks_random(id: &str) -> bool {
    let distinct = id.bytes().collect::<std::collections::BTreeSet<u8>>().len();
    // Compared as distinct^length ≥ 2^64 in whole numbers: no rounding decides a boundary.
    let mut capacity: u128 = 1;
    for _ in 0..id.len() {
        capacity = capacity.saturating_mul(distinct as u128);
        if capacity >= 1 << 64 {
            return true;
        }
    }
    false
}

/// An anonymous shopper: the shop names itself with `X-Tenant-Id`, the shopper's browser session
/// with `X-Session-Id`. A session reaches a user's cart only through `POST /cart/merge`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The shop.
    pub tenant_id: TenantId,
    /// The session.
    pub session_id: SessionId,
}

impl Session {
    /// The session of `request`.
    ///
    /// # Errors
    /// 422 at `header.X-Tenant-Id` or `header.X-Session-Id` when missing or malformed.
    pub fn of(request: &HttpRequest) -> Result<Self, ApiError> {
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .map(|v| v.to_str().map(str::trim).unwrap_or(""))
        };
        let tenant_id = match header("x-tenant-id") {
            None => {
                return Err(ApiError::field(
                    "header.X-Tenant-Id",
                    "required",
                    "an anonymous cart names its shop",
                ));
            }
            Some(text) => text
                .parse::<TenantId>()
                .map_err(|_| ApiError::field("header.X-Tenant-Id", "invalid", "must be a UUID"))?,
        };
        let session = match header("x-session-id") {
            None => {
                return Err(ApiError::field(
                    "header.X-Session-Id",
                    "required",
                    "sign in, or name the anonymous session",
                ));
            }
            Some(text) => text,
        };
        if !SESSION_ID_LENGTH.contains(&session.len())
            || !session.chars().all(|c| c.is_ascii_graphic())
        {
            return Err(ApiError::field(
                "header.X-Session-Id",
                "invalid",
                "16 to 128 visible ASCII characters",
            ));
        }
        if !looks_random(session) {
            return Err(ApiError::field(
                "header.X-Session-Id",
                "guessable",
                "a session id must be random: at least 64 bits by length × log2(distinct \
                 characters), e.g. a UUID or 22 base64url characters",
            ));
        }
        Ok(Self {
            tenant_id,
            session_id: SessionId::new(session),
        })
    }
}

/// Whoever owns a cart: a signed-in buyer (a bearer token wins when both are sent) or an
/// anonymous session.
#[derive(Debug, Clone)]
pub enum Shopper {
    /// A buyer with a JWT.
    User(RequestContext),
    /// An anonymous session.
    Anonymous(Session),
}

impl Shopper {
    /// The shop.
    pub fn tenant_id(&self) -> TenantId {
        match self {
            Self::User(ctx) => ctx.tenant_id,
            Self::Anonymous(session) => session.tenant_id,
        }
    }

    /// The owner of the shopper's cart.
    pub fn cart_owner(&self) -> Option<CartOwner> {
        match self {
            Self::User(RequestContext {
                actor: Actor::User { id, .. },
                ..
            }) => Some(CartOwner::User(*id)),
            Self::User(_) => None,
            Self::Anonymous(session) => Some(CartOwner::Session(session.session_id.clone())),
        }
    }
}

impl FromRequest for Shopper {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(ctx) = request.extensions().get::<RequestContext>() {
            return ready(Ok(Shopper::User(ctx.clone())));
        }
        if let Some(session) = request.extensions().get::<Session>() {
            return ready(Ok(Shopper::Anonymous(session.clone())));
        }
        ready(match CallerKind::Shopper.identify(request) {
            Ok(Caller::Known(ctx)) => Ok(Shopper::User(ctx)),
            Ok(Caller::Anonymous(session)) => Ok(Shopper::Anonymous(session)),
            Err(error) => Err(error),
        })
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    const TENANT: &str = "00000000-0000-4000-8000-00000000000a";

    fn field_of(error: ApiError) -> String {
        match error {
            ApiError::Validation(v) => v.0[0].path.clone(),
            other => panic!("a field error, got {other:?}"),
        }
    }

    #[test]
    fn an_anonymous_session_needs_the_shop_and_a_long_enough_id() {
        let request = TestRequest::default()
            .insert_header(("X-Tenant-Id", TENANT))
            .insert_header(("X-Session-Id", "s3ss10n-0123456789abcdef"))
            .to_http_request();
        let session = Session::of(&request).expect("a session");
        assert_eq!(session.session_id.as_str(), "s3ss10n-0123456789abcdef");
        assert_eq!(session.tenant_id.to_string(), TENANT);

        let short = TestRequest::default()
            .insert_header(("X-Tenant-Id", TENANT))
            .insert_header(("X-Session-Id", "too-short"))
            .to_http_request();
        assert_eq!(
            field_of(Session::of(&short).expect_err("short")),
            "header.X-Session-Id"
        );

        for guessable in [
            "aaaaaaaaaaaaaaaaaaaaaaaa",
            "abababababababababababababababab",
        ] {
            let weak = TestRequest::default()
                .insert_header(("X-Tenant-Id", TENANT))
                .insert_header(("X-Session-Id", guessable))
                .to_http_request();
            assert_eq!(
                field_of(Session::of(&weak).expect_err(guessable)),
                "header.X-Session-Id"
            );
        }
        let uuid = TestRequest::default()
            .insert_header(("X-Tenant-Id", TENANT))
            .insert_header(("X-Session-Id", "3f1c2b9e-8d4a-4f6b-9a7e-1c2d3e4f5a6b"))
            .to_http_request();
        assert!(Session::of(&uuid).is_ok(), "a UUID is random enough");

        let no_shop = TestRequest::default()
            .insert_header(("X-Session-Id", "s3ss10n-0123456789abcdef"))
            .to_http_request();
        assert_eq!(
            field_of(Session::of(&no_shop).expect_err("no shop")),
            "header.X-Tenant-Id"
        );
    }

    #[test]
    fn the_cart_of_a_session_is_the_sessions() {
        let shopper = Shopper::Anonymous(Session {
            tenant_id: TENANT.parse().expect("uuid"),
            session_id: SessionId::new("s3ss10n-0123456789abcdef"),
        });
        assert_eq!(
            shopper.cart_owner(),
            Some(CartOwner::Session(SessionId::new(
                "s3ss10n-0123456789abcdef"
            )))
        );
    }
}
