//! Real processes: several `tiktok-hub serve` on one PostgreSQL database and one TikTok
//! sandbox; a process killed with SIGKILL or stopped with SIGTERM mid-run; `/metrics`.
//!
//! Every wait polls with a generous deadline; nothing relies on a fixed sleep being long
//! enough.

use std::time::{Duration, Instant};

use crate::support::*;
use chrono::{DateTime, Timelike, Utc};
use serde_json::{Value, json};
use tiktok_sandbox::{LatencyMs, SandboxConfig};

fn sandbox(accounts: usize) -> SandboxConfig {
    SandboxConfig { accounts, videos_per_account: 12, rate_limit_per_min: 0, ..SandboxConfig::default() }
}

/// A schedule whose last tick is never today (29 February 2024 or earlier), so that no
/// start-up catch-up runs: only what a test triggers runs.
const NEVER_TODAY: &str = "0 0 29 2 *";

const RUNNING: &str = "SELECT count(*) AS n FROM sync_runs WHERE status = 'RUNNING'";
const DUPLICATES: &str = "SELECT count(*) AS n FROM (SELECT store_code, snapshot_date, video_id FROM tiktok_video_daily \
                          GROUP BY 1, 2, 3 HAVING count(*) > 1) d";
/// Advisory locks held in this test's database (the server is shared with other tests).
const ADVISORY_LOCKS: &str = "SELECT count(*) AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
                              WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()";

fn run_status_is(id: i64, statuses: &str) -> String {
    format!("SELECT count(*) AS n FROM sync_runs WHERE id = {id} AND status IN ({statuses})")
}

/// Starts a video run over every store in the background; returns its run id.
async fn start_video_run(hub: &Hub) -> i64 {
    let (status, body) = hub.post("/admin/sync/run", json!({"job": "video", "wait": false})).await;
    assert_eq!(status, 202, "{body}");
    body["data"]["runIds"][0].as_i64().unwrap_or_else(|| panic!("a run id in {body}"))
}

/// Waits until run `id` has finished at least `n` stores (its persisted progress).
async fn until_processed(hub: &Hub, id: i64, n: i64) {
    let q = format!("SELECT processed AS n FROM sync_runs WHERE id = {id}");
    until(Duration::from_secs(30), "the run's first stores", || async { sql(hub, &q).await >= n }).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_run_each_cron_tick_once() {
    let cron = [
        ("CRON_ENABLED", "true"),
        ("CRON_SYNC_USER_DAILY", "* * * * *"),
        ("CRON_TOKEN_REFRESH", NEVER_TODAY),
        ("CRON_SYNC_VIDEO_DAILY", NEVER_TODAY),
    ];
    let hub = Hub::start(sandbox(5), &cron).await;
    let other = hub.another(&cron).await;
    let stores = connect_stores(&hub, 5).await;

    // Start counting after a quiet moment: not just after a boundary (a tick of it may be
    // about to open its run) and with no run in progress (a start-up catch-up, an earlier tick).
    let tick = loop {
        until(Duration::from_secs(60), "no run in progress", || async { sql(&hub, RUNNING).await == 0 }).await;
        let now = Utc::now();
        if now.second() >= 3 && now.second() <= 57 {
            break next_minute(now);
        }
        tokio::time::sleep(Duration::from_secs(4)).await;
    };
    let before = hub.sandbox.stats().user_info.calls;

    // The tick's run: exactly one row, written by whichever instance took the job's lock.
    let ts = tick.format("%Y-%m-%d %H:%M:%S+00").to_string();
    let in_tick = format!(
        "FROM sync_runs WHERE job_name = 'sync_user_daily' AND trigger = 'cron' AND started_at >= '{ts}' \
         AND started_at < timestamptz '{ts}' + interval '1 minute'"
    );
    let finished = format!("SELECT count(*) AS n {in_tick} AND status <> 'RUNNING' AND processed = 5");
    until(Duration::from_secs(75), "the tick's run to finish", || async { sql(&hub, &finished).await >= 1 }).await;
    // Both schedulers fired at the boundary; give the slower one time to lose.
    until(Duration::from_secs(10), "both instances to handle the tick", || async {
        let logs = format!("{}{}", hub.logs(), other.logs());
        let tick_text = tick.to_string();
        logs.lines().filter(|l| l.contains(&tick_text) && l.contains("scheduled tick")).count() >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(Utc::now() < tick + chrono::Duration::seconds(59), "measure within the tick's minute");

    assert_eq!(sql(&hub, &format!("SELECT count(*) AS n {in_tick}")).await, 1, "one run row for the tick");
    let calls = hub.sandbox.stats().user_info.calls - before;
    assert_eq!(calls, stores.len() as u64, "TikTok saw one user/info call per connected store");
    let logs = format!("{}{}", hub.logs(), other.logs());
    let tick_text = tick.to_string();
    assert!(
        logs.lines().any(|l| l.contains(&tick_text) && l.contains("tick skipped")),
        "the other instance skipped the tick"
    );
    assert_eq!(sql(&hub, RUNNING).await, 0);
}

fn next_minute(now: DateTime<Utc>) -> DateTime<Utc> {
    let floor = now.with_second(0).unwrap().with_nanosecond(0).unwrap();
    floor + chrono::Duration::minutes(1)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_killed_mid_way_is_interrupted_and_completed_by_another_instance() {
    const STORES: usize = 20;
    let common = [
        ("SYNC_STALE_AFTER_SECONDS", "4"),
        ("SYNC_RETRY_DELAYS", "0.05,0.1,0.2"),
        ("CRON_TOKEN_REFRESH", NEVER_TODAY),
        ("CRON_SYNC_USER_DAILY", NEVER_TODAY),
        ("CRON_SYNC_VIDEO_DAILY", NEVER_TODAY),
    ];
    // A walks the stores two at a time, so the run is still going when it is killed.
    let mut a_env = common.to_vec();
    a_env.push(("VIDEO_SYNC_CONCURRENCY", "2"));
    let mut hub = Hub::start(sandbox(STORES), &a_env).await;
    // B recovers interrupted runs (that needs the scheduler on; nothing is due today).
    let mut b_env = common.to_vec();
    b_env.push(("CRON_ENABLED", "true"));
    let mut b = hub.another(&b_env).await;
    let stores = connect_stores(&hub, STORES).await;
    hub.sandbox.update(|k| k.latency_ms = Some(LatencyMs { min: 300, max: 800 }));

    let run = start_video_run(&hub).await;
    until_processed(&hub, run, 3).await;
    hub.kill9();
    assert_eq!(sql(&hub, &run_status_is(run, "'RUNNING'")).await, 1, "killed while RUNNING");
    let left = sql(&hub, &format!("SELECT total - processed AS n FROM sync_runs WHERE id = {run}")).await;
    assert!(left > 0, "stores were left for B");

    // B's sweep finds the stale heartbeat and retries the stores the run left.
    until(Duration::from_secs(30), "B to interrupt A's run", || async {
        sql(&hub, &run_status_is(run, "'INTERRUPTED'")).await == 1
    })
    .await;
    let retried = format!(
        "SELECT count(*) AS n FROM sync_runs WHERE job_name = 'sync_video_daily' AND trigger = 'retry' \
         AND status = 'SUCCEEDED' AND id > {run}"
    );
    until(Duration::from_secs(60), "B's retry to complete the day", || async {
        sql(&hub, &retried).await >= 1 && sql(&hub, RUNNING).await == 0
    })
    .await;
    assert!(b.logs().contains("runs with a stale heartbeat marked INTERRUPTED"), "B did it");

    // Every store has the sandbox's whole visible video set for today, once.
    for (code, open_id) in &stores {
        let (status, body) = b.get(&format!("/admin/stores/{code}/video-stats?days=1")).await;
        assert_eq!(status, 200, "{body}");
        let mut got: Vec<String> =
            body["data"].as_array().unwrap().iter().map(|v| v["videoId"].as_str().unwrap().to_owned()).collect();
        let mut want: Vec<String> = hub.sandbox.visible_videos(open_id).into_iter().map(|v| v.id).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{code}: today's videos");
    }
    assert_eq!(sql(&hub, DUPLICATES).await, 0, "no duplicate snapshot rows");
    assert_eq!(sql(&hub, RUNNING).await, 0, "no RUNNING run");

    let status = b.stop().await;
    assert!(status.success(), "B stops cleanly: {status:?}");
    until(Duration::from_secs(10), "every advisory lock to be released", || async {
        sql(&hub, ADVISORY_LOCKS).await == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_mid_run_exits_within_the_grace_and_records_the_rest_as_not_done() {
    const STORES: usize = 12;
    let mut hub =
        Hub::start(sandbox(STORES), &[("SHUTDOWN_GRACE_SECONDS", "5"), ("VIDEO_SYNC_CONCURRENCY", "2")]).await;
    connect_stores(&hub, STORES).await;
    hub.sandbox.update(|k| k.latency_ms = Some(LatencyMs { min: 300, max: 800 }));
    let run = start_video_run(&hub).await;
    until_processed(&hub, run, 2).await;

    let t0 = Instant::now();
    let status = hub.stop().await;
    let took = t0.elapsed();
    assert!(status.success(), "exit 0: {status:?}\n{}", hub.logs());
    assert!(took < Duration::from_secs(5 + 3), "stopped in {took:?}, grace 5 s");

    let info: String = hub.logs().lines().filter(|l| !l.contains("\"request\"")).collect::<Vec<_>>().join("\n");
    assert_eq!(sql(&hub, RUNNING).await, 0, "no RUNNING row:\n{info}");
    assert_eq!(sql(&hub, &run_status_is(run, "'INTERRUPTED', 'SUCCEEDED', 'PARTIAL'")).await, 1);
    let processed = sql(&hub, &format!("SELECT processed AS n FROM sync_runs WHERE id = {run}")).await;
    let logged =
        sql(&hub, &format!("SELECT count(*) AS n FROM sync_logs WHERE run_id = {run} AND store_code IS NOT NULL"))
            .await;
    assert_eq!(processed, logged, "one log line per store done");
    assert!(processed < STORES as i64, "the run was cut short ({processed} stores done)");
    {
        assert_eq!(sql(&hub, &run_status_is(run, "'INTERRUPTED'")).await, 1);
        let says = format!(
            "SELECT count(*) AS n FROM sync_runs WHERE id = {run} AND message LIKE '%interrupted: the rest was not done%'"
        );
        assert_eq!(sql(&hub, &says).await, 1, "the run's message says the rest was not done");
        let summary = format!(
            "SELECT count(*) AS n FROM sync_logs WHERE run_id = {run} AND store_code IS NULL AND status = 'FAILED'"
        );
        assert_eq!(sql(&hub, &summary).await, 1, "the job's summary line records it");
    }
}

/// The value of the sample `series` (name with its labels, exactly as rendered).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no sample {series} in:\n{text}"))
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_show_syncs_tiktok_calls_pool_and_http_by_route() {
    let metrics_port = free_port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let hub = Hub::start(sandbox(3), &[("METRICS_ADDR", &metrics_addr), ("DB_POOL_SIZE", "7")]).await;
    let stores = connect_stores(&hub, 3).await;
    let (status, body) = hub.post("/admin/sync/run", json!({"job": "all"})).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = hub.get(&format!("/admin/stores/{}", stores[0].0)).await;
    assert_eq!(status, 200);

    // The main port wants the key; METRICS_ADDR does not.
    let bare = hub.http.get(hub.url("/metrics")).send().await.unwrap();
    assert_eq!(bare.status().as_u16(), 401);
    let keyed = hub.http.get(hub.url("/metrics")).header("X-API-KEY", API_KEY).send().await.unwrap();
    assert_eq!(keyed.status().as_u16(), 200);
    assert!(keyed.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = keyed.text().await.unwrap();
    let side = hub.http.get(format!("http://{metrics_addr}/metrics")).send().await.unwrap();
    assert_eq!(side.status().as_u16(), 200);
    let side_text = side.text().await.unwrap();
    assert!(side_text.contains("tiktok_hub_sync_runs_total"), "{side_text}");
    let elsewhere = hub.http.get(format!("http://{metrics_addr}/admin/stores")).send().await.unwrap();
    assert_eq!(elsewhere.status().as_u16(), 404, "the metrics listener serves /metrics only");

    for family in [
        "tiktok_hub_sync_runs_total",
        "tiktok_hub_sync_run_duration_seconds",
        "tiktok_hub_sync_stores_total",
        "tiktok_hub_sync_last_run_duration_seconds",
        "tiktok_hub_sync_last_completed_timestamp_seconds",
        "tiktok_hub_sync_runs_in_progress",
        "tiktok_hub_tiktok_requests_total",
        "tiktok_hub_tiktok_rate_limited_total",
        "tiktok_hub_tiktok_retries_total",
        "tiktok_hub_tiktok_errors_total",
        "tiktok_hub_tiktok_request_duration_seconds",
        "tiktok_hub_tiktok_budget_waits_total",
        "tiktok_hub_tiktok_budget_wait_seconds_total",
        "tiktok_hub_db_pool_connections_in_use",
        "tiktok_hub_db_pool_connections_idle",
        "tiktok_hub_db_pool_waiting",
        "tiktok_hub_db_pool_connections_max",
        "tiktok_hub_db_pool_queued_total",
        "tiktok_hub_db_pool_queued_seconds_total",
        "tiktok_hub_sync_db_connections_max",
        "tiktok_hub_sync_db_waits_total",
        "tiktok_hub_sync_db_wait_seconds_total",
        "tiktok_hub_stores",
        "tiktok_hub_retention_purged_rows_total",
        "tiktok_hub_retention_last_purge_timestamp_seconds",
        "tiktok_hub_http_requests_total",
        "tiktok_hub_http_request_duration_seconds",
    ] {
        assert!(text.contains(&format!("# HELP {family} ")), "HELP of {family}");
        assert!(text.contains(&format!("# TYPE {family} ")), "TYPE of {family}");
    }

    let n = stores.len() as f64;
    assert!(sample(&text, "tiktok_hub_tiktok_requests_total{endpoint=\"user/info\"}") >= n);
    assert!(sample(&text, "tiktok_hub_tiktok_requests_total{endpoint=\"video/list\"}") >= n);
    assert!(sample(&text, "tiktok_hub_tiktok_request_duration_seconds_sum{endpoint=\"user/info\"}") > 0.0);
    assert_eq!(sample(&text, "tiktok_hub_tiktok_rate_limited_total{endpoint=\"user/info\"}"), 0.0);
    assert_eq!(sample(&text, "tiktok_hub_sync_runs_total{job=\"sync_user_daily\",status=\"SUCCEEDED\"}"), 1.0);
    assert_eq!(sample(&text, "tiktok_hub_sync_stores_total{job=\"sync_user_daily\",outcome=\"succeeded\"}"), n);
    assert_eq!(sample(&text, "tiktok_hub_sync_stores_total{job=\"sync_video_daily\",outcome=\"succeeded\"}"), n);
    assert_eq!(sample(&text, "tiktok_hub_sync_run_duration_seconds_count{job=\"sync_video_daily\"}"), 1.0);
    assert_eq!(sample(&text, "tiktok_hub_sync_run_duration_seconds_bucket{job=\"sync_video_daily\",le=\"+Inf\"}"), 1.0);
    assert!(sample(&text, "tiktok_hub_sync_last_completed_timestamp_seconds{job=\"sync_user_daily\"}") > 1.6e9);
    assert_eq!(sample(&text, "tiktok_hub_sync_runs_in_progress{job=\"sync_video_daily\"}"), 0.0);
    assert_eq!(sample(&text, "tiktok_hub_db_pool_connections_max"), 7.0);
    // The scheduler's first retention pass runs at start (nothing is old enough yet).
    assert_eq!(sample(&text, "tiktok_hub_retention_purged_rows_total{table=\"audit_logs\"}"), 0.0);
    assert!(sample(&text, "tiktok_hub_retention_last_purge_timestamp_seconds") > 1.6e9);
    assert_eq!(sample(&text, "tiktok_hub_sync_db_connections_max"), 5.0, "7 less a reserve of 2 for the API");
    assert_eq!(sample(&text, "tiktok_hub_stores{status=\"CONNECTED\",reason=\"\"}"), n);
    assert_eq!(
        sample(&text, "tiktok_hub_http_requests_total{method=\"POST\",route=\"/admin/sync/run\",status=\"200\"}"),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            "tiktok_hub_http_request_duration_seconds_count{method=\"POST\",route=\"/admin/sync/run\",status=\"200\"}"
        ),
        1.0
    );
    // Route patterns, never raw paths.
    assert!(text.contains("route=\"/admin/stores/{store_code}\""), "{text}");
    assert!(!text.contains(&format!("route=\"/admin/stores/{}\"", stores[0].0)));
    assert!(text.contains("route=\"/metrics\",status=\"401\""), "the refused scrape is counted");

    // Documented, and 405 names its method.
    let (_, spec) = hub.get("/api/openapi.json").await;
    assert!(spec["paths"]["/metrics"]["get"].is_object(), "/metrics in the OpenAPI document");
    let post = hub.http.post(hub.url("/metrics")).header("X-API-KEY", API_KEY).send().await.unwrap();
    assert_eq!(post.status().as_u16(), 405);
    assert!(post.headers()["allow"].to_str().unwrap().contains("GET"));
    let _: Value = spec;
}

/// The sync jobs keep to their share of the pool: with `DB_POOL_SIZE=4` (2 for the jobs) and
/// 80 stores in flight at the start (30 user + 30 refresh + 20 video), the jobs' repository
/// calls queue at their own gate, and no checkout ever finds the whole pool taken.
#[tokio::test(flavor = "multi_thread")]
async fn a_sync_leaves_the_api_its_share_of_the_pool() {
    const STORES: usize = 40;
    let hub = Hub::start(sandbox(STORES), &[("DB_POOL_SIZE", "4")]).await;
    connect_stores(&hub, STORES).await;
    let metrics = || async {
        let text = hub.http.get(hub.url("/metrics")).header("X-API-KEY", API_KEY).send().await.unwrap();
        text.text().await.unwrap()
    };
    let before = metrics().await;
    let (status, body) = hub.post("/admin/sync/run", json!({"job": "all"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["video_sync"]["successful"], STORES, "{body}");
    let after = metrics().await;

    let queued = |t: &str| sample(t, "tiktok_hub_db_pool_queued_total");
    assert_eq!(queued(&after), queued(&before), "no checkout found the pool exhausted during the sync");
    assert_eq!(sample(&after, "tiktok_hub_sync_db_connections_max"), 2.0);
    assert!(
        sample(&after, "tiktok_hub_sync_db_waits_total") > 0.0,
        "80 store tasks on 2 connections: the jobs queued at their gate"
    );
}
