//! The pure core of the order service.
pub mod actor;
pub mod audit;
pub mod cart;
pub mod events;
pub mod ids;
pub mod money;
pub mod order;
pub mod policy;
pub mod ports;
pub mod pricing;
pub mod use_cases;
