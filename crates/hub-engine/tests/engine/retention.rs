//! Retention: each table with a period is purged in batches of the configured size until a
//! batch comes back short; a period of 0 keeps the table; shutdown stops a pass between
//! batches; the counters and the last purge time follow. The repository is a mockall mock,
//! so the test sees every batch the engine asks for.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Duration as Days;
use hub_engine::testing::{self, *};
use hub_engine::{Engine, EngineConfig, RetentionPolicy};
use hub_ports::*;

fn engine(repo: MockRetentionRepo, policy: RetentionPolicy) -> Engine {
    let w = Shared::default();
    let mut ports = testing::ports(&w, Arc::new(MockTikTokApi::new()), fixed_clock(t0()));
    ports.retention = Arc::new(repo);
    Engine::new(ports, EngineConfig { retention: policy, ..EngineConfig::default() }, STATE_SECRET)
}

fn policy(logs: u32, runs: u32, audit: u32, batch: i64) -> RetentionPolicy {
    RetentionPolicy { sync_logs_days: logs, sync_runs_days: runs, audit_days: audit, batch, pause: Duration::ZERO }
}

/// Expects, for `table`, batches answered by `answers` in order, each asked with the cut-off
/// `days` before t0 and `batch` rows at most.
fn expect(
    repo: &mut MockRetentionRepo,
    seq: &mut mockall::Sequence,
    table: Retained,
    days: i64,
    batch: i64,
    answers: &[u64],
) {
    for n in answers.iter().copied() {
        repo.expect_purge_batch()
            .withf(move |t, before, limit| *t == table && *before == t0() - Days::days(days) && *limit == batch)
            .times(1)
            .in_sequence(seq)
            .returning(move |_, _, _| Ok(n));
    }
}

#[tokio::test]
async fn each_table_is_purged_in_batches_until_one_comes_back_short() {
    // (logs, runs, audit days, batch, batches answered per table, purged per table)
    type Case = (u32, u32, u32, i64, [&'static [u64]; 3], Vec<(Retained, u64)>);
    let cases: Vec<Case> = vec![
        (
            90,
            90,
            365,
            5_000,
            [&[5_000, 5_000, 1_234], &[17], &[0]],
            vec![(Retained::SyncLogs, 11_234), (Retained::SyncRuns, 17), (Retained::Audit, 0)],
        ),
        // A batch exactly full is followed by one more, which finds nothing.
        (
            30,
            7,
            10,
            2,
            [&[2, 2, 0], &[1], &[2, 1]],
            vec![(Retained::SyncLogs, 4), (Retained::SyncRuns, 1), (Retained::Audit, 3)],
        ),
        // 0 = keep forever: the table is never asked.
        (0, 90, 0, 100, [&[], &[100, 3], &[]], vec![(Retained::SyncRuns, 103)]),
        (0, 0, 0, 100, [&[], &[], &[]], vec![]),
    ];
    for (logs, runs, audit, batch, answers, want) in cases {
        let mut repo = MockRetentionRepo::new();
        let mut seq = mockall::Sequence::new();
        for (table, days, answers) in [
            (Retained::SyncLogs, logs, answers[0]),
            (Retained::SyncRuns, runs, answers[1]),
            (Retained::Audit, audit, answers[2]),
        ] {
            expect(&mut repo, &mut seq, table, i64::from(days), batch, answers);
        }
        let engine = engine(repo, policy(logs, runs, audit, batch));
        let report = engine.retention().purge(&|| false).await.unwrap();
        assert_eq!(report.purged, want, "days {logs}/{runs}/{audit}, batch {batch}");
        assert!(!report.stopped);
        let m = engine.retention().metrics();
        for (table, n) in &want {
            assert!(m.purged.contains(&(*table, *n)), "{table:?}: {:?}", m.purged);
        }
        assert_eq!(m.last_purge, Some(t0()), "a complete pass records its time");
    }
}

#[tokio::test]
async fn counters_add_up_across_passes() {
    let mut repo = MockRetentionRepo::new();
    repo.expect_purge_batch().returning(|t, _, _| Ok(if t == Retained::Audit { 3 } else { 0 }));
    let engine = engine(repo, policy(90, 90, 365, 10));
    assert_eq!(engine.retention().metrics().last_purge, None, "no pass yet");
    for _ in 0..3 {
        engine.retention().purge(&|| false).await.unwrap();
    }
    let m = engine.retention().metrics();
    assert_eq!(m.purged, vec![(Retained::SyncLogs, 0), (Retained::SyncRuns, 0), (Retained::Audit, 9)]);
}

#[tokio::test]
async fn shutdown_stops_a_pass_between_batches() {
    let stop = Arc::new(AtomicBool::new(false));
    let mut repo = MockRetentionRepo::new();
    let flag = Arc::clone(&stop);
    let mut calls = 0;
    // Full batches forever: only the stop flag ends the pass (after the third batch).
    repo.expect_purge_batch().times(3).returning(move |_, _, limit| {
        calls += 1;
        if calls == 3 {
            flag.store(true, Ordering::SeqCst);
        }
        Ok(limit as u64)
    });
    let engine = engine(repo, policy(90, 90, 365, 50));
    let report = engine.retention().purge(&|| stop.load(Ordering::SeqCst)).await.unwrap();
    assert!(report.stopped);
    assert_eq!(report.purged, vec![(Retained::SyncLogs, 150)]);
    assert_eq!(engine.retention().metrics().last_purge, None, "an unfinished pass is not a purge");
}

#[tokio::test]
async fn a_failing_batch_ends_the_pass_and_keeps_what_was_counted() {
    let mut repo = MockRetentionRepo::new();
    let mut seq = mockall::Sequence::new();
    repo.expect_purge_batch().times(1).in_sequence(&mut seq).returning(|_, _, _| Ok(10));
    repo.expect_purge_batch()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _, _| Err(RepoError::Unavailable("server restarting".into())));
    let engine = engine(repo, policy(90, 90, 365, 10));
    let err = engine.retention().purge(&|| false).await.unwrap_err();
    assert_eq!(err, RepoError::Unavailable("server restarting".into()));
    let m = engine.retention().metrics();
    assert_eq!(m.purged[0], (Retained::SyncLogs, 10));
    assert_eq!(m.last_purge, None);
}

#[tokio::test]
async fn the_in_memory_world_keeps_running_runs_and_young_rows() {
    use hub_domain::{JobKind, RunCounts, RunStatus, RunTrigger};
    let w = Shared::default();
    let ports = testing::ports(&w, Arc::new(MockTikTokApi::new()), fixed_clock(t0()));
    let old = t0() - Days::days(100);
    let day = old.date_naive();
    let done = ports.sync_runs.start(JobKind::SyncUserDaily, day, RunTrigger::Cron, 1, "a", old).await.unwrap();
    ports.sync_runs.finish(done.id, RunStatus::Succeeded, &RunCounts::default(), None, old).await.unwrap();
    let running = ports.sync_runs.start(JobKind::SyncVideoDaily, day, RunTrigger::Cron, 1, "a", old).await.unwrap();
    let young = ports.sync_runs.start(JobKind::SyncUserDaily, day, RunTrigger::Cron, 1, "a", t0()).await.unwrap();
    let engine = Engine::new(ports, EngineConfig::default(), STATE_SECRET);
    let report = engine.retention().purge(&|| false).await.unwrap();
    assert!(report.purged.contains(&(Retained::SyncRuns, 1)), "{report:?}");
    let ids: Vec<i64> = w.lock().unwrap().runs.iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![running.id, young.id]);
}
