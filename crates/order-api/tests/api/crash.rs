//! Saga crash safety (decision 0016): the API "process" is a tokio runtime of its own, and a crash
//! is that runtime shut down at once — every task stops where it is, no compensation runs, its
//! connections drop. The database, the simulator and the test stay up, and a new instance is
//! started on the same database, as a restarted process would be.

use std::time::Duration as StdDuration;

use order_api::jobs::expire_due_orders;
use order_api::startup::Application;
use serde_json::{Value, json};

use crate::helpers::*;

/// Orders held for a second plus a second of grace.
fn short_holds() -> Setup {
    let mut setup = Setup::default();
    setup.domain.reservation.ticket_hold = time::Duration::seconds(1);
    setup.domain.reservation.grace = time::Duration::seconds(1);
    setup
}

/// An API instance in a runtime of its own; `crash` kills it mid-flight.
pub(crate) struct Process {
    runtime: tokio::runtime::Runtime,
    pub(crate) base: String,
}

impl Process {
    pub(crate) fn start(config: order_api::config::Config) -> Self {
        // Built on a thread of its own: a runtime cannot be started from inside the test's.
        let (runtime, port) = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            let port = runtime.block_on(async {
                let app = Application::build(config).await.expect("app builds");
                let port = app.port();
                tokio::spawn(app.run_until_stopped());
                port
            });
            (runtime, port)
        })
        .join()
        .expect("process starts");
        Self {
            runtime,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    pub(crate) fn crash(self) {
        self.runtime.shutdown_background();
    }
}

pub(crate) async fn simulator_state(simulator: &str) -> Value {
    reqwest::get(format!("{simulator}/_admin/state"))
        .await
        .expect("simulator")
        .json()
        .await
        .expect("json")
}

/// The simulator's state once `done` holds for it (`what` names it), within 5 s.
async fn simulator_until(simulator: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let done = &done;
    eventually(what, StdDuration::from_secs(5), || async move {
        let state = simulator_state(simulator).await;
        done(&state).then_some(state)
    })
    .await
}

/// How many requests the simulated payment service has received since its faults were set.
async fn payment_requests(simulator: &str) -> u64 {
    let faults: Value = reqwest::get(format!("{simulator}/_admin/faults"))
        .await
        .expect("simulator")
        .json()
        .await
        .expect("json");
    faults["payments"]["requests"].as_u64().unwrap_or(0)
}

pub(crate) async fn put_faults(simulator: &str, faults: Value) {
    let response = reqwest::Client::new()
        .put(format!("{simulator}/_admin/faults"))
        .json(&faults)
        .send()
        .await
        .expect("simulator");
    assert!(response.status().is_success());
}

pub(crate) async fn count(owner: &sqlx::PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(owner)
        .await
        .expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_hold_and_intent_leaves_nothing_beyond_the_holds_lifetime() {
    let setup = short_holds();
    let db = order_postgres::setup::testing::fresh_database().await;
    let simulator = start_simulator(&setup);
    let config = test_config(&setup, &db.app_url, &simulator);
    // The payment service is slow: the crash comes after the hold, while the intent is created.
    put_faults(&simulator, json!({"payments": {"latencyMs": 800}})).await;
    let process = Process::start(config.clone());
    let request = tokio::spawn(
        reqwest::Client::new()
            .post(format!("{}/api/v1/orders", process.base))
            .bearer_auth(customer(1))
            .json(&order_body(2))
            .send(),
    );
    simulator_until(&simulator, "the tickets are held", |state| {
        state["availability"][0]["held"] == 2
    })
    .await;
    process.crash();
    assert!(
        request.await.expect("task").is_err(),
        "the client never got an answer"
    );
    assert_eq!(count(&db.owner, "SELECT count(*) FROM orders").await, 0);
    assert_eq!(count(&db.owner, "SELECT count(*) FROM outbox").await, 0);

    // Left behind upstream: a hold (read at once: it lapses two seconds after it was placed),
    // and the intent the slow payment service still creates if the request left before the
    // crash (on a loaded machine it may not have).
    assert_eq!(
        simulator_state(&simulator).await["availability"][0]["held"],
        2
    );
    // Both lapse by themselves at the end of the order's window and grace. The slow payment
    // service creates an intent only if the request reached it before the crash (on a loaded
    // machine it may not have): as many intents as requests arrived, each CANCELED.
    let intents = |state: &Value| state["payments"].as_array().map_or(0, Vec::len);
    let (state, arrived) = eventually(
        "the hold and any intent lapse",
        StdDuration::from_secs(5),
        || async {
            let state = simulator_state(&simulator).await;
            let arrived = payment_requests(&simulator).await;
            let lapsed = state["availability"][0]["held"] == 0
                && intents(&state) as u64 == arrived
                && state["payments"]
                    .as_array()
                    .is_none_or(|all| all.iter().all(|p| p["status"] == "CANCELED"));
            lapsed.then_some((state, arrived))
        },
    )
    .await;
    assert!(arrived <= 1, "one intent at most");
    assert_eq!(state["holds"][0]["status"], "EXPIRED", "the hold lapsed");

    // The restarted process sells the tickets again.
    put_faults(&simulator, json!({})).await;
    let restarted = Process::start(config);
    let created = reqwest::Client::new()
        .post(format!("{}/api/v1/orders", restarted.base))
        .bearer_auth(customer(1))
        .json(&order_body(2))
        .send()
        .await
        .expect("request");
    assert_eq!(created.status(), 201);
    restarted.crash();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_whose_process_crashed_is_expired_by_any_other_instance() {
    let setup = short_holds();
    let db = order_postgres::setup::testing::fresh_database().await;
    let simulator = start_simulator(&setup);
    let config = test_config(&setup, &db.app_url, &simulator);
    let process = Process::start(config.clone());
    let created = reqwest::Client::new()
        .post(format!("{}/api/v1/orders", process.base))
        .bearer_auth(customer(1))
        .json(&order_body(1))
        .send()
        .await
        .expect("request");
    assert_eq!(created.status(), 201);
    process.crash();

    // Another instance (a replica, or the restarted process) runs the expiry job once the hold
    // (1 s) and the grace period (1 s) have run out on its clock.
    let clock = std::sync::Arc::new(TestClock::default());
    clock.advance(time::Duration::milliseconds(2_200));
    let (survivor, _, _) = order_api::startup::build_service_at(&config, clock)
        .await
        .expect("service");
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let report = expire_due_orders(&survivor, 100, &stopped).await;
    assert_eq!(report.expired, 1);
    assert_eq!(
        count(
            &db.owner,
            "SELECT count(*) FROM orders WHERE status IN ('PENDING', 'RESERVED')"
        )
        .await,
        0,
        "nothing stuck past its expiry"
    );
    let state = simulator_state(&simulator).await;
    assert_eq!(state["availability"][0]["held"], 0, "the hold was released");
    // The intent lapses at the payment service by itself, on its own clock (a payment that
    // comes anyway is a late payment, handled when it is announced).
    simulator_until(&simulator, "the intent lapses", |state| {
        state["payments"][0]["status"] == "CANCELED"
    })
    .await;
}
