//! A real Chromium (Debian's `chromium` and `chromium-driver`), headless, driven over
//! WebDriver with fantoccini. Every page a test opens is checked: no console error (a CSP
//! violation is one), no request to another origin, and axe-core finds no serious or
//! critical accessibility violation.
//!
//! `cargo xtask test` runs these tests only when both programs are installed, and says
//! loudly when it leaves them out; run directly, they fail without them.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// axe-core, from npm (`fixtures/axe.min.js`, see fixtures/README.md); injected into pages
/// by the test, never served by the hub.
const AXE: &str = include_str!("../fixtures/axe.min.js");

/// Desktop and phone viewports.
pub const DESKTOP: (u32, u32) = (1280, 900);
pub const PHONE: (u32, u32) = (390, 844);

/// Where a program is: `$name` on PATH, else the Debian location.
fn program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in names {
        for dir in std::env::split_paths(&path).chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/lib/chromium")]) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// A headless Chromium with its chromedriver.
pub struct Browser {
    pub client: Client,
    driver: Child,
    /// chromedriver's address.
    driver_url: String,
    base: String,
}

impl Browser {
    /// Starts chromedriver and a Chromium session for pages of `base`.
    pub async fn start(base: &str) -> Self {
        let driver_bin = program(&["chromedriver"]).expect(
            "chromedriver not found: `apt-get install -y chromium chromium-driver` (cargo xtask test leaves the browser tests out without it)",
        );
        let chromium =
            program(&["chromium", "chromium-browser"]).expect("chromium not found: apt-get install -y chromium");
        let port = super::free_port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver_url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let http = reqwest::Client::new();
        while http.get(format!("{driver_url}/status")).send().await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver never answered");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,900", "--hide-scrollbars", "--force-device-scale-factor=1",
                         "--no-first-run", "--disable-extensions", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--disable-default-apps"],
            }),
        );
        caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&driver_url)
            .await
            .expect("a Chromium session");
        Self { client, driver, driver_url, base: base.trim_end_matches('/').to_owned() }
    }

    /// Opens `path` of the hub and checks the page.
    pub async fn open(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.expect("navigates");
        self.check().await;
    }

    /// The current page's path and query.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current url");
        let query = url.query().map_or_else(String::new, |q| format!("?{q}"));
        format!("{}{query}", url.path())
    }

    /// The console's errors since the last call (chromedriver's log endpoint).
    async fn console_errors(&self) -> Vec<String> {
        let session = self.client.session_id().await.ok().flatten().expect("session id");
        let answer: Value = reqwest::Client::new()
            .post(format!("{}/session/{session}/se/log", self.driver_url))
            .json(&json!({ "type": "browser" }))
            .send()
            .await
            .expect("browser log")
            .json()
            .await
            .expect("browser log json");
        answer["value"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter(|e| e["level"] == "SEVERE" || e["level"] == "ERROR")
                    .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every URL the page loaded (itself, styles, scripts, images, fetches).
    async fn loaded_urls(&self) -> Vec<String> {
        let v = self
            .client
            .execute(
                "return [location.href].concat(performance.getEntries().map(function (e) { return e.name; }));",
                vec![],
            )
            .await
            .expect("performance entries");
        v.as_array().map(|a| a.iter().filter_map(|u| u.as_str().map(str::to_owned)).collect()).unwrap_or_default()
    }

    /// The bytes of the current page and everything it loaded, as a first visit with an empty
    /// cache would fetch them (bodies as sent: the hub does not compress).
    pub async fn page_bytes(&self) -> u64 {
        let v = self
            .client
            .execute(
                "return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))\
                   .reduce(function (n, e) { return n + (e.decodedBodySize || 0); }, 0);",
                vec![],
            )
            .await
            .expect("performance entries");
        v.as_u64().unwrap_or_else(|| v.as_f64().expect("a number") as u64)
    }

    /// Opens `path`, which the hub refuses (a 403 or 404 page); the page's text. The browser's
    /// one console line for the refused load is expected and consumed; anything else fails.
    pub async fn refused(&self, path: &str) -> String {
        self.client.goto(&format!("{}{path}", self.base)).await.expect("navigates");
        let errors = self.console_errors().await;
        assert!(
            errors.len() == 1 && (errors[0].contains("status of 403") || errors[0].contains("status of 404")),
            "{path}: {errors:#?}"
        );
        self.axe().await;
        self.body().await
    }

    /// The page has no console error and loaded nothing from another origin.
    pub async fn check(&self) {
        let errors = self.console_errors().await;
        assert!(errors.is_empty(), "console errors on {}: {errors:#?}", self.path().await);
        for url in self.loaded_urls().await {
            let own = url.starts_with(&format!("{}/", self.base)) || url == self.base;
            // Entries that are not requests (paint timings, marks) have plain names.
            let request = url.contains("://");
            assert!(own || !request, "{} loaded {url} from another origin", self.path().await);
        }
    }

    /// axe-core on the current page: no serious or critical violation.
    pub async fn axe(&self) {
        self.client.execute(AXE, vec![]).await.expect("axe-core loads");
        let result = self
            .client
            .execute_async(
                "var done = arguments[arguments.length - 1];\
                 axe.run(document, { resultTypes: ['violations'] }).then(function (r) {\
                   done(r.violations.filter(function (v) { return v.impact === 'serious' || v.impact === 'critical'; })\
                     .map(function (v) { return { id: v.id, impact: v.impact, help: v.help,\
                       nodes: v.nodes.slice(0, 3).map(function (n) { return n.target.join(' '); }) }; }));\
                 }, function (e) { done([{ id: 'axe-error', help: String(e) }]); });",
                vec![],
            )
            .await
            .expect("axe-core runs");
        let path = self.path().await;
        assert_eq!(result, json!([]), "accessibility violations on {path}");
    }

    /// Opens `path`, checks it and runs axe-core on it.
    pub async fn visit(&self, path: &str) {
        self.open(path).await;
        self.axe().await;
    }

    /// Sets the window to `(width, height)` CSS pixels.
    pub async fn resize(&self, (w, h): (u32, u32)) {
        self.client.set_window_size(w, h).await.expect("window size");
    }

    /// A PNG of the viewport at `size` as `<name>.png`: into the workspace's `docs/img/` when
    /// `UPDATE_SCREENSHOTS=1` (to refresh the README's pictures), else under the target dir
    /// (so a test run leaves the checkout as it was).
    pub async fn screenshot(&self, name: &str, size: (u32, u32)) {
        self.resize(size).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = if std::env::var("UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/img")
        } else {
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots")
        };
        std::fs::create_dir_all(&dir).expect("docs/img");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
        self.resize(DESKTOP).await;
    }

    /// The text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).text().await.expect("text")
    }

    /// How many elements match `css`.
    pub async fn count(&self, css: &str) -> usize {
        self.client.find_all(Locator::Css(css)).await.expect("find_all").len()
    }

    /// The whole page's visible text.
    pub async fn body(&self) -> String {
        self.text("body").await
    }

    /// Types `value` into the field `css` (cleared first).
    pub async fn fill(&self, css: &str, value: &str) {
        let el = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        el.clear().await.expect("clear");
        el.send_keys(value).await.expect("type");
    }

    /// Clicks the first element matching `css`, then checks the page it leads to.
    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .expect("click");
        self.check().await;
    }

    /// Waits (up to 30 s) until `css` matches something.
    pub async fn wait_for(&self, css: &str) {
        self.client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} never appeared: {e}"));
    }

    /// Signs in through the sign-in page and lands on the overview.
    pub async fn sign_in(&self, email: &str, password: &str) {
        self.visit("/dashboard/login").await;
        self.fill("#email", email).await;
        self.fill("#password", password).await;
        self.click("button[type=submit]").await;
        assert_eq!(self.path().await, "/dashboard/", "signed in as {email}");
    }

    /// Ends the session and stops chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
