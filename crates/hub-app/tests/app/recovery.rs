//! Real processes: `tiktok-hub sync` killed with SIGKILL mid-refresh, then run again.
//!
//! The killed process leaves its runs RUNNING and its refresh leases taken. The next
//! `tiktok-hub sync` (once their heartbeat is stale) must interrupt those runs and release
//! those leases before it starts, so that it completes every store instead of waiting for
//! the dead leases and failing those stores.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use serde_json::{Value, json};
use tiktok_sandbox::{LatencyMs, SandboxConfig};

const STORES: usize = 12;
const STALE_AFTER_SECONDS: u64 = 2;

async fn sql(hub: &Hub, query: &str) -> i64 {
    hub_postgres::query_i64(hub.db.url(), query).await.unwrap_or_else(|e| panic!("{query}: {e}"))
}

const RUNNING: &str = "SELECT count(*) AS n FROM sync_runs WHERE status = 'RUNNING'";
const LEASES: &str = "SELECT count(*) AS n FROM store_accounts WHERE refresh_lease_owner IS NOT NULL";

/// `tiktok-hub sync --job all` on the hub's database and sandbox.
fn sync_command(hub: &Hub) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tiktok-hub"));
    cmd.args(["sync", "--job", "all"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", hub.db.url())
        .env("TIKTOK_CLIENT_KEY", "sandbox-client-key")
        .env("TIKTOK_CLIENT_SECRET", CLIENT_SECRET)
        .env("TIKTOK_REDIRECT_URI", &hub.redirect)
        .env("TIKTOK_AUTH_BASE_URL", hub.sandbox.base_url())
        .env("TIKTOK_API_BASE_URL", hub.sandbox.base_url())
        .env("TOKEN_ENC_KEY", ENC_KEY)
        .env("ADMIN_API_KEY", API_KEY)
        .env("STATE_SECRET", STATE_SECRET)
        .env("CRON_ENABLED", "false")
        .env("LOG_LEVEL", "info")
        .env("SYNC_STALE_AFTER_SECONDS", STALE_AFTER_SECONDS.to_string())
        .env("SYNC_CONCURRENCY", "3")
        .env("VIDEO_SYNC_CONCURRENCY", "3")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_killed_mid_refresh_leaves_nothing_the_next_sync_cannot_clear() {
    let sandbox =
        SandboxConfig { accounts: STORES, videos_per_account: 12, rate_limit_per_min: 0, ..Default::default() };
    let mut hub = Hub::start(sandbox, &[]).await;
    for i in 0..STORES {
        let code = format!("store_{i:02}");
        let (status, body) =
            hub.post("/admin/stores", json!({"store_code": code, "store_name": code, "pic_name": "PIC"})).await;
        assert_eq!(status, 201, "{body}");
        let (status, page) = hub.connect(&code, Some(i)).await;
        assert_eq!(status, 200, "{page}");
    }
    // Only the `sync` commands from here on: `serve`'s own sweep would do the recovery.
    assert!(hub.stop().await.success());
    // Every access token is due, and TikTok is slow: the refreshes hold their leases a while.
    hub_postgres::execute_batch(
        hub.db.url(),
        "UPDATE store_accounts SET token_expires_at = now() - interval '1 minute'",
    )
    .await
    .unwrap();
    hub.sandbox.update(|k| k.latency_ms = Some(LatencyMs { min: 300, max: 800 }));

    let mut first = sync_command(&hub).spawn().expect("tiktok-hub sync starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while sql(&hub, LEASES).await == 0 {
        assert!(Instant::now() < deadline, "no refresh lease was ever taken");
        assert!(first.try_wait().unwrap().is_none(), "the first sync ended before a refresh began");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().expect("SIGKILL");
    let _ = first.wait();
    let running = sql(&hub, RUNNING).await;
    let leases = sql(&hub, LEASES).await;
    assert!(running >= 1 && leases >= 1, "the kill left {running} RUNNING runs and {leases} leases");

    // Once the dead run's heartbeat is stale, the next sync starts.
    tokio::time::sleep(Duration::from_millis(STALE_AFTER_SECONDS * 1000 + 500)).await;
    let started = Instant::now();
    let second = sync_command(&hub).output().expect("tiktok-hub sync runs");
    let took = started.elapsed();
    let log = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{:?}\n{log}", second.status);
    let summary: Value = serde_json::from_slice(&second.stdout).expect("the summary is JSON");
    for (job, field) in [("refresh_tokens", "failed"), ("user_sync", "failed"), ("video_sync", "failed")] {
        assert_eq!(summary[job][field], 0, "{job} failed no store: {summary}\n{log}");
    }
    assert_eq!(summary["user_sync"]["successful"], STORES as i64, "{summary}");
    assert_eq!(summary["video_sync"]["successful"], STORES as i64, "{summary}");
    assert!(took < Duration::from_secs(25), "the second sync took {took:?}: it waited for dead leases");
    assert!(log.contains("runs with a stale heartbeat marked INTERRUPTED"), "{log}");

    assert_eq!(sql(&hub, RUNNING).await, 0, "no RUNNING run");
    assert_eq!(sql(&hub, LEASES).await, 0, "no refresh lease");
    assert_eq!(
        sql(&hub, "SELECT count(*) AS n FROM sync_runs WHERE status = 'INTERRUPTED'").await,
        running,
        "the killed runs are INTERRUPTED"
    );
    assert_eq!(sql(&hub, "SELECT count(*) AS n FROM store_accounts WHERE status = 'CONNECTED'").await, STORES as i64);
    let today = "(SELECT max(scheduled_date) FROM sync_runs)";
    assert_eq!(
        sql(
            &hub,
            &format!("SELECT count(DISTINCT store_code) AS n FROM tiktok_user_daily WHERE snapshot_date = {today}")
        )
        .await,
        STORES as i64
    );
}
