//! `cargo xtask chaos`, part 2: admin reads at a steady rate while a sync of every store runs.
//!
//! The release `tiktok-hub serve` (admin API, `CRON_ENABLED=false`, the default admin limit of
//! 100 requests per minute per client, `TRUSTED_PROXIES=127.0.0.1`, `/metrics` on its own
//! listener) against the sandbox at TikTok's real pace (time scale 1, 300–800 ms latency).
//! `POST /admin/sync/run {"job":"all","wait":false}` starts the day's runs; from its answer
//! until they end, admin reads go out **open-loop**: request `i` is sent at `i / rps` seconds
//! whether or not earlier ones were answered, from one of [`ADDRESSES`] client addresses
//! (`X-Forwarded-For`, as behind a proxy), in the mix of [`ROUTES`]. Latency runs from the
//! scheduled send time to the end of the body. The pool gauges of `/metrics` are read every
//! [`METRICS_EVERY`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::args::Args;
use super::rig::{Chaos, DayRun};
use super::rng::Rng;
use crate::harness::post_ok;
use crate::util::free_port;

/// Client addresses the load comes from: 20 requests/s over 40 addresses is 30 per minute
/// each, under the admin limit of 100.
const ADDRESSES: u64 = 40;
const METRICS_EVERY: Duration = Duration::from_millis(200);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Targets of the issue.
const MAX_ERROR_PCT: f64 = 1.0;
const MAX_P95_MS: f64 = 300.0;

/// One second of load: 20 reads. `{store}` is a random store's code.
const ROUTES: [&str; 20] = [
    "/admin/stores",
    "/admin/stores/{store}",
    "/admin/sync/status",
    "/admin/reports/overview",
    "/admin/stores/{store}",
    "/admin/stores",
    "/admin/sync/status",
    "/admin/reports/stores?sort=follower_growth",
    "/admin/stores/{store}",
    "/admin/sync/status",
    "/admin/reports/videos/top",
    "/admin/stores/{store}",
    "/admin/stores",
    "/admin/sync/status",
    "/admin/reports/gaps",
    "/admin/stores/{store}",
    "/admin/reports/overview",
    "/admin/reports/stores?sort=follower_growth",
    "/admin/reports/videos/top",
    "/admin/reports/gaps",
];

/// One answered (or failed) request.
struct Sample {
    route: &'static str,
    status: Option<u16>,
    ms: f64,
}

/// The highest pool figures the scrapes of `/metrics` showed, and when one caught callers
/// queued for one of the pool's `DB_POOL_SIZE` slots. (`tiktok_hub_db_pool_waiting` is callers
/// beyond the connections open, so it also counts those whose new connection is being
/// opened; the queue is `waiting + in_use + idle - max`.) The counters
/// `tiktok_hub_db_pool_queued_total` / `_seconds_total`, read before the sync and after it,
/// count every queued checkout, not only those a scrape happens to see.
#[derive(Debug, Default)]
struct Pool {
    samples: AtomicUsize,
    in_use: AtomicU64,
    waiting: AtomicU64,
    max: AtomicU64,
    /// The longest queue seen, and the seconds from the start of the samples that had one.
    queued: AtomicU64,
    exhausted_at: std::sync::Mutex<Vec<f64>>,
}

/// Callers queued for a pool slot in one scrape of `/metrics`.
fn queued(text: &str) -> Option<u64> {
    let g = |name: &str| gauge(text, name);
    let open = g("tiktok_hub_db_pool_connections_in_use")? + g("tiktok_hub_db_pool_connections_idle")?;
    (g("tiktok_hub_db_pool_waiting")? + open).checked_sub(g("tiktok_hub_db_pool_connections_max")?)
}

fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse::<f64>().ok())
}

fn gauge(text: &str, name: &str) -> Option<u64> {
    sample(text, name).map(|v| v as u64)
}

/// `(queued checkouts, seconds queued)` so far, from the hub's counters.
fn queued_counters(text: &str) -> (f64, f64) {
    (
        sample(text, "tiktok_hub_db_pool_queued_total").unwrap_or(0.0),
        sample(text, "tiktok_hub_db_pool_queued_seconds_total").unwrap_or(0.0),
    )
}

pub fn run(chaos: &mut Chaos, args: &Args, rng: &mut Rng) -> Result<()> {
    // TikTok at its real pace: this part measures the API beside a sync of normal length.
    // The rate windows still hold the crash matrix's calls (at ×10): they start empty.
    chaos.rt.block_on(async {
        post_ok(&chaos.sb, "/sandbox/config", r#"{"time_scale":1,"latency_ms":{"min":300,"max":800}}"#).await?;
        post_ok(&chaos.sb, "/sandbox/ratelimit/reset", "{}").await?;
        post_ok(&chaos.sb, "/sandbox/stats/reset", "{}").await
    })?;
    let metrics = format!("127.0.0.1:{}", free_port()?);
    let (hub, base, log) = chaos.serve(
        "load-serve",
        &[
            ("TRUSTED_PROXIES", "127.0.0.1"),
            ("METRICS_ADDR", &metrics),
            ("TIKTOK_RATE_LIMIT_PER_MIN", "570"),
            ("SYNC_STALE_AFTER_SECONDS", "120"),
        ],
    )?;
    eprintln!(
        "xtask: load: tiktok-hub serve on {base} (log {}), TikTok at time scale 1, {} reads/s from {ADDRESSES} addresses",
        log.display(),
        args.rps
    );
    let sandbox_started = chaos.sandbox_now()?;
    let key = chaos.env.admin_key.clone();
    let stores = chaos.stores;
    let rps = args.rps;
    let seed = rng.next_u64();
    let outcome = chaos.rt.block_on(load(base, metrics, key, stores, rps, seed))?;
    drop(hub);

    let check = chaos.check_day(&DayRun { run_ids: outcome.run_ids.clone(), sandbox_started })?;
    let mut samples = outcome.samples;
    let n = samples.len();
    let errors = samples.iter().filter(|s| s.status.is_none_or(|c| !(200..300).contains(&c) && c != 429)).count();
    let limited = samples.iter().filter(|s| s.status == Some(429)).count();
    let err_pct = if n > 0 { errors as f64 * 100.0 / n as f64 } else { 100.0 };
    samples.sort_by(|a, b| a.ms.total_cmp(&b.ms));
    let pct = |p: f64, s: &[&Sample]| -> f64 {
        if s.is_empty() { f64::NAN } else { s[((s.len() as f64 * p).ceil() as usize).clamp(1, s.len()) - 1].ms }
    };
    let all: Vec<&Sample> = samples.iter().collect();
    let (p50, p95, p99) = (pct(0.50, &all), pct(0.95, &all), pct(0.99, &all));
    let pool = &outcome.pool;
    let (in_use, waiting, max) =
        (pool.in_use.load(Ordering::Relaxed), pool.waiting.load(Ordering::Relaxed), pool.max.load(Ordering::Relaxed));
    let server_errors = samples.iter().filter(|s| s.status.is_some_and(|c| c >= 500)).count();
    let exhausted_at = pool.exhausted_at.lock().expect("samples").clone();
    let exhausted_samples = exhausted_at.len();
    let queue = pool.queued.load(Ordering::Relaxed);
    let (queued, queued_s) = outcome.queued;
    let exhausted = queued > 0.0 || server_errors > 0;
    println!(
        "chaos load rps={rps} requests={n} errors={errors} err_pct={err_pct:.2} rate_limited={limited} p50_ms={p50:.1} \
         p95_ms={p95:.1} p99_ms={p99:.1} pool_exhausted={} pool_queued={queued:.0} pool_queued_ms={:.0} pool_max_in_use={in_use}/{max} \
         sync_s={:.1} missing={}",
        if exhausted { "yes" } else { "no" },
        queued_s * 1000.0,
        outcome.sync_secs,
        check.missing
    );
    let mut routes: Vec<&str> = ROUTES.to_vec();
    routes.sort_unstable();
    routes.dedup();
    for route in routes {
        let of: Vec<&Sample> = samples.iter().filter(|s| s.route == route).collect();
        let bad = of.iter().filter(|s| s.status.is_none_or(|c| !(200..300).contains(&c))).count();
        eprintln!(
            "xtask:   {route:<45} requests={:<5} not_2xx={bad:<3} p50_ms={:.1} p95_ms={:.1} p99_ms={:.1}",
            of.len(),
            pct(0.5, &of),
            pct(0.95, &of),
            pct(0.99, &of)
        );
    }
    eprintln!(
        "xtask: load: the runs ended {} after {:.1} s; pool: {} scrapes, {exhausted_samples} with callers queued for a slot \
         (at {}; at most {queue} queued, {waiting} waiting); {}",
        outcome.statuses.join(", "),
        outcome.sync_secs,
        pool.samples.load(Ordering::Relaxed),
        exhausted_at.iter().map(|t| format!("{t:.1} s")).collect::<Vec<_>>().join(" "),
        check.brief()
    );

    let mut failed = Vec::new();
    if err_pct >= MAX_ERROR_PCT {
        failed.push(format!("error rate {err_pct:.2} % (target < {MAX_ERROR_PCT} %)"));
    }
    if p95.is_nan() || p95 >= MAX_P95_MS {
        failed.push(format!("p95 {p95:.1} ms (target < {MAX_P95_MS} ms)"));
    }
    if exhausted {
        failed.push(format!(
            "the pool was exhausted: {queued:.0} checkouts queued for a connection ({:.0} ms in all); {server_errors} 5xx answers",
            queued_s * 1000.0
        ));
    }
    if !check.clean() {
        failed.push(format!("the day is not complete: {}", check.brief()));
    }
    if outcome.statuses.iter().any(|s| !s.ends_with("SUCCEEDED")) {
        failed.push(format!("the runs ended {}", outcome.statuses.join(", ")));
    }
    if !failed.is_empty() {
        bail!("{}", failed.join("; "));
    }
    Ok(())
}

struct Outcome {
    samples: Vec<Sample>,
    pool: Arc<Pool>,
    /// Checkouts that queued for a pool connection during the sync, and their seconds.
    queued: (f64, f64),
    run_ids: Vec<i64>,
    /// `job:STATUS` of each run.
    statuses: Vec<String>,
    sync_secs: f64,
}

async fn load(base: String, metrics: String, key: String, stores: usize, rps: u32, seed: u64) -> Result<Outcome> {
    let http = reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build().context("HTTP client")?;
    let admin = |path: &str, from: &str| {
        http.get(format!("{base}{path}")).header("X-API-KEY", &key).header("X-Forwarded-For", from)
    };

    let counters = async |http: &reqwest::Client| -> Result<(f64, f64)> {
        let text = http.get(format!("http://{metrics}/metrics")).send().await?.text().await?;
        Ok(queued_counters(&text))
    };
    let before = counters(&http).await.context("/metrics before the sync")?;
    let started = Instant::now();
    let resp = http
        .post(format!("{base}/admin/sync/run"))
        .header("X-API-KEY", &key)
        .header("X-Forwarded-For", "10.99.0.1")
        .json(&json!({"job": "all", "wait": false}))
        .send()
        .await?;
    let status = resp.status();
    let body: Value = resp.json().await.context("sync/run answer")?;
    if status.as_u16() != 202 {
        bail!("POST /admin/sync/run answered {status}: {body}");
    }
    let run_ids: Vec<i64> =
        body["data"]["runIds"].as_array().context("no runIds")?.iter().filter_map(Value::as_i64).collect();
    let done = Arc::new(AtomicBool::new(false));

    // The runs' end, read once a second from an address of its own.
    let poller = {
        let (done, ids) = (done.clone(), run_ids.clone());
        let req = {
            let (http, base, key) = (http.clone(), base.clone(), key.clone());
            move |id: i64| {
                http.get(format!("{base}/admin/sync/runs/{id}"))
                    .header("X-API-KEY", &key)
                    .header("X-Forwarded-For", "10.99.0.2")
            }
        };
        tokio::spawn(async move {
            let deadline = Instant::now() + Duration::from_secs(900);
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let mut statuses = Vec::new();
                for id in &ids {
                    let v: Value = match req(*id).send().await {
                        Ok(r) => r.json().await.unwrap_or(Value::Null),
                        Err(_) => Value::Null,
                    };
                    let job = v["data"]["job"].as_str().unwrap_or("?").to_owned();
                    statuses.push(format!("{job}:{}", v["data"]["status"].as_str().unwrap_or("?")));
                }
                let running = statuses.iter().any(|s| s.ends_with(":RUNNING") || s.ends_with(":?"));
                if !running || Instant::now() > deadline {
                    done.store(true, Ordering::SeqCst);
                    return statuses;
                }
            }
        })
    };

    // The pool gauges, from the metrics listener (no key, no limit).
    let pool = Arc::new(Pool::default());
    let scraper = {
        let (done, pool, http, metrics) = (done.clone(), pool.clone(), http.clone(), metrics.clone());
        tokio::spawn(async move {
            let scraping = Instant::now();
            while !done.load(Ordering::SeqCst) {
                if let Ok(r) = http.get(format!("http://{metrics}/metrics")).send().await
                    && let Ok(text) = r.text().await
                {
                    pool.samples.fetch_add(1, Ordering::Relaxed);
                    for (name, slot) in [
                        ("tiktok_hub_db_pool_connections_in_use", &pool.in_use),
                        ("tiktok_hub_db_pool_waiting", &pool.waiting),
                        ("tiktok_hub_db_pool_connections_max", &pool.max),
                    ] {
                        slot.fetch_max(gauge(&text, name).unwrap_or(0), Ordering::Relaxed);
                    }
                    if let Some(q) = queued(&text).filter(|q| *q > 0) {
                        pool.queued.fetch_max(q, Ordering::Relaxed);
                        pool.exhausted_at.lock().expect("samples").push(scraping.elapsed().as_secs_f64());
                    }
                }
                tokio::time::sleep(METRICS_EVERY).await;
            }
        })
    };

    // Open loop: request i at i / rps seconds.
    let mut rng = Rng::new(seed);
    let every = Duration::from_secs_f64(1.0 / f64::from(rps));
    let t0 = tokio::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut i: u64 = 0;
    while !done.load(Ordering::SeqCst) {
        let at = t0 + every * i as u32;
        tokio::time::sleep_until(at).await;
        let route = ROUTES[(i % ROUTES.len() as u64) as usize];
        let path = route.replace("{store}", &crate::harness::store_code("chaos_", rng.below(stores)));
        let from = format!("10.77.0.{}", i % ADDRESSES + 1);
        let req = admin(&path, &from);
        tasks.spawn(async move {
            let status = match req.send().await {
                Ok(r) => {
                    let code = r.status().as_u16();
                    r.bytes().await.ok().map(|_| code)
                }
                Err(_) => None,
            };
            Sample { route, status, ms: at.elapsed().as_secs_f64() * 1000.0 }
        });
        i += 1;
    }
    let statuses = poller.await.context("poller")?;
    let sync_secs = started.elapsed().as_secs_f64();
    let mut samples = Vec::with_capacity(i as usize);
    while let Some(s) = tasks.join_next().await {
        samples.push(s.context("request task")?);
    }
    scraper.await.context("scraper")?;
    let after = counters(&http).await.context("/metrics after the sync")?;
    let queued = (after.0 - before.0, after.1 - before.1);
    Ok(Outcome { samples, pool, queued, run_ids, statuses, sync_secs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_is_callers_beyond_the_pool_size() {
        let scrape = |in_use, idle, waiting| {
            format!(
                "tiktok_hub_db_pool_connections_in_use {in_use}\ntiktok_hub_db_pool_connections_idle {idle}\n\
                 tiktok_hub_db_pool_waiting {waiting}\ntiktok_hub_db_pool_connections_max 20\n"
            )
        };
        // Three connections open, 75 callers beyond them: 58 queued for one of the 20 slots.
        assert_eq!(queued(&scrape(3, 0, 75)), Some(58));
        // Connections being opened, nobody queued.
        assert_eq!(queued(&scrape(3, 0, 10)), None);
        assert_eq!(queued(&scrape(20, 0, 0)), Some(0));
        assert_eq!(queued(&scrape(12, 8, 0)), Some(0));
        assert_eq!(queued("garbage"), None);
    }

    #[test]
    fn reads_gauges() {
        let text = "# TYPE tiktok_hub_db_pool_waiting gauge\ntiktok_hub_db_pool_waiting 3\ntiktok_hub_db_pool_connections_in_use 7\n";
        assert_eq!(gauge(text, "tiktok_hub_db_pool_waiting"), Some(3));
        assert_eq!(gauge(text, "tiktok_hub_db_pool_connections_in_use"), Some(7));
        assert_eq!(gauge(text, "tiktok_hub_db_pool_connections_max"), None);
    }

    #[test]
    fn mix_is_one_second_of_the_four_kinds() {
        let count = |p: &str| ROUTES.iter().filter(|r| r.starts_with(p)).count();
        assert_eq!(ROUTES.len(), 20);
        assert_eq!(count("/admin/stores"), 8);
        assert_eq!(count("/admin/sync/status"), 4);
        assert_eq!(count("/admin/reports/"), 8);
    }
}
