//! Cheap per-endpoint counters (relaxed atomics), read with [`crate::TikTokClient::stats`].

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The endpoints the client calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Token,
    Revoke,
    UserInfo,
    VideoList,
    VideoQuery,
}

impl Endpoint {
    /// Name for logs: the path below `/v2/`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Endpoint::Token => "oauth/token",
            Endpoint::Revoke => "oauth/revoke",
            Endpoint::UserInfo => "user/info",
            Endpoint::VideoList => "video/list",
            Endpoint::VideoQuery => "video/query",
        }
    }

    /// The budget an endpoint draws from: the three data endpoints each their own (TikTok
    /// counts them separately), token and revoke share one.
    pub(crate) fn budget(self) -> usize {
        match self {
            Endpoint::Token | Endpoint::Revoke => 0,
            Endpoint::UserInfo => 1,
            Endpoint::VideoList => 2,
            Endpoint::VideoQuery => 3,
        }
    }
}

/// Counters of one endpoint since the client was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointStats {
    /// HTTP attempts made (first tries and retries).
    pub calls: u64,
    /// Attempts answered HTTP 429.
    pub http_429: u64,
    /// Attempts that were retries.
    pub retries: u64,
    /// Calls that returned an error to the caller (after retries).
    pub errors: u64,
    /// Sum of the attempts' durations (send to body read), in microseconds.
    pub latency_us_total: u64,
    /// Attempts that had to wait for the client-side budget.
    pub budget_waits: u64,
    /// Sum of those waits, in microseconds.
    pub budget_wait_us_total: u64,
}

/// A snapshot of every endpoint's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientStats {
    pub token: EndpointStats,
    pub revoke: EndpointStats,
    pub user_info: EndpointStats,
    pub video_list: EndpointStats,
    pub video_query: EndpointStats,
}

#[derive(Default)]
pub(crate) struct Counters {
    calls: AtomicU64,
    http_429: AtomicU64,
    retries: AtomicU64,
    errors: AtomicU64,
    latency_us_total: AtomicU64,
    budget_waits: AtomicU64,
    budget_wait_us_total: AtomicU64,
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Counters {
    pub(crate) fn attempt(&self, retry: bool, status: Option<u16>, took: Duration) {
        self.calls.fetch_add(1, Relaxed);
        if retry {
            self.retries.fetch_add(1, Relaxed);
        }
        if status == Some(429) {
            self.http_429.fetch_add(1, Relaxed);
        }
        self.latency_us_total.fetch_add(micros(took), Relaxed);
    }

    pub(crate) fn budget_wait(&self, waited: Duration) {
        self.budget_waits.fetch_add(1, Relaxed);
        self.budget_wait_us_total.fetch_add(micros(waited), Relaxed);
    }

    pub(crate) fn error(&self) {
        self.errors.fetch_add(1, Relaxed);
    }

    pub(crate) fn snapshot(&self) -> EndpointStats {
        EndpointStats {
            calls: self.calls.load(Relaxed),
            http_429: self.http_429.load(Relaxed),
            retries: self.retries.load(Relaxed),
            errors: self.errors.load(Relaxed),
            latency_us_total: self.latency_us_total.load(Relaxed),
            budget_waits: self.budget_waits.load(Relaxed),
            budget_wait_us_total: self.budget_wait_us_total.load(Relaxed),
        }
    }
}

pub(crate) fn collect(c: &[Counters; 5]) -> ClientStats {
    ClientStats {
        token: c[0].snapshot(),
        revoke: c[1].snapshot(),
        user_info: c[2].snapshot(),
        video_list: c[3].snapshot(),
        video_query: c[4].snapshot(),
    }
}
