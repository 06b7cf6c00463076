//! `cargo xtask apicheck [SCHEMATHESIS ARGS…]`: schemathesis against the real hub.
//!
//! 1. builds `tiktok-hub` and `tiktok-sandbox` (debug);
//! 2. recreates the database `tiktok_hub_apicheck` on the server of `cargo xtask db url` and
//!    migrates it;
//! 3. starts `tiktok-sandbox` and `tiktok-hub serve` on free ports of 127.0.0.1, with fresh
//!    secrets. The hub's limits are OFF (`RATE_LIMIT_ADMIN_PER_MIN=0`,
//!    `RATE_LIMIT_OAUTH_PER_MIN=0`, `RATE_LIMIT_HEALTH_PER_MIN=0`, `RATE_LIMIT_LOGIN_PER_MIN=0`, `AUTH_FAILURE_MAX=0`): the fuzzer sends thousands of
//!    requests from one address, some with wrong keys, and would otherwise be throttled or
//!    blocked (429) instead of testing the API;
//! 4. seeds through the API, so positive paths answer 200: the document's example store
//!    (`store_jakarta_01`, the `example` of every `store_code`), connected to a sandbox
//!    account through the real OAuth flow (connect link, consent, callback) and synced once,
//!    and a second, unconnected store;
//! 5. runs `schemathesis run <hub>/api/openapi.json --checks all --max-examples 100` with a
//!    valid `X-API-KEY` (extra arguments go to schemathesis, e.g. `--seed 1`), bounded by
//!    [`SCHEMATHESIS_TIMEOUT`];
//! 6. stops both processes and drops the database, also on failure and on Ctrl-C, and exits
//!    with schemathesis's status.
//!
//! The per-operation settings (in the generated `schemathesis.toml`, see [`CONFIG`]):
//!
//! - `GET /auth/tiktok/callback`: `positive_data_acceptance` also expects 400. The callback
//!   is only valid with the `state` the hub signed for this browser (HMAC, single use, bound
//!   to the `hub_oauth_binding` cookie) and a `code` TikTok issued: no schema can describe
//!   such values, so any generated "schema-valid" query is a forged or replayed state, and
//!   refusing it with 400 (documented: "invalid state …") is the right answer. Every other
//!   check still runs on this operation.
//! - `POST /admin/stores/import`: `positive_data_acceptance` also expects 400 (and 413): the
//!   upload is a CSV file, a plain string to a schema, and whether its rows are valid stores
//!   cannot be stated in one; a generated file is refused with its row-by-row report.
//! - `POST /admin/users` and `PATCH /admin/users/{id}`: `positive_data_acceptance` also
//!   expects 400: a password must not be on the common-passwords list the binary ships and
//!   must hold 5 different characters, which no schema states.
//!
//! Every other check runs on these operations, and every check runs on every other operation.
//!
//! All traffic goes to 127.0.0.1 and ends with the run.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

use crate::harness::dechunk;
use crate::{db, util};

const DB_NAME: &str = "tiktok_hub_apicheck";
const CLIENT_KEY: &str = "sandbox-client-key";
const CLIENT_SECRET: &str = "sandbox-client-secret-0123456789abcdef";
/// At least 100 examples per operation.
const MAX_EXAMPLES: &str = "100";
/// The whole schemathesis run must end within this.
const SCHEMATHESIS_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// A second store, never connected.
const SECOND_STORE: &str = "store_bandung_02";

/// Per-operation settings of the run; the reason for each is in this module's doc.
const CONFIG: &str = r#"# Written by `cargo xtask apicheck` (xtask/src/apicheck.rs explains every entry).

# The OAuth callback is only valid with a state the hub signed for this browser and a code
# TikTok issued; no schema can describe them, so a generated query is refused with 400.
[[operations]]
include-path = "/auth/tiktok/callback"
include-method = "GET"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]

# A store import's file is "a string" to a schema; whether its rows are valid stores (codes,
# names, no duplicates) cannot be said in one, so a generated file is refused with 400 and
# its row-by-row report.
[[operations]]
include-path = "/admin/stores/import"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "413", "429", "5xx"]

# A person's password must not be a common one (a list shipped with the binary) and must hold
# 5 different characters: no schema states either, so a generated weak password gets 400.
[[operations]]
include-path = "/admin/users"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]

[[operations]]
include-path = "/admin/users/{id}"
include-method = "PATCH"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
"#;

pub fn run(extra: &[String]) -> Result<()> {
    if !util::succeeds("schemathesis", &["--version"]) {
        bail!("schemathesis is not on PATH: pip install schemathesis");
    }
    let work = util::root().join("target").join("apicheck");
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let started = Instant::now();

    eprintln!("xtask: building tiktok-hub and tiktok-sandbox (debug)");
    util::run(
        std::process::Command::new(util::cargo())
            .args(["build", "-p", "hub-app", "-p", "tiktok-sandbox"])
            .current_dir(util::root()),
    )?;
    let bin_dir = util::target_dir().join("debug");

    let server_url = db::up_quiet()?;
    let admin_url = db::with_database(&server_url, "postgres")?;
    let db_url = db::with_database(&server_url, DB_NAME)?;

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("tokio runtime")?;
    let code = rt.block_on(async {
        recreate_db(&admin_url, &db_url).await?;
        let code = run_with_db(&bin_dir, &work, &db_url, extra).await;
        if let Err(e) =
            hub_postgres::execute_batch(&admin_url, &format!("DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")).await
        {
            eprintln!("xtask: could not drop the database {DB_NAME}: {e:#}");
        }
        code
    })?;
    eprintln!("xtask: apicheck finished in {:.0}s (schemathesis exit status {code})", started.elapsed().as_secs_f64());
    if code != 0 {
        std::process::exit(code);
    }
    Ok(())
}

async fn recreate_db(admin_url: &str, db_url: &str) -> Result<()> {
    hub_postgres::execute_batch(admin_url, &format!("DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")).await?;
    hub_postgres::execute_batch(admin_url, &format!("CREATE DATABASE {DB_NAME}")).await?;
    hub_postgres::run_migrations(db_url).await?;
    Ok(())
}

/// Starts the sandbox and the hub, seeds, runs schemathesis; both processes are stopped
/// before this returns (the `Proc` guards also kill them if it unwinds).
async fn run_with_db(bin_dir: &Path, work: &Path, db_url: &str, extra: &[String]) -> Result<i32> {
    // The hub's redirect URI needs its port up front.
    let hub_port = util::free_port()?;
    let hub_addr = format!("127.0.0.1:{hub_port}");
    let redirect_uri = format!("http://{hub_addr}/auth/tiktok/callback");

    let mut sandbox = Proc::spawn(
        "tiktok-sandbox",
        Command::new(bin_dir.join("tiktok-sandbox"))
            .args(["--listen", "127.0.0.1:0", "--redirect-uri", &redirect_uri])
            .args(["--accounts", "3", "--videos-per-account", "5", "--seed", "42"])
            .env("RUST_LOG", "warn"),
        &work.join("sandbox.log"),
    )?;
    let sb_addr = sandbox.first_line("tiktok-sandbox listening on http://").await?;

    let api_key = util::random_hex(24)?;
    let mut hub = Proc::spawn(
        "tiktok-hub",
        Command::new(bin_dir.join("tiktok-hub"))
            .arg("serve")
            .env_remove("RUST_LOG")
            .env("DATABASE_URL", db_url)
            .env("TIKTOK_CLIENT_KEY", CLIENT_KEY)
            .env("TIKTOK_CLIENT_SECRET", CLIENT_SECRET)
            .env("TIKTOK_REDIRECT_URI", &redirect_uri)
            .env("TIKTOK_AUTH_BASE_URL", format!("http://{sb_addr}"))
            .env("TIKTOK_API_BASE_URL", format!("http://{sb_addr}"))
            .env("TOKEN_ENC_KEY", util::random_hex(32)?)
            .env("ADMIN_API_KEY", &api_key)
            .env("STATE_SECRET", util::random_hex(32)?)
            .env("HOST", "127.0.0.1")
            .env("PORT", hub_port.to_string())
            .env("CRON_ENABLED", "false")
            // Limits off: the fuzzer is one address sending thousands of requests, some with
            // wrong keys on purpose; it must not be throttled or blocked.
            .env("RATE_LIMIT_ADMIN_PER_MIN", "0")
            .env("RATE_LIMIT_OAUTH_PER_MIN", "0")
            .env("RATE_LIMIT_HEALTH_PER_MIN", "0")
            .env("RATE_LIMIT_LOGIN_PER_MIN", "0")
            .env("AUTH_FAILURE_MAX", "0")
            .env("LOG_LEVEL", "warn"),
        &work.join("hub.log"),
    )?;
    let result = async {
        hub.first_line("tiktok-hub listening on http://").await?;
        wait_healthy(&hub_addr).await?;
        seed(&hub_addr, &api_key).await.context("seeding through the API")?;
        schemathesis(&hub_addr, &api_key, work, extra).await
    }
    .await;
    hub.stop().await;
    sandbox.stop().await;
    if result.is_err() {
        eprintln!("xtask: logs: {} and {}", work.join("hub.log").display(), work.join("sandbox.log").display());
    }
    result
}

async fn schemathesis(hub: &str, api_key: &str, work: &Path, extra: &[String]) -> Result<i32> {
    let config = work.join("schemathesis.toml");
    std::fs::write(&config, CONFIG).with_context(|| format!("writing {}", config.display()))?;
    let spec = format!("http://{hub}/api/openapi.json");
    let mut cmd = Command::new("schemathesis");
    cmd.arg("--config-file")
        .arg(&config)
        .args(["run", &spec, "--checks", "all", "--max-examples", MAX_EXAMPLES, "--request-timeout", "30"])
        .arg("-H")
        .arg(format!("X-API-KEY: {api_key}"))
        .args(extra)
        // Its `.hypothesis` cache and reports stay under target/.
        .current_dir(work)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    eprintln!(
        "xtask: schemathesis run {spec} --checks all --max-examples {MAX_EXAMPLES} -H 'X-API-KEY: …' (config {}) {}",
        config.display(),
        extra.join(" ")
    );
    let mut child = cmd.spawn().context("cannot start schemathesis")?;
    let status = tokio::select! {
        status = child.wait() => status.context("waiting for schemathesis")?,
        () = tokio::time::sleep(SCHEMATHESIS_TIMEOUT) => {
            let _ = child.kill().await;
            bail!("schemathesis did not finish within {} s", SCHEMATHESIS_TIMEOUT.as_secs());
        }
        _ = tokio::signal::ctrl_c() => {
            let _ = child.kill().await;
            eprintln!("xtask: interrupted; stopping");
            return Ok(130);
        }
    };
    Ok(status.code().unwrap_or(1))
}

/// A child process with its stdout piped (for its "listening" line) and stderr in a log;
/// stopped with SIGTERM (then SIGKILL), and killed if dropped.
struct Proc {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn spawn(name: &'static str, cmd: &mut Command, log: &Path) -> Result<Self> {
        let log_file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let child = cmd
            .current_dir(log.parent().unwrap_or(Path::new(".")))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        Ok(Self { name, child, log: log.to_owned() })
    }

    /// Waits (60 s at most) for the first line of stdout, which must start with `prefix`;
    /// returns the rest (the address).
    async fn first_line(&mut self, prefix: &str) -> Result<String> {
        let stdout = self.child.stdout.take().context("stdout already taken")?;
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .map_err(|_| anyhow::anyhow!("{} did not start within 60 s (see {})", self.name, self.log.display()))?
            .unwrap_or_default()
            .unwrap_or_default();
        // Keep draining, so the process never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let addr = line.trim().strip_prefix(prefix).with_context(|| {
            format!("{} did not start: first line {line:?} (see {})", self.name, self.log.display())
        })?;
        eprintln!("xtask: {} on http://{addr}", self.name);
        Ok(addr.to_owned())
    }

    async fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
        }
        if tokio::time::timeout(Duration::from_secs(15), self.child.wait()).await.is_err() {
            eprintln!("xtask: {} did not stop on SIGTERM; killing it", self.name);
            let _ = self.child.kill().await;
        }
    }
}

async fn wait_healthy(hub: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match http(hub, "GET", "/health", &[], None).await {
            Ok(r) if r.status == 200 => return Ok(()),
            Ok(r) if Instant::now() > deadline => bail!("GET /health answered {}: {}", r.status, r.body),
            Err(e) if Instant::now() > deadline => return Err(e.context("GET /health")),
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Two stores through the API: the document's example store, connected through the OAuth
/// flow against the sandbox and synced once (so its accounts, statistics and logs answer
/// with data), and a second one left unconnected, in the example store group.
async fn seed(hub: &str, key: &str) -> Result<()> {
    let auth = [("X-API-KEY", key)];
    let doc = http(hub, "GET", "/api/openapi.json", &[], None).await?.json()?;
    let example = doc
        .pointer("/components/schemas/CreateStoreBody/example")
        .cloned()
        .context("the document has no example for POST /admin/stores")?;
    let code = example["store_code"].as_str().context("example without store_code")?.to_owned();
    // The second store is in the document's example group, so that example requests naming
    // it (`store_groups: ["north"]` on a user or key) are valid ones.
    let group = doc
        .pointer("/components/schemas/CreateStoreBody/properties/store_group/example")
        .and_then(|g| g.as_str())
        .context("the document has no example for store_group")?;
    let second = json!({
        "store_code": SECOND_STORE, "store_name": "Store Bandung", "pic_name": "Jane Doe", "store_group": group,
    });
    for body in [&example, &second] {
        http(hub, "POST", "/admin/stores", &auth, Some(&body.to_string())).await?.expect(201)?;
    }

    // The OAuth flow, as the store's staff would do it in a browser.
    let link = http(hub, "POST", &format!("/admin/stores/{code}/connect-link"), &auth, None).await?.expect(200)?;
    let url = link.json()?["data"]["url"].as_str().context("connect link without url")?.to_owned();
    let connect = http(hub, "GET", &path_of(&url)?, &[], None).await?.expect(302)?;
    let cookie = connect.set_cookie("hub_oauth_binding").context("no binding cookie")?;
    let consent = connect.header("location").context("no redirect to TikTok")?;
    let (sb, consent_path) = split_url(&consent)?;
    let back = http(&sb, "GET", &consent_path, &[], None).await?.expect(302)?;
    let callback = back.header("location").context("the sandbox did not redirect back")?;
    let cookie_header = format!("hub_oauth_binding={cookie}");
    http(hub, "GET", &path_of(&callback)?, &[("Cookie", &cookie_header)], None).await?.expect(200)?;
    let body = json!({ "store_code": code, "job": "all", "wait": true }).to_string();
    http(hub, "POST", "/admin/sync/run", &auth, Some(&body)).await?.expect(200)?;
    eprintln!("xtask: seeded {code} (connected, synced) and {SECOND_STORE}");
    Ok(())
}

/// `http://host:port/p?q` → `/p?q`.
fn path_of(url: &str) -> Result<String> {
    Ok(split_url(url)?.1)
}

/// `http://host:port/p?q` → (`host:port`, `/p?q`); only plain HTTP to 127.0.0.1.
fn split_url(url: &str) -> Result<(String, String)> {
    let rest = url.strip_prefix("http://").with_context(|| format!("not an http:// URL: {url}"))?;
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
    if !authority.starts_with("127.0.0.1:") {
        bail!("refusing to leave 127.0.0.1: {url}");
    }
    Ok((authority.to_owned(), path.to_owned()))
}

struct Reply {
    what: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn expect(self, status: u16) -> Result<Self> {
        if self.status != status {
            bail!("{} answered {} (expected {status}): {}", self.what, self.status, self.body);
        }
        Ok(self)
    }

    fn json(&self) -> Result<Value> {
        serde_json::from_str(&self.body).with_context(|| format!("{}: not JSON", self.what))
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
    }

    fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| v.split(';').next()?.trim().strip_prefix(&format!("{name}=")).map(str::to_owned))
            .next()
    }
}

/// A minimal HTTP/1.1 request to a local server, 30 s at most.
async fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Result<Reply> {
    let what = format!("{method} {}", path.split('?').next().unwrap_or(path));
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.with_context(|| format!("connecting to {addr}"))?;
        let body = body.unwrap_or("");
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if !body.is_empty() {
            request.push_str("Content-Type: application/json\r\n");
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        stream.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        anyhow::Ok(raw)
    };
    let raw = tokio::time::timeout(Duration::from_secs(30), exchange)
        .await
        .with_context(|| format!("{what}: no answer within 30 s"))??;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text.split_once("\r\n\r\n").with_context(|| format!("{what}: malformed answer"))?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("{what}: malformed status line"))?;
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned())).collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked { dechunk(rest) } else { rest.to_owned() };
    Ok(Reply { what, status, headers, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_stay_local() {
        assert_eq!(
            split_url("http://127.0.0.1:8088/v2/auth/authorize?x=1").unwrap(),
            ("127.0.0.1:8088".to_owned(), "/v2/auth/authorize?x=1".to_owned())
        );
        assert_eq!(path_of("http://127.0.0.1:1/connect/tiktok?a=b").unwrap(), "/connect/tiktok?a=b");
        assert!(split_url("https://www.tiktok.com/v2/auth").is_err());
        assert!(split_url("http://example.com/x").is_err());
    }

    #[test]
    fn database_swapped_in_url() {
        assert_eq!(
            db::with_database("postgres://p@127.0.0.1:5432/ci?sslmode=disable", DB_NAME).unwrap(),
            "postgres://p@127.0.0.1:5432/tiktok_hub_apicheck?sslmode=disable"
        );
    }

    #[test]
    fn config_scopes_the_per_operation_settings() {
        assert_eq!(CONFIG.matches("[[operations]]").count(), 4);
        assert!(CONFIG.contains(r#"include-path = "/admin/users/{id}""#));
        assert!(CONFIG.contains(r#"include-path = "/auth/tiktok/callback""#));
        assert!(CONFIG.contains(r#"include-path = "/admin/stores/import""#));
        assert!(!CONFIG.contains("enabled = false"), "no check is switched off");
    }
}
