//! [`SharedLimits`]: budgets every instance of the hub draws from (TikTok's per-endpoint
//! budget), kept where all instances see them: PostgreSQL by default, Redis when configured.

use std::time::Duration;

use async_trait::async_trait;

/// A token bucket's rate: `per_window` permits per `window`, at most `burst` saved up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_window: u32,
    pub window: Duration,
    pub burst: u32,
}

impl Rate {
    /// Permits added per second.
    pub fn per_second(&self) -> f64 {
        f64::from(self.per_window) / self.window.as_secs_f64().max(1e-3)
    }
}

/// What a [`SharedLimits::take`] granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    /// Permits granted, `0..=want`.
    pub granted: u32,
    /// With none granted: how long until one is.
    pub wait: Duration,
}

/// The shared store of budgets did not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("shared limits unavailable: {0}")]
pub struct LimitsUnavailable(pub String);

/// Token buckets and failure blocks shared by every instance. A bucket is created full on
/// first use. Idle entries are dropped by the backend (memory stays bounded).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait SharedLimits: Send + Sync {
    /// Takes up to `want` permits from bucket `name`, refilled at `rate`: as many as it holds
    /// now (never more than `want`), and when none, how long until one is.
    async fn take(&self, name: &str, want: u32, rate: Rate) -> Result<Taken, LimitsUnavailable>;
    /// Counts one failed attempt by `key` (failures are counted in a `window` that starts
    /// with the first); at the `max`th, `key` is blocked for `window`. How long `key` is
    /// blocked now, if it is.
    async fn fail(&self, key: &str, max: u32, window: Duration) -> Result<Option<Duration>, LimitsUnavailable>;
    /// How long `key` is blocked now, if it is.
    async fn blocked(&self, key: &str) -> Result<Option<Duration>, LimitsUnavailable>;
    /// Forgets `key`'s failures (it succeeded); a block in force stays.
    async fn forgive(&self, key: &str) -> Result<(), LimitsUnavailable>;
    /// The backend's name for logs and metrics (`postgres`, `redis`).
    fn backend(&self) -> &'static str;
}
