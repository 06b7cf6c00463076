//! `cargo xtask bench sync --stores N --videos M [--time-scale K] [--latency MIN-MAX] [--release|--debug]`:
//! the daily sync of the real `tiktok-hub` binary against `tiktok-sandbox` at TikTok's limits.
//!
//! 1. builds both binaries (release by default);
//! 2. recreates the database `tiktok_hub_bench` on the server of `cargo xtask db url` and
//!    migrates it;
//! 3. starts the sandbox as a process: N accounts, M videos each on average, 600 requests per
//!    minute per endpoint per app (× K), latency 300-800 ms (÷ K);
//! 4. connects stores `bench_00001…` directly (tokens issued by `POST /sandbox/tokens`,
//!    encrypted with the hub's cipher and bound to their store, inserted in batches);
//! 5. day 1: runs `tiktok-hub sync --job all`, measures its wall time and peak RSS, and prints
//!    one `sync day=1 …` line with the sandbox's call counts;
//! 6. day 2: one day passes for both sides (snapshot dates and stored token expiries move
//!    back a day, the sandbox clock forward a day), the same run again, one `sync day=2 …` line.
//!
//! `floor_s` is the busiest endpoint's calls at TikTok's 600·K per minute: no client can be
//! faster. `ratio = wall_s / floor_s`. All load goes to 127.0.0.1 and ends with the run.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
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

use crate::{db, util};

const BENCH_DB: &str = "tiktok_hub_bench";
const CLIENT_KEY: &str = "sandbox-client-key";
const CLIENT_SECRET: &str = "sandbox-client-secret-0123456789abcdef";
const REDIRECT_URI: &str = "http://127.0.0.1:3000/auth/tiktok/callback";
/// TikTok's budget per endpoint per minute.
const TIKTOK_PER_MIN: f64 = 600.0;
/// The hub's client-side budget per endpoint per minute (a little under TikTok's).
const HUB_PER_MIN: f64 = 570.0;
/// Stores per INSERT statement while connecting.
const INSERT_BATCH: usize = 1000;
/// Token requests in flight while connecting.
const TOKEN_PARALLEL: usize = 16;
const ENDPOINTS: [&str; 3] = ["user_info", "video_list", "video_query"];

pub const USAGE: &str =
    "cargo xtask bench sync --stores N --videos M [--time-scale K] [--latency MIN-MAX] [--release|--debug]";

#[derive(Debug, Clone, PartialEq)]
struct Args {
    stores: usize,
    videos: u32,
    time_scale: f64,
    latency: String,
    release: bool,
}

fn parse_args(args: &[String]) -> Result<Args> {
    let mut it = args.iter();
    match it.next().map(String::as_str) {
        Some("sync") => {}
        _ => bail!("usage: {USAGE}"),
    }
    let mut a = Args { stores: 0, videos: 50, time_scale: 1.0, latency: "300-800".into(), release: true };
    let mut stores = None;
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().with_context(|| format!("{name} needs a value; usage: {USAGE}"));
        match flag.as_str() {
            "--stores" => stores = Some(value("--stores")?.parse::<usize>().context("--stores needs a number")?),
            "--videos" => a.videos = value("--videos")?.parse().context("--videos needs a number")?,
            "--time-scale" => a.time_scale = value("--time-scale")?.parse().context("--time-scale needs a number")?,
            "--latency" => a.latency = value("--latency")?.clone(),
            "--release" => a.release = true,
            "--debug" => a.release = false,
            other => bail!("unknown argument {other:?}; usage: {USAGE}"),
        }
    }
    a.stores = stores.with_context(|| format!("--stores is required; usage: {USAGE}"))?;
    if a.stores == 0 || a.stores > 99_999 {
        bail!("--stores must be 1..=99999");
    }
    if a.videos > 1000 {
        bail!("--videos must be 0..=1000");
    }
    if !(a.time_scale.is_finite() && a.time_scale >= 1.0 && a.time_scale <= 1000.0) {
        bail!("--time-scale must be from 1 to 1000");
    }
    let ok = a
        .latency
        .split_once('-')
        .is_some_and(|(lo, hi)| matches!((lo.parse::<u64>(), hi.parse::<u64>()), (Ok(lo), Ok(hi)) if lo <= hi));
    if !ok {
        bail!("--latency must be MIN-MAX in ms, e.g. 300-800");
    }
    Ok(a)
}

pub fn run(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("db") => return crate::bench_db::run(&args[1..]),
        Some("api") => return crate::bench_api::run(&args[1..]),
        _ => {}
    }
    let args = parse_args(args)?;
    let k = args.time_scale;
    let work = util::root().join("target").join("bench");
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;

    // 1. Binaries.
    let profile = if args.release { "release" } else { "debug" };
    eprintln!("xtask: building tiktok-hub and tiktok-sandbox ({profile})");
    let mut build = Command::new(util::cargo());
    build.args(["build", "-p", "hub-app", "-p", "tiktok-sandbox"]).current_dir(util::root());
    if args.release {
        build.arg("--release");
    }
    util::run(&mut build)?;
    let bin_dir = util::target_dir().join(profile);
    let (hub_bin, sandbox_bin) = (bin_dir.join("tiktok-hub"), bin_dir.join("tiktok-sandbox"));

    // 2. Database.
    let server_url = db::up_quiet()?;
    let admin_url = db::with_database(&server_url, "postgres")?;
    let bench_url = db::with_database(&server_url, BENCH_DB)?;

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("tokio runtime")?;
    let setup_started = Instant::now();
    rt.block_on(async {
        hub_postgres::execute_batch(&admin_url, &format!("DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")).await?;
        hub_postgres::execute_batch(&admin_url, &format!("CREATE DATABASE {BENCH_DB}")).await?;
        hub_postgres::run_migrations(&bench_url).await?;
        anyhow::Ok(())
    })
    .with_context(|| format!("recreating the database {BENCH_DB} on {}", db::redact(&admin_url)))?;

    // 3. Sandbox.
    let mut sandbox = Sandbox::start(&sandbox_bin, &args, &work.join("sandbox.log"))?;
    let sb = sandbox.addr.clone();

    // 4. Stores and their connected accounts.
    let key = util::random_hex(32)?;
    let mut key_bytes = [0u8; 32];
    for (i, b) in key_bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(&key[2 * i..2 * i + 2], 16).expect("hex");
    }
    let cipher = AesGcmCipher::new(&[("k1".to_owned(), Secret::new(key_bytes))]).context("bench cipher")?;
    rt.block_on(connect_stores(&sb, &bench_url, args.stores, cipher))?;
    eprintln!("xtask: {} stores connected in {:.1}s", args.stores, setup_started.elapsed().as_secs_f64());

    let env = HubEnv {
        database_url: bench_url.clone(),
        api_base: format!("http://{sb}"),
        token_key: key,
        admin_key: util::random_hex(24)?,
        state_secret: util::random_hex(32)?,
        rate_limit: ((HUB_PER_MIN * k).floor() as u64).max(1),
    };

    // 5. Day 1.
    let mut failures = Vec::new();
    let day1 = rt.block_on(day(1, &args, &sb, &hub_bin, &env, &work));
    match day1 {
        Ok(ok) => {
            if !ok {
                failures.push("day 1: tiktok-hub exited non-zero".to_owned());
            }
        }
        Err(e) => failures.push(format!("day 1: {e:#}")),
    }

    // 6. Day 2: a day passes for the hub's data and for TikTok.
    if failures.is_empty() {
        let next_day = rt.block_on(async {
            hub_postgres::execute_batch(
                &bench_url,
                "UPDATE tiktok_user_daily SET snapshot_date = snapshot_date - 1;
                 UPDATE tiktok_video_daily SET snapshot_date = snapshot_date - 1;
                 UPDATE store_accounts SET token_expires_at = token_expires_at - interval '1 day',
                        refresh_token_expires_at = refresh_token_expires_at - interval '1 day',
                        connected_at = connected_at - interval '1 day',
                        last_sync_time = last_sync_time - interval '1 day',
                        last_refresh_at = last_refresh_at - interval '1 day';",
            )
            .await?;
            let (status, body) = http(&sb, "POST", "/sandbox/clock", Some(r#"{"advance_days":1}"#)).await?;
            if status != 200 {
                bail!("POST /sandbox/clock answered {status}: {body}");
            }
            anyhow::Ok(())
        });
        match next_day {
            Ok(()) => match rt.block_on(day(2, &args, &sb, &hub_bin, &env, &work)) {
                Ok(true) => {}
                Ok(false) => failures.push("day 2: tiktok-hub exited non-zero".to_owned()),
                Err(e) => failures.push(format!("day 2: {e:#}")),
            },
            Err(e) => failures.push(format!("day 2 setup: {e:#}")),
        }
    }

    sandbox.stop();
    eprintln!(
        "xtask: the database {BENCH_DB} is kept for inspection; drop it with:\n  psql '{}' -c 'DROP DATABASE {BENCH_DB}'",
        db::redact(&admin_url)
    );
    if !failures.is_empty() {
        bail!("bench failed:\n  {}", failures.join("\n  "));
    }
    Ok(())
}

/// The sandbox process; stopped (SIGTERM, then SIGKILL) when dropped.
struct Sandbox {
    child: Option<Child>,
    /// `127.0.0.1:PORT`.
    addr: String,
}

impl Sandbox {
    fn start(bin: &Path, args: &Args, log: &Path) -> Result<Self> {
        let log_file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let mut child = Command::new(bin)
            .args(["--listen", "127.0.0.1:0"])
            .args(["--accounts", &args.stores.to_string()])
            .args(["--videos-per-account", &args.videos.to_string()])
            .args(["--seed", "42"])
            .args(["--rate-limit-per-min", "600", "--rate-limit-key", "client"])
            .args(["--latency-ms", &args.latency])
            .args(["--time-scale", &args.time_scale.to_string()])
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
            "xtask: tiktok-sandbox on http://{addr}: {} accounts, {} videos each on average, 600/min per endpoint, latency {} ms, time scale {}",
            args.stores, args.videos, args.latency, args.time_scale
        );
        Ok(sandbox)
    }

    fn stop(&mut self) {
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
async fn http(addr: &str, method: &str, path: &str, body: Option<&str>) -> Result<(u16, String)> {
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

fn dechunk(mut s: &str) -> String {
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

async fn get_json(addr: &str, path: &str) -> Result<Value> {
    let (status, body) = http(addr, "GET", path, None).await?;
    if status != 200 {
        bail!("GET {path} answered {status}: {body}");
    }
    serde_json::from_str(&body).with_context(|| format!("GET {path}: not JSON"))
}

fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Creates stores `bench_00001…` with CONNECTED accounts holding sandbox-issued tokens.
async fn connect_stores(sb: &str, url: &str, n: usize, cipher: AesGcmCipher) -> Result<()> {
    let cipher = Arc::new(cipher);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let rows = Arc::new(std::sync::Mutex::new(vec![String::new(); n]));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..TOKEN_PARALLEL {
        let (sb, next, rows, cipher) = (sb.to_owned(), next.clone(), rows.clone(), cipher.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return anyhow::Ok(());
                }
                let (status, body) =
                    http(&sb, "POST", "/sandbox/tokens", Some(&format!(r#"{{"account":{i}}}"#))).await?;
                if status != 200 {
                    bail!("POST /sandbox/tokens for account {i} answered {status}: {body}");
                }
                let t: Value = serde_json::from_str(&body).context("token answer is not JSON")?;
                let field = |name: &str| {
                    t.get(name).and_then(Value::as_str).with_context(|| format!("token answer without {name}"))
                };
                let code = store_code(i);
                let access = cipher.encrypt(field("access_token")?, &binding(&code, TokenKind::Access));
                let refresh = cipher.encrypt(field("refresh_token")?, &binding(&code, TokenKind::Refresh));
                let secs = |name: &str| t.get(name).and_then(Value::as_i64).unwrap_or(0).max(0);
                let row = format!(
                    "({}, 'tiktok', {}, {}, {}, now() + interval '{} seconds', now() + interval '{} seconds', {}, 'CONNECTED', now())",
                    sql_text(&code),
                    sql_text(field("open_id")?),
                    sql_text(&access),
                    sql_text(&refresh),
                    secs("expires_in"),
                    secs("refresh_expires_in"),
                    sql_text(field("scope")?),
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
            .map(|i| format!("({}, 'Bench Store {}', 'Bench PIC {}')", sql_text(&store_code(i)), i + 1, i + 1))
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
                hub_postgres::execute_batch(&url, &sql).await.context("inserting bench stores")?;
            }
        });
    }
    while let Some(r) = inserts.join_next().await {
        r.context("insert task panicked")??;
    }
    Ok(())
}

fn store_code(i: usize) -> String {
    format!("bench_{:05}", i + 1)
}

struct HubEnv {
    database_url: String,
    api_base: String,
    token_key: String,
    admin_key: String,
    state_secret: String,
    rate_limit: u64,
}

/// One day's run: resets the sandbox's stats, runs the hub's sync, prints the day's line.
/// `Ok(false)` when the hub exited non-zero.
async fn day(n: u32, args: &Args, sb: &str, hub_bin: &Path, env: &HubEnv, work: &Path) -> Result<bool> {
    let (status, body) = http(sb, "POST", "/sandbox/stats/reset", None).await?;
    if status != 200 {
        bail!("POST /sandbox/stats/reset answered {status}: {body}");
    }
    let log_path = work.join(format!("hub-day{n}.log"));
    let log = std::fs::File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
    let mut cmd = Command::new(hub_bin);
    cmd.args(["sync", "--job", "all"])
        // No `.env` from the caller's directory: every setting comes from here.
        .current_dir(work)
        .env_remove("RUST_LOG")
        .env("DATABASE_URL", &env.database_url)
        .env("TIKTOK_CLIENT_KEY", CLIENT_KEY)
        .env("TIKTOK_CLIENT_SECRET", CLIENT_SECRET)
        .env("TIKTOK_REDIRECT_URI", REDIRECT_URI)
        .env("TIKTOK_AUTH_BASE_URL", &env.api_base)
        .env("TIKTOK_API_BASE_URL", &env.api_base)
        .env("TOKEN_ENC_KEY", &env.token_key)
        .env("ADMIN_API_KEY", &env.admin_key)
        .env("STATE_SECRET", &env.state_secret)
        .env("TIKTOK_RATE_LIMIT_PER_MIN", env.rate_limit.to_string())
        .env("LOG_LEVEL", "warn")
        .env("CRON_ENABLED", "false")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log);
    let started = Instant::now();
    let mut child = cmd.spawn().with_context(|| format!("cannot start {}", hub_bin.display()))?;
    let pid = child.id();
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    // Peak RSS: VmHWM of the live process, polled until it exits.
    let mut hwm_kb = 0u64;
    let exit = loop {
        if let Some(kb) = vm_hwm_kb(pid) {
            hwm_kb = hwm_kb.max(kb);
        }
        match child.try_wait()? {
            Some(status) => break status,
            None => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    let wall = started.elapsed().as_secs_f64();
    let summary_text = reader.join().unwrap_or_default();

    let stats = get_json(sb, "/sandbox/stats").await?;
    let num = |ep: &str, field: &str| stats.get(ep).and_then(|e| e.get(field)).and_then(Value::as_u64).unwrap_or(0);
    let calls: u64 = ENDPOINTS.iter().map(|e| num(e, "calls")).sum();
    let http_429: u64 = ENDPOINTS.iter().map(|e| num(e, "http_429")).sum();
    let busiest = ENDPOINTS.iter().map(|e| num(e, "calls")).max().unwrap_or(0);
    let floor = busiest as f64 / (TIKTOK_PER_MIN * args.time_scale) * 60.0;
    let ratio = if floor > 0.0 { wall / floor } else { f64::NAN };

    let summary: Option<Value> = summary_text.find('{').and_then(|s| serde_json::from_str(&summary_text[s..]).ok());
    let failed = summary.as_ref().map(|s| {
        ["user_sync", "video_sync"]
            .iter()
            .map(|j| s.get(j).and_then(|x| x.get("failed")).and_then(Value::as_i64).unwrap_or(0))
            .sum::<i64>()
    });
    println!(
        "sync day={n} stores={} calls={calls} wall_s={wall:.1} floor_s={floor:.1} ratio={ratio:.3} http_429={http_429} failed={} peak_rss_mb={:.1}",
        args.stores,
        failed.map_or_else(|| "?".to_owned(), |f| f.to_string()),
        hwm_kb as f64 / 1024.0
    );
    let _ = std::io::stdout().flush();

    // Details for the reader, on stderr.
    for ep in ENDPOINTS.iter().chain(["token"].iter()) {
        eprintln!(
            "xtask:   {ep:<11} calls={:<6} ok={:<6} http_429={:<4} errors={:<5} peak_window={}",
            num(ep, "calls"),
            num(ep, "ok"),
            num(ep, "http_429"),
            num(ep, "errors"),
            num(ep, "peak_window")
        );
    }
    if let Some(s) = &summary {
        eprintln!(
            "xtask:   summary refresh={} user={} video={}",
            s.get("refresh_tokens").map_or("-".into(), Value::to_string),
            s.get("user_sync").map_or("-".into(), Value::to_string),
            s.get("video_sync").map_or("-".into(), Value::to_string)
        );
    }
    let log_lines = std::fs::read_to_string(&log_path).map(|s| s.lines().count()).unwrap_or(0);
    if log_lines > 0 {
        eprintln!("xtask:   tiktok-hub wrote {log_lines} log lines: {}", log_path.display());
    }
    if !exit.success() {
        eprintln!("xtask: tiktok-hub exited with {exit} (see {})", log_path.display());
    }
    Ok(exit.success())
}

pub(crate) fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(raw: &[&str]) -> Vec<String> {
        raw.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn args_table() {
        let a = parse_args(&strings(&["sync", "--stores", "300", "--videos", "50"])).unwrap();
        assert_eq!((a.stores, a.videos, a.time_scale, a.latency.as_str(), a.release), (300, 50, 1.0, "300-800", true));
        let a =
            parse_args(&strings(&["sync", "--stores", "10000", "--time-scale", "20", "--latency", "0-0", "--debug"]))
                .unwrap();
        assert_eq!((a.stores, a.time_scale, a.latency.as_str(), a.release), (10000, 20.0, "0-0", false));
        for bad in [
            &["sync"][..],
            &["load", "--stores", "1"],
            &["sync", "--stores", "0"],
            &["sync", "--stores", "1", "--latency", "800-300"],
            &["sync", "--stores", "1", "--time-scale", "0.5"],
            &["sync", "--stores", "1", "--bogus"],
        ] {
            assert!(parse_args(&strings(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn database_swapped_in_url() {
        let cases = [
            ("postgres://postgres@127.0.0.1:54329/tiktok_hub", "postgres://postgres@127.0.0.1:54329/x"),
            ("postgres://u:p/w@h:5432/db?sslmode=disable", "postgres://u:p/w@h:5432/x?sslmode=disable"),
            ("postgresql://h", "postgresql://h/x"),
        ];
        for (url, want) in cases {
            assert_eq!(db::with_database(url, "x").unwrap(), want);
        }
    }

    #[test]
    fn chunked_bodies() {
        assert_eq!(dechunk("4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n"), "abcdefg");
    }
}
