//! RabbitMQ adapters (lapin): outbox relay with publisher confirms, consumers with an inbox and a dead-letter queue.
//!
//! This crate is a shell for now: it implements ports of [`order_domain::ports`] once its
//! issue lands (see this crate's README). It depends on `order-domain` and never on another
//! adapter.
