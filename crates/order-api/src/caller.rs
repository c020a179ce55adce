//! Who is calling, as extractors: [`User`] (a person with a JWT), [`Service`] (another service
//! with a service key, acting in the tenant of `X-Tenant-Id`) and [`AnyTenantService`] (a service
//! on a cross-tenant route).
//!
//! The command pipeline ([`crate::guards`]) authenticates first — its rate limits and idempotency
//! keys are scoped to the caller — and leaves the context in the request's extensions; these
//! extractors take it from there, or authenticate themselves on routes without the pipeline.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use order_domain::actor::{Actor, RequestContext};

use crate::error::ApiError;
use crate::routes::AppState;

/// Which kind of caller a route admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerKind {
    /// `Authorization: Bearer <jwt>`.
    User,
    /// `Authorization: Service-Key <key>` with `X-Tenant-Id`.
    Service,
}

impl CallerKind {
    /// Authenticates `request` as this kind of caller.
    ///
    /// # Errors
    /// 401 for missing or bad credentials; 422 for a service call without a valid tenant.
    pub fn authenticate(self, request: &HttpRequest) -> Result<RequestContext, ApiError> {
        let state = state(request)?;
        match self {
            Self::User => state.auth.user(request),
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
