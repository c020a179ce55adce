//! Who asks for a change: the caller of a use case, as the API authenticated it.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::ids::{TenantId, UserId};

/// A JWT role (docs/product/routes.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Shops and buys tickets; sees their own orders.
    Customer,
    /// Sees and manages every order of the tenant.
    Admin,
    /// Runs fulfillment.
    Warehouse,
}

/// The caller behind a change, as recorded in the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Actor {
    /// A person with a JWT.
    User {
        /// The `sub` claim.
        id: UserId,
        /// The `roles` claim.
        roles: Vec<Role>,
        /// The `vip` claim (longer reservations).
        vip: bool,
    },
    /// Another service with a service key (payment, scheduler, ticket service, a consumer).
    Service {
        /// The service's configured name.
        name: String,
    },
    /// This service's own background work (expiry job).
    System {
        /// The job's name.
        name: String,
    },
}

impl Actor {
    /// The user behind the call, if a person made it.
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Self::User { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// Whether a person with `role` made the call.
    pub fn has_role(&self, role: Role) -> bool {
        matches!(self, Self::User { roles, .. } if roles.contains(&role))
    }

    /// Admins, services and the system act on any order of the tenant.
    pub fn is_privileged(&self) -> bool {
        match self {
            Self::User { roles, .. } => roles.contains(&Role::Admin),
            Self::Service { .. } | Self::System { .. } => true,
        }
    }

    /// Whether the caller may see an order owned by `owner`: its owner, or a privileged caller.
    /// Warehouse staff are not privileged: they reach paid goods orders through fulfillment only
    /// (see [`Actor::can_fulfill`]).
    pub fn can_see_order_of(&self, owner: UserId) -> bool {
        self.is_privileged() || self.user_id() == Some(owner)
    }

    /// Whether the caller runs fulfillment: warehouse staff and privileged callers.
    pub fn can_fulfill(&self) -> bool {
        self.is_privileged() || self.has_role(Role::Warehouse)
    }

    /// VIP users get the longer reservation.
    pub fn is_vip(&self) -> bool {
        matches!(self, Self::User { vip: true, .. })
    }
}

/// The tenant, caller and client address of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// Every read and write is scoped to this tenant.
    pub tenant_id: TenantId,
    /// Who is asking.
    pub actor: Actor,
    /// The client's address, for the audit trail.
    pub ip: Option<IpAddr>,
}
