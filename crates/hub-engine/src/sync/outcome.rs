//! How one store ends in one job, the run's shared counters, and the split of a video run's
//! calls between TikTok's two video endpoints.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use hub_domain::{RunCounts, SyncLogStatus};
use hub_ports::RepoError;

use crate::sync::types::LiveRun;
use crate::tokens::TokenError;

/// How one store ended in one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Success { message: String, records: i64 },
    Failed { reason: &'static str, message: String, raw: Option<String> },
    Skipped { message: String },
}

impl Outcome {
    pub(crate) fn status(&self) -> SyncLogStatus {
        match self {
            Self::Success { .. } => SyncLogStatus::Success,
            Self::Failed { .. } => SyncLogStatus::Failed,
            Self::Skipped { .. } => SyncLogStatus::Skipped,
        }
    }

    pub(crate) fn message(&self) -> &str {
        match self {
            Self::Success { message, .. } | Self::Failed { message, .. } | Self::Skipped { message } => message,
        }
    }

    /// The log line's `raw_error`: the failure's reason and its detail.
    pub(crate) fn raw_error(&self) -> Option<String> {
        match self {
            Self::Failed { reason, raw, .. } => Some(match raw {
                Some(r) => format!("{reason}: {r}"),
                None => (*reason).to_owned(),
            }),
            _ => None,
        }
    }

    pub(crate) fn from_token_error(e: TokenError) -> Self {
        match e {
            TokenError::NeedsReconnect(r) => {
                Self::Skipped { message: format!("needs reconnect ({r}): {}", r.explain()) }
            }
            TokenError::NotConnected(why) => Self::Skipped { message: format!("not connected: {why}") },
            TokenError::TikTok(t) => Self::Failed {
                reason: t.reason(),
                message: format!("TikTok call failed: {t}"),
                raw: Some(format!("{t:?}")),
            },
            TokenError::Storage(s) => storage(s),
            TokenError::Cipher(c) => Self::Failed {
                reason: "cipher",
                message: "stored token does not decrypt with the configured keys".into(),
                raw: Some(c.to_string()),
            },
            TokenError::LeaseBusy => Self::Failed {
                reason: "lease_busy",
                message: "another instance is refreshing this token".into(),
                raw: None,
            },
        }
    }

    /// A failure caused by TikTok being unavailable (feeds the breaker).
    pub(crate) fn is_outage(&self) -> bool {
        matches!(self, Self::Failed { reason: "transient" | "rate_limited", .. })
    }
}

/// A database failure as a store's outcome.
pub(crate) fn storage(e: RepoError) -> Outcome {
    Outcome::Failed { reason: "storage", message: "database error".into(), raw: Some(e.to_string()) }
}

/// The run's counters, shared by its store tasks.
pub(crate) struct Tracker {
    pub(crate) live: Arc<Mutex<LiveRun>>,
    pub(crate) started: Instant,
    pub(crate) last_persist: Mutex<Instant>,
    pub(crate) last_decile: AtomicUsize,
}

impl Tracker {
    pub(crate) fn new(live: LiveRun) -> Self {
        Self {
            live: Arc::new(Mutex::new(live)),
            started: Instant::now(),
            last_persist: Mutex::new(Instant::now()),
            last_decile: AtomicUsize::new(0),
        }
    }

    /// Counts one store's outcome; returns the run's live state after it.
    pub(crate) fn record(&self, outcome: &Outcome) -> LiveRun {
        let mut live = self.live.lock().expect("tracker poisoned");
        live.processed += 1;
        match outcome {
            Outcome::Success { records, .. } => {
                live.succeeded += 1;
                live.records += records;
            }
            Outcome::Failed { .. } => live.failed += 1,
            Outcome::Skipped { .. } => live.skipped += 1,
        }
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        live.rate = live.processed as f64 / secs;
        live.eta_seconds = (live.rate > 0.0).then(|| (live.total - live.processed).max(0) as f64 / live.rate);
        live.clone()
    }

    /// The run's live state now.
    pub(crate) fn snapshot(&self) -> LiveRun {
        self.live.lock().expect("tracker poisoned").clone()
    }

    pub(crate) fn counts(live: &LiveRun) -> RunCounts {
        RunCounts {
            total: live.total,
            processed: live.processed,
            succeeded: live.succeeded,
            failed: live.failed,
            skipped: live.skipped,
            records: live.records,
        }
    }
}

/// Calls a run has started on `user/info`, `video/list` and `video/query`. The two video
/// endpoints have equal, separate budgets, so a video run is done soonest when it spends
/// them evenly.
#[derive(Debug, Default)]
pub(crate) struct CallSplit {
    pub(crate) user: AtomicUsize,
    pub(crate) list: AtomicUsize,
    pub(crate) query: AtomicUsize,
}

impl CallSplit {
    /// The calls started so far on each endpoint.
    pub(crate) fn counts(&self) -> [usize; 3] {
        [&self.user, &self.list, &self.query].map(|c| c.load(Ordering::Relaxed))
    }

    /// Whether a store that has reached its known videos, with `unseen_known` of them not
    /// seen yet, should fetch its next `video/list` page rather than leave them to
    /// `video/query`: only while `video/list` is the less used budget. Either way every
    /// known video is fetched (a page and a query call each bring up to 20).
    pub(crate) fn keep_listing(&self, unseen_known: usize) -> bool {
        unseen_known > 0 && self.list.load(Ordering::Relaxed) < self.query.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_keeps_paging_only_while_its_budget_is_the_less_used() {
        let split = CallSplit::default();
        // A run's first stores: nothing queried yet, so the known videos go to video/query.
        split.list.store(1, Ordering::Relaxed);
        assert!(!split.keep_listing(30));
        // video/query is busier: page on through video/list instead.
        split.query.store(2, Ordering::Relaxed);
        assert!(split.keep_listing(30));
        // Nothing left to fetch: stop whatever the budgets.
        assert!(!split.keep_listing(0));
        // Even: video/query takes the rest.
        split.list.store(2, Ordering::Relaxed);
        assert!(!split.keep_listing(30));
    }
}
