//! Real processes: the TikTok budget shared by every instance, in PostgreSQL by default and in
//! Redis when `REDIS_URL` is set (the real redis-server on 127.0.0.1:6379).

use serde_json::json;
use tiktok_sandbox::SandboxConfig;

use crate::support::*;

fn sandbox() -> SandboxConfig {
    SandboxConfig { accounts: 3, videos_per_account: 3, rate_limit_per_min: 0, ..SandboxConfig::default() }
}

/// Connects three stores and syncs them on `hub`; its start-up line names `backend`.
async fn sync_and_check(hub: &Hub, backend: &str) {
    connect_stores(hub, 3).await;
    let (status, body) = hub.post("/admin/sync/run", json!({"job": "user"})).await;
    assert_eq!(status, 200, "{body}");
    let logs = hub.logs();
    let line = logs.lines().find(|l| l.contains("shared TikTok budget")).expect("the budget's start-up line");
    assert!(line.contains(&format!("\"backend\":\"{backend}\"")), "{line}");
    assert_eq!(sql(hub, "SELECT count(DISTINCT store_code) AS n FROM tiktok_user_daily").await, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_budget_lives_in_postgresql_by_default() {
    let hub = Hub::start(sandbox(), &[]).await;
    sync_and_check(&hub, "postgres").await;
    let buckets = "SELECT count(*) AS n FROM shared_buckets WHERE name IN ('tiktok:oauth', 'tiktok:user/info')";
    assert_eq!(sql(&hub, buckets).await, 2, "the token calls of the connects and the user sync drew from it");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_budget_lives_in_redis_when_redis_url_is_set() {
    let hub = Hub::start(sandbox(), &[("REDIS_URL", "redis://127.0.0.1:6379")]).await;
    sync_and_check(&hub, "redis").await;
    assert_eq!(sql(&hub, "SELECT count(*) AS n FROM shared_buckets").await, 0, "nothing in PostgreSQL");
}
