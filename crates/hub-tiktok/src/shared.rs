//! One TikTok budget for every instance: each endpoint's budget is also a token bucket in a
//! [`SharedLimits`] backend (PostgreSQL or Redis) that all instances draw from.
//!
//! A call does not cost a round trip: an instance takes a small slice of permits at a time
//! (a quarter second of the budget, at most its burst) and spends it within a sixtieth of
//! the window (1 s of TikTok's minute, [`SLICE_TTL`] at most); what is left then is dropped,
//! never saved up, so permits granted in any window are spent within it and a sixtieth more:
//! at most `burst + rate · 61/60` calls in any 60 s for all instances together (589 at the
//! defaults 570 + 10, under TikTok's 600).
//!
//! When the backend does not answer, the instance does not fail its calls nor spend the
//! whole budget alone: for [`DOWN_FOR`] it paces itself at its local share, the budget
//! divided by the expected number of instances (`HUB_INSTANCES_HINT`), then asks again.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use hub_ports::{Rate, SharedLimits};

/// The longest a slice of permits may be spent (a sixtieth of the window, up to this).
pub const SLICE_TTL: Duration = Duration::from_secs(1);
/// How long an instance keeps to its local share after the backend failed to answer.
pub const DOWN_FOR: Duration = Duration::from_secs(5);

/// Permits taken but not yet spent, and until when they may be.
#[derive(Default)]
struct Slice {
    left: u32,
    until: Option<Instant>,
}

/// One instance's access to the shared budgets.
pub(crate) struct SharedBudget {
    limits: Arc<dyn SharedLimits>,
    names: [&'static str; 4],
    rates: [Rate; 4],
    slices: [tokio::sync::Mutex<Slice>; 4],
    /// The local share used while the backend is down.
    fallback: [DefaultDirectRateLimiter; 4],
    down_until: Mutex<Option<Instant>>,
}

/// A limiter of `rate` divided among `instances`.
fn local_share(rate: Rate, instances: u32) -> DefaultDirectRateLimiter {
    let n = instances.max(1);
    let per = (rate.per_window / n).max(1);
    let burst = NonZeroU32::new((rate.burst / n).max(1)).unwrap_or(NonZeroU32::MIN);
    let period = rate.window.checked_div(per).unwrap_or(Duration::from_secs(1)).max(Duration::from_nanos(1));
    let quota = Quota::with_period(period).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN)).allow_burst(burst);
    RateLimiter::direct(quota)
}

impl SharedBudget {
    /// Budgets of `rates` (token+revoke, user/info, video/list, video/query) in `limits`; the
    /// local share while it is down is `1 / instances` of each.
    pub(crate) fn new(limits: Arc<dyn SharedLimits>, rates: [Rate; 4], instances: u32) -> Self {
        Self {
            limits,
            names: ["tiktok:oauth", "tiktok:user/info", "tiktok:video/list", "tiktok:video/query"],
            rates,
            slices: Default::default(),
            fallback: rates.map(|r| local_share(r, instances)),
            down_until: Mutex::new(None),
        }
    }

    fn down(&self) -> bool {
        self.down_until.lock().expect("budget state poisoned").is_some_and(|t| Instant::now() < t)
    }

    fn mark(&self, down: bool) {
        let mut until = self.down_until.lock().expect("budget state poisoned");
        let was = until.is_some();
        *until = down.then(|| Instant::now() + DOWN_FOR);
        match (was, down) {
            (false, true) => tracing::warn!(
                backend = self.limits.backend(),
                "shared TikTok budget unavailable; pacing at this instance's local share"
            ),
            (true, false) => tracing::info!(backend = self.limits.backend(), "shared TikTok budget back"),
            _ => {}
        }
    }

    /// Permits asked for at once: a quarter second of the budget, at most its burst.
    fn slice_size(rate: Rate) -> u32 {
        let quarter = (rate.per_second() / 4.0).ceil() as u32;
        quarter.clamp(1, rate.burst.max(1))
    }

    /// Waits for one permit of budget `i`.
    pub(crate) async fn acquire(&self, i: usize) {
        loop {
            if self.down() {
                self.fallback[i].until_ready().await;
                return;
            }
            let mut slice = self.slices[i].lock().await;
            if slice.left > 0 && slice.until.is_some_and(|t| Instant::now() < t) {
                slice.left -= 1;
                return;
            }
            let rate = self.rates[i];
            match self.limits.take(self.names[i], Self::slice_size(rate), rate).await {
                Ok(taken) if taken.granted > 0 => {
                    self.mark(false);
                    let ttl = (rate.window / 60).min(SLICE_TTL);
                    *slice = Slice { left: taken.granted - 1, until: Some(Instant::now() + ttl) };
                    return;
                }
                Ok(taken) => {
                    self.mark(false);
                    drop(slice);
                    tokio::time::sleep(taken.wait.clamp(Duration::from_millis(5), Duration::from_secs(1))).await;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "shared budget take failed");
                    self.mark(true);
                }
            }
        }
    }

    /// The backend's name.
    pub(crate) fn backend(&self) -> &'static str {
        self.limits.backend()
    }
}
