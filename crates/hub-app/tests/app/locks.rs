//! Real processes: a run whose job lock dies with its PostgreSQL session
//! (`pg_terminate_backend`, what a server restart or a failover does to it). The run takes the
//! lock back and finishes, or, when another session took the lock first, starts no more
//! stores: it never goes on beside a second holder.

use std::time::Duration;

use crate::support::*;
use serde_json::json;
use tiktok_sandbox::{LatencyMs, SandboxConfig};

const STORES: usize = 8;

/// The job's lock key as the hub takes it (`hub_postgres::JOB_LOCK_NAMESPACE`, `"hubj"`).
const KEY: &str = "(1752523370, hashtext('job:sync_user_daily'))";
/// Advisory locks granted in this test's database, and the sessions holding them.
const HELD: &str = "FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
                    WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()";

/// A hub that syncs one store at a time against a slow TikTok, with `STORES` stores; a user
/// run started in the background and a store done. Returns the hub and the run id.
async fn a_slow_run() -> (Hub, i64) {
    let sandbox =
        SandboxConfig { accounts: STORES, videos_per_account: 1, rate_limit_per_min: 0, ..SandboxConfig::default() };
    let hub = Hub::start(sandbox, &[("SYNC_CONCURRENCY", "1"), ("SYNC_MAX_CONCURRENCY", "1")]).await;
    connect_stores(&hub, STORES).await;
    hub.sandbox.update(|k| k.latency_ms = Some(LatencyMs { min: 300, max: 400 }));
    let (status, body) = hub.post("/admin/sync/run", json!({"job": "user", "wait": false})).await;
    assert_eq!(status, 202, "{body}");
    let run = body["data"]["runIds"][0].as_i64().unwrap();
    let q = format!("SELECT processed AS n FROM sync_runs WHERE id = {run}");
    until(Duration::from_secs(30), "the run's first store", || async { sql(&hub, &q).await >= 1 }).await;
    (hub, run)
}

async fn terminate_lock_session(hub: &Hub) {
    let n = sql(hub, &format!("SELECT count(pg_terminate_backend(l.pid)) AS n {HELD}")).await;
    assert_eq!(n, 1, "one lock session: the run's");
}

async fn until_finished(hub: &Hub, run: i64) -> (String, i64) {
    let done = format!("SELECT count(*) AS n FROM sync_runs WHERE id = {run} AND status <> 'RUNNING'");
    until(Duration::from_secs(60), "the run to end", || async { sql(hub, &done).await == 1 }).await;
    let processed = sql(hub, &format!("SELECT processed AS n FROM sync_runs WHERE id = {run}")).await;
    let ok = format!("SELECT count(*) AS n FROM sync_runs WHERE id = {run} AND status = 'SUCCEEDED'");
    let status = if sql(hub, &ok).await == 1 { "SUCCEEDED" } else { "other" };
    (status.to_owned(), processed)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_takes_its_lost_lock_back_and_finishes() {
    let (hub, run) = a_slow_run().await;
    terminate_lock_session(&hub).await;

    let (status, processed) = until_finished(&hub, run).await;
    assert_eq!((status.as_str(), processed), ("SUCCEEDED", STORES as i64), "{}", hub.logs());
    assert!(hub.logs().contains("job lock taken back; the run goes on"), "{}", hub.logs());
    let snapshots = "SELECT count(DISTINCT store_code) AS n FROM tiktok_user_daily";
    assert_eq!(sql(&hub, snapshots).await, STORES as i64);
    // Taken back on a new session, released when the run closed.
    until(Duration::from_secs(10), "the lock to be released", || async {
        sql(&hub, &format!("SELECT count(*) AS n {HELD}")).await == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_whose_lost_lock_another_session_took_starts_no_more_stores() {
    let (hub, run) = a_slow_run().await;
    // Another session queues for the job's lock and holds it for a while once granted: it is
    // granted the moment the run's session dies, before the run can take it back.
    let url = hub.db.url().to_owned();
    let other = tokio::spawn(async move {
        let hold = format!("SELECT count(*) AS n FROM (SELECT pg_advisory_lock{KEY}, pg_sleep(4)) x");
        hub_postgres::query_i64(&url, &hold).await
    });
    let waiting = "SELECT count(*) AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
                   WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()";
    until(Duration::from_secs(10), "the other session to queue", || async { sql(&hub, waiting).await == 1 }).await;
    let logged = format!("SELECT count(*) AS n FROM sync_logs WHERE run_id = {run} AND store_code IS NOT NULL");
    let before = sql(&hub, &logged).await;
    terminate_lock_session(&hub).await;

    let (status, processed) = until_finished(&hub, run).await;
    assert_eq!(status, "other");
    // One store at a time: the one in flight, and one that started just before the kill.
    assert!(processed <= before + 2, "stopped at once: {processed} done, {before} before the kill");
    assert!(processed < STORES as i64, "stopped early: {processed} of {STORES}");
    let says = format!(
        "SELECT count(*) AS n FROM sync_runs WHERE id = {run} AND status = 'INTERRUPTED' \
         AND message LIKE '%lost to another run%'"
    );
    assert_eq!(sql(&hub, &says).await, 1, "{}", hub.logs());
    assert!(hub.logs().contains("job lock taken by another run"), "{}", hub.logs());
    assert_eq!(other.await.unwrap().unwrap(), 1);
}
