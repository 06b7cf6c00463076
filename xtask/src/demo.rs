//! `cargo xtask demo [--exit] [--stores N]`: the hub's whole job, end to end, on a laptop.
//!
//! A private PostgreSQL (or `DATABASE_URL`), the TikTok sandbox (N accounts, realistic
//! latency and TikTok's per-endpoint limits, time-scaled ×4), and the real `tiktok-hub serve`
//! with generated secrets. Then, over the admin API exactly as an admin would: N stores
//! created, each connected through its connect link and the sandbox's consent page (a
//! cookie-keeping browser flow), 29 earlier days of history taken from the sandbox's own
//! past, today's daily sync with a live progress bar, and a short report. The hub keeps
//! running until Ctrl-C (or, with `--exit`, everything stops after the report).

use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDate, Utc};
use futures::StreamExt;
use hub_domain::{StoreCode, UserSnapshot, VideoId, VideoSnapshot};
use hub_ports::SnapshotRepo;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

use crate::{db, util};

const DEMO_DB: &str = "tiktok_hub_demo";
const TIME_SCALE: u32 = 4;
const PARALLEL: usize = 16;
const HISTORY_DAYS: i64 = 30;

/// The options of `cargo xtask demo`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct Args {
    /// Stop everything after the report instead of keeping the hub running
    #[arg(long)]
    pub exit: bool,
    /// Stores (and sandbox accounts) to create and connect (1..=5000)
    #[arg(long, value_name = "N", default_value_t = 300, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=5000))]
    pub stores: usize,
}

/// A progress bar on stderr; hidden when stderr is not a terminal (a log, CI), where the
/// caller prints a final line instead.
fn bar(len: u64, template: &str) -> ProgressBar {
    let style = ProgressStyle::with_template(template).expect("valid template").progress_chars("#>-");
    ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr()).with_style(style)
}

pub fn run(args: &Args) -> Result<()> {
    let started = Instant::now();
    eprintln!("xtask: building tiktok-hub and tiktok-sandbox");
    util::run(Command::new(util::cargo()).args(["build", "--quiet", "-p", "hub-app", "-p", "tiktok-sandbox"]))?;
    let bin = util::target_dir().join("debug");
    let admin_url = db::up()?;
    let url = db::with_database(&admin_url, DEMO_DB)?;
    util::block_on(async {
        hub_postgres::execute_batch(&admin_url, &format!("DROP DATABASE IF EXISTS {DEMO_DB} WITH (FORCE)")).await?;
        hub_postgres::execute_batch(&admin_url, &format!("CREATE DATABASE {DEMO_DB}")).await?;
        hub_postgres::run_migrations(&url).await?;
        anyhow::Ok(())
    })?;

    let hub_port = util::free_port()?;
    let hub_base = format!("http://127.0.0.1:{hub_port}");
    let redirect = format!("{hub_base}/auth/tiktok/callback");
    let logs = util::root().join("target").join("demo");
    std::fs::create_dir_all(&logs)?;
    let (sandbox, sandbox_addr) = util::start(
        "tiktok-sandbox",
        Command::new(bin.join("tiktok-sandbox"))
            .args(["--listen", "127.0.0.1:0", "--accounts", &args.stores.to_string(), "--videos-per-account", "50"])
            .args(["--latency-ms", "300-800", "--rate-limit-per-min", "600", "--time-scale", &TIME_SCALE.to_string()])
            .args(["--redirect-uri", &redirect])
            .env("RUST_LOG", "warn"),
        "tiktok-sandbox listening on http://",
        &logs.join("sandbox.log"),
    )?;
    let sandbox_base = format!("http://{sandbox_addr}");
    let api_key = util::random_hex(24)?;
    let (enc_key, state_secret) = (util::random_hex(32)?, util::random_hex(32)?);
    // The hub's settings, for `serve` and for `user add`.
    let hub_cmd = |args: &[&str]| {
        let mut cmd = Command::new(bin.join("tiktok-hub"));
        cmd.args(args)
            .env("DATABASE_URL", &url)
            .env("TIKTOK_CLIENT_KEY", "sandbox-client-key")
            .env("TIKTOK_CLIENT_SECRET", "sandbox-client-secret-0123456789abcdef")
            .env("TIKTOK_REDIRECT_URI", &redirect)
            .env("TIKTOK_AUTH_BASE_URL", &sandbox_base)
            .env("TIKTOK_API_BASE_URL", &sandbox_base)
            .env("TOKEN_ENC_KEY", &enc_key)
            .env("ADMIN_API_KEY", &api_key)
            .env("STATE_SECRET", &state_secret)
            .env("PUBLIC_BASE_URL", &hub_base);
        cmd
    };
    let (hub, _) = util::start(
        "tiktok-hub",
        hub_cmd(&["serve"])
            .env("TIKTOK_RATE_LIMIT_PER_MIN", (570 * TIME_SCALE).to_string())
            .env("HOST", "127.0.0.1")
            .env("PORT", hub_port.to_string())
            // Every demo request comes from one address: the per-IP limits would throttle it.
            .env("RATE_LIMIT_ADMIN_PER_MIN", "0")
            .env("RATE_LIMIT_OAUTH_PER_MIN", "0")
            .env("RATE_LIMIT_HEALTH_PER_MIN", "0")
            .env("LOG_LEVEL", "info"),
        "tiktok-hub listening on ",
        &logs.join("hub.log"),
    )?;
    eprintln!(
        "xtask: tiktok-sandbox on {sandbox_base} ({} accounts, 300-800 ms latency, 600/min per endpoint, time ×{TIME_SCALE})",
        args.stores
    );
    eprintln!("xtask: tiktok-hub on {hub_base} (logs in target/demo/)");

    // The dashboard's first person: an admin with a fresh password.
    let (admin_email, admin_password) = ("demo-admin@example.com", util::random_hex(12)?);
    add_admin(hub_cmd(&["user", "add", admin_email, "--role", "admin", "--password-stdin"]), &admin_password)?;

    let report = util::block_on(demo(args, &hub_base, &sandbox_base, &api_key, &url))?;
    println!("{report}");
    println!("Dashboard:   {hub_base}/dashboard/  (sign in as {admin_email} / {admin_password})");
    println!("Demo finished in {:.0} s.", started.elapsed().as_secs_f64());
    if args.exit {
        drop(hub);
        drop(sandbox);
        return Ok(());
    }
    println!();
    println!("The hub is still running. Try:");
    println!("  Dashboard:   {hub_base}/dashboard/  (email {admin_email}, password {admin_password})");
    println!("  Swagger UI:  {hub_base}/api/docs");
    println!("  Admin key:   {api_key}");
    println!("  curl -s -H 'X-API-KEY: {api_key}' {hub_base}/admin/stores | head -c 600");
    println!("  curl -s -H 'X-API-KEY: {api_key}' '{hub_base}/admin/stores/demo_0001/user-stats?days=7'");
    println!("  curl -s -H 'X-API-KEY: {api_key}' {hub_base}/admin/sync/status");
    println!("Press Ctrl-C to stop everything.");
    let (tx, rx) = std::sync::mpsc::channel();
    util::block_on(async move {
        let _ = tokio::signal::ctrl_c().await;
        let _ = tx.send(());
    });
    let _ = rx.recv();
    drop(hub);
    drop(sandbox);
    Ok(())
}

struct Client {
    http: reqwest::Client,
    hub: String,
    sandbox: String,
    key: String,
}

impl Client {
    async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        let mut req = self.http.request(method, format!("{}{path}", self.hub)).header("X-API-KEY", &self.key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let v: Value = resp.json().await?;
        if !status.is_success() {
            bail!("{path}: {status} {v}");
        }
        Ok(v)
    }

    async fn sandbox(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        let mut req = self.http.request(method, format!("{}{path}", self.sandbox));
        if let Some(b) = body {
            req = req.json(&b);
        }
        Ok(req.send().await?.error_for_status()?.json().await?)
    }

    /// Store staff open the connect link in a browser and approve on TikTok's page.
    async fn connect(&self, code: &str, account: usize) -> Result<()> {
        let link = self.admin(reqwest::Method::POST, &format!("/admin/stores/{code}/connect-link"), None).await?;
        let url = link["data"]["url"].as_str().context("connect link without url")?;
        let r = self.http.get(url).send().await?;
        let cookie = r
            .headers()
            .get(SET_COOKIE)
            .context("no binding cookie")?
            .to_str()?
            .split(';')
            .next()
            .unwrap_or("")
            .to_owned();
        let consent = format!(
            "{}&sandbox_account={account}",
            r.headers().get(LOCATION).context("no redirect to TikTok")?.to_str()?
        );
        let r = self.http.get(consent).send().await?;
        let callback = r.headers().get(LOCATION).context("consent did not redirect back")?.to_str()?.to_owned();
        let r = self.http.get(callback).header(COOKIE, cookie).send().await?;
        if !r.status().is_success() {
            bail!("{code}: callback answered {}", r.status());
        }
        Ok(())
    }
}

fn code(i: usize) -> String {
    format!("demo_{:04}", i + 1)
}

async fn demo(args: &Args, hub: &str, sandbox: &str, key: &str, url: &str) -> Result<String> {
    let c = Arc::new(Client {
        http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?,
        hub: hub.into(),
        sandbox: sandbox.into(),
        key: key.into(),
    });
    let n = args.stores;

    // 1. Stores, through the admin API.
    let t = Instant::now();
    let created: Vec<Result<Value>> = futures::stream::iter(0..n)
        .map(|i| {
            let c = Arc::clone(&c);
            async move {
                let body = json!({"store_code": code(i), "store_name": format!("Demo Store {:04}", i + 1), "pic_name": "Demo PIC"});
                c.admin(reqwest::Method::POST, "/admin/stores", Some(body)).await
            }
        })
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    created.into_iter().collect::<Result<Vec<_>>>()?;
    eprintln!("xtask: {n} stores created in {:.1} s", t.elapsed().as_secs_f64());

    // 2. Each connected through its own connect link and the consent page.
    let t = Instant::now();
    let progress = bar(n as u64, "xtask: connecting stores {pos}/{len} [{bar:30}] {elapsed}");
    let mut failures = Vec::new();
    let mut results = futures::stream::iter(0..n)
        .map(|i| {
            let c = Arc::clone(&c);
            async move { (i, c.connect(&code(i), i).await) }
        })
        .buffer_unordered(PARALLEL);
    while let Some((i, r)) = results.next().await {
        progress.inc(1);
        if let Err(e) = r {
            failures.push(format!("{}: {e:#}", code(i)));
        }
    }
    progress.finish_and_clear();
    eprintln!("xtask: connecting stores {}/{n} ({:.1} s)", progress.position(), t.elapsed().as_secs_f64());
    if !failures.is_empty() {
        bail!("{} stores failed to connect:\n  {}", failures.len(), failures.join("\n  "));
    }

    // 3. 29 earlier days, read from the sandbox's past and stored as the sync would have.
    let t = Instant::now();
    let progress = bar((HISTORY_DAYS - 1) as u64, "xtask: history {pos}/{len} days [{bar:30}] {elapsed}");
    let db = hub_postgres::Db::from_url(url, 8).await?;
    let now = Utc::now();
    let today = now.date_naive();
    for back in (1..HISTORY_DAYS).rev() {
        let at = now - chrono::Duration::days(back);
        c.sandbox(reqwest::Method::POST, "/sandbox/clock", Some(json!({"set": at.to_rfc3339()}))).await?;
        let accounts = c.sandbox(reqwest::Method::GET, "/sandbox/accounts", None).await?;
        let date = today - chrono::Duration::days(back);
        let (users, videos) = history_day(&c, &accounts, date).await?;
        db.upsert_user(&users).await?;
        db.upsert_videos(&videos).await?;
        progress.inc(1);
    }
    c.sandbox(reqwest::Method::POST, "/sandbox/clock", Some(json!({"set": Utc::now().to_rfc3339()}))).await?;
    progress.finish_and_clear();
    eprintln!("xtask: history {}/{} days ({:.1} s)", progress.position(), HISTORY_DAYS - 1, t.elapsed().as_secs_f64());

    // 4. Today's daily sync, with a live progress bar.
    let t = Instant::now();
    let started = c.admin(reqwest::Method::POST, "/admin/sync/run", Some(json!({"job": "all", "wait": false}))).await?;
    let ids: Vec<i64> =
        started["data"]["runIds"].as_array().context("no run ids")?.iter().filter_map(Value::as_i64).collect();
    let bars = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
    let runs: Vec<ProgressBar> =
        ids.iter().map(|_| bars.add(bar(0, "{msg:<16} [{bar:30}] {pos}/{len} {elapsed}"))).collect();
    let mut line = String::new();
    loop {
        line.clear();
        let mut all_done = true;
        for (id, progress) in ids.iter().zip(&runs) {
            let run = c.admin(reqwest::Method::GET, &format!("/admin/sync/runs/{id}"), None).await?;
            let r = &run["data"];
            let total = r["total"].as_i64().or_else(|| r["counts"]["total"].as_i64()).unwrap_or(0);
            let processed = r["processed"].as_i64().or_else(|| r["counts"]["processed"].as_i64()).unwrap_or(0);
            let status = r["status"].as_str().unwrap_or("?");
            all_done &= status != "RUNNING";
            let job = r["job"].as_str().or_else(|| r["jobName"].as_str()).unwrap_or("?");
            progress.set_message(job.to_owned());
            progress.set_length(total.max(0) as u64);
            progress.set_position(processed.max(0) as u64);
            line.push_str(&format!("{job} {processed}/{total} {status}  "));
        }
        if all_done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    for progress in &runs {
        progress.finish_and_clear();
    }
    eprintln!("xtask: daily sync: {line}({:.1} s)", t.elapsed().as_secs_f64());

    report(&c, n).await
}

/// One day of snapshots for every account, as the sandbox shows them at its clock.
async fn history_day(c: &Client, accounts: &Value, date: NaiveDate) -> Result<(Vec<UserSnapshot>, Vec<VideoSnapshot>)> {
    let accounts = accounts.as_array().context("accounts")?;
    let mut users = Vec::new();
    let videos: Vec<Result<Vec<VideoSnapshot>>> = futures::stream::iter(accounts.iter())
        .map(|a| async move {
            let i = a["index"].as_u64().unwrap_or(0) as usize;
            let store = StoreCode::parse(&code(i))?;
            let open_id = a["open_id"].as_str().unwrap_or_default();
            let list = c.sandbox(reqwest::Method::GET, &format!("/sandbox/accounts/{open_id}/videos"), None).await?;
            Ok(list
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(|v| {
                    Some(VideoSnapshot {
                        store_code: store.clone(),
                        snapshot_date: date,
                        video_id: VideoId::parse(v["id"].as_str()?).ok()?,
                        view_count: v["view_count"].as_i64()?,
                        like_count: v["like_count"].as_i64()?,
                        comment_count: v["comment_count"].as_i64()?,
                        share_count: v["share_count"].as_i64()?,
                        description: v["video_description"].as_str().map(str::to_owned),
                        title: v["title"].as_str().map(str::to_owned),
                        create_time: v["create_time"].as_i64().and_then(|s| DateTime::from_timestamp(s, 0)),
                        share_url: v["share_url"].as_str().map(str::to_owned),
                        cover_image_url: None,
                        duration: v["duration"].as_i64().and_then(|d| i32::try_from(d).ok()),
                    })
                })
                .collect())
        })
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    for a in accounts {
        let i = a["index"].as_u64().unwrap_or(0) as usize;
        users.push(UserSnapshot {
            store_code: StoreCode::parse(&code(i))?,
            snapshot_date: date,
            follower_count: a["follower_count"].as_i64().unwrap_or(0),
            following_count: a["following_count"].as_i64().unwrap_or(0),
            likes_count: a["likes_count"].as_i64().unwrap_or(0),
            video_count: a["video_count"].as_i64().unwrap_or(0),
            display_name: a["display_name"].as_str().map(str::to_owned),
            avatar_url: None,
        });
    }
    let videos = videos.into_iter().collect::<Result<Vec<_>>>()?.into_iter().flatten().collect();
    Ok((users, videos))
}

async fn report(c: &Client, n: usize) -> Result<String> {
    let stores = c.admin(reqwest::Method::GET, "/admin/stores", None).await?;
    let list = stores["data"].as_array().context("store list")?;
    let connected = list.iter().filter(|s| s["connectionStatus"] == "CONNECTED").count();
    let followers: i64 = list.iter().filter_map(|s| s["latestUserStats"]["followerCount"].as_i64()).sum();
    let views: i64 = list.iter().filter_map(|s| s["latestVideoStats"]["totalViews"].as_i64()).sum();
    let logs = c.admin(reqwest::Method::GET, "/admin/sync/logs?limit=500", None).await?;
    let mut reasons: HashMap<String, usize> = HashMap::new();
    for l in logs["data"].as_array().map(Vec::as_slice).unwrap_or_default() {
        if l["status"] == "FAILED" && !l["storeCode"].is_null() {
            *reasons.entry(l["message"].as_str().unwrap_or("?").to_owned()).or_default() += 1;
        }
    }
    let days = c.admin(reqwest::Method::GET, "/admin/stores/demo_0001/user-stats?days=30", None).await?;
    let history_days = days["count"].as_i64().unwrap_or(0);
    let mut growth: Vec<(i64, String)> = Vec::new();
    let per_store: Vec<Result<(i64, String)>> =
        futures::stream::iter(list.iter().filter_map(|s| s["storeCode"].as_str()))
            .map(|code| async move {
                let h =
                    c.admin(reqwest::Method::GET, &format!("/admin/stores/{code}/user-stats?days=30"), None).await?;
                let rows = h["data"].as_array().map(Vec::as_slice).unwrap_or_default();
                let newest = rows.first().and_then(|r| r["followerCount"].as_i64()).unwrap_or(0);
                let oldest = rows.last().and_then(|r| r["followerCount"].as_i64()).unwrap_or(0);
                Ok((newest - oldest, code.to_owned()))
            })
            .buffer_unordered(PARALLEL)
            .collect()
            .await;
    for r in per_store {
        growth.push(r?);
    }
    growth.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));

    let mut out = String::new();
    out.push_str("\n── TikTok Content Reporting Hub: demo report ──────────────────────────\n");
    out.push_str(&format!("Stores connected:      {connected}/{n}\n"));
    out.push_str(&format!("Days of history:       {history_days}\n"));
    if reasons.is_empty() {
        out.push_str("Failures:              0\n");
    } else {
        out.push_str(&format!("Failures:              {}\n", reasons.values().sum::<usize>()));
        for (reason, count) in &reasons {
            out.push_str(&format!("  {count} × {reason}\n"));
        }
    }
    out.push_str(&format!("Total followers today: {}\n", thousands(followers)));
    out.push_str(&format!("Total video views:     {}\n", thousands(views)));
    out.push_str("Most follower growth over 30 days:\n");
    for (g, code) in growth.iter().take(5) {
        out.push_str(&format!("  {code}  +{}\n", thousands(*g)));
    }
    if connected != n || !reasons.is_empty() || history_days != HISTORY_DAYS {
        bail!("{out}\nthe demo did not complete cleanly");
    }
    Ok(out)
}

fn thousands(n: i64) -> String {
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Runs `tiktok-hub user add … --password-stdin` with `password`.
fn add_admin(mut cmd: Command, password: &str) -> Result<()> {
    use std::io::Write;
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    child.stdin.take().context("stdin")?.write_all(password.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        anyhow::bail!("tiktok-hub user add failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    eprintln!("xtask: {}", String::from_utf8_lossy(&out.stdout).trim());
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::IsTerminal;

    use super::*;

    /// The bars draw on a terminal only: piped to a log (CI, `2> file`) they are hidden and
    /// only the final lines are printed.
    #[test]
    fn progress_is_hidden_unless_stderr_is_a_terminal() {
        let hidden = !std::io::stderr().is_terminal() || std::env::var("TERM").is_ok_and(|t| t == "dumb");
        assert_eq!(ProgressDrawTarget::stderr().is_hidden(), hidden);
        let b = bar(3, "xtask: connecting stores {pos}/{len} [{bar:30}] {elapsed}");
        assert_eq!(b.is_hidden(), hidden);
        b.inc(2);
        assert_eq!(b.position(), 2);
    }

    #[test]
    fn thousands_separators() {
        for (n, want) in [(0, "0"), (999, "999"), (1000, "1,000"), (1234567, "1,234,567"), (-4200, "-4,200")] {
            assert_eq!(super::thousands(n), want);
        }
    }
}
