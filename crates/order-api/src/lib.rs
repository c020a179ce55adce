//! The order service's HTTP API: configuration, authentication, routes, errors, OpenAPI and
//! start-up. `main.rs` only parses the command line.

pub mod admission;
pub mod api_reference;
pub mod auth;
pub mod caller;
pub mod client_ip;
pub mod config;
pub mod console;
pub mod cursor;
pub mod dto;
pub mod error;
pub mod extract;
pub mod guards;
pub mod history_cli;
pub mod jobs;
pub mod metrics;
pub mod openapi;
pub mod pdf;
pub mod routes;
pub mod shopper_limits;
pub mod spans;
pub mod startup;
pub mod state;
pub mod system;
pub mod telemetry;
pub mod validation;
pub mod webhook_worker;
