//! Failures a use case deliberately does not return: a compensation that failed (the upstream's
//! own expiry cleans up), a lock that was not released (it expires), a payout that failed after
//! its order committed (the refund is stored as FAILED and retried). The caller's answer does not
//! depend on them, but operators must see them, with the orders they concern.

use crate::ids::OrderId;

/// Where dropped failures are reported (the API logs them with their cause chain).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Incidents: Send + Sync {
    /// `action` for `orders` failed with `error`, and the use case carried on without it.
    fn dropped(&self, orders: &[OrderId], action: &'static str, error: &dyn std::error::Error);
}
