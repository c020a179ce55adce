//! `order-simulator`: serves the upstream contracts on `SIMULATOR_ADDR` (default
//! 127.0.0.1:3010) with the catalog of `SIMULATOR_SEED_FILE`, announcing payment and ticket
//! messages on `SIMULATOR_AMQP_URL` when it is set.

use std::process::ExitCode;

use order_simulator::{Catalog, Simulator};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .init();
    let addr = std::env::var("SIMULATOR_ADDR").unwrap_or_else(|_| "127.0.0.1:3010".into());
    // `order-simulator health-check`: whether the simulator accepts connections on its port
    // (container health checks; the runtime image has no shell or curl).
    if std::env::args().nth(1).as_deref() == Some("health-check") {
        let port = addr.rsplit(':').next().unwrap_or("3010");
        let local = format!("127.0.0.1:{port}");
        let reachable = local.parse().is_ok_and(|socket| {
            std::net::TcpStream::connect_timeout(&socket, std::time::Duration::from_secs(2)).is_ok()
        });
        return if reachable {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let catalog = match std::env::var("SIMULATOR_SEED_FILE") {
        Ok(path) => match std::fs::read_to_string(&path)
            .map(|text| serde_json::from_str::<Catalog>(&text))
        {
            Ok(Ok(catalog)) => catalog,
            Ok(Err(e)) => {
                eprintln!("error: SIMULATOR_SEED_FILE {path} is not a valid catalog: {e}");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("error: cannot read SIMULATOR_SEED_FILE {path}: {e}");
                return ExitCode::FAILURE;
            }
        },
        Err(_) => Catalog::default(),
    };
    let key = std::env::var("SIMULATOR_SERVICE_KEY")
        .ok()
        .filter(|k| !k.is_empty());
    let mut simulator = Simulator::new(catalog, key);
    if let Ok(url) = std::env::var("SIMULATOR_AMQP_URL") {
        simulator = simulator.with_events(url);
    }
    let (bound, handle) = match order_simulator::start(&addr, simulator) {
        Ok(started) => started,
        Err(e) => {
            eprintln!("error: cannot listen on {addr} ({e}); set SIMULATOR_ADDR to a free address");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(%bound, "upstream simulator listening");
    shutdown_signal().await;
    handle.stop(true).await;
    ExitCode::SUCCESS
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
