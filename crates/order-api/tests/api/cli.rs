//! The command line: `order-api --help` needs no configuration, and `order-api dev-token` prints a
//! token the API accepts.

use std::process::Command;

use crate::helpers::*;

/// `order-api` with only the configuration it requires (nothing from the caller's environment).
fn order_api() -> Command {
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
