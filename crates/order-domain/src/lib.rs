//! The pure core of the order service.
pub mod ids;
pub mod money;
pub mod pricing;
