//! One budget for several clients (instances): every call also draws from a shared token
//! bucket; while the shared backend is down, each client keeps to its local share.
//!
//! The bucket here is an in-process [`SharedLimits`]: what is tested is how the client draws
//! from one (slices, expiry, fallback). The PostgreSQL and Redis buckets have their own tests.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::*;
use async_trait::async_trait;
use hub_domain::Secret;
use hub_ports::{LimitsUnavailable, Rate, SharedLimits, Taken, TikTokApi, TikTokError};
use hub_tiktok::TikTokClient;
use tiktok_sandbox::{SandboxConfig, SandboxHandle};

/// A token bucket all clients of a test share.
#[derive(Default)]
struct Bucket {
    state: Mutex<Option<(f64, Instant)>>,
    takes: Mutex<usize>,
}

#[async_trait]
impl SharedLimits for Bucket {
    async fn take(&self, _name: &str, want: u32, rate: Rate) -> Result<Taken, LimitsUnavailable> {
        *self.takes.lock().unwrap() += 1;
        let mut state = self.state.lock().unwrap();
        let now = Instant::now();
        let (tokens, at) = state.unwrap_or((f64::from(rate.burst), now));
        let have = (tokens + now.duration_since(at).as_secs_f64() * rate.per_second()).min(f64::from(rate.burst));
        let granted = (have.floor() as u32).min(want);
        *state = Some((have - f64::from(granted), now));
        let wait = if granted > 0 { 0.0 } else { (1.0 - have) / rate.per_second() };
        Ok(Taken { granted, wait: Duration::from_secs_f64(wait.max(0.0)) })
    }
    async fn fail(&self, _: &str, _: u32, _: Duration) -> Result<Option<Duration>, LimitsUnavailable> {
        unreachable!("the TikTok client only takes permits")
    }
    async fn blocked(&self, _: &str) -> Result<Option<Duration>, LimitsUnavailable> {
        unreachable!("the TikTok client only takes permits")
    }
    async fn forgive(&self, _: &str) -> Result<(), LimitsUnavailable> {
        unreachable!("the TikTok client only takes permits")
    }
    fn backend(&self) -> &'static str {
        "test"
    }
}

/// A backend that never answers.
struct Down;

#[async_trait]
impl SharedLimits for Down {
    async fn take(&self, _: &str, _: u32, _: Rate) -> Result<Taken, LimitsUnavailable> {
        Err(LimitsUnavailable("connection refused".into()))
    }
    async fn fail(&self, _: &str, _: u32, _: Duration) -> Result<Option<Duration>, LimitsUnavailable> {
        unreachable!("the TikTok client only takes permits")
    }
    async fn blocked(&self, _: &str) -> Result<Option<Duration>, LimitsUnavailable> {
        unreachable!("the TikTok client only takes permits")
    }
    async fn forgive(&self, _: &str) -> Result<(), LimitsUnavailable> {
        unreachable!("the TikTok client only takes permits")
    }
    fn backend(&self) -> &'static str {
        "down"
    }
}

/// Sandbox: 30 requests per 2 s sliding window. Each client: 20 per 2 s with a burst of 5 (so
/// one alone never exceeds 25, but two together could send 50).
async fn setup() -> (SandboxHandle, Secret<String>, hub_tiktok::TikTokConfig) {
    let (sb, cfg) = sandbox(SandboxConfig { rate_limit_per_min: 30, rate_window_ms: 2000, ..sandbox_cfg() }).await;
    let tok = Secret::new(sb.issue_tokens(0, "user.info.basic,user.info.stats,video.list").access_token);
    let mut c = client_cfg(&sb, &cfg);
    c.rate_limit_per_min = 20;
    c.burst = 5;
    c.rate_window = Duration::from_secs(2);
    c.max_retries = 0;
    (sb, tok, c)
}

/// 25 `user/info` calls at once from each client.
async fn both_burst(clients: &[TikTokClient], tok: &Secret<String>) -> Vec<Result<(), TikTokError>> {
    let mut set = tokio::task::JoinSet::new();
    for api in clients {
        for _ in 0..25 {
            let (api, tok) = (api.clone(), tok.clone());
            set.spawn(async move { api.user_info(&tok).await.map(|_| ()) });
        }
    }
    set.join_all().await
}

#[tokio::test]
async fn two_clients_sharing_one_budget_stay_under_the_limit_together() {
    let (sb, tok, c) = setup().await;
    let bucket: Arc<Bucket> = Arc::default();
    let clients: Vec<TikTokClient> =
        (0..2).map(|_| TikTokClient::with_shared_budget(c.clone(), bucket.clone(), 2).expect("client")).collect();
    assert_eq!(clients[0].shared_backend(), Some("test"));
    let results = both_burst(&clients, &tok).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let s = sb.stats().user_info;
    assert_eq!((s.calls, s.http_429), (50, 0), "{s:?}");
    // burst + rate · 61/60 = 5 + 20.3
    assert!(s.peak_window <= 26, "{s:?}");
    assert!(*bucket.takes.lock().unwrap() > 0, "the shared bucket was drawn from");

    // Control: the same two clients without the shared budget overspend together.
    sb.reset_rate_limits();
    sb.reset_stats();
    let alone: Vec<TikTokClient> = (0..2).map(|_| TikTokClient::new(c.clone()).expect("client")).collect();
    let results = both_burst(&alone, &tok).await;
    let limited = results.iter().filter(|r| matches!(r, Err(TikTokError::RateLimited { .. }))).count();
    assert!(limited > 0, "two separate budgets exceed the limit together");
}

#[tokio::test]
async fn with_the_shared_backend_down_each_client_keeps_to_its_share() {
    let (sb, tok, c) = setup().await;
    let clients: Vec<TikTokClient> =
        (0..2).map(|_| TikTokClient::with_shared_budget(c.clone(), Arc::new(Down), 2).expect("client")).collect();
    let results = both_burst(&clients, &tok).await;
    assert!(results.iter().all(Result::is_ok), "calls go on without the backend: {results:?}");
    let s = sb.stats().user_info;
    assert_eq!((s.calls, s.http_429), (50, 0), "{s:?}");
    // Each at half the budget: 2 × (burst 2 + 10 per window).
    assert!(s.peak_window <= 24, "{s:?}");
}
