//! What use cases fail with. Commands on an order answer [`UseCaseError`], the widest family;
//! reads ([`ReadError`]) and webhook subscriptions ([`WebhookError`]) have families of their own
//! because only three or four outcomes can happen there, and a caller should not have to match
//! eighteen. Every family widens into [`UseCaseError`] without loss, for callers that answer
//! all of them alike (the API's problem bodies). The API maps each variant to a status and
//! problem code through [`super::ProblemKind`].

use crate::cart::CartError;
use crate::ids::{ProductId, TicketTypeId};
use crate::order::{InvalidTransition, OrderError};
use crate::policy::{QuotaExceeded, RefundDenied, Violations};
use crate::ports::{
    GuardError, HoldError, PaymentError, RepositoryError, StockError, UpstreamError,
};
use crate::pricing::PricingError;
use crate::pricing::goods::{GoodsPricingError, PromoCodeError};

/// Why a use case failed. Each variant's doc names the HTTP status the API answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UseCaseError {
    /// 422 `validation_failed`: the request breaks field rules (paths included).
    #[error(transparent)]
    Validation(#[from] Violations),
    /// 404 `not_found`: absent, or not visible to the caller.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for.
        what: &'static str,
    },
    /// 403 `forbidden`: the caller's role does not allow this.
    #[error("this action needs another role")]
    Forbidden,
    /// 409 `invalid_transition`: the order's status does not allow this.
    #[error(transparent)]
    InvalidTransition(#[from] InvalidTransition),
    /// 422 (code per variant): another rule of the aggregate.
    #[error(transparent)]
    Order(OrderError),
    /// 409 `conflict`: someone else changed the order first; reload and retry.
    #[error("the order was changed concurrently; reload and retry")]
    Conflict,
    /// 422 `idempotency_key_reused`: the key created an order for another request.
    #[error("this idempotency key was used with another request")]
    IdempotencyKeyReused,
    /// 409 `order_locked`: another request is working on this order.
    #[error("another request is working on this order; retry shortly")]
    Locked,
    /// 422 `limit_exceeded`: a per-user quota is used up.
    #[error(transparent)]
    Quota(#[from] QuotaExceeded),
    /// 409 `sold_out`: not enough tickets.
    #[error("sold out: only {available} tickets left of type {ticket_type_id}")]
    SoldOut {
        /// The type.
        ticket_type_id: TicketTypeId,
        /// Tickets left.
        available: u32,
    },
    /// 409 `out_of_stock`: not enough units of a product.
    #[error("out of stock: only {available} left of product {product_id}")]
    OutOfStock {
        /// The product.
        product_id: ProductId,
        /// Units left.
        available: u32,
    },
    /// 422 `refund_not_allowed`: the refund policy refuses.
    #[error(transparent)]
    RefundDenied(#[from] RefundDenied),
    /// 422 `promo_code_invalid`.
    #[error(transparent)]
    PromoCode(#[from] PromoCodeError),
    /// 422 `cart_invalid`.
    #[error(transparent)]
    Cart(#[from] CartError),
    /// 402 `payment_declined`.
    #[error("payment declined: {0}")]
    PaymentDeclined(String),
    /// 503 `upstream_unavailable` (or 422 when the upstream rejected the request).
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// 409 `hold_limit_reached`: the reservation may not be extended any further.
    #[error(transparent)]
    HoldLimit(#[from] crate::policy::HoldLimitReached),
    /// 503 `guard_unavailable`: the lock or idempotency store is down.
    #[error(transparent)]
    Guard(#[from] GuardError),
    /// 409 `customer_has_open_orders`: a customer's data is erased only once none of their
    /// orders is unpaid, unshipped or owed a refund.
    #[error("the customer has open orders: {}", orders.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))]
    OpenOrders {
        /// The open orders' numbers.
        orders: Vec<crate::ids::OrderNumber>,
    },
    /// 409 `replay_running`: one replay per tenant runs at a time.
    #[error("another replay of this tenant is running; wait for it to finish")]
    ReplayRunning,
    /// 503 `storage_unavailable` / 500 for corrupt data.
    #[error(transparent)]
    Storage(RepositoryError),
}

/// Why a read (one order, a page, an order's ledger, documents or history) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// 404 `not_found`: absent, or not visible to the caller.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for.
        what: &'static str,
    },
    /// 403 `forbidden`: the caller's role does not allow this read.
    #[error("this action needs another role")]
    Forbidden,
    /// 503 `storage_unavailable` / 500 for corrupt data.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// Why a webhook subscription's command or read failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// 403 `forbidden`: only admins manage webhooks.
    #[error("this action needs another role")]
    Forbidden,
    /// 404 `not_found`: no such subscription or delivery in the caller's tenant.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for.
        what: &'static str,
    },
    /// 422 `validation_failed`: a refused address or an unknown event type (paths included).
    #[error(transparent)]
    Validation(#[from] Violations),
    /// 503 `storage_unavailable` / 500 for corrupt data.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

impl From<ReadError> for UseCaseError {
    fn from(error: ReadError) -> Self {
        match error {
            ReadError::NotFound { what } => Self::NotFound { what },
            ReadError::Forbidden => Self::Forbidden,
            ReadError::Storage(error) => Self::Storage(error),
        }
    }
}

impl From<WebhookError> for UseCaseError {
    fn from(error: WebhookError) -> Self {
        match error {
            WebhookError::Forbidden => Self::Forbidden,
            WebhookError::NotFound { what } => Self::NotFound { what },
            WebhookError::Validation(violations) => Self::Validation(violations),
            WebhookError::Storage(error) => Self::Storage(error),
        }
    }
}

impl UseCaseError {
    /// Whether trying again later may succeed: storage, guard or upstream outages and lost
    /// races. Everything else fails the same way every time.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Conflict | Self::Locked | Self::Guard(_) => true,
            Self::Storage(error) => matches!(
                error,
                RepositoryError::Unavailable(_) | RepositoryError::CommitOutcomeUnknown(_)
            ),
            Self::Upstream(error) => matches!(
                error,
                UpstreamError::Unavailable { .. } | UpstreamError::CircuitOpen { .. }
            ),
            _ => false,
        }
    }
}

impl From<OrderError> for UseCaseError {
    fn from(error: OrderError) -> Self {
        match error {
            OrderError::InvalidTransition(t) => Self::InvalidTransition(t),
            other => Self::Order(other),
        }
    }
}

impl From<RepositoryError> for UseCaseError {
    fn from(error: RepositoryError) -> Self {
        match error {
            RepositoryError::Conflict { .. } => Self::Conflict,
            RepositoryError::QuotaExceeded(quota) => Self::Quota(quota),
            RepositoryError::PromoCodeUsedUp => {
                Self::PromoCode(crate::pricing::goods::PromoCodeError::UsageLimitReached)
            }
            other => Self::Storage(other),
        }
    }
}

impl From<HoldError> for UseCaseError {
    fn from(error: HoldError) -> Self {
        match error {
            HoldError::SoldOut {
                ticket_type_id,
                available,
            } => Self::SoldOut {
                ticket_type_id,
                available,
            },
            HoldError::NotOnSale => {
                Self::Validation(Violations(vec![crate::policy::FieldError::new(
                    "eventId",
                    "not_on_sale",
                    "the event is not on sale",
                )]))
            }
            HoldError::Upstream(e) => Self::Upstream(e),
        }
    }
}

impl From<StockError> for UseCaseError {
    fn from(error: StockError) -> Self {
        match error {
            StockError::Insufficient {
                product_id,
                available,
            } => Self::OutOfStock {
                product_id,
                available,
            },
            StockError::Upstream(e) => Self::Upstream(e),
        }
    }
}

impl From<PaymentError> for UseCaseError {
    fn from(error: PaymentError) -> Self {
        match error {
            PaymentError::Declined(reason) => Self::PaymentDeclined(reason),
            PaymentError::Upstream(e) => Self::Upstream(e),
        }
    }
}

impl From<PricingError> for UseCaseError {
    fn from(error: PricingError) -> Self {
        let (path, code) = match error {
            PricingError::NoLines => ("items", "too_few"),
            PricingError::NegativeAmount { .. } => ("items", "negative_price"),
            PricingError::NegativeOrderAmount { field } => (field, "negative_amount"),
            PricingError::Money(_) => ("total", "above_maximum"),
        };
        Self::Validation(Violations(vec![crate::policy::FieldError::new(
            path,
            code,
            error.to_string(),
        )]))
    }
}

impl From<GoodsPricingError> for UseCaseError {
    fn from(error: GoodsPricingError) -> Self {
        match error {
            GoodsPricingError::Pricing(e) => e.into(),
            GoodsPricingError::PromoCode(e) => Self::PromoCode(e),
        }
    }
}
