//! `cargo xtask bench web [--stores 1000] [--days 365] [--videos 100] [--reps 100] [--reuse]`:
//! the dashboard's pages at scale.
//!
//! 1. builds the release `tiktok-hub`;
//! 2. seeds `tiktok_hub_benchweb` with `cargo xtask seed`'s statements (the data set of
//!    `bench db`: stores × days of user history × videos per store per day), then `VACUUM
//!    ANALYZE`; `--reuse` keeps a database that holds exactly these counts (and migrates it);
//! 3. starts `tiktok-hub serve` on it (limits off, TikTok never called), adds an admin with
//!    `tiktok-hub user add`, and signs in through `POST /dashboard/login`;
//! 4. for each page of [`pages`]: 3 untimed requests, then `--reps` sequential ones, each
//!    timed from the request to the last byte of the answer on 127.0.0.1 (the server's time
//!    plus a loopback round trip); one line per page: `web page=… n=… p50_ms=… p95_ms=…
//!    bytes=…`;
//! 5. the cold load of the overview: the page and every file it references, as a browser with
//!    an empty cache fetches them: `web cold_load page=/dashboard/ bytes=… files=…`.
//!
//! Goal (issue 17): p95 ≤ 150 ms for every page, cold load ≤ 300 KB. Figures in
//! docs/PERFORMANCE.md.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use super::common::{self, Hub};
use crate::util;

const DB_NAME: &str = "tiktok_hub_benchweb";
const WARMUP: usize = 3;

/// The options of `cargo xtask bench web`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct Args {
    /// Stores seeded (1..=99999)
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=99_999))]
    pub stores: u64,
    /// Days of history seeded (31..=3650)
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u64).range(31..=3650))]
    pub days: u64,
    /// Videos per store per day (1..=1000)
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub videos: u64,
    /// Timed requests per page (10..=10000)
    #[arg(long, default_value_t = 100, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(10..=10_000))]
    pub reps: usize,
    /// Keep an existing database that holds exactly these counts
    #[arg(long)]
    pub reuse: bool,
}

/// The pages measured (the store page reads the middle store).
fn pages(stores: u64) -> Vec<String> {
    let middle = format!("seed_{:05}", stores.div_ceil(2));
    vec![
        "/dashboard/login".to_owned(),
        "/dashboard/".to_owned(),
        "/dashboard/?days=365".to_owned(),
        "/dashboard/stores".to_owned(),
        "/dashboard/stores?sort=growth&dir=desc&page=2".to_owned(),
        format!("/dashboard/stores/{middle}"),
        format!("/dashboard/stores/{middle}?days=365"),
        "/dashboard/videos".to_owned(),
        "/dashboard/sync".to_owned(),
        "/dashboard/audit".to_owned(),
        "/dashboard/people".to_owned(),
    ]
}

async fn seeded_as_asked(url: &str, a: &Args) -> Result<bool> {
    for (table, want) in [
        ("stores", a.stores),
        ("tiktok_user_daily", a.stores * a.days),
        ("tiktok_video_daily", a.stores * a.days * a.videos),
    ] {
        if hub_postgres::query_i64(url, &format!("SELECT count(*) AS n FROM {table}")).await? != want as i64 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `tiktok-hub user add EMAIL --role admin --password-stdin` on the bench database.
fn add_admin(bin: &std::path::Path, url: &str, email: &str, password: &str) -> Result<()> {
    let mut child = Command::new(bin)
        .args(["user", "add", email, "--role", "admin", "--password-stdin"])
        .env_remove("RUST_LOG")
        .env("DATABASE_URL", url)
        .env("TIKTOK_CLIENT_KEY", "bench-client-key")
        .env("TIKTOK_CLIENT_SECRET", "bench-client-secret-0123456789abcdef")
        .env("TIKTOK_REDIRECT_URI", "http://127.0.0.1:9/auth/tiktok/callback")
        .env("TOKEN_ENC_KEY", util::random_hex(32)?)
        .env("ADMIN_API_KEY", util::random_hex(24)?)
        .env("STATE_SECRET", util::random_hex(32)?)
        .env("LOG_LEVEL", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("tiktok-hub user add")?;
    child.stdin.take().context("stdin")?.write_all(password.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!("tiktok-hub user add failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// Signs in through the dashboard's form; the session cookie (`hub_session=…`).
async fn sign_in(http: &reqwest::Client, base: &str, email: &str, password: &str) -> Result<String> {
    let res = http
        .post(format!("{base}/dashboard/login"))
        .header("Origin", base)
        .form(&[("email", email), ("password", password), ("next", "/dashboard/")])
        .send()
        .await?;
    if res.status().as_u16() != 303 {
        bail!("dashboard sign-in answered {}", res.status());
    }
    let cookie = res.headers().get(reqwest::header::SET_COOKIE).context("no session cookie")?.to_str()?;
    Ok(cookie.split(';').next().unwrap_or_default().to_owned())
}

/// The `p`-th percentile (nearest rank) of sorted `ms`.
fn percentile(ms: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * ms.len() as f64).ceil().max(1.0) as usize;
    ms[rank.min(ms.len()) - 1]
}

async fn measure(
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
    path: &str,
    reps: usize,
) -> Result<(Vec<f64>, usize)> {
    let mut times = Vec::with_capacity(reps);
    let mut bytes = 0;
    for i in 0..WARMUP + reps {
        let started = Instant::now();
        let res = http.get(format!("{base}{path}")).header(reqwest::header::COOKIE, cookie).send().await?;
        let status = res.status();
        let body = res.bytes().await?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if !status.is_success() {
            bail!("{path} answered {status}");
        }
        bytes = body.len();
        if i >= WARMUP {
            times.push(ms);
        }
    }
    times.sort_by(f64::total_cmp);
    Ok((times, bytes))
}

/// The overview and every `/dashboard/assets/…` file it names.
async fn cold_load(http: &reqwest::Client, base: &str, cookie: &str) -> Result<(usize, usize)> {
    let html =
        http.get(format!("{base}/dashboard/")).header(reqwest::header::COOKIE, cookie).send().await?.text().await?;
    let mut total = html.len();
    let mut files: Vec<&str> = html.split('"').filter(|s| s.starts_with("/dashboard/assets/")).collect();
    files.sort_unstable();
    files.dedup();
    for f in &files {
        total += http.get(format!("{base}{f}")).send().await?.bytes().await?.len();
    }
    Ok((total, files.len() + 1))
}

pub fn run(args: &Args) -> Result<()> {
    let args = *args;
    let common::Setup { hub_bin: bin, work, server_url, url } = common::set_up(DB_NAME)?;
    util::block_on(async {
        if args.reuse && seeded_as_asked(&url, &args).await.unwrap_or(false) {
            eprintln!("xtask: reusing {DB_NAME} (same counts), migrated to the current schema");
            hub_postgres::run_migrations(&url).await?;
        } else {
            common::fresh_seeded_db(&server_url, DB_NAME, args.stores, args.days, args.videos).await?;
            hub_postgres::execute_batch(&url, "VACUUM ANALYZE").await?;
        }
        anyhow::Ok(())
    })?;
    // A new admin each run (a reused database keeps the earlier ones).
    let (email, password) = (format!("bench-{}@example.com", util::random_hex(4)?), util::random_hex(16)?);
    add_admin(&bin, &url, &email, &password)?;
    let hub = Hub::start(&bin, &url, &work.join("bench-web-hub.log"))?;
    let base = hub.base();
    util::block_on(async {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
        let cookie = sign_in(&http, &base, &email, &password).await?;
        for path in pages(args.stores) {
            let (times, bytes) = measure(&http, &base, &cookie, &path, args.reps).await?;
            println!(
                "web page={path} n={} p50_ms={:.1} p95_ms={:.1} max_ms={:.1} bytes={bytes}",
                times.len(),
                percentile(&times, 50.0),
                percentile(&times, 95.0),
                times.last().copied().unwrap_or_default()
            );
        }
        let (bytes, files) = cold_load(&http, &base, &cookie).await?;
        println!("web cold_load page=/dashboard/ bytes={bytes} files={files}");
        anyhow::Ok(())
    })?;
    drop(hub);
    eprintln!("xtask: the database {DB_NAME} is kept (--reuse); drop it with: psql … -c 'DROP DATABASE {DB_NAME}'");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let ms: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!((percentile(&ms, 50.0), percentile(&ms, 95.0), percentile(&ms, 100.0)), (50.0, 95.0, 100.0));
        assert_eq!(percentile(&[7.0], 95.0), 7.0);
        assert_eq!(pages(1000)[5], "/dashboard/stores/seed_00500");
    }
}
