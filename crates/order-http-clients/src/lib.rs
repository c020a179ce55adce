//! HTTP adapters (reqwest) for the ticket, inventory, product, payment, event, notification and shipping services, with circuit breakers, retries and timeouts.
//!
//! This crate is a shell for now: it implements ports of [`order_domain::ports`] once its
//! issue lands (see this crate's README). It depends on `order-domain` and never on another
//! adapter.
