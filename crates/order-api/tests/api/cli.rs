//! The command line: `order-api --help` needs no configuration, and `order-api dev-token` prints a
//! token the API accepts.

use std::process::Command;

use crate::helpers::*;

/// `order-api` with only the configuration it requires (nothing from the caller's environment).
pub(crate) fn order_api() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_order-api"));
    command
        .env_clear()
        .env("JWT_SECRET", SECRET)
        .env(
            "ADDRESS_ENCRYPTION_KEYS",
            order_postgres::setup::testing::TEST_ADDRESS_KEYS,
        )
        .env("DATABASE_URL", "postgres://order_api@127.0.0.1:9/unused")
        .env("TICKET_SERVICE_URL", "http://127.0.0.1:9")
        .env("PAYMENT_SERVICE_URL", "http://127.0.0.1:9")
        .env("EVENT_SERVICE_URL", "http://127.0.0.1:9")
        .env("PRODUCT_SERVICE_URL", "http://127.0.0.1:9")
        .env("INVENTORY_SERVICE_URL", "http://127.0.0.1:9")
        .env("SHIPPING_SERVICE_URL", "http://127.0.0.1:9")
        .env("NOTIFICATION_SERVICE_URL", "http://127.0.0.1:9");
    command
}

#[test]
fn help_lists_the_subcommands_without_any_configuration() {
    let output = Command::new(env!("CARGO_BIN_EXE_order-api"))
        .env_clear()
        .arg("--help")
        .output()
        .expect("runs");
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).expect("utf-8");
    for command in ["serve", "worker", "expire-due", "migrate", "dev-token"] {
        assert!(help.contains(command), "{command} in:\n{help}");
    }
}

#[tokio::test]
async fn dev_token_prints_a_token_the_api_accepts() {
    let app = spawn_app().await;
    let output = order_api()
        .args(["dev-token", "--tenant", &tenant_a().to_string()])
        .args(["--user", &user(9).to_string(), "--roles", "customer,admin"])
        .args(["--minutes", "5"])
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout).expect("utf-8");
    let listed = app.get(token.trim(), "/api/v1/admin/orders").await;
    assert_eq!(listed.status(), 200, "an admin's token");

    let refused = order_api()
        .args(["dev-token", "--tenant", "not-a-uuid", "--user", "x"])
        .output()
        .expect("runs");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--tenant"));
}

#[tokio::test]
async fn the_service_will_not_start_on_a_role_that_bypasses_tenant_isolation() {
    let db = order_postgres::setup::testing::fresh_database().await;
    // The owner (a superuser on the local server) as the application's role.
    let database = db.app_url.rsplit('/').next().expect("database name");
    let admin = order_postgres::setup::testing::admin_url();
    let (server, _) = admin.rsplit_once('/').expect("admin url");
    let owner_url = format!("{server}/{database}");
    let output = order_api()
        .env("DATABASE_URL", &owner_url)
        .env("RUN_JOBS", "false")
        .env("PORT", "0")
        .arg("serve")
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("refusing to start") && stderr.contains("NOBYPASSRLS"),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_worker_runs_the_jobs_serves_only_health_and_metrics_and_stops_on_sigterm() {
    let app = spawn_app().await;
    let order = app.new_order(40, 1).await;
    let id = order["id"].as_str().expect("id").to_owned();
    // Its hold ran out an hour ago: the worker's expiry job acts at its first pass.
    sqlx::query("UPDATE orders SET expires_at = now() - interval '1 hour' WHERE id = $1")
        .bind(id.parse::<uuid::Uuid>().expect("uuid"))
        .execute(&app.owner)
        .await
        .expect("backdate");
    let database: String = sqlx::query_scalar("SELECT current_database()::text")
        .fetch_one(&app.owner)
        .await
        .expect("name");
    let admin_url = order_postgres::setup::testing::admin_url();
    let server = admin_url
        .split_once('@')
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(server, _)| server.to_owned())
        .expect("host:port");
    let app_url = format!(
        "postgres://{}@{server}/{database}",
        order_postgres::setup::testing::APP_ROLE
    );
    let redis =
        std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:56379".into());
    // A free port for the worker's health checks and metrics.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let worker = order_api()
        .arg("worker")
        .env("PORT", port.to_string())
        .env("HOST", "127.0.0.1")
        .env("DATABASE_URL", &app_url)
        .env("REDIS_URL", &redis)
        .env("RABBITMQ_URL", amqp_url())
        .env(
            "AMQP_QUEUE_PREFIX",
            format!("test-{}", uuid::Uuid::new_v4().simple()),
        )
        .env("UPSTREAM_SERVICE_KEY", UPSTREAM_KEY)
        .envs(
            [
                "TICKET",
                "PAYMENT",
                "EVENT",
                "PRODUCT",
                "INVENTORY",
                "SHIPPING",
                "NOTIFICATION",
            ]
            .map(|s| (format!("{s}_SERVICE_URL"), app.simulator.clone())),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the worker starts");
    // Whatever the test's outcome, the worker does not outlive it.
    struct Reaped(std::process::Child);
    impl Drop for Reaped {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut worker = Reaped(worker);

    let base = format!("http://127.0.0.1:{port}");
    eventually(
        "the worker's health check",
        std::time::Duration::from_secs(20),
        || async {
            let live = reqwest::get(format!("{base}/health/liveness")).await.ok()?;
            live.status().is_success().then_some(())
        },
    )
    .await;
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .expect("metrics");
    assert_eq!(metrics.status(), 200);
    let no_api = reqwest::get(format!("{base}/api/v1/orders"))
        .await
        .expect("answer");
    assert_eq!(no_api.status(), 404, "the worker serves no API route");

    let path = format!("/api/v1/orders/{id}");
    eventually(
        "the worker's expiry of the order",
        std::time::Duration::from_secs(20),
        || async {
            let order: serde_json::Value = app.get(&admin(), &path).await.json().await.ok()?;
            (order["status"] == "EXPIRED").then_some(())
        },
    )
    .await;

    let signalled = Command::new("kill")
        .args(["-TERM", &worker.0.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(signalled.success());
    let exit = eventually(
        "the worker's exit after SIGTERM",
        std::time::Duration::from_secs(10),
        || {
            let exit = worker.0.try_wait().expect("wait");
            async move { exit }
        },
    )
    .await;
    assert!(exit.success(), "the worker stops cleanly: {exit:?}");
}
