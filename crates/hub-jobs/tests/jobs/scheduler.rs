//! The scheduler against the engine over mocked ports, on real (seconds-level) schedules.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::*;
use chrono::{TimeZone, Utc};
use hub_domain::{JobKind, RunStatus, RunTrigger};
use hub_engine::EngineConfig;
use hub_engine::TickOutcome;
use hub_jobs::{Scheduler, SchedulerConfig, next_run, parse_schedule, parse_seconds_schedule};

fn today() -> chrono::NaiveDate {
    Utc::now().date_naive()
}

/// Seconds-level schedules: the user job at `user`, the others never.
fn config(user: &str) -> SchedulerConfig {
    SchedulerConfig {
        token_refresh: NEVER.into(),
        user_daily: user.into(),
        video_daily: NEVER.into(),
        seconds_schedules: true,
        ..Default::default()
    }
}

fn engine_config(instance: &str) -> EngineConfig {
    EngineConfig { instance_id: instance.into(), ..Default::default() }
}

#[test]
fn five_field_schedules_parse_and_give_next_runs_in_a_time_zone() {
    // 2026-01-24 is a Saturday.
    let after = Utc.with_ymd_and_hms(2026, 1, 24, 3, 0, 0).unwrap();
    let cases = [
        ("0 2 * * *", "UTC", "2026-01-25T02:00:00Z"),
        ("0 2 * * *", "Asia/Jakarta", "2026-01-24T19:00:00Z"),
        ("0 1 * * *", "America/New_York", "2026-01-24T06:00:00Z"),
        ("30 3 * * *", "UTC", "2026-01-24T03:30:00Z"),
        ("0 2 * * 1", "UTC", "2026-01-26T02:00:00Z"),
        ("0 2 * * 0", "UTC", "2026-01-25T02:00:00Z"),
        ("0 2 * * 7", "UTC", "2026-01-25T02:00:00Z"),
        ("0 2 * * mon-fri", "UTC", "2026-01-26T02:00:00Z"),
        ("0 2 1 * *", "UTC", "2026-02-01T02:00:00Z"),
        ("*/15 * * * *", "UTC", "2026-01-24T03:15:00Z"),
    ];
    for (expr, tz, want) in cases {
        let schedule = parse_schedule(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        let got = next_run(&schedule, tz.parse().unwrap(), after).unwrap();
        assert_eq!(got.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), want, "{expr} in {tz}");
    }
    let bad = [
        "",
        "0 2 * *",
        "0 0 2 * * *",
        "61 2 * * *",
        "0 25 * * *",
        "0 2 32 * *",
        "0 2 * 13 *",
        "0 2 * * 8",
        "0 2 1 * 1",
        "x 2 * * *",
        "@daily",
    ];
    for expr in bad {
        assert!(parse_schedule(expr).is_err(), "`{expr}` should be refused");
    }
    assert!(parse_seconds_schedule("*/2 * * * * *").is_ok());
    assert!(parse_seconds_schedule("0 2 * * *").is_err(), "a five-field expression is not seconds-level");
}

#[tokio::test]
async fn a_bad_schedule_stops_the_start_naming_the_job() {
    let w = world(&[]);
    let engine = engine(&w, Arc::new(FakeTikTok::default()), engine_config("a"));
    let config = SchedulerConfig { video_daily: "0 3 * *".into(), ..Default::default() };
    let err = config.validate().unwrap_err();
    assert_eq!(err.job, "sync_video_daily");
    let err = Scheduler::start(engine, config).err().expect("start refuses a bad schedule");
    assert!(err.to_string().contains("sync_video_daily"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seconds_level_schedule_fires_and_syncs() {
    let w = world(&["s1", "s2"]);
    let tiktok = Arc::new(FakeTikTok::default());
    let engine = engine(&w, tiktok.clone(), engine_config("a"));
    let scheduler = Scheduler::start(engine, config("*/2 * * * * *")).unwrap();

    // A tick may land between two reads (the schedule fires every 2 s): the engine's view
    // equals the scheduler's status just before or just after it.
    let status = scheduler.status();
    let seen = scheduler.view().status();
    let after = scheduler.status();
    assert!(seen == status || seen == after, "the engine sees what the scheduler says: {seen:?} vs {status:?}");
    assert!(status.enabled);
    assert_eq!(status.timezone, "UTC");
    let names: Vec<&str> = status.jobs.iter().map(|j| j.job.as_str()).collect();
    assert_eq!(names, ["refresh_tokens", "sync_user_daily", "sync_video_daily"]);
    assert_eq!(status.jobs[1].schedule, "*/2 * * * * *");
    let next = status.jobs[1].next_run.unwrap();
    assert!(next > Utc::now() - chrono::Duration::seconds(1) && next <= Utc::now() + chrono::Duration::seconds(3));

    let synced = wait_for(Duration::from_secs(10), || w.lock().unwrap().user_snapshot_stores(today()).len() == 2).await;
    assert!(synced, "both stores get today's snapshot from a tick");
    assert!(scheduler.shutdown(Duration::from_secs(5)).await);

    let w = w.lock().unwrap();
    let runs = w.runs_of(JobKind::SyncUserDaily);
    assert!(!runs.is_empty());
    assert!(runs.iter().all(|r| r.trigger == RunTrigger::Cron));
    assert_eq!(runs[0].status, RunStatus::Succeeded);
    assert!(w.runs_of(JobKind::SyncVideoDaily).is_empty() && w.runs_of(JobKind::RefreshTokens).is_empty());
    assert_eq!(w.user_rows.len(), 2, "reruns update the day's rows, never duplicate them");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_schedulers_on_one_tick_run_it_once() {
    // Fast TikTok: the loser usually finds the tick done; slow: it finds the lock held.
    for delay_ms in [0, 300] {
        let stores = ["s1", "s2", "s3"];
        let w = world(&stores);
        let tiktok = Arc::new(FakeTikTok::slow(Duration::from_millis(delay_ms)));
        let tick = at(Utc::now() + chrono::Duration::seconds(2));
        let a = Scheduler::start(engine(&w, tiktok.clone(), engine_config("a")), config(&tick)).unwrap();
        let b = Scheduler::start(engine(&w, tiktok.clone(), engine_config("b")), config(&tick)).unwrap();
        let both_ticked =
            wait_for(Duration::from_secs(15), || [&a, &b].iter().all(|s| s.status().jobs[1].last_tick.is_some())).await;
        assert!(both_ticked, "both instances saw the tick");
        let outcomes: Vec<TickOutcome> =
            [&a, &b].iter().map(|s| s.status().jobs[1].last_tick.clone().unwrap().outcome).collect();
        assert!(a.shutdown(Duration::from_secs(5)).await);
        assert!(b.shutdown(Duration::from_secs(5)).await);

        let w = w.lock().unwrap();
        let runs = w.runs_of(JobKind::SyncUserDaily);
        // A losing instance may leave a FAILED "not started" row; only one run did work.
        let attempted: Vec<&hub_domain::SyncRun> = runs.iter().filter(|r| r.status != RunStatus::Failed).collect();
        assert_eq!(attempted.len(), 1, "delay {delay_ms} ms: exactly one run did the work: {runs:?}");
        assert!(runs.iter().all(|r| r.trigger == RunTrigger::Cron));
        assert_eq!(attempted[0].status, RunStatus::Succeeded);
        for s in stores {
            assert_eq!(tiktok.calls(s), 1, "delay {delay_ms} ms: one user/info call for {s}");
        }
        assert_eq!(w.user_rows.len(), 3);
        let mut sorted = outcomes.clone();
        sorted.sort_by_key(|o| format!("{o:?}"));
        assert_eq!(sorted, [TickOutcome::Ran, TickOutcome::Skipped], "delay {delay_ms} ms");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_store_is_retried_the_same_day_and_only_it() {
    let w = world(&["good", "flaky"]);
    let tiktok = Arc::new(FakeTikTok::default().fail_times("flaky", 1));
    let engine = engine(&w, tiktok.clone(), engine_config("a"));
    let config = SchedulerConfig {
        retry_delays: vec![Duration::from_millis(300), Duration::from_millis(600), Duration::from_millis(900)],
        ..config(&at(Utc::now() + chrono::Duration::seconds(2)))
    };
    let scheduler = Scheduler::start(engine, config).unwrap();

    let done = wait_for(Duration::from_secs(15), || w.lock().unwrap().user_snapshot_stores(today()).len() == 2).await;
    assert!(done, "the retry gives the flaky store its snapshot");
    let idle = wait_for(Duration::from_secs(5), || !scheduler.status().jobs[1].retrying).await;
    assert!(idle, "the retries stop once nothing is missing");
    // Nothing more happens after the day is complete.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(scheduler.shutdown(Duration::from_secs(5)).await);

    assert_eq!(tiktok.calls("good"), 1, "the retry leaves the synced store alone");
    assert_eq!(tiktok.calls("flaky"), 2);
    let w = w.lock().unwrap();
    let runs = w.runs_of(JobKind::SyncUserDaily);
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!((runs[0].trigger, runs[0].status, runs[0].counts.failed), (RunTrigger::Cron, RunStatus::Partial, 1));
    assert_eq!((runs[1].trigger, runs[1].status), (RunTrigger::Retry, RunStatus::Succeeded));
    assert_eq!((runs[1].counts.total, runs[1].counts.succeeded), (1, 1), "the retry covers only the failed store");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_give_up_after_the_last_delay() {
    let w = world(&["down"]);
    let tiktok = Arc::new(FakeTikTok::default().fail_times("down", 100));
    let engine = engine(&w, tiktok.clone(), engine_config("a"));
    let config = SchedulerConfig {
        retry_delays: vec![Duration::from_millis(200), Duration::from_millis(400)],
        ..config(&at(Utc::now() + chrono::Duration::seconds(2)))
    };
    let scheduler = Scheduler::start(engine, config).unwrap();
    let ticked = wait_for(Duration::from_secs(10), || scheduler.status().jobs[1].last_tick.is_some()).await;
    assert!(ticked);
    let gave_up = wait_for(Duration::from_secs(10), || !scheduler.status().jobs[1].retrying).await;
    assert!(gave_up);
    assert!(scheduler.shutdown(Duration::from_secs(5)).await);
    assert_eq!(tiktok.calls("down"), 3, "the tick and two retries");
    let runs = w.lock().unwrap().runs_of(JobKind::SyncUserDaily);
    let triggers: Vec<RunTrigger> = runs.iter().map(|r| r.trigger).collect();
    assert_eq!(triggers, [RunTrigger::Cron, RunTrigger::Retry, RunTrigger::Retry]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_schedules_nothing() {
    let w = world(&["s1"]);
    let tiktok = Arc::new(FakeTikTok::default());
    let engine = engine(&w, tiktok.clone(), engine_config("a"));
    let every_second = "* * * * * *";
    let config = SchedulerConfig {
        enabled: false,
        token_refresh: every_second.into(),
        user_daily: every_second.into(),
        video_daily: every_second.into(),
        seconds_schedules: true,
        ..Default::default()
    };
    let scheduler = Scheduler::start(engine, config).unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let status = scheduler.status();
    assert!(!status.enabled);
    assert!(status.jobs.iter().all(|j| j.next_run.is_none() && !j.running && j.last_tick.is_none()));
    assert!(scheduler.shutdown(Duration::from_secs(5)).await);
    assert_eq!(tiktok.total_calls(), 0);
    assert!(w.lock().unwrap().runs.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_the_run_interrupted_within_the_deadline() {
    let stores = ["s1", "s2", "s3", "s4", "s5", "s6"];
    let w = world(&stores);
    let tiktok = Arc::new(FakeTikTok::slow(Duration::from_millis(400)));
    let engine = engine(&w, tiktok.clone(), EngineConfig { sync_concurrency: 1, ..engine_config("a") });
    let config = SchedulerConfig {
        retry_delays: vec![Duration::from_millis(100)],
        ..config(&at(Utc::now() + chrono::Duration::seconds(2)))
    };
    let scheduler = Scheduler::start(engine.clone(), config).unwrap();
    let started =
        wait_for(Duration::from_secs(10), || tiktok.started.load(std::sync::atomic::Ordering::SeqCst) >= 1).await;
    assert!(started, "the tick's run is under way");
    assert!(scheduler.status().jobs[1].running);

    let t = Instant::now();
    assert!(scheduler.shutdown(Duration::from_secs(5)).await, "the store in flight finishes in time");
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(engine.syncs().live_runs().is_empty());
    // No retry starts after a shutdown.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let w = w.lock().unwrap();
    let runs = w.runs_of(JobKind::SyncUserDaily);
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = &runs[0];
    assert_eq!(run.status, RunStatus::Interrupted);
    assert!(run.counts.processed >= 1 && run.counts.processed < 6, "{:?}", run.counts);
    assert!(run.message.as_deref().unwrap_or("").contains("interrupted"), "{:?}", run.message);
    assert_eq!(w.user_rows.len() as i64, run.counts.succeeded, "the stores not started were not done");
    assert!(tiktok.total_calls() < stores.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_instances_run_is_interrupted_and_the_day_completed() {
    let w = world(&["s1", "s2"]);
    // Instance "dead" started today's run ten minutes ago and stopped heartbeating.
    {
        let mut w = w.lock().unwrap();
        let then = Utc::now() - chrono::Duration::minutes(10);
        w.runs.push(hub_domain::SyncRun {
            id: 1,
            job: JobKind::SyncUserDaily,
            scheduled_date: today(),
            trigger: RunTrigger::Cron,
            status: RunStatus::Running,
            counts: hub_domain::RunCounts { total: 2, ..Default::default() },
            message: None,
            owner: Some("dead".into()),
            heartbeat_at: Some(then),
            started_at: then,
            finished_at: None,
        });
        // A later instance found the tick taken and left a "not started" row, which is now
        // the job's latest run.
        let later = Utc::now() - chrono::Duration::minutes(9);
        w.runs.push(hub_domain::SyncRun {
            id: 2,
            job: JobKind::SyncUserDaily,
            scheduled_date: today(),
            trigger: RunTrigger::Cron,
            status: RunStatus::Failed,
            counts: hub_domain::RunCounts::default(),
            message: Some("not started: sync_user_daily already ran for this schedule tick".into()),
            owner: Some("other".into()),
            heartbeat_at: Some(later),
            started_at: later,
            finished_at: Some(later),
        });
    }
    let tiktok = Arc::new(FakeTikTok::default());
    let engine = engine(&w, tiktok.clone(), engine_config("a"));
    let scheduler = Scheduler::start(engine, config(NEVER)).unwrap();
    let done = wait_for(Duration::from_secs(10), || w.lock().unwrap().user_snapshot_stores(today()).len() == 2).await;
    assert!(done, "the interrupted day is completed right after the start");
    assert!(scheduler.shutdown(Duration::from_secs(5)).await);

    let w = w.lock().unwrap();
    assert_eq!(w.runs[0].status, RunStatus::Interrupted);
    assert_eq!((w.runs[2].trigger, w.runs[2].status), (RunTrigger::Retry, RunStatus::Succeeded));
    assert_eq!(w.runs.len(), 3);
    assert!(w.purges >= 1, "expired OAuth states are purged at start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tick_missed_while_no_instance_was_up_runs_at_start_once() {
    // Keep the missed tick inside today.
    let since_midnight = Utc::now().time().signed_duration_since(chrono::NaiveTime::MIN);
    if since_midnight < chrono::Duration::seconds(10) {
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    let w = world(&["s1", "s2"]);
    let tiktok = Arc::new(FakeTikTok::default());
    let missed = at(Utc::now() - chrono::Duration::seconds(5));
    let scheduler = Scheduler::start(engine(&w, tiktok.clone(), engine_config("a")), config(&missed)).unwrap();
    let done = wait_for(Duration::from_secs(10), || w.lock().unwrap().user_snapshot_stores(today()).len() == 2).await;
    assert!(done, "the missed tick runs at start");
    assert!(scheduler.shutdown(Duration::from_secs(5)).await);

    // A later start finds the tick done and runs nothing.
    let again = Scheduler::start(engine(&w, tiktok.clone(), engine_config("b")), config(&missed)).unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(again.shutdown(Duration::from_secs(5)).await);
    let runs = w.lock().unwrap().runs_of(JobKind::SyncUserDaily);
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!((runs[0].trigger, runs[0].status), (RunTrigger::Cron, RunStatus::Succeeded));
    assert_eq!(tiktok.total_calls(), 2);
}
