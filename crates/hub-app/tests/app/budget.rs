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

/// `status` of GET /admin/stores with `key` on `instance`, for the client `from` (forwarded
/// by the trusted proxy 127.0.0.1).
async fn status_with(instance: &Instance, key: &str, from: &str) -> u16 {
    let req = instance.http.get(instance.url("/admin/stores")).header("X-API-KEY", key);
    req.header("X-Forwarded-For", from).send().await.unwrap().status().as_u16()
}

const WRONG: &str = "wrong-key-0123456789abcdef0123456789abcdef";

/// A client address no earlier run used (Redis keeps its blocks across test runs).
fn fresh_address() -> String {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("10.{}.{}.{}", (n >> 16) % 250 + 1, (n >> 8) % 250 + 1, n % 250 + 1)
}

/// Two instances behind one balancer: 5 wrong keys spread over both block the address on
/// both (each alone saw fewer than 5), even with a good key; another address is not blocked.
async fn wrong_keys_block_on_both(extra: &[(&str, &str)]) {
    let mut env = vec![("AUTH_FAILURE_MAX", "5"), ("TRUSTED_PROXIES", "127.0.0.1")];
    env.extend_from_slice(extra);
    let hub = Hub::start(sandbox(), &env).await;
    let other = hub.another(&env).await;
    let (from, bystander) = (fresh_address(), fresh_address());
    for (i, instance) in [&*hub, &other, &*hub, &other, &*hub].into_iter().enumerate() {
        assert_eq!(status_with(instance, WRONG, &from).await, 401, "wrong key {}", i + 1);
    }
    for instance in [&*hub, &other] {
        assert_eq!(status_with(instance, API_KEY, &from).await, 429, "blocked everywhere");
        assert_eq!(status_with(instance, API_KEY, &bystander).await, 200);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_keys_on_two_instances_block_the_address_on_both() {
    wrong_keys_block_on_both(&[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_keys_on_two_instances_block_the_address_on_both_through_redis() {
    wrong_keys_block_on_both(&[("REDIS_URL", "redis://127.0.0.1:6379")]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_rate_per_address_holds_for_both_instances_together() {
    let env = [("RATE_LIMIT_ADMIN_PER_MIN", "10"), ("TRUSTED_PROXIES", "127.0.0.1")];
    let hub = Hub::start(sandbox(), &env).await;
    let other = hub.another(&env).await;
    let from = fresh_address();
    let mut ok = 0;
    for i in 0..16 {
        let instance = if i % 2 == 0 { &*hub } else { &other };
        match status_with(instance, API_KEY, &from).await {
            200 => ok += 1,
            429 => {}
            s => panic!("status {s}"),
        }
    }
    // Each instance alone allows 10 (it sees 8); both together allow 10, plus what the bucket
    // refills (a sixth of a request a second) while the requests are sent.
    assert!((10..=12).contains(&ok), "{ok} of 16 answered");
}
