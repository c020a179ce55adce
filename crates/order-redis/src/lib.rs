//! Redis adapters (deadpool-redis): idempotency store, rate limiter, distributed lock, cache.
//!
//! This crate is a shell for now: it implements ports of [`order_domain::ports`] once its
//! issue lands (see this crate's README). It depends on `order-domain` and never on another
//! adapter.
