//! Port-level tests of a run whose job lock is lost mid-run (its database session died):
//! it takes the lock back and goes on, or, when another run took it, starts no more stores.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::Duration;
use hub_domain::*;
use hub_engine::testing::*;
use hub_engine::{EngineConfig, JobSelection, RunScope};
use hub_ports::*;

const KEY: &str = "job:sync_user_daily";
const STORES: [&str; 5] = ["a", "b", "c", "d", "e"];

/// One store at a time, the lock asked about before every store.
fn config() -> EngineConfig {
    EngineConfig {
        sync_concurrency: 1,
        max_concurrency: 1,
        lock_check_every: std::time::Duration::ZERO,
        ..EngineConfig::default()
    }
}

/// A user run over five stores whose job lock is lost while the second store syncs (and,
/// with `another`, taken at once by another run). Returns the world and TikTok's calls.
async fn run_losing_the_lock(another: bool) -> (Shared, usize, hub_engine::SyncSummary) {
    let w = Arc::new(Mutex::new(World::default()));
    for s in STORES {
        w.lock().unwrap().add_store(s);
        w.lock().unwrap().connect(s, Duration::hours(20));
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let (seen, during) = (calls.clone(), w.clone());
    let mut tiktok = MockTikTokApi::new();
    tiktok.expect_user_info().returning(move |_| {
        if seen.fetch_add(1, Ordering::SeqCst) == 1 {
            let mut w = during.lock().unwrap();
            // The session died: the lock is gone...
            w.held_locks.retain(|k| k != KEY);
            if another {
                // ...and another instance's run of the same job took it.
                w.held_locks.push(KEY.into());
                *w.lock_takes.entry(KEY.into()).or_default() += 1;
            }
        }
        Ok(user("open", 10))
    });
    let engine = engine(&w, tiktok, t0(), config());
    let summary = engine.syncs().run(JobSelection::User, &RunScope::All, RunTrigger::Manual).await.unwrap();
    let n = calls.load(Ordering::SeqCst);
    (w, n, summary)
}

#[tokio::test]
async fn a_run_whose_lock_another_run_took_starts_no_more_stores() {
    let (w, calls, summary) = run_losing_the_lock(true).await;
    let s = summary.user_sync.unwrap();
    assert_eq!(calls, 2, "no store started after the lock went to another run");
    assert_eq!((s.total, s.successful, s.failed), (5, 2, 0));
    let w = w.lock().unwrap();
    let run = &w.runs_of(JobKind::SyncUserDaily)[0];
    assert_eq!(run.status, RunStatus::Interrupted);
    assert!(run.message.as_deref().unwrap().contains("lost to another run"), "{:?}", run.message);
    assert_eq!(w.held_locks, [KEY], "the other run's lock is left alone");
}

#[tokio::test]
async fn a_run_whose_lock_nobody_took_takes_it_back_and_finishes() {
    let (w, calls, summary) = run_losing_the_lock(false).await;
    let s = summary.user_sync.unwrap();
    assert_eq!(calls, 5);
    assert_eq!((s.total, s.successful, s.failed), (5, 5, 0));
    let w = w.lock().unwrap();
    assert_eq!(w.runs_of(JobKind::SyncUserDaily)[0].status, RunStatus::Succeeded);
    assert_eq!(w.lock_takes[KEY], 2, "taken back once");
    assert!(w.held_locks.is_empty(), "released when the run closed");
}
