//! Logs and spans: `LOG_LEVEL` (or `RUST_LOG`) filters, `LOG_FORMAT=json` for machines.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once.
pub fn init(level: &str, json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    // A second init (tests) is harmless.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
