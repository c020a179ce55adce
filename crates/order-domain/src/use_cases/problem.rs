//! The taxonomy of failures: what kind of failure an error is, which decides how a caller
//! handles it (the API answers a status per kind, a consumer retries only what may pass later),
//! and its stable problem code. Each error type names its own kind and code in one flat `match`,
//! and an error that wraps another asks it.

use crate::cart::CartError;
use crate::order::{OrderError, RefundError};
use crate::ports::{RepositoryError, UpstreamError};

use super::{ReadError, UseCaseError, WebhookError};

/// How a caller handles a failure; the HTTP status the API answers is named on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// 422: the request breaks a rule; asking again the same way fails the same way.
    Invalid,
    /// 404: absent, or not visible to the caller.
    NotFound,
    /// 403: the caller's role does not allow it.
    Forbidden,
    /// 409: the order's state, its stock or a concurrent writer stands in the way.
    Conflict,
    /// 402: the payment service declined the payment.
    PaymentDeclined,
    /// 502: an upstream service refused the request.
    UpstreamRefused,
    /// 503: a dependency is unavailable; the same request may pass later.
    Unavailable,
    /// 500: a broken invariant or corrupt data; logged, never explained to the client.
    Unexpected,
}

/// A failure's kind and its stable problem code (`sold_out`, `refund_exceeds_maximum`, …).
pub type Problem = (ProblemKind, &'static str);

impl UseCaseError {
    /// This failure's kind and problem code.
    pub fn problem(&self) -> Problem {
        use ProblemKind as K;
        match self {
            Self::Validation(_) => (K::Invalid, "validation_failed"),
            Self::NotFound { .. } => (K::NotFound, "not_found"),
            Self::Forbidden => (K::Forbidden, "forbidden"),
            Self::InvalidTransition(_) => (K::Conflict, "invalid_transition"),
            Self::Order(error) => error.problem(),
            Self::Conflict => (K::Conflict, "conflict"),
            Self::IdempotencyKeyReused => (K::Invalid, "idempotency_key_reused"),
            Self::Locked => (K::Conflict, "order_locked"),
            Self::Quota(_) => (K::Invalid, "limit_exceeded"),
            Self::SoldOut { .. } => (K::Conflict, "sold_out"),
            Self::OutOfStock { .. } => (K::Conflict, "out_of_stock"),
            Self::RefundDenied(_) => (K::Invalid, "refund_not_allowed"),
            Self::PromoCode(_) => (K::Invalid, "promo_code_invalid"),
            Self::Cart(error) => error.problem(),
            Self::PaymentDeclined(_) => (K::PaymentDeclined, "payment_declined"),
            Self::Upstream(error) => error.problem(),
            Self::HoldLimit(_) => (K::Conflict, "hold_limit_reached"),
            Self::OpenOrders { .. } => (K::Conflict, "customer_has_open_orders"),
            Self::ReplayRunning => (K::Conflict, "replay_running"),
            Self::Guard(_) => (K::Unavailable, "guard_unavailable"),
            Self::Storage(error) => error.problem(),
        }
    }
}

impl ReadError {
    /// This failure's kind and problem code.
    pub fn problem(&self) -> Problem {
        match self {
            Self::NotFound { .. } => (ProblemKind::NotFound, "not_found"),
            Self::Forbidden => (ProblemKind::Forbidden, "forbidden"),
            Self::Storage(error) => error.problem(),
        }
    }
}

impl WebhookError {
    /// This failure's kind and problem code.
    pub fn problem(&self) -> Problem {
        match self {
            Self::Forbidden => (ProblemKind::Forbidden, "forbidden"),
            Self::NotFound { .. } => (ProblemKind::NotFound, "not_found"),
            Self::Validation(_) => (ProblemKind::Invalid, "validation_failed"),
            Self::Storage(error) => error.problem(),
        }
    }
}

impl OrderError {
    /// This refusal's kind and problem code.
    pub fn problem(&self) -> Problem {
        use ProblemKind as K;
        match self {
            Self::InvalidTransition(_) => (K::Conflict, "invalid_transition"),
            Self::PaymentIntentMismatch { .. } | Self::NoPaymentIntent => {
                (K::Conflict, "payment_intent_mismatch")
            }
            Self::NotYetExpired { .. } => (K::Conflict, "not_yet_expired"),
            Self::ReturnWindowClosed { .. } => (K::Invalid, "return_window_closed"),
            Self::WrongKind { .. } => (K::Invalid, "wrong_order_kind"),
            Self::PricingMismatch | Self::NoItems => (K::Invalid, "validation_failed"),
            Self::ItemNotFound(_) => (K::NotFound, "not_found"),
            Self::ItemAlreadyCancelled(_) => (K::Conflict, "item_already_cancelled"),
            Self::LineCancellationClosed { .. } | Self::LastActiveItem => {
                (K::Conflict, "line_not_cancellable")
            }
            Self::Refund(error) => error.problem(),
            Self::NotEditable { .. } => (K::Conflict, "order_not_editable"),
        }
    }
}

impl RefundError {
    /// This refusal's kind and problem code.
    pub fn problem(&self) -> Problem {
        use ProblemKind as K;
        match self {
            Self::NotFound(_) => (K::NotFound, "not_found"),
            Self::InvalidState { .. } => (K::Conflict, "invalid_transition"),
            Self::ExceedsRefundable { .. } => (K::Invalid, "refund_exceeds_maximum"),
            Self::NothingToRefund => (K::Invalid, "nothing_to_refund"),
            Self::InvalidAmount | Self::UnknownItem(_) => (K::Invalid, "validation_failed"),
            Self::ItemAlreadyRefunded(_) => (K::Conflict, "item_already_refunded"),
        }
    }
}

impl CartError {
    /// This refusal's kind and problem code.
    pub fn problem(&self) -> Problem {
        match self {
            Self::LineNotFound(_) => (ProblemKind::NotFound, "not_found"),
            _ => (ProblemKind::Invalid, "cart_invalid"),
        }
    }
}

impl UpstreamError {
    /// This failure's kind and problem code.
    pub fn problem(&self) -> Problem {
        match self {
            Self::Unavailable { .. } | Self::CircuitOpen { .. } => {
                (ProblemKind::Unavailable, "upstream_unavailable")
            }
            Self::Rejected { .. } | Self::NotFound { .. } => {
                (ProblemKind::UpstreamRefused, "upstream_error")
            }
        }
    }
}

impl RepositoryError {
    /// This failure's kind and problem code.
    pub fn problem(&self) -> Problem {
        use ProblemKind as K;
        match self {
            Self::Unavailable(_) | Self::CommitOutcomeUnknown(_) => {
                (K::Unavailable, "storage_unavailable")
            }
            // A unique constraint a concurrent request won: the caller met a race, not a fault.
            Self::Duplicate { .. } => (K::Conflict, "conflict"),
            // A check, foreign key or required column the domain did not enforce.
            Self::Rejected { .. } => (K::Invalid, "validation_failed"),
            _ => (K::Unexpected, "internal_error"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cause::Cause;

    #[test]
    fn a_wrapped_error_answers_the_problem_of_the_error_it_wraps() {
        let refund = RefundError::ExceedsRefundable {
            requested: 10,
            remaining: 5,
        };
        let expected = (ProblemKind::Invalid, "refund_exceeds_maximum");
        assert_eq!(refund.problem(), expected);
        assert_eq!(OrderError::Refund(refund.clone()).problem(), expected);
        assert_eq!(
            UseCaseError::Order(OrderError::Refund(refund)).problem(),
            expected
        );
    }

    #[test]
    fn a_family_error_widens_into_the_use_case_error_with_the_same_problem() {
        let reads = [
            ReadError::NotFound { what: "order" },
            ReadError::Forbidden,
            ReadError::Storage(RepositoryError::Unavailable(Cause::from("down"))),
        ];
        for error in reads {
            assert_eq!(UseCaseError::from(error.clone()).problem(), error.problem());
        }
        let webhooks = [
            WebhookError::Forbidden,
            WebhookError::NotFound { what: "webhook" },
            WebhookError::Validation(crate::policy::Violations(vec![])),
            WebhookError::Storage(RepositoryError::Corrupt(Cause::from("bad row"))),
        ];
        for error in webhooks {
            assert_eq!(UseCaseError::from(error.clone()).problem(), error.problem());
        }
    }

    #[test]
    fn outages_are_unavailable_and_broken_data_is_unexpected() {
        let down = UpstreamError::Unavailable {
            service: "tickets",
            cause: Cause::from("refused"),
        };
        assert_eq!(
            UseCaseError::Upstream(down).problem(),
            (ProblemKind::Unavailable, "upstream_unavailable")
        );
        assert_eq!(
            UseCaseError::Storage(RepositoryError::Corrupt(Cause::from("bad row"))).problem(),
            (ProblemKind::Unexpected, "internal_error")
        );
        assert_eq!(
            UseCaseError::Storage(RepositoryError::Unavailable(Cause::from("down"))).problem(),
            (ProblemKind::Unavailable, "storage_unavailable")
        );
    }
}
