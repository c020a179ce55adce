//! The console and the API reference in a real browser: Debian's Chromium, headless, driven over
//! WebDriver by chromedriver (both installed by `deploy/local/services.sh`). Each test keeps a
//! screenshot of every page it saw under `target/test-artifacts/console/`, and runs axe-core
//! (pinned in `deploy/browser`) in each of those pages: a serious or critical accessibility
//! violation fails the test, and axe's report is kept beside the screenshot.

use std::process::{Child, Command, Stdio};
use std::time::Duration as StdDuration;

use base64::Engine;
use serde_json::{Value, json};

use crate::helpers::*;

/// The W3C WebDriver element key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// WebDriver's codes of the Tab and Enter keys.
const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

/// A chromedriver of this test, on a free loopback port; stopped when dropped.
struct Driver {
    child: Child,
    base: String,
    client: reqwest::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is installed: run `just services-up`");
        let driver = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
        };
        order_test_support::eventually(
            "chromedriver to answer",
            StdDuration::from_secs(20),
            || async {
                let ready = driver
                    .client
                    .get(format!("{}/status", driver.base))
                    .send()
                    .await
                    .ok()?;
                let status: Value = ready.json().await.ok()?;
                (status["value"]["ready"] == true).then_some(())
            },
        )
        .await;
        driver
    }

    async fn browser(&self, test: &str) -> Browser<'_> {
        let created: Value = self
            .client
            .post(format!("{}/session", self.base))
            .json(&json!({ "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": "/usr/bin/chromium",
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                             "--disable-dev-shm-usage", "--window-size=1280,1000"]
                }
            } } }))
            .send()
            .await
            .expect("a session")
            .json()
            .await
            .expect("json");
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        let artifacts = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/test-artifacts/console")
            .join(test);
        std::fs::create_dir_all(&artifacts).expect("artifacts folder");
        Browser {
            driver: self,
            session,
            artifacts,
            shots: 0,
        }
    }
}

/// One browser window.
struct Browser<'d> {
    driver: &'d Driver,
    session: String,
    artifacts: std::path::PathBuf,
    shots: u32,
}

impl Browser<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{path}", self.driver.base, self.session)
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.driver.client.request(method, self.url(path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request
            .send()
            .await
            .expect("webdriver")
            .json()
            .await
            .expect("json");
        assert!(
            answer["value"].get("error").is_none(),
            "webdriver {path}: {answer}"
        );
        answer["value"].clone()
    }

    async fn open(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    async fn find(&self, css: &str) -> String {
        let found = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        found[ELEMENT].as_str().expect("an element").to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// The element that has the keyboard focus.
    async fn focused(&self) -> String {
        let active = self
            .call(reqwest::Method::GET, "/element/active", None)
            .await;
        active[ELEMENT].as_str().expect("an element").to_owned()
    }

    /// Presses `key` (a WebDriver key code) in the focused element.
    async fn press(&self, key: &str) {
        let element = self.focused().await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": key })),
        )
        .await;
    }

    /// Moves the focus with Tab (from the top of the page) until it is on `css`, and checks that
    /// the focus ring shows there.
    async fn tab_to(&self, css: &str) {
        let target = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": "document.activeElement.blur(); window.scrollTo(0, 0);", "args": [] })),
        )
        .await;
        for _ in 0..60 {
            self.call(
                reqwest::Method::POST,
                "/actions",
                Some(json!({ "actions": [{
                "type": "key", "id": "keyboard",
                "actions": [{ "type": "keyDown", "value": TAB }, { "type": "keyUp", "value": TAB }]
            }] })),
            )
            .await;
            if self.focused().await == target {
                let outline = self
                    .call(
                        reqwest::Method::POST,
                        "/execute/sync",
                        Some(json!({
                            "script": "return getComputedStyle(document.activeElement).outlineStyle;",
                            "args": []
                        })),
                    )
                    .await;
                assert_eq!(outline, "solid", "the focus on {css} is visible");
                return;
            }
        }
        panic!("{css} is not reachable with Tab");
    }

    async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .expect("html")
            .to_owned()
    }

    async fn current(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .expect("url")
            .to_owned()
    }

    /// Waits (by name, 15 s at most) until the window shows a page whose address holds `path`
    /// and whose content holds `text`: a click that submits a form returns before the next page is in.
    async fn wait_for(&self, path: &str, text: &str) {
        order_test_support::eventually(
            &format!("a page at {path} showing {text}"),
            StdDuration::from_secs(15),
            || async {
                (self.current().await.contains(path) && self.source().await.contains(text))
                    .then_some(())
            },
        )
        .await;
    }

    /// Saves what the window shows as `NN-name.png`, after checking the page's accessibility.
    async fn screenshot(&mut self, name: &str) {
        self.check_accessibility(name).await;
        self.picture(name).await;
    }

    /// Runs axe-core in the page; fails on any serious or critical violation and keeps the
    /// violations of every impact as `NN-name.axe.json`.
    async fn check_accessibility(&self, name: &str) {
        let script = format!(
            "{}\n;const done = arguments[arguments.length - 1];\
             window.axe.run(document, {{ resultTypes: ['violations'] }})\
               .then(r => done(r.violations.map(v => ({{ id: v.id, impact: v.impact,\
                 help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5) }}))),\
                     e => done({{ error: String(e) }}));",
            axe_source()
        );
        let violations = self
            .call(
                reqwest::Method::POST,
                "/execute/async",
                Some(json!({ "script": script, "args": [] })),
            )
            .await;
        let list = violations
            .as_array()
            .unwrap_or_else(|| panic!("axe ran on {name}: {violations}"));
        std::fs::write(
            self.artifacts
                .join(format!("{:02}-{name}.axe.json", self.shots + 1)),
            serde_json::to_vec_pretty(&violations).expect("json"),
        )
        .expect("axe report saved");
        let serious: Vec<&Value> = list
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        assert!(
            serious.is_empty(),
            "accessibility violations on {name}: {}",
            serde_json::to_string_pretty(&serious).expect("json")
        );
    }

    /// Saves what the window shows as `NN-name.png`.
    async fn picture(&mut self, name: &str) {
        let png = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("base64"))
            .expect("png");
        self.shots += 1;
        std::fs::write(
            self.artifacts.join(format!("{:02}-{name}.png", self.shots)),
            bytes,
        )
        .expect("screenshot saved");
    }

    async fn sign_in(&mut self, app: &TestApp, token: &str) {
        self.open(&app.url("/console/sign-in")).await;
        self.screenshot("sign-in").await;
        self.type_into("#token", token).await;
        self.click("form[action='/console/sign-in'] button").await;
        order_test_support::eventually(
            "the sign-in form to go",
            StdDuration::from_secs(15),
            || async { (!self.source().await.contains("name=\"token\"")).then_some(()) },
        )
        .await;
    }

    async fn close(self) {
        let _ = self
            .driver
            .client
            .delete(format!("{}/session/{}", self.driver.base, self.session))
            .send()
            .await;
    }
}

/// axe-core's browser build, installed by `deploy/local/services.sh` (`npm ci` in deploy/browser).
fn axe_source() -> &'static str {
    static SOURCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SOURCE.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../deploy/browser/node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run `just services-up` (it installs axe-core)",
                path.display()
            )
        })
    })
}

#[tokio::test]
async fn in_a_browser_an_admin_finds_an_order_and_approves_its_refund_and_a_buyer_is_turned_away() {
    let mut setup = Setup::default();
    setup.domain.refund.auto_approve_below = 1_000;
    let app = spawn_with(setup).await;
    let order = app.confirmed_order(1, 1).await;
    let id = order["id"].as_str().expect("id");
    let number = order["orderNumber"].as_str().expect("number");
    let refund: Value = app
        .post(
            &customer(1),
            &format!("/api/v1/orders/{id}/refund"),
            &json!({ "amount": 5000 }),
        )
        .await
        .json()
        .await
        .expect("json");
    let refund_id = refund["refundId"].as_str().expect("refund id");

    let driver = Driver::start().await;
    let mut browser = driver.browser("admin").await;
    browser.sign_in(&app, &admin()).await;
    browser.wait_for("/console", "order(s)").await;
    browser.screenshot("orders").await;

    browser.type_into("#orderNumber", number).await;
    browser.click("form.search button").await;
    browser.wait_for("orderNumber=", "1 order(s)").await;
    browser.screenshot("search").await;
    browser
        .click(&format!("a[href='/console/orders/{id}']"))
        .await;
    browser
        .wait_for(&format!("/console/orders/{id}"), "ORDER_CONFIRMED")
        .await;
    browser.screenshot("order").await;

    browser.open(&app.url("/console/refunds")).await;
    browser.screenshot("refunds").await;
    let approve = format!("form[action='/console/refunds/{refund_id}/approve']");
    // The same form with its CSRF field taken out (as a forged post would come): refused.
    browser
        .call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({
                "script": "document.querySelector(arguments[0]).querySelector('[name=csrf]').remove();",
                "args": [approve]
            })),
        )
        .await;
    browser.click(&format!("{approve} button")).await;
    browser
        .wait_for(
            &format!("/console/refunds/{refund_id}/approve"),
            "Form expired",
        )
        .await;
    browser.screenshot("forged-form-refused").await;
    browser.open(&app.url("/console/refunds")).await;
    browser.click(&format!("{approve} button")).await;
    // The approved refund is paid: the order page follows with it in the timeline.
    browser
        .wait_for(&format!("/console/orders/{id}"), "REFUND_COMPLETED")
        .await;
    browser.screenshot("refund-completed").await;
    browser.open(&app.url("/console/analytics")).await;
    browser
        .wait_for("/console/analytics", "Orders by status")
        .await;
    browser.screenshot("analytics").await;
    // A reconciliation over today, started from its form.
    browser.open(&app.url("/console/reconciliation")).await;
    browser.screenshot("reconciliation").await;
    browser
        .click("form[action='/console/reconciliation'] button")
        .await;
    browser
        .wait_for("/console/reconciliation/", "Orders checked")
        .await;
    browser.screenshot("reconciliation-run").await;
    browser.close().await;

    let mut buyer = driver.browser("buyer").await;
    buyer.sign_in(&app, &customer(1)).await;
    buyer
        .wait_for("/console/sign-in", "admins and warehouse staff")
        .await;
    buyer.screenshot("refused").await;
    buyer.open(&app.url("/console")).await;
    // No session was made: the console sends the buyer back to sign in.
    buyer.wait_for("/console/sign-in", "Access token").await;
    buyer.close().await;
}

#[tokio::test]
async fn in_a_browser_warehouse_staff_start_ship_and_deliver_a_paid_goods_order() {
    let app = spawn_app().await;
    let id = app.paid_goods_order(&customer(3), 2).await;
    let driver = Driver::start().await;
    let mut browser = driver.browser("warehouse").await;
    browser.sign_in(&app, &crate::shop::warehouse()).await;
    browser.open(&app.url("/console/warehouse")).await;
    browser.screenshot("confirmed").await;
    // By keyboard alone: Tab to the order's Start button, Enter presses it.
    browser
        .tab_to(&format!(
            "form[action='/console/warehouse/{id}/start'] button"
        ))
        .await;
    browser.press(ENTER).await;
    browser
        .wait_for(&format!("/console/warehouse/{id}/start"), "Pick list for")
        .await;
    browser.screenshot("pick-list").await;
    browser
        .open(&app.url("/console/warehouse?status=PROCESSING"))
        .await;
    browser
        .click(&format!(
            "form[action='/console/warehouse/{id}/ship'] button"
        ))
        .await;
    browser
        .wait_for(
            "status=SHIPPED",
            &format!("/console/warehouse/{id}/deliver"),
        )
        .await;
    browser.screenshot("shipped").await;
    browser
        .click(&format!(
            "form[action='/console/warehouse/{id}/deliver'] button"
        ))
        .await;
    browser
        .wait_for("status=SHIPPED", "0 order(s) SHIPPED")
        .await;
    browser.screenshot("delivered").await;
    browser.close().await;
    let order: Value = app
        .get(&admin(), &format!("/api/v1/orders/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(order["status"], "DELIVERED");
}

#[tokio::test]
async fn in_a_browser_the_api_reference_shows_every_operation_and_tries_one_out() {
    let app = spawn_app().await;
    let document: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .expect("document")
        .json()
        .await
        .expect("json");
    let operations: usize = document["paths"]
        .as_object()
        .expect("paths")
        .values()
        .map(|item| item.as_object().map_or(0, serde_json::Map::len))
        .sum();

    let driver = Driver::start().await;
    let mut browser = driver.browser("api-reference").await;
    browser.open(&app.url("/docs")).await;
    browser
        .wait_for("/docs", "operations-operations-getLiveness")
        .await;
    let shown = browser
        .call(
            reqwest::Method::POST,
            "/elements",
            Some(json!({ "using": "css selector", "value": ".opblock" })),
        )
        .await;
    assert_eq!(
        shown.as_array().map(Vec::len),
        Some(operations),
        "every operation of the document is on the page"
    );
    browser.screenshot("reference").await;

    browser
        .click("#operations-operations-getLiveness .opblock-summary-control")
        .await;
    browser.wait_for("/docs", "try-out__btn").await;
    browser
        .click("#operations-operations-getLiveness .try-out__btn")
        .await;
    browser
        .click("#operations-operations-getLiveness .execute")
        .await;
    // The answer of this instance is shown under the operation.
    browser.wait_for("/docs", "live-responses-table").await;
    let source = browser.source().await;
    assert!(
        source.contains("response-col_status\">200"),
        "a 200 is shown"
    );
    browser.screenshot("tried-out").await;
    browser.close().await;
}
