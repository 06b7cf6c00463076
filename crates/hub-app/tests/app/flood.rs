//! `/health` under a flood: 2,000 requests, 200 at once, from 50 clients (forwarded by the
//! trusted proxy 127.0.0.1), while admins keep the pool busy. The hub's connections in
//! `pg_stat_activity` never exceed `DB_POOL_SIZE` plus its lock connections, the per-address
//! limit counts 50 clients, and every admin read answers.
//!
//! The hub's only connections outside the pool are its job locks: one dedicated session per
//! job run in progress (`refresh_tokens`, `sync_user_daily`, `sync_video_daily`: at most 3),
//! each holding its advisory lock. No job runs here, so the bound is the pool itself; each
//! sample still adds the lock sessions it sees. The test fails if the database ping opens a
//! connection of its own while the pool is busy, or if the checks of a second are not
//! answered by one ping (200 concurrent pings queue for the pool and the admin reads wait).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tiktok_sandbox::SandboxConfig;
use tokio::sync::Semaphore;

use crate::support::*;

const REQUESTS: usize = 2_000;
const AT_ONCE: usize = 200;
const CLIENTS: usize = 50;
const POOL: i64 = 3;
const HEALTH_PER_MIN: usize = 20;
/// Tasks reading `GET /admin/stores` in a loop during the flood (more than the pool).
const ADMINS: usize = 12;
/// The `application_name` of the flooded instance's sessions.
const APP: &str = "hub_flood_test";

/// The flooded instance's sessions and, of those, the ones holding an advisory lock, as
/// `sessions * 1000 + lock_sessions`.
fn sessions_query() -> String {
    format!(
        "SELECT (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND application_name = '{APP}') * 1000 + (SELECT count(DISTINCT a.pid) FROM pg_locks l \
         JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted \
         AND a.application_name = '{APP}') AS n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_health_flood_stays_inside_the_pool_and_admins_are_answered() {
    let sandbox =
        SandboxConfig { accounts: 3, videos_per_account: 2, rate_limit_per_min: 0, ..SandboxConfig::default() };
    let hub = Arc::new(Hub::start(sandbox, &[]).await);
    connect_stores(&hub, 3).await;
    let sep = if hub.db.url().contains('?') { '&' } else { '?' };
    let url = format!("{}{sep}application_name={APP}", hub.db.url());
    let pool = POOL.to_string();
    let per_min = HEALTH_PER_MIN.to_string();
    let flooded = Arc::new(
        hub.another(&[
            ("DATABASE_URL", &url),
            ("DB_POOL_SIZE", &pool),
            ("DB_POOL_MIN", "2"),
            ("TRUSTED_PROXIES", "127.0.0.1"),
            ("RATE_LIMIT_HEALTH_PER_MIN", &per_min),
        ])
        .await,
    );

    let done = Arc::new(AtomicBool::new(false));
    // Sampler: the flooded instance's sessions, every few milliseconds (on the test's pool).
    let sampler = {
        let (hub, done) = (Arc::clone(&hub), Arc::clone(&done));
        tokio::spawn(async move {
            let (mut peak, mut over, mut samples) = (0, Vec::new(), 0);
            while !done.load(Ordering::SeqCst) {
                let n = hub.db.query_i64(&sessions_query()).await;
                let (sessions, locks) = (n / 1000, n % 1000);
                peak = peak.max(sessions);
                if sessions > POOL + locks {
                    over.push((sessions, locks));
                }
                samples += 1;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            (peak, over, samples)
        })
    };
    // Admins reading the store list throughout, more of them than the pool has connections.
    let admin_reads = Arc::new(AtomicU64::new(0));
    let admins: Vec<_> = (0..ADMINS)
        .map(|_| {
            let (instance, done, reads) = (Arc::clone(&flooded), Arc::clone(&done), Arc::clone(&admin_reads));
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                while !done.load(Ordering::SeqCst) {
                    let (status, _) = instance.get("/admin/stores").await;
                    statuses.push(status);
                    reads.fetch_add(1, Ordering::SeqCst);
                }
                statuses
            })
        })
        .collect();

    // The flood.
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(AT_ONCE));
    let mut flood = tokio::task::JoinSet::new();
    for i in 0..REQUESTS {
        let permit = Arc::clone(&gate).acquire_owned().await.unwrap();
        let instance = Arc::clone(&flooded);
        flood.spawn(async move {
            let from = format!("10.99.0.{}", i % CLIENTS + 1);
            let res = instance.http.get(instance.url("/health")).header("X-Forwarded-For", from).send().await;
            let res = res.expect("every /health request is answered");
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            drop(permit);
            (status, body)
        });
    }
    let (mut healthy, mut limited, mut other) = (0, 0, Vec::new());
    while let Some(r) = flood.join_next().await {
        match r.unwrap() {
            (200, body) if body["checks"]["database"] == "ok" => healthy += 1,
            (429, _) => limited += 1,
            (status, body) => other.push((status, body)),
        }
    }
    let took = started.elapsed();
    done.store(true, Ordering::SeqCst);
    let (peak, over, samples) = sampler.await.unwrap();
    let mut admin_statuses = Vec::new();
    for a in admins {
        admin_statuses.extend(a.await.unwrap());
    }
    println!(
        "health flood: {REQUESTS} requests in {took:?}, {healthy} healthy, {limited} limited; \
         peak sessions {peak} (pool {POOL}), {samples} samples; {} admin reads",
        admin_statuses.len()
    );

    assert!(other.is_empty(), "only healthy answers and 429s: {:?}", &other[..other.len().min(3)]);
    assert_eq!(healthy + limited, REQUESTS);
    // 50 clients of 40 requests each, 20 a minute allowed: at least 20 each pass, and some of
    // each client's last ones are refused (one address for all would pass about 20 in all).
    assert!(healthy >= CLIENTS * HEALTH_PER_MIN, "{healthy} healthy: the forwarded addresses count as 50 clients");
    assert!(limited > 0, "the per-address limit refused some");
    assert!(samples >= 50, "sampled {samples} times");
    assert!(peak >= 2, "the sampler sees the instance's sessions (peak {peak})");
    assert!(over.is_empty(), "sessions over DB_POOL_SIZE + lock sessions: {over:?}");
    assert!(!admin_statuses.is_empty(), "admins read during the flood");
    assert!(admin_statuses.iter().all(|s| *s == 200), "every admin read answered 200: {admin_statuses:?}");
}
