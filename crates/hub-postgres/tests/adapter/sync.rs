//! `SyncLogRepo` and `SyncRunRepo`.

use chrono::Duration;
use hub_domain::{JobKind, NewSyncLog, RunCounts, RunStatus, RunTrigger, SyncLogStatus};
use hub_ports::{RepoError, SyncLogRepo, SyncRunRepo};
use hub_postgres::testing::TestDb;

use crate::support::*;

fn line(store: Option<&str>, msg: &str) -> NewSyncLog {
    NewSyncLog {
        run_id: None,
        store_code: store.map(code),
        job: JobKind::SyncUserDaily,
        status: SyncLogStatus::Success,
        message: msg.into(),
        raw_error: None,
        duration_ms: 2500,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_logs_newest_first_with_store_filter_and_limit() {
    let t = TestDb::new().await;
    let db = t.db();
    let run = db.start(JobKind::SyncUserDaily, day(24), RunTrigger::Cron, 2, "host-1", t0()).await.unwrap();
    let mut ids = Vec::new();
    for (store, msg) in [(Some("s1"), "one"), (Some("s2"), "two"), (None, "summary"), (Some("s1"), "three")] {
        let mut l = line(store, msg);
        l.run_id = Some(run.id);
        ids.push(SyncLogRepo::insert(db, &l).await.unwrap());
    }
    let all = SyncLogRepo::logs_page(db, &hub_domain::StoreScope::All, None, None, 10).await.unwrap();
    let msgs: Vec<&str> = all.iter().map(|l| l.log.message.as_str()).collect();
    assert_eq!(msgs, ["three", "summary", "two", "one"]);
    assert_eq!(all[0].id, ids[3]);
    assert_eq!(all[0].log.run_id, Some(run.id));
    assert_eq!(all[1].log.store_code, None);

    let s1 = SyncLogRepo::logs_page(db, &hub_domain::StoreScope::All, Some(code("s1")), None, 10).await.unwrap();
    let msgs: Vec<&str> = s1.iter().map(|l| l.log.message.as_str()).collect();
    assert_eq!(msgs, ["three", "one"]);
    assert_eq!(SyncLogRepo::logs_page(db, &hub_domain::StoreScope::All, None, None, 2).await.unwrap().len(), 2);

    let mut failed = line(Some("s3"), "boom");
    failed.status = SyncLogStatus::Failed;
    failed.raw_error = Some("{\"error\":\"x\"}".into());
    SyncLogRepo::insert(db, &failed).await.unwrap();
    let got = SyncLogRepo::logs_page(db, &hub_domain::StoreScope::All, Some(code("s3")), None, 1).await.unwrap();
    assert_eq!(got[0].log, failed);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_starts_progresses_and_finishes() {
    let t = TestDb::new().await;
    let db = t.db();
    let run = db.start(JobKind::SyncVideoDaily, day(24), RunTrigger::Manual, 300, "host-1", t0()).await.unwrap();
    assert_eq!(run.status, RunStatus::Running);
    assert_eq!(run.counts, RunCounts { total: 300, ..RunCounts::default() });
    assert_eq!((run.started_at, run.heartbeat_at, run.owner.as_deref()), (t0(), Some(t0()), Some("host-1")));
    assert_eq!(db.running().await.unwrap(), vec![run.clone()]);

    let counts = RunCounts { total: 300, processed: 10, succeeded: 9, failed: 1, skipped: 0, records: 90 };
    let later = t0() + Duration::seconds(30);
    db.progress(run.id, &counts, later).await.unwrap();
    let got = SyncRunRepo::get(db, run.id).await.unwrap().unwrap();
    assert_eq!((got.counts, got.heartbeat_at), (counts, Some(later)));

    let done = RunCounts { processed: 300, succeeded: 298, failed: 2, ..counts };
    let end = t0() + Duration::minutes(11);
    db.finish(run.id, RunStatus::Partial, &done, Some("2 failed".into()), end).await.unwrap();
    let got = SyncRunRepo::get(db, run.id).await.unwrap().unwrap();
    assert_eq!(got.status, RunStatus::Partial);
    assert_eq!(got.counts, done);
    assert_eq!(got.message.as_deref(), Some("2 failed"));
    assert_eq!(got.finished_at, Some(end));
    assert!(db.running().await.unwrap().is_empty());

    assert_eq!(db.progress(999, &counts, later).await, Err(RepoError::NotFound));
    assert_eq!(db.finish(999, RunStatus::Failed, &counts, None, later).await, Err(RepoError::NotFound));
    assert_eq!(SyncRunRepo::get(db, 999).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn latest_is_per_job() {
    let t = TestDb::new().await;
    let db = t.db();
    assert_eq!(db.latest(JobKind::SyncUserDaily).await.unwrap(), None);
    let mut last = None;
    for h in 0..3 {
        last = Some(
            db.start(JobKind::SyncUserDaily, day(24), RunTrigger::Cron, 1, "h", t0() + Duration::hours(h))
                .await
                .unwrap(),
        );
    }
    let other =
        db.start(JobKind::RefreshTokens, day(24), RunTrigger::Cli, 1, "h", t0() + Duration::hours(9)).await.unwrap();
    assert_eq!(db.latest(JobKind::SyncUserDaily).await.unwrap(), last);
    assert_eq!(db.latest(JobKind::RefreshTokens).await.unwrap(), Some(other));
}

#[tokio::test(flavor = "multi_thread")]
async fn interrupt_stale_marks_only_silent_running_runs() {
    let t = TestDb::new().await;
    let db = t.db();
    let m = Duration::minutes;
    let start = |at| db.start(JobKind::SyncUserDaily, day(24), RunTrigger::Cron, 1, "h", at);
    // Started long ago, but its heartbeat is recent.
    let fresh = start(t0() - m(30)).await.unwrap();
    let stale = start(t0() - m(30)).await.unwrap();
    let never_beat = start(t0() - m(30)).await.unwrap();
    let young_never_beat = start(t0()).await.unwrap();
    let finished = start(t0() - m(30)).await.unwrap();
    db.finish(finished.id, RunStatus::Succeeded, &RunCounts::default(), None, t0() - m(29)).await.unwrap();
    exec(
        db,
        &format!("UPDATE sync_runs SET heartbeat_at = NULL WHERE id IN ({}, {})", never_beat.id, young_never_beat.id),
    )
    .await;
    exec(db, &format!("UPDATE sync_runs SET heartbeat_at = '2026-01-24 01:59:00+00' WHERE id = {}", fresh.id)).await;

    let now = t0() + m(1);
    assert_eq!(db.interrupt_stale(t0() - m(10), now).await.unwrap(), 2);
    let status = |id| async move { SyncRunRepo::get(db, id).await.unwrap().unwrap() };
    for (id, want) in [
        (fresh.id, RunStatus::Running),
        (stale.id, RunStatus::Interrupted),
        (never_beat.id, RunStatus::Interrupted),
        (young_never_beat.id, RunStatus::Running),
        (finished.id, RunStatus::Succeeded),
    ] {
        let run = status(id).await;
        assert_eq!(run.status, want, "run {id}");
        if want == RunStatus::Interrupted {
            assert_eq!(run.finished_at, Some(now));
        }
    }
    assert_eq!(db.interrupt_stale(t0() - m(10), now).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn latest_for_tick_sees_cron_runs_of_the_job_since_the_tick() {
    let t = TestDb::new().await;
    let db = t.db();
    let tick = t0();
    let s = Duration::seconds;
    // Runs that do not count: before the tick, another job, a manual run.
    db.start(JobKind::SyncUserDaily, day(24), RunTrigger::Cron, 1, "b", tick - s(1)).await.unwrap();
    db.start(JobKind::SyncVideoDaily, day(24), RunTrigger::Cron, 1, "b", tick + s(1)).await.unwrap();
    db.start(JobKind::SyncUserDaily, day(24), RunTrigger::Manual, 1, "b", tick + s(1)).await.unwrap();
    assert!(!db.latest_for_tick(JobKind::SyncUserDaily, tick).await.unwrap());
    // A cron run of this tick.
    db.start(JobKind::SyncUserDaily, day(24), RunTrigger::Cron, 1, "a", tick + s(2)).await.unwrap();
    assert!(db.latest_for_tick(JobKind::SyncUserDaily, tick).await.unwrap());
    assert!(!db.latest_for_tick(JobKind::SyncUserDaily, tick + s(3)).await.unwrap(), "a later tick is free");
}
