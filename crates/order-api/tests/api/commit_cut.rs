//! Exactly one order per `Idempotency-Key` when a failure is ambiguous: the connection to
//! PostgreSQL breaks while COMMIT is in flight, or the API dies right after the commit. The API
//! reaches PostgreSQL through [`CommitCutter`], a loopback TCP proxy that lets COMMIT reach the
//! server, swallows its answer and breaks the connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration as StdDuration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

use crate::crash::{Process, count, simulator_state};
use crate::helpers::*;

/// The simple-query message sqlx sends to commit: `Q`, length, `COMMIT\0`.
const COMMIT: &[u8] = b"COMMIT\0";

/// A proxy in front of PostgreSQL that can cut one COMMIT.
struct CommitCutter {
    port: u16,
    armed: Arc<AtomicBool>,
    /// While true, every connection is broken and new ones are refused (the server "is down").
    down: watch::Sender<bool>,
    /// Signalled once the server has answered the cut COMMIT (so it did commit).
    committed: Arc<Notify>,
}

impl CommitCutter {
    async fn start(server: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let cutter = Self {
            port,
            armed: Arc::new(AtomicBool::new(false)),
            down: watch::Sender::new(false),
            committed: Arc::new(Notify::new()),
        };
        let (armed, down, committed) = (
            cutter.armed.clone(),
            cutter.down.subscribe(),
            cutter.committed.clone(),
        );
        let server = server.to_owned();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if *down.borrow() {
                    continue;
                }
                let Ok(upstream) = TcpStream::connect(&server).await else {
                    continue;
                };
                tokio::spawn(pump(
                    client,
                    upstream,
                    armed.clone(),
                    down.clone(),
                    committed.clone(),
                ));
            }
        });
        cutter
    }

    /// `url` with its host and port replaced by the proxy's.
    fn url(&self, url: &str, server: &str) -> String {
        url.replace(server, &format!("127.0.0.1:{}", self.port))
    }
}

/// Copies bytes both ways; when armed and the client sends COMMIT, the server's answer is
/// swallowed and the connection broken (and, with `down`, every other one too).
async fn pump(
    mut client: TcpStream,
    mut server: TcpStream,
    armed: Arc<AtomicBool>,
    mut down: watch::Receiver<bool>,
    committed: Arc<Notify>,
) {
    let mut from_client = vec![0u8; 64 * 1024];
    let mut from_server = vec![0u8; 64 * 1024];
    let mut cutting = false;
    loop {
        if *down.borrow_and_update() && !cutting {
            return;
        }
        tokio::select! {
            read = client.read(&mut from_client) => {
                let Ok(n) = read else { return };
                if n == 0 { return; }
                let chunk = &from_client[..n];
                if chunk.windows(COMMIT.len()).any(|w| w == COMMIT)
                    && armed.swap(false, Ordering::SeqCst)
                {
                    cutting = true;
                }
                if server.write_all(chunk).await.is_err() { return; }
            }
            read = server.read(&mut from_server) => {
                let Ok(n) = read else { return };
                if n == 0 { return; }
                if cutting {
                    // The server committed and answered; the client never hears it.
                    committed.notify_one();
                    return;
                }
                if client.write_all(&from_server[..n]).await.is_err() { return; }
            }
            // A "server outage" breaks idle connections too.
            changed = down.changed() => { if changed.is_err() { return; } }
        }
    }
}

struct Rig {
    db: order_postgres::setup::testing::TestDatabase,
    simulator: String,
    cutter: CommitCutter,
    config: order_api::config::Config,
}

async fn rig() -> Rig {
    let setup = Setup::default();
    let db = order_postgres::setup::testing::fresh_database().await;
    let simulator = start_simulator(&setup);
    let server = db
        .app_url
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("host:port")
        .to_owned();
    let cutter = CommitCutter::start(&server).await;
    let mut config = test_config(&setup, &cutter.url(&db.app_url, &server), &simulator);
    // A dead request's claim on its key lapses quickly here.
    config.idempotency_lease = time::Duration::seconds(1);
    Rig {
        db,
        simulator,
        cutter,
        config,
    }
}

async fn post_keyed(base: &str, key: &str) -> reqwest::Result<reqwest::Response> {
    reqwest::Client::new()
        .post(format!("{base}/api/v1/orders"))
        .bearer_auth(customer(1))
        .header("idempotency-key", key)
        .json(&order_body(2))
        .send()
        .await
}

/// One order stored, one payment intent upstream (still payable) and its tickets held.
async fn exactly_one_order_and_one_intent(rig: &Rig, order: &Value) {
    assert_eq!(count(&rig.db.owner, "SELECT count(*) FROM orders").await, 1);
    let state = simulator_state(&rig.simulator).await;
    let payments = state["payments"].as_array().expect("payments");
    assert_eq!(payments.len(), 1, "one intent: {payments:?}");
    assert_eq!(payments[0]["status"], "REQUIRES_CONFIRMATION");
    assert_eq!(payments[0]["id"], order["paymentIntentId"]);
    assert_eq!(state["availability"][0]["held"], 2, "the hold stands");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_lost_at_commit_still_answers_the_stored_order_and_a_retry_replays_it() {
    let rig = rig().await;
    let process = Process::start(rig.config.clone());
    rig.cutter.armed.store(true, Ordering::SeqCst);
    let first = post_keyed(&process.base, "key-commit")
        .await
        .expect("answer");
    assert_eq!(
        first.status(),
        201,
        "the API read back the order it could not confirm"
    );
    let first: Value = first.json().await.expect("json");
    assert!(
        !rig.cutter.armed.load(Ordering::SeqCst),
        "the commit was cut"
    );
    exactly_one_order_and_one_intent(&rig, &first).await;

    let retry = post_keyed(&process.base, "key-commit")
        .await
        .expect("answer");
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let retry: Value = retry.json().await.expect("json");
    assert_eq!(retry["id"], first["id"]);
    exactly_one_order_and_one_intent(&rig, &first).await;
    process.crash();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_whose_outcome_stays_unknown_is_a_503_and_its_retry_finds_the_order() {
    let rig = rig().await;
    let process = Process::start(rig.config.clone());
    let cutter = &rig.cutter;
    cutter.armed.store(true, Ordering::SeqCst);
    let committed = cutter.committed.clone();
    let down = cutter.down.clone();
    // The moment the server has committed, it "goes down" for a while: the API cannot look.
    tokio::spawn(async move {
        committed.notified().await;
        down.send_replace(true);
    });
    let first = post_keyed(&process.base, "key-unknown")
        .await
        .expect("answer");
    assert_eq!(first.status(), 503);
    cutter.down.send_replace(false);

    let retry = post_keyed(&process.base, "key-unknown")
        .await
        .expect("answer");
    assert_eq!(retry.status(), 201, "the retry finds the committed order");
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let retry: Value = retry.json().await.expect("json");
    assert!(retry["clientSecret"].is_string(), "the buyer can still pay");
    exactly_one_order_and_one_intent(&rig, &retry).await;
    process.crash();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_killed_right_after_the_commit_leaves_one_order_that_the_retry_replays() {
    let rig = rig().await;
    let process = Process::start(rig.config.clone());
    rig.cutter.armed.store(true, Ordering::SeqCst);
    let base = process.base.clone();
    let request = tokio::spawn(async move { post_keyed(&base, "key-kill").await });
    rig.cutter.committed.notified().await;
    process.crash();
    assert!(
        request.await.expect("task").is_err(),
        "the client never got an answer"
    );
    assert_eq!(count(&rig.db.owner, "SELECT count(*) FROM orders").await, 1);

    // The restarted API, once the dead request's claim on the key has lapsed in Redis (a lease
    // of 1 s on Redis's clock): until then the retry is told the first request is in flight.
    let restarted = Process::start(rig.config.clone());
    let retry = eventually(
        "the dead request's claim lapses",
        StdDuration::from_secs(10),
        || async {
            let answer = post_keyed(&restarted.base, "key-kill")
                .await
                .expect("answer");
            (answer.status() != 409).then_some(answer)
        },
    )
    .await;
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let retry: Value = retry.json().await.expect("json");
    exactly_one_order_and_one_intent(&rig, &retry).await;
    restarted.crash();
}
