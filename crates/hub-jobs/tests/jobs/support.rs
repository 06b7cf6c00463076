//! hub-engine's test world (`hub_engine::testing`) with a real-time clock (apalis-cron ticks
//! on the system clock) and a fake TikTok that can be slow and fail on purpose.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Timelike, Utc};
use hub_domain::*;
use hub_engine::{Engine, EngineConfig};
use hub_ports::*;

pub use hub_engine::testing::{STATE_SECRET, Shared, World};

/// A world with these stores, each connected now with a token good for 20 hours.
pub fn world(stores: &[&str]) -> Shared {
    let w = Arc::new(Mutex::new(World::default()));
    for s in stores {
        let mut w = w.lock().unwrap();
        w.add_store(s);
        w.connect_at(s, Utc::now(), Duration::hours(20));
    }
    w
}

/// TikTok as the tests want it: every call counted per access token, optionally slow, and
/// failing a given number of times for given stores.
#[derive(Default)]
pub struct FakeTikTok {
    pub delay: StdDuration,
    /// Store code → how many more `user/info` calls fail with a transient error.
    pub failures: Mutex<HashMap<String, usize>>,
    pub user_info_calls: Mutex<HashMap<String, usize>>,
    pub started: AtomicUsize,
}

impl FakeTikTok {
    pub fn slow(delay: StdDuration) -> Self {
        Self { delay, ..Default::default() }
    }

    pub fn fail_times(self, store: &str, times: usize) -> Self {
        self.failures.lock().unwrap().insert(store.to_owned(), times);
        self
    }

    pub fn calls(&self, store: &str) -> usize {
        self.user_info_calls.lock().unwrap().get(store).copied().unwrap_or(0)
    }

    pub fn total_calls(&self) -> usize {
        self.user_info_calls.lock().unwrap().values().sum()
    }
}

fn store_of(token: &Secret<String>) -> String {
    token.expose().trim_start_matches("act.").to_owned()
}

#[async_trait]
impl TikTokApi for FakeTikTok {
    fn authorize_url(&self, _state: &str, _code_challenge: &str) -> String {
        panic!("authorize_url is not expected")
    }
    async fn exchange_code(&self, _code: &str, _verifier: &str) -> Result<TokenGrant, TikTokError> {
        panic!("exchange_code is not expected")
    }
    async fn refresh(&self, _refresh_token: &Secret<String>) -> Result<TokenGrant, TikTokError> {
        panic!("refresh is not expected: the tokens are good for 20 hours")
    }
    async fn revoke(&self, _access_token: &Secret<String>) -> Result<(), TikTokError> {
        panic!("revoke is not expected")
    }
    async fn user_info(&self, access_token: &Secret<String>) -> Result<TikTokUser, TikTokError> {
        let store = store_of(access_token);
        self.started.fetch_add(1, Ordering::SeqCst);
        *self.user_info_calls.lock().unwrap().entry(store.clone()).or_default() += 1;
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        {
            let mut failures = self.failures.lock().unwrap();
            if let Some(n) = failures.get_mut(&store)
                && *n > 0
            {
                *n -= 1;
                return Err(TikTokError::Transient { message: "503 from the fake".into() });
            }
        }
        Ok(TikTokUser {
            open_id: format!("open-{store}"),
            display_name: Some("Shop".into()),
            avatar_url: None,
            follower_count: 100,
            following_count: 1,
            likes_count: 300,
            video_count: 5,
        })
    }
    async fn video_list(
        &self,
        _access_token: &Secret<String>,
        _cursor: Option<i64>,
        _max_count: u8,
    ) -> Result<VideoPage, TikTokError> {
        Ok(VideoPage { videos: vec![], cursor: None, has_more: false })
    }
    async fn video_query(
        &self,
        _access_token: &Secret<String>,
        _ids: &[String],
    ) -> Result<Vec<TikTokVideo>, TikTokError> {
        Ok(vec![])
    }
}

/// Builds an engine over `world` and `tiktok`, with the real clock.
pub fn engine(world: &Shared, tiktok: Arc<FakeTikTok>, config: EngineConfig) -> Arc<Engine> {
    let ports = hub_engine::testing::ports(world, tiktok, Arc::new(SystemClock));
    Arc::new(Engine::new(ports, config, STATE_SECRET))
}

/// A six-field schedule that fires once a day, at `t`'s second (UTC).
pub fn at(t: DateTime<Utc>) -> String {
    format!("{} {} {} * * *", t.second(), t.minute(), t.hour())
}

/// A six-field schedule that does not fire during a test.
pub const NEVER: &str = "0 0 0 1 1 *";

/// Waits up to `limit` for `cond`; whether it held.
pub async fn wait_for(limit: StdDuration, mut cond: impl FnMut() -> bool) -> bool {
    let until = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < until {
        if cond() {
            return true;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    cond()
}
