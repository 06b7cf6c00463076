//! Opening a run: the job's lock, the work it covers, its `sync_runs` row and its live
//! counters. A selection's runs open together or not at all.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use hub_domain::{Account, JobKind, RunCounts, RunStatus, RunTrigger, StoreOverview, business_date};
use hub_ports::HeldLock;

use crate::pages::{PAGE, collect, keyset};
use crate::sync::outcome::Tracker;
use crate::sync::service::Syncs;
use crate::sync::types::{JobSelection, LiveRun, RunScope, SyncError};

/// What an opened run works through.
pub(crate) enum Work {
    Stores(Vec<StoreOverview>),
    Accounts(Vec<Account>),
}

impl Work {
    fn len(&self) -> usize {
        match self {
            Self::Stores(s) => s.len(),
            Self::Accounts(a) => a.len(),
        }
    }
}

/// A run whose lock is held and whose `sync_runs` row exists, not yet driven.
pub(crate) struct OpenRun {
    pub(crate) job: JobKind,
    pub(crate) run_id: i64,
    pub(crate) date: NaiveDate,
    pub(crate) work: Work,
    pub(crate) tracker: Arc<Tracker>,
    pub(crate) _lock: Box<dyn HeldLock>,
}

/// Orders a video run's stores by their videos at the last sync, most first; stores never
/// synced (size unknown) come first, in store-code order. A store's pages come one after
/// another, so a big account started last would leave TikTok's budget idle at the end of the
/// run while it pages alone; started first, its pages overlap everyone else's.
pub(crate) fn biggest_first(stores: &mut [StoreOverview]) {
    stores.sort_by_key(|s| std::cmp::Reverse(s.known_video_count().unwrap_or(i64::MAX)));
}

impl Syncs {
    /// Opens every run of `selection` over `scope`; when one cannot open, closes those
    /// already opened. With `tick` (a scheduler's), a job whose cron run already started at
    /// or after it is not run again ([`SyncError::AlreadyDone`]).
    pub(crate) async fn open_all(
        &self,
        selection: JobSelection,
        scope: &RunScope,
        trigger: RunTrigger,
        tick: Option<DateTime<Utc>>,
    ) -> Result<Vec<OpenRun>, SyncError> {
        let mut opened: Vec<OpenRun> = Vec::new();
        for &job in selection.jobs() {
            match self.open_run(job, trigger, scope, tick).await {
                Ok(o) => opened.push(o),
                Err(e) => {
                    self.close_unstarted(opened, &e).await;
                    return Err(e);
                }
            }
        }
        Ok(opened)
    }

    async fn close_unstarted(&self, opened: Vec<OpenRun>, why: &SyncError) {
        for o in opened {
            self.live.lock().expect("live runs poisoned").remove(&o.run_id);
            let msg = format!("not started: {why}");
            let now = self.ports.clock.now();
            if let Err(e2) = self
                .db
                .run(self.ports.sync_runs.finish(o.run_id, RunStatus::Failed, &RunCounts::default(), Some(msg), now))
                .await
            {
                tracing::warn!(run.id = o.run_id, error = %e2, "could not close an unstarted run");
            }
        }
    }

    /// Every store with its overview, by code.
    pub(crate) async fn all_stores(&self) -> Result<Vec<StoreOverview>, SyncError> {
        let stores = Arc::clone(&self.ports.stores);
        collect(keyset(
            PAGE,
            move |after, limit| {
                let stores = Arc::clone(&stores);
                async move { stores.stores_page(after, limit).await }
            },
            |o: &StoreOverview| o.store.code.clone(),
        ))
        .await
    }

    /// Opens a run of `job`: takes the job's lock, (with `tick`, checks before writing
    /// anything that no instance already ran that tick), lists its work, writes the
    /// `sync_runs` row.
    async fn open_run(
        &self,
        job: JobKind,
        trigger: RunTrigger,
        scope: &RunScope,
        tick: Option<DateTime<Utc>>,
    ) -> Result<OpenRun, SyncError> {
        let p = &self.ports;
        let lock = p.locks.try_acquire(&format!("job:{job}")).await?.ok_or(SyncError::AlreadyRunning(job))?;
        if let Some(tick) = tick
            && p.sync_runs.latest_for_tick(job, tick).await?
        {
            return Err(SyncError::AlreadyDone(job));
        }
        let now = p.clock.now();
        let date = business_date(now, &self.config.report_tz);
        let work = if job == JobKind::RefreshTokens {
            let window = chrono::Duration::from_std(self.config.refresh_window).unwrap_or(chrono::Duration::hours(6));
            let mut due = p.accounts.list_due_for_refresh(now + window).await?;
            // The order the user job walks the stores, so the refresh job runs just ahead of it.
            due.sort_by(|a, b| a.store_code.cmp(&b.store_code));
            if let RunScope::Store(code) = scope {
                due.retain(|a| &a.store_code == code);
            }
            Work::Accounts(due)
        } else {
            let mut stores = self.all_stores().await?;
            match scope {
                RunScope::All => {}
                RunScope::Store(code) => {
                    stores.retain(|s| &s.store.code == code);
                    if stores.is_empty() {
                        return Err(SyncError::StoreNotFound);
                    }
                }
                RunScope::MissingToday => stores.retain(|s| s.lacks_snapshot(job, date)),
            }
            if job == JobKind::SyncVideoDaily {
                biggest_first(&mut stores);
            }
            Work::Stores(stores)
        };
        let total = work.len() as i64;
        let run = p.sync_runs.start(job, date, trigger, total, &self.config.instance_id, now).await?;
        tracing::info!(job = %job, run.id = run.id, total, date = %date, "sync started");
        let tracker = Arc::new(Tracker::new(LiveRun {
            run_id: run.id,
            job,
            scheduled_date: date,
            started_at: now,
            total,
            processed: 0,
            succeeded: 0,
            failed: 0,
            skipped: 0,
            records: 0,
            rate: 0.0,
            eta_seconds: None,
        }));
        self.live.lock().expect("live runs poisoned").insert(run.id, Arc::clone(&tracker.live));
        Ok(OpenRun { job, run_id: run.id, date, work, tracker, _lock: lock })
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use hub_domain::{LatestUserStats, LatestVideoStats, Store, StoreCode};

    use super::*;

    #[test]
    fn video_runs_take_the_biggest_accounts_first_and_unknown_ones_before_them() {
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let store = |code: &str, videos: Option<i64>, user_videos: Option<i64>| StoreOverview {
            store: Store {
                code: StoreCode::parse(code).unwrap(),
                name: code.into(),
                pic_name: "p".into(),
                pic_contact: None,
                group: None,
                created_at: DateTime::UNIX_EPOCH,
            },
            account_id: None,
            connection_status: None,
            account_identifier: None,
            connected_at: None,
            last_sync_time: None,
            token_expires_at: None,
            latest_user_stats: user_videos.map(|n| LatestUserStats {
                snapshot_date: day,
                follower_count: 0,
                likes_count: 0,
                video_count: n,
            }),
            latest_video_stats: videos.map(|n| LatestVideoStats {
                snapshot_date: day,
                total_videos: n,
                total_views: 0,
            }),
        };
        let mut stores = vec![
            store("a_small", Some(3), Some(500)), // the video snapshots count, not the profile
            store("b_new", None, None),
            store("c_big", Some(400), None),
            store("d_profile_only", None, Some(50)),
            store("e_new", None, None),
            store("f_mid", Some(50), None),
        ];
        biggest_first(&mut stores);
        let order: Vec<&str> = stores.iter().map(|s| s.store.code.as_str()).collect();
        assert_eq!(order, ["b_new", "e_new", "c_big", "d_profile_only", "f_mid", "a_small"]);
    }
}
