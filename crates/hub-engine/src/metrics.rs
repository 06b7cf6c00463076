//! Counters of the sync jobs for monitoring: relaxed atomics updated once per finished run,
//! read as a [`SyncMetricsSnapshot`]. No exposition format here: an adapter (the app's
//! `/metrics`) names and renders them.
//!
//! The counters are this process's since it started (Prometheus' counter semantics): with
//! several instances, sum them across instances.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use chrono::{DateTime, Utc};
use hub_domain::{JobKind, RunCounts, RunStatus};

/// Upper bounds (seconds) of the run-duration histogram's buckets: a 300-store user job
/// takes about a minute at TikTok's budget, a video job a few minutes, a slow night more.
pub const RUN_DURATION_BUCKETS: [f64; 13] =
    [1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1200.0, 1800.0, 3600.0, 7200.0];

/// The jobs with counters, in the order of the snapshot.
pub const METERED_JOBS: [JobKind; 3] = [JobKind::RefreshTokens, JobKind::SyncUserDaily, JobKind::SyncVideoDaily];

/// The end states a run can have, in the order of the snapshot.
pub const END_STATES: [RunStatus; 4] =
    [RunStatus::Succeeded, RunStatus::Partial, RunStatus::Failed, RunStatus::Interrupted];

/// Counters of one job.
#[derive(Default)]
struct JobCounters {
    /// Finished runs by [`END_STATES`].
    runs: [AtomicU64; 4],
    /// Stores that succeeded, failed, were skipped, were not done (run interrupted).
    stores: [AtomicU64; 4],
    /// Runs per duration bucket (not cumulative; the last slot is above every bound).
    buckets: [AtomicU64; RUN_DURATION_BUCKETS.len() + 1],
    duration_ms_sum: AtomicU64,
    /// Unix seconds of the last finished run, and of the last one that went through every
    /// store (SUCCEEDED or PARTIAL); 0 = none yet.
    last_finished: AtomicI64,
    last_completed: AtomicI64,
    last_duration_ms: AtomicU64,
}

/// The sync jobs' counters of this process.
#[derive(Default)]
pub struct SyncMetrics {
    jobs: [JobCounters; 3],
}

/// A cumulative histogram, as Prometheus wants it.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// (upper bound, observations at or below it), bounds ascending, without `+Inf`.
    pub buckets: Vec<(f64, u64)>,
    pub sum: f64,
    /// Every observation (the `+Inf` bucket).
    pub count: u64,
}

/// One job's counters.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRunMetrics {
    pub job: JobKind,
    /// Finished runs by end state (every state of [`END_STATES`], zeros included).
    pub runs: Vec<(RunStatus, u64)>,
    pub stores_succeeded: u64,
    pub stores_failed: u64,
    pub stores_skipped: u64,
    /// Stores an interrupted run never started (left to the same-day retries).
    pub stores_not_done: u64,
    /// Durations of the finished runs, in seconds.
    pub duration: Histogram,
    pub last_finished: Option<DateTime<Utc>>,
    /// The last run that went through every store (SUCCEEDED or PARTIAL).
    pub last_completed: Option<DateTime<Utc>>,
    pub last_duration: Option<Duration>,
}

/// What [`Engine::sync_metrics`] reads.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncMetricsSnapshot {
    pub jobs: Vec<JobRunMetrics>,
}

impl SyncMetrics {
    /// Records a finished run of `job`.
    pub fn run_finished(&self, job: JobKind, status: RunStatus, counts: &RunCounts, took: Duration, at: DateTime<Utc>) {
        let Some(j) = METERED_JOBS.iter().position(|k| *k == job) else { return };
        let c = &self.jobs[j];
        if let Some(s) = END_STATES.iter().position(|s| *s == status) {
            c.runs[s].fetch_add(1, Relaxed);
        }
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        c.stores[0].fetch_add(n(counts.succeeded), Relaxed);
        c.stores[1].fetch_add(n(counts.failed), Relaxed);
        c.stores[2].fetch_add(n(counts.skipped), Relaxed);
        c.stores[3].fetch_add(n(counts.total - counts.processed), Relaxed);
        let secs = took.as_secs_f64();
        let bucket = RUN_DURATION_BUCKETS.iter().position(|b| secs <= *b).unwrap_or(RUN_DURATION_BUCKETS.len());
        c.buckets[bucket].fetch_add(1, Relaxed);
        let ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
        c.duration_ms_sum.fetch_add(ms, Relaxed);
        c.last_duration_ms.store(ms, Relaxed);
        c.last_finished.store(at.timestamp(), Relaxed);
        if matches!(status, RunStatus::Succeeded | RunStatus::Partial) {
            c.last_completed.store(at.timestamp(), Relaxed);
        }
    }

    /// The counters now.
    pub fn snapshot(&self) -> SyncMetricsSnapshot {
        let time = |secs: i64| (secs > 0).then(|| DateTime::from_timestamp(secs, 0)).flatten();
        let jobs = METERED_JOBS
            .iter()
            .zip(&self.jobs)
            .map(|(job, c)| {
                let mut cumulative = 0;
                let buckets = RUN_DURATION_BUCKETS
                    .iter()
                    .zip(&c.buckets)
                    .map(|(bound, n)| {
                        cumulative += n.load(Relaxed);
                        (*bound, cumulative)
                    })
                    .collect();
                let count = cumulative + c.buckets[RUN_DURATION_BUCKETS.len()].load(Relaxed);
                let finished = c.last_finished.load(Relaxed);
                JobRunMetrics {
                    job: *job,
                    runs: END_STATES.iter().zip(&c.runs).map(|(s, n)| (*s, n.load(Relaxed))).collect(),
                    stores_succeeded: c.stores[0].load(Relaxed),
                    stores_failed: c.stores[1].load(Relaxed),
                    stores_skipped: c.stores[2].load(Relaxed),
                    stores_not_done: c.stores[3].load(Relaxed),
                    duration: Histogram { buckets, sum: c.duration_ms_sum.load(Relaxed) as f64 / 1000.0, count },
                    last_finished: time(finished),
                    last_completed: time(c.last_completed.load(Relaxed)),
                    last_duration: (finished > 0).then(|| Duration::from_millis(c.last_duration_ms.load(Relaxed))),
                }
            })
            .collect();
        SyncMetricsSnapshot { jobs }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_fill_cumulative_buckets_and_store_counts() {
        let m = SyncMetrics::default();
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let counts = RunCounts { total: 10, processed: 8, succeeded: 5, failed: 2, skipped: 1, records: 5 };
        m.run_finished(JobKind::SyncVideoDaily, RunStatus::Interrupted, &counts, Duration::from_secs(20), at);
        m.run_finished(JobKind::SyncVideoDaily, RunStatus::Succeeded, &counts, Duration::from_millis(500), at);
        m.run_finished(JobKind::SyncVideoDaily, RunStatus::Partial, &counts, Duration::from_secs(9000), at);
        m.run_finished(JobKind::ReencryptTokens, RunStatus::Succeeded, &counts, Duration::from_secs(1), at);
        let s = m.snapshot();
        let v = s.jobs.iter().find(|j| j.job == JobKind::SyncVideoDaily).unwrap();
        assert_eq!(v.duration.count, 3);
        assert_eq!(v.duration.buckets[0], (1.0, 1));
        assert_eq!(v.duration.buckets[3], (30.0, 2));
        assert_eq!(v.duration.buckets.last().unwrap().1, 2, "9000 s is only in +Inf");
        assert!((v.duration.sum - 9020.5).abs() < 1e-9);
        assert_eq!((v.stores_succeeded, v.stores_failed, v.stores_skipped, v.stores_not_done), (15, 6, 3, 6));
        assert!(v.runs.contains(&(RunStatus::Interrupted, 1)) && v.runs.contains(&(RunStatus::Failed, 0)));
        assert_eq!(v.last_completed, Some(at));
        let u = s.jobs.iter().find(|j| j.job == JobKind::SyncUserDaily).unwrap();
        assert_eq!((u.duration.count, u.last_finished, u.last_duration), (0, None, None));
    }
}
