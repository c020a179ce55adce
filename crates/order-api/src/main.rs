//! `order-api`: the HTTP binary that wires the adapters to the domain's ports.
//!
//! The routes, configuration and workers arrive with issue 3; until then the binary says so and
//! exits with a failure status rather than pretending to serve.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "order-api {}: the HTTP API is not built yet (issue 3). \
         The domain crate is usable today: see crates/order-domain.",
        env!("CARGO_PKG_VERSION")
    );
    ExitCode::FAILURE
}
