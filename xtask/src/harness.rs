//! What `bench sync` and `chaos` share: the release binaries, the `tiktok-sandbox` process,
//! stores connected without a browser, the environment of a `tiktok-hub` child, and a
//! minimal HTTP client for the sandbox's control routes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use hub_domain::Secret;
use hub_engine::AesGcmCipher;
use hub_engine::cipher::{TokenKind, binding};
use hub_ports::TokenCipher;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::util;

pub(crate) const CLIENT_KEY: &str = "sandbox-client-key";
pub(crate) const CLIENT_SECRET: &str = "sandbox-client-secret-0123456789abcdef";
pub(crate) const REDIRECT_URI: &str = "http://127.0.0.1:3000/auth/tiktok/callback";
/// Stores per INSERT statement while connecting.
const INSERT_BATCH: usize = 1000;
/// Token requests in flight while connecting.
const TOKEN_PARALLEL: usize = 16;

/// Builds `tiktok-hub` and `tiktok-sandbox` (release or debug); returns their paths.
pub(crate) fn build_binaries(release: bool) -> Result<(PathBuf, PathBuf)> {
    let profile = if release { "release" } else { "debug" };
    eprintln!("xtask: building tiktok-hub and tiktok-sandbox ({profile})");
    let mut build = Command::new(util::cargo());
    build.args(["build", "-p", "hub-app", "-p", "tiktok-sandbox"]).current_dir(util::root());
    if release {
        build.arg("--release");
    }
    util::run(&mut build)?;
    let bin_dir = util::target_dir().join(profile);
    Ok((bin_dir.join("tiktok-hub"), bin_dir.join("tiktok-sandbox")))
}

/// How the sandbox is started.
pub(crate) struct SandboxOpts<'a> {
    pub(crate) accounts: usize,
    pub(crate) videos: u32,
    /// `MIN-MAX` in ms (divided by the time scale).
    pub(crate) latency: &'a str,
    pub(crate) time_scale: f64,
    /// `none`, `may` or `strict`.
    pub(crate) rotation: &'a str,
}

/// The sandbox process; stopped (SIGTERM, then SIGKILL) when dropped.
pub(crate) struct Sandbox {
    child: Option<Child>,
    /// `127.0.0.1:PORT`.
    pub(crate) addr: String,
}

impl Sandbox {
    pub(crate) fn start(bin: &Path, opts: &SandboxOpts<'_>, log: &Path) -> Result<Self> {
        let log_file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let mut child = Command::new(bin)
            .args(["--listen", "127.0.0.1:0"])
            .args(["--accounts", &opts.accounts.to_string()])
            .args(["--videos-per-account", &opts.videos.to_string()])
            .args(["--seed", "42"])
            .args(["--rate-limit-per-min", "600", "--rate-limit-key", "client"])
            .args(["--latency-ms", opts.latency])
            .args(["--time-scale", &opts.time_scale.to_string()])
            .args(["--rotation", opts.rotation])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let stdout = child.stdout.take().expect("piped");
        let mut sandbox = Self { child: Some(child), addr: String::new() };
        // Wait for the one "listening" line (in a thread, so a silent sandbox cannot hang us).
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(60)).map_err(|_| {
            anyhow::anyhow!("tiktok-sandbox did not say it was listening within 60 s (see {})", log.display())
        })?;
        let addr = line
            .trim()
            .strip_prefix("tiktok-sandbox listening on http://")
            .with_context(|| format!("unexpected first line from tiktok-sandbox: {line:?} (see {})", log.display()))?;
        sandbox.addr = addr.to_owned();
        eprintln!(
            "xtask: tiktok-sandbox on http://{addr}: {} accounts, {} videos each on average, 600/min per endpoint, latency {} ms, time scale {}, rotation {}",
            opts.accounts, opts.videos, opts.latency, opts.time_scale, opts.rotation
        );
        Ok(sandbox)
    }

    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A minimal HTTP/1.1 request to the local sandbox (`addr` = `127.0.0.1:PORT`).
pub(crate) async fn http(addr: &str, method: &str, path: &str, body: Option<&str>) -> Result<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.with_context(|| format!("connecting to {addr}"))?;
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut raw))
        .await
        .with_context(|| format!("{method} {path}: no answer within 60 s"))??;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text.split_once("\r\n\r\n").with_context(|| format!("{method} {path}: malformed answer"))?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("{method} {path}: malformed status line"))?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked { dechunk(rest) } else { rest.to_owned() };
    Ok((status, body))
}

/// The body of a `Transfer-Encoding: chunked` answer.
pub(crate) fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16) else { break };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].strip_prefix("\r\n").unwrap_or(&rest[n..]);
    }
    out
}

pub(crate) async fn get_json(addr: &str, path: &str) -> Result<Value> {
    let (status, body) = http(addr, "GET", path, None).await?;
    if status != 200 {
        bail!("GET {path} answered {status}: {body}");
    }
    serde_json::from_str(&body).with_context(|| format!("GET {path}: not JSON"))
}

/// `POST path` with a JSON body that must answer 200.
pub(crate) async fn post_ok(addr: &str, path: &str, body: &str) -> Result<()> {
    let (status, answer) = http(addr, "POST", path, Some(body)).await?;
    if status != 200 {
        bail!("POST {path} answered {status}: {answer}");
    }
    Ok(())
}

pub(crate) fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The token cipher of a `TOKEN_ENC_KEY` given as 64 hex digits (key id `k1`).
pub(crate) fn cipher_from_hex(key: &str) -> Result<AesGcmCipher> {
    let mut key_bytes = [0u8; 32];
    for (i, b) in key_bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(key.get(2 * i..2 * i + 2).context("key too short")?, 16).context("key not hex")?;
    }
    AesGcmCipher::new(&[("k1".to_owned(), Secret::new(key_bytes))]).context("token cipher")
}

/// A token pair issued by the sandbox for one account, sealed for its store's row.
pub(crate) struct SealedGrant {
    pub(crate) open_id: String,
    pub(crate) access: String,
    pub(crate) refresh: String,
    pub(crate) expires_in: i64,
    pub(crate) refresh_expires_in: i64,
    pub(crate) scope: String,
}

/// Asks the sandbox for a token pair of `account` (`POST /sandbox/tokens`, no OAuth dance)
/// and encrypts it, bound to `code`'s row.
pub(crate) async fn issue_sealed(sb: &str, cipher: &AesGcmCipher, code: &str, account: usize) -> Result<SealedGrant> {
    let (status, body) = http(sb, "POST", "/sandbox/tokens", Some(&format!(r#"{{"account":{account}}}"#))).await?;
    if status != 200 {
        bail!("POST /sandbox/tokens for account {account} answered {status}: {body}");
    }
    let t: Value = serde_json::from_str(&body).context("token answer is not JSON")?;
    let field =
        |name: &str| t.get(name).and_then(Value::as_str).with_context(|| format!("token answer without {name}"));
    let secs = |name: &str| t.get(name).and_then(Value::as_i64).unwrap_or(0).max(0);
    Ok(SealedGrant {
        open_id: field("open_id")?.to_owned(),
        access: cipher.encrypt(field("access_token")?, &binding(code, TokenKind::Access)),
        refresh: cipher.encrypt(field("refresh_token")?, &binding(code, TokenKind::Refresh)),
        expires_in: secs("expires_in"),
        refresh_expires_in: secs("refresh_expires_in"),
        scope: field("scope")?.to_owned(),
    })
}

/// Creates stores `<prefix>00001…` with CONNECTED accounts holding sandbox-issued tokens
/// (store `i` is sandbox account `i - 1`).
pub(crate) async fn connect_stores(sb: &str, url: &str, n: usize, cipher: AesGcmCipher, prefix: &str) -> Result<()> {
    let cipher = Arc::new(cipher);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let rows = Arc::new(std::sync::Mutex::new(vec![String::new(); n]));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..TOKEN_PARALLEL {
        let (sb, next, rows, cipher, prefix) =
            (sb.to_owned(), next.clone(), rows.clone(), cipher.clone(), prefix.to_owned());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return anyhow::Ok(());
                }
                let code = store_code(&prefix, i);
                let g = issue_sealed(&sb, &cipher, &code, i).await?;
                let row = format!(
                    "({}, 'tiktok', {}, {}, {}, now() + interval '{} seconds', now() + interval '{} seconds', {}, 'CONNECTED', now())",
                    sql_text(&code),
                    sql_text(&g.open_id),
                    sql_text(&g.access),
                    sql_text(&g.refresh),
                    g.expires_in,
                    g.refresh_expires_in,
                    sql_text(&g.scope),
                );
                rows.lock().expect("rows")[i] = row;
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.context("token task panicked")??;
    }
    let rows = std::mem::take(&mut *rows.lock().expect("rows"));
    let mut statements = Vec::new();
    for (b, chunk) in rows.chunks(INSERT_BATCH).enumerate() {
        let first = b * INSERT_BATCH;
        let stores: Vec<String> = (first..first + chunk.len())
            .map(|i| format!("({}, 'Store {}', 'PIC {}')", sql_text(&store_code(prefix, i)), i + 1, i + 1))
            .collect();
        statements.push(format!(
            "INSERT INTO stores (store_code, store_name, pic_name) VALUES {};
             INSERT INTO store_accounts (store_code, platform, account_identifier, encrypted_access_token,
                 encrypted_refresh_token, token_expires_at, refresh_token_expires_at, scopes, status, connected_at)
             VALUES {};",
            stores.join(","),
            chunk.join(",")
        ));
    }
    let mut inserts = tokio::task::JoinSet::new();
    let statements = Arc::new(std::sync::Mutex::new(statements));
    for _ in 0..2 {
        let (url, statements) = (url.to_owned(), statements.clone());
        inserts.spawn(async move {
            loop {
                let Some(sql) = statements.lock().expect("statements").pop() else { return anyhow::Ok(()) };
                hub_postgres::execute_batch(&url, &sql).await.context("inserting stores")?;
            }
        });
    }
    while let Some(r) = inserts.join_next().await {
        r.context("insert task panicked")??;
    }
    Ok(())
}

/// A day passes for the hub's data and for TikTok: every snapshot date and every stored
/// token time moves back one day, the sandbox clock one day forward (new videos appear, counts
/// grow, and yesterday's access tokens are now expired for TikTok *and* for the hub, so the
/// next run rotates all of them, as it would every night).
///
/// Moving the dates rewrites every row, which a real night never does: it leaves a dead
/// tuple per snapshot row, and autovacuum would then clean half a million of them during the
/// next run (it slowed the first minute of a 10,000-store day 2 to a quarter of its speed).
/// `VACUUM ANALYZE` of the rewritten tables puts them back in the state a night of inserts
/// leaves them in.
pub(crate) async fn pass_a_day(url: &str, sb: &str) -> Result<()> {
    hub_postgres::execute_batch(
        url,
        "UPDATE tiktok_user_daily SET snapshot_date = snapshot_date - 1;
         UPDATE tiktok_video_daily SET snapshot_date = snapshot_date - 1;
         UPDATE store_accounts SET token_expires_at = token_expires_at - interval '1 day',
                refresh_token_expires_at = refresh_token_expires_at - interval '1 day',
                connected_at = connected_at - interval '1 day',
                last_sync_time = last_sync_time - interval '1 day',
                last_refresh_at = last_refresh_at - interval '1 day';",
    )
    .await?;
    hub_postgres::execute_batch(url, "VACUUM ANALYZE tiktok_user_daily, tiktok_video_daily, store_accounts").await?;
    post_ok(sb, "/sandbox/clock", r#"{"advance_days":1}"#).await
}

/// The code of the `i`-th store (0-based) of [`connect_stores`].
pub(crate) fn store_code(prefix: &str, i: usize) -> String {
    format!("{prefix}{:05}", i + 1)
}

/// The settings a `tiktok-hub` child gets (every other setting stays at its default unless
/// the caller's environment sets it).
pub(crate) struct HubEnv {
    pub(crate) database_url: String,
    /// The sandbox, as both TikTok base URLs.
    pub(crate) api_base: String,
    pub(crate) token_key: String,
    pub(crate) admin_key: String,
    pub(crate) state_secret: String,
    /// `TIKTOK_RATE_LIMIT_PER_MIN`.
    pub(crate) rate_limit: u64,
}

impl HubEnv {
    /// Fresh secrets for a hub on `database_url` talking to the sandbox at `sandbox_addr`.
    pub(crate) fn new(database_url: &str, sandbox_addr: &str, rate_limit: u64) -> Result<Self> {
        Ok(Self {
            database_url: database_url.to_owned(),
            api_base: format!("http://{sandbox_addr}"),
            token_key: util::random_hex(32)?,
            admin_key: util::random_hex(24)?,
            state_secret: util::random_hex(32)?,
            rate_limit,
        })
    }

    /// `tiktok-hub <args>` run from `work` (so no `.env` of the caller's directory is read),
    /// with these settings, `CRON_ENABLED=false`, `LOG_LEVEL=warn` and `RUST_LOG` unset
    /// (or, to look inside a run, set to the caller's `XTASK_HUB_RUST_LOG`).
    pub(crate) fn command(&self, bin: &Path, args: &[&str], work: &Path) -> Command {
        let mut cmd = Command::new(bin);
        cmd.args(args).current_dir(work).env_remove("RUST_LOG");
        if let Ok(filter) = std::env::var("XTASK_HUB_RUST_LOG") {
            cmd.env("RUST_LOG", filter);
        }
        cmd.env("DATABASE_URL", &self.database_url)
            .env("TIKTOK_CLIENT_KEY", CLIENT_KEY)
            .env("TIKTOK_CLIENT_SECRET", CLIENT_SECRET)
            .env("TIKTOK_REDIRECT_URI", REDIRECT_URI)
            .env("TIKTOK_AUTH_BASE_URL", &self.api_base)
            .env("TIKTOK_API_BASE_URL", &self.api_base)
            .env("TOKEN_ENC_KEY", &self.token_key)
            .env("ADMIN_API_KEY", &self.admin_key)
            .env("STATE_SECRET", &self.state_secret)
            .env("TIKTOK_RATE_LIMIT_PER_MIN", self.rate_limit.to_string())
            .env("LOG_LEVEL", "warn")
            .env("CRON_ENABLED", "false")
            .stdin(Stdio::null());
        cmd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies() {
        assert_eq!(dechunk("4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n"), "abcdefg");
    }

    #[test]
    fn store_codes_and_sql_text() {
        assert_eq!(store_code("bench_", 0), "bench_00001");
        assert_eq!(store_code("chaos_", 299), "chaos_00300");
        assert_eq!(sql_text("it's"), "'it''s'");
    }

    #[test]
    fn hex_keys() {
        assert!(cipher_from_hex(&"ab".repeat(32)).is_ok());
        assert!(cipher_from_hex("abcd").is_err());
        assert!(cipher_from_hex(&"zz".repeat(32)).is_err());
    }
}
