//! Port-level tests of the sync jobs and token refresh, against mockall mocks.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{Duration, NaiveDate};
use hub_domain::*;
use hub_engine::testing::{self, *};
use hub_engine::{Actor, EngineConfig, JobSelection, RunScope, SyncError};
use hub_ports::*;

fn world(stores: &[&str]) -> Shared {
    let w = Arc::new(Mutex::new(World::default()));
    for s in stores {
        w.lock().unwrap().add_store(s);
    }
    w
}

fn token_of(t: &Secret<String>) -> String {
    t.expose().clone()
}

#[tokio::test]
async fn user_sync_writes_one_snapshot_per_connected_store_and_skips_the_rest() {
    let w = world(&["a", "b", "c"]);
    w.lock().unwrap().connect("a", Duration::hours(20));
    w.lock().unwrap().connect("b", Duration::hours(20));
    w.lock().unwrap().accounts.get_mut("b").unwrap().status = ConnectionStatus::NeedReconnect(ReconnectReason::Revoked);
    let mut tiktok = MockTikTokApi::new();
    tiktok.expect_user_info().times(1).returning(|t| {
        assert_eq!(t.expose(), "act.a", "the decrypted access token of store a");
        Ok(user("open-a", 5000))
    });
    let engine = engine(&w, tiktok, t0(), EngineConfig::default());

    let summary = engine.syncs().run(JobSelection::User, &RunScope::All, RunTrigger::Manual).await.unwrap();
    let s = summary.user_sync.unwrap();
    assert_eq!((s.total, s.successful, s.failed, s.skipped), (3, 1, 0, 2));

    let w = w.lock().unwrap();
    assert_eq!(w.user_rows.len(), 1);
    let row = &w.user_rows[0].snapshot;
    assert_eq!((row.store_code.as_str(), row.follower_count, row.likes_count), ("a", 5000, 15000));
    assert_eq!(row.snapshot_date, NaiveDate::from_ymd_opt(2026, 1, 24).unwrap());
    let b = w.log_for("b", JobKind::SyncUserDaily);
    assert_eq!(b[0].status, SyncLogStatus::Skipped);
    assert!(b[0].message.contains("REVOKED"), "{}", b[0].message);
    assert_eq!(w.log_for("c", JobKind::SyncUserDaily)[0].status, SyncLogStatus::Skipped);
    let summary_line = w.logs.iter().map(|l| &l.log).find(|l| l.store_code.is_none()).unwrap();
    assert_eq!(summary_line.message, "Synced 1/3 stores, 0 failed, 2 skipped");
    assert_eq!(w.runs[0].status, RunStatus::Succeeded);
    assert_eq!(w.runs[0].counts.processed, 3);
    assert!(w.accounts["a"].last_sync_time.is_some());
}

#[tokio::test]
async fn snapshot_date_follows_report_tz() {
    let cases = [("UTC", "2026-01-24"), ("Asia/Jakarta", "2026-01-24"), ("America/Los_Angeles", "2026-01-23")];
    for (tz, want) in cases {
        let w = world(&["a"]);
        w.lock().unwrap().connect("a", Duration::hours(20));
        let mut tiktok = MockTikTokApi::new();
        tiktok.expect_user_info().returning(|_| Ok(user("open-a", 1)));
        let config = EngineConfig { report_tz: tz.parse().unwrap(), ..Default::default() };
        engine(&w, tiktok, t0(), config)
            .syncs()
            .run(JobSelection::User, &RunScope::All, RunTrigger::Cron)
            .await
            .unwrap();
        assert_eq!(w.lock().unwrap().user_rows[0].snapshot.snapshot_date.to_string(), want, "{tz}");
    }
}

#[tokio::test]
async fn rerunning_a_day_updates_instead_of_duplicating() {
    let w = world(&["a"]);
    w.lock().unwrap().connect("a", Duration::hours(20));
    let followers = Arc::new(AtomicUsize::new(100));
    let f = followers.clone();
    let mut tiktok = MockTikTokApi::new();
    tiktok.expect_user_info().returning(move |_| Ok(user("open-a", f.fetch_add(1, Ordering::SeqCst) as i64)));
    let engine = engine(&w, tiktok, t0(), EngineConfig::default());
    for _ in 0..3 {
        engine.syncs().run(JobSelection::User, &RunScope::All, RunTrigger::Manual).await.unwrap();
    }
    let w = w.lock().unwrap();
    assert_eq!(w.user_rows.len(), 1);
    assert_eq!(w.user_rows[0].snapshot.follower_count, 102, "the last run's numbers win");
}

#[tokio::test]
async fn access_token_invalid_refreshes_once_and_retries_once() {
    let w = world(&["a"]);
    w.lock().unwrap().connect("a", Duration::hours(20));
    let mut tiktok = MockTikTokApi::new();
    tiktok.expect_user_info().times(2).returning(|t| match token_of(t).as_str() {
        "act.a" => Err(TikTokError::AccessTokenInvalid),
        "act.new" => Ok(user("open-a", 7)),
        other => panic!("unexpected token {other}"),
    });
    tiktok.expect_refresh().times(1).returning(|t| {
        assert_eq!(t.expose(), "rft.a");
        Ok(grant("open-a", "act.new", "rft.new"))
    });
    let engine = engine(&w, tiktok, t0(), EngineConfig::default());
    let s =
        engine.syncs().run(JobSelection::User, &RunScope::All, RunTrigger::Manual).await.unwrap().user_sync.unwrap();
    assert_eq!(s.successful, 1);
    let w = w.lock().unwrap();
    assert_eq!(w.status("a"), ConnectionStatus::Connected);
    let stored = w.accounts["a"].tokens.clone().unwrap();
    assert_eq!(cipher().decrypt(&stored.refresh, "a/refresh").unwrap().expose(), "rft.new", "rotated pair stored");
}

#[tokio::test]
async fn a_second_refusal_after_refresh_needs_reconnect() {
    let w = world(&["a"]);
    w.lock().unwrap().connect("a", Duration::hours(20));
    let mut tiktok = MockTikTokApi::new();
    tiktok.expect_user_info().times(2).returning(|_| Err(TikTokError::AccessTokenInvalid));
    tiktok.expect_refresh().times(1).returning(|_| Ok(grant("open-a", "act.new", "rft.new")));
    let engine = engine(&w, tiktok, t0(), EngineConfig::default());
    let s =
        engine.syncs().run(JobSelection::User, &RunScope::All, RunTrigger::Manual).await.unwrap().user_sync.unwrap();
    assert_eq!((s.successful, s.skipped), (0, 1));
    assert_eq!(w.lock().unwrap().status("a"), ConnectionStatus::NeedReconnect(ReconnectReason::TokenInvalid));
}

#[tokio::test]
async fn failures_map_to_reconnect_reasons_without_useless_refreshes() {
    // (what user/info answers, what refresh answers, the account's status afterwards)
    let cases: Vec<(TikTokError, Option<TikTokError>, ConnectionStatus)> = vec![
        (
            TikTokError::ScopeMissing { code: "scope_not_authorized".into() },
            None,
            ConnectionStatus::NeedReconnect(ReconnectReason::ScopeMissing),
        ),
        (
            TikTokError::AccessTokenInvalid,
            Some(TikTokError::InvalidGrant { description: "revoked".into() }),
            ConnectionStatus::NeedReconnect(ReconnectReason::GrantInvalid),
        ),
        (TikTokError::Transient { message: "500".into() }, None, ConnectionStatus::Connected),
        (TikTokError::RateLimited { retry_after: None }, None, ConnectionStatus::Connected),
    ];
    for (info_err, refresh_err, want) in cases {
        let w = world(&["a"]);
        w.lock().unwrap().connect("a", Duration::hours(20));
        let mut tiktok = MockTikTokApi::new();
        let e = info_err.clone();
        tiktok.expect_user_info().times(1).returning(move |_| Err(e.clone()));
        let r = refresh_err.clone();
        tiktok.expect_refresh().times(usize::from(refresh_err.is_some())).returning(move |_| Err(r.clone().unwrap()));
        let engine = engine(&w, tiktok, t0(), EngineConfig::default());
        engine.syncs().run(JobSelection::User, &RunScope::All, RunTrigger::Manual).await.unwrap();
        let w = w.lock().unwrap();
        assert_eq!(w.status("a"), want, "{info_err:?}");
        let log = &w.log_for("a", JobKind::SyncUserDaily)[0];
        let want_status =
            if want == ConnectionStatus::Connected { SyncLogStatus::Failed } else { SyncLogStatus::Skipped };
        assert_eq!(log.status, want_status, "{info_err:?}: {}", log.message);
        if want_status == SyncLogStatus::Failed {
            assert!(log.raw_error.as_deref().unwrap().starts_with(info_err.reason()), "{:?}", log.raw_error);
        }
    }
}

#[tokio::test]
async fn tokens_expiring_soon_are_refreshed_before_use() {
    let w = world(&["a"]);
    w.lock().unwrap().connect("a", Duration::minutes(2));
    let mut tiktok = MockTikTokApi::new();
    tiktok.expect_refresh().times(1).returning(|_| Ok(grant("open-a", "act.new", "rft.new")));
    tiktok.expect_user_info().times(1).returning(|t| {
        assert_eq!(t.expose(), "act.new", "never uses the almost-expired token");
        Ok(user("open-a", 1))
    });
    let engine = engine(&w, tiktok, t0(), EngineConfig::default());
    let s =
        engine.syncs().run(JobSelection::User, &RunScope::All, RunTrigger::Manual).await.unwrap().user_sync.unwrap();
    assert_eq!(s.successful, 1);
}

#[tokio::test]
async fn expired_refresh_token_needs_reconnect_without_calling_tiktok() {
    let w = world(&["a"]);
    w.lock().unwrap().connect("a", Duration::minutes(-5));
    w.lock().unwrap().accounts.get_mut("a").unwrap().refresh_token_expires_at = Some(t0() - Duration::days(1));
    let tiktok = MockTikTokApi::new(); // any call panics
    let engine = engine(&w, tiktok, t0(), EngineConfig::default());
    engine.syncs().run(JobSelection::User, &RunScope::All, RunTrigger::Manual).await.unwrap();
    assert_eq!(w.lock().unwrap().status("a"), ConnectionStatus::NeedReconnect(ReconnectReason::RefreshExpired));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_refreshes_make_one_token_call() {
    let w = world(&["a"]);
    w.lock().unwrap().connect("a", Duration::hours(1));
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let mut tiktok = MockTikTokApi::new();
    tiktok.expect_refresh().returning(move |t| {
        let n = c.fetch_add(1, Ordering::SeqCst);
        // A strictly rotating server: only the newest refresh token works.
        assert_eq!(t.expose(), "rft.a", "a rotated-out refresh token was replayed");
        std::thread::sleep(std::time::Duration::from_millis(20));
        Ok(grant("open-a", &format!("act.{n}"), &format!("rft.{n}")))
    });
    let engine = Arc::new(engine(&w, tiktok, t0(), EngineConfig::default()));
    let seen = w.lock().unwrap().accounts["a"].clone();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let e = engine.clone();
            let seen = seen.clone();
            tokio::spawn(async move { e.syncs().tokens().refresh(&seen).await.map(|_| ()) })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let w = w.lock().unwrap();
    assert_eq!(w.status("a"), ConnectionStatus::Connected);
    let refresh = &w.accounts["a"].tokens.as_ref().unwrap().refresh;
    assert_eq!(cipher().decrypt(refresh, "a/refresh").unwrap().expose(), "rft.0");
}

#[tokio::test]
async fn one_failing_store_never_stops_the_others() {
    let stores: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
    let refs: Vec<&str> = stores.iter().map(String::as_str).collect();
    let w = world(&refs);
    for s in &stores {
        w.lock().unwrap().connect(s, Duration::hours(20));
    }
    let mut tiktok = MockTikTokApi::new();
    tiktok.expect_user_info().times(10).returning(|t| {
        if t.expose() == "act.s3" {
            Err(TikTokError::Rejected { code: "invalid_params".into(), message: "x".into() })
        } else {
            Ok(user("o", 1))
        }
    });
    let engine = engine(&w, tiktok, t0(), EngineConfig { sync_concurrency: 3, ..Default::default() });
    let s =
        engine.syncs().run(JobSelection::User, &RunScope::All, RunTrigger::Manual).await.unwrap().user_sync.unwrap();
    assert_eq!((s.successful, s.failed), (9, 1));
    let w = w.lock().unwrap();
    assert_eq!(w.runs[0].status, RunStatus::Partial);
    assert_eq!(w.log_for("s3", JobKind::SyncUserDaily)[0].status, SyncLogStatus::Failed);
}

#[tokio::test]
async fn breaker_ends_the_run_when_tiktok_is_down() {
    let stores: Vec<String> = (0..40).map(|i| format!("s{i:02}")).collect();
    let refs: Vec<&str> = stores.iter().map(String::as_str).collect();
    let w = world(&refs);
    for s in &stores {
        w.lock().unwrap().connect(s, Duration::hours(20));
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let mut tiktok = MockTikTokApi::new();
    tiktok.expect_user_info().returning(move |_| {
        c.fetch_add(1, Ordering::SeqCst);
        Err(TikTokError::Transient { message: "503".into() })
    });
    let config = EngineConfig { sync_concurrency: 1, breaker_threshold: 5, ..Default::default() };
    let engine = engine(&w, tiktok, t0(), config);
    let s =
        engine.syncs().run(JobSelection::User, &RunScope::All, RunTrigger::Manual).await.unwrap().user_sync.unwrap();
    assert_eq!(s.failed, 40, "every store has a recorded reason");
    assert_eq!(calls.load(Ordering::SeqCst), 5, "no calls after the breaker opened");
    let w = w.lock().unwrap();
    let breaker = w.logs.iter().filter(|l| l.log.raw_error.as_deref() == Some("breaker_open")).count();
    assert_eq!(breaker, 35);
}

#[tokio::test]
async fn video_sync_lists_new_pages_then_queries_known_videos() {
    let w = world(&["a"]);
    w.lock().unwrap().connect("a", Duration::hours(48));
    let all = videos(50); // newest first
    let pages = Arc::new(Mutex::new(Vec::<Option<i64>>::new()));
    let queried = Arc::new(Mutex::new(Vec::<usize>::new()));
    let mut tiktok = MockTikTokApi::new();
    let (all2, pages2) = (all.clone(), pages.clone());
    tiktok.expect_video_list().returning(move |_, cursor, max| {
        pages2.lock().unwrap().push(cursor);
        let start = match cursor {
            None => 0,
            Some(c) => all2.iter().position(|v| v.create_time.unwrap() * 1000 < c).unwrap_or(all2.len()),
        };
        let end = (start + max as usize).min(all2.len());
        let slice = all2[start..end].to_vec();
        Ok(VideoPage {
            cursor: slice.last().map(|v| v.create_time.unwrap() * 1000),
            has_more: end < all2.len(),
            videos: slice,
        })
    });
    let (all3, q3) = (all.clone(), queried.clone());
    tiktok.expect_video_query().returning(move |_, ids| {
        assert!(ids.len() <= 20);
        q3.lock().unwrap().push(ids.len());
        Ok(all3.iter().filter(|v| ids.contains(&v.id)).cloned().collect())
    });
    let day1 = t0();
    let e1 = engine(&w, tiktok, day1, EngineConfig::default());
    let s = e1.syncs().run(JobSelection::Video, &RunScope::All, RunTrigger::Manual).await.unwrap().video_sync.unwrap();
    assert_eq!(s.total_videos, Some(50));
    assert_eq!(pages.lock().unwrap().len(), 3, "day 1 lists every page");
    assert!(queried.lock().unwrap().is_empty());

    // Day 2: one list page reaches known videos; the other 30 come from video/query.
    pages.lock().unwrap().clear();
    let mut tiktok2 = MockTikTokApi::new();
    let (all4, pages4) = (all.clone(), pages.clone());
    tiktok2.expect_video_list().returning(move |_, cursor, max| {
        pages4.lock().unwrap().push(cursor);
        let slice = all4[..max as usize].to_vec();
        Ok(VideoPage { cursor: slice.last().map(|v| v.create_time.unwrap() * 1000), has_more: true, videos: slice })
    });
    let (all5, q5) = (all.clone(), queried.clone());
    tiktok2.expect_video_query().returning(move |_, ids| {
        q5.lock().unwrap().push(ids.len());
        Ok(all5.iter().filter(|v| ids.contains(&v.id)).cloned().collect())
    });
    let e2 = engine(&w, tiktok2, day1 + Duration::days(1), EngineConfig::default());
    let s = e2.syncs().run(JobSelection::Video, &RunScope::All, RunTrigger::Manual).await.unwrap().video_sync.unwrap();
    assert_eq!(s.total_videos, Some(50));
    assert_eq!(*pages.lock().unwrap(), vec![None]);
    assert_eq!(*queried.lock().unwrap(), vec![20, 10]);
    let w = w.lock().unwrap();
    let day2 = NaiveDate::from_ymd_opt(2026, 1, 25).unwrap();
    assert_eq!(w.video_rows.iter().filter(|r| r.snapshot.snapshot_date == day2).count(), 50);
}

#[tokio::test]
async fn a_running_job_cannot_start_twice() {
    let w = world(&["a"]);
    w.lock().unwrap().held_locks.push("job:sync_user_daily".into());
    let engine = engine(&w, MockTikTokApi::new(), t0(), EngineConfig::default());
    let err = engine.syncs().run(JobSelection::User, &RunScope::All, RunTrigger::Manual).await.unwrap_err();
    assert_eq!(err, SyncError::AlreadyRunning(JobKind::SyncUserDaily));
}

#[tokio::test]
async fn refresh_job_refreshes_only_due_accounts() {
    let w = world(&["soon", "later", "gone"]);
    w.lock().unwrap().connect("soon", Duration::hours(2));
    w.lock().unwrap().connect("later", Duration::hours(20));
    w.lock().unwrap().connect("gone", Duration::hours(1));
    let mut tiktok = MockTikTokApi::new();
    tiktok.expect_refresh().times(2).returning(|t| match t.expose().as_str() {
        "rft.soon" => Ok(grant("open-soon", "act.x", "rft.x")),
        "rft.gone" => Err(TikTokError::InvalidGrant { description: "revoked".into() }),
        other => panic!("refreshed {other}"),
    });
    let engine = engine(&w, tiktok, t0(), EngineConfig::default());
    let s = engine
        .syncs()
        .run(JobSelection::RefreshTokens, &RunScope::All, RunTrigger::Cron)
        .await
        .unwrap()
        .refresh_tokens
        .unwrap();
    assert_eq!((s.total, s.refreshed, s.failed), (2, 1, 1));
    assert_eq!(w.lock().unwrap().status("gone"), ConnectionStatus::NeedReconnect(ReconnectReason::GrantInvalid));
}

#[tokio::test]
async fn after_shutdown_no_store_is_started_and_the_run_is_interrupted() {
    let w = world(&["a", "b"]);
    w.lock().unwrap().connect("a", Duration::hours(20));
    let engine = engine(&w, MockTikTokApi::new(), t0(), EngineConfig::default());
    engine.syncs().begin_shutdown();
    engine.syncs().run(JobSelection::User, &RunScope::All, RunTrigger::Cron).await.unwrap();
    let w = w.lock().unwrap();
    assert_eq!(w.runs[0].status, RunStatus::Interrupted);
    assert_eq!(w.runs[0].counts.processed, 0);
    assert!(w.logs.iter().any(|l| l.log.message.contains("interrupted")));
}

#[tokio::test]
async fn single_store_sync_reports_its_result() {
    let w = world(&["a"]);
    w.lock().unwrap().connect("a", Duration::hours(20));
    let mut tiktok = MockTikTokApi::new();
    tiktok.expect_user_info().returning(|_| Ok(user("open-a", 5000)));
    let engine = engine(&w, tiktok, t0(), EngineConfig::default());
    let r = engine.syncs().sync_store(&Actor::system(), &code("a"), JobSelection::User).await.unwrap();
    assert!(r.success);
    assert_eq!(r.message, "User stats synced successfully: 5000 followers, 5 videos");
    assert_eq!(r.records_processed, 1);
    assert_eq!(
        engine.syncs().sync_store(&Actor::system(), &code("zz"), JobSelection::User).await.unwrap_err(),
        SyncError::StoreNotFound
    );
}

#[tokio::test]
async fn retry_scope_covers_only_connected_stores_missing_today() {
    let w = world(&["done", "failed", "gone"]);
    for s in ["done", "failed", "gone"] {
        w.lock().unwrap().connect(s, Duration::hours(20));
    }
    w.lock().unwrap().accounts.get_mut("gone").unwrap().status =
        ConnectionStatus::NeedReconnect(ReconnectReason::Revoked);
    let mut tiktok = MockTikTokApi::new();
    tiktok.expect_user_info().times(2).returning(|t| match t.expose().as_str() {
        "act.done" => Ok(user("open-done", 1)),
        _ => Err(TikTokError::Transient { message: "503".into() }),
    });
    let engine = engine(&w, tiktok, t0(), EngineConfig::default());
    engine.syncs().run(JobSelection::User, &RunScope::All, RunTrigger::Cron).await.unwrap();

    let mut tiktok = MockTikTokApi::new();
    tiktok.expect_user_info().times(1).returning(|t| {
        assert_eq!(t.expose(), "act.failed", "only the store that failed is retried");
        Ok(user("open-failed", 2))
    });
    let engine = testing::engine(&w, tiktok, t0() + Duration::hours(2), EngineConfig::default());
    let s = engine
        .syncs()
        .run(JobSelection::User, &RunScope::MissingToday, RunTrigger::Retry)
        .await
        .unwrap()
        .user_sync
        .unwrap();
    assert_eq!((s.total, s.successful), (1, 1));
    assert_eq!(w.lock().unwrap().user_rows.len(), 2);
}

#[tokio::test]
async fn a_schedule_tick_runs_once_across_instances() {
    let w = world(&["a"]);
    w.lock().unwrap().connect("a", Duration::hours(20));
    let tick = t0();
    let mut tiktok = MockTikTokApi::new();
    tiktok.expect_user_info().times(1).returning(|_| Ok(user("open-a", 1)));
    let first = engine(&w, tiktok, tick + Duration::seconds(1), EngineConfig::default());
    first.syncs().run_scheduled(JobSelection::User, tick).await.unwrap();
    // A second instance whose timer fired late, after the first finished: same tick.
    let second = testing::engine(&w, MockTikTokApi::new(), tick + Duration::seconds(30), EngineConfig::default());
    let err = second.syncs().run_scheduled(JobSelection::User, tick).await.unwrap_err();
    assert_eq!(err, SyncError::AlreadyDone(JobKind::SyncUserDaily));
    let w = w.lock().unwrap();
    assert_eq!(w.user_rows.len(), 1);
    assert_eq!(w.runs.len(), 1, "the refused tick writes no run row");
    // The next day's tick runs again.
    drop(w);
}

#[tokio::test]
async fn single_store_token_refresh() {
    let w = world(&["a"]);
    w.lock().unwrap().connect("a", Duration::hours(20));
    let mut tiktok = MockTikTokApi::new();
    tiktok.expect_refresh().times(1).returning(|_| Ok(grant("open-a", "act.n", "rft.n")));
    let engine = engine(&w, tiktok, t0(), EngineConfig::default());
    let r = engine.syncs().sync_store(&Actor::system(), &code("a"), JobSelection::RefreshTokens).await.unwrap();
    assert!(r.success, "{}", r.message);
    assert_eq!(r.message, "Token refreshed");
    let w = w.lock().unwrap();
    let t = w.accounts["a"].tokens.as_ref().unwrap();
    assert_eq!(cipher().decrypt(&t.access, "a/access").unwrap().expose(), "act.n");
    assert_eq!(w.log_for("a", JobKind::RefreshTokens)[0].status, SyncLogStatus::Success);
}

/// A run that crosses midnight keeps the date it started on: the clock moves a second at
/// every reading from 23:59:50, so most stores finish on the next day, and every snapshot is
/// still dated the run's day.
#[tokio::test]
async fn a_run_crossing_midnight_keeps_its_scheduled_date() {
    use chrono::TimeZone;
    let start = chrono::Utc.with_ymd_and_hms(2026, 1, 24, 23, 59, 50).unwrap();
    let stores: Vec<String> = (0..30).map(|i| format!("m{i:02}")).collect();
    let refs: Vec<&str> = stores.iter().map(String::as_str).collect();
    let w = world(&refs);
    for s in &stores {
        w.lock().unwrap().connect_at(s, start - Duration::hours(1), Duration::hours(20));
    }
    let readings = Arc::new(AtomicUsize::new(0));
    let r = readings.clone();
    let mut clock = MockClock::new();
    clock.expect_now().returning(move || start + Duration::seconds(r.fetch_add(1, Ordering::SeqCst) as i64));
    let mut tiktok = MockTikTokApi::new();
    tiktok.expect_user_info().returning(|_| Ok(user("o", 1)));
    let ports = testing::ports(&w, Arc::new(tiktok), Arc::new(clock));
    let config = EngineConfig { report_tz: chrono_tz::UTC, sync_concurrency: 1, ..Default::default() };
    let engine = hub_engine::Engine::new(ports, config, testing::STATE_SECRET);
    let s = engine.syncs().run(JobSelection::User, &RunScope::All, RunTrigger::Cron).await.unwrap().user_sync.unwrap();
    assert_eq!(s.successful, 30);
    assert!(readings.load(Ordering::SeqCst) > 30, "the clock passed midnight during the run");
    let w = w.lock().unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 1, 24).unwrap();
    assert_eq!(w.user_rows.len(), 30);
    assert!(w.user_rows.iter().all(|r| r.snapshot.snapshot_date == day), "every snapshot is the run's day");
    assert_eq!(w.runs[0].scheduled_date, day);
}

/// TikTok down for a whole run: the breaker ends it after a few calls with every store's
/// reason recorded; once TikTok is back, the next run is complete.
#[tokio::test]
async fn after_an_outage_the_next_run_is_complete() {
    let stores: Vec<String> = (0..40).map(|i| format!("s{i:02}")).collect();
    let refs: Vec<&str> = stores.iter().map(String::as_str).collect();
    let w = world(&refs);
    for s in &stores {
        w.lock().unwrap().connect(s, Duration::hours(20));
    }
    let down = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let calls = Arc::new(AtomicUsize::new(0));
    let (d, c) = (down.clone(), calls.clone());
    let mut tiktok = MockTikTokApi::new();
    tiktok.expect_user_info().returning(move |_| {
        c.fetch_add(1, Ordering::SeqCst);
        if d.load(Ordering::SeqCst) { Err(TikTokError::Transient { message: "503".into() }) } else { Ok(user("o", 1)) }
    });
    let config = EngineConfig { sync_concurrency: 1, breaker_threshold: 5, ..Default::default() };
    let engine = engine(&w, tiktok, t0(), config);
    let outage =
        engine.syncs().run(JobSelection::User, &RunScope::All, RunTrigger::Cron).await.unwrap().user_sync.unwrap();
    assert_eq!((outage.successful, outage.failed), (0, 40));
    assert_eq!(calls.load(Ordering::SeqCst), 5, "ended after the breaker's threshold");
    assert!(w.lock().unwrap().user_rows.is_empty());

    down.store(false, Ordering::SeqCst);
    let next =
        engine.syncs().run(JobSelection::User, &RunScope::All, RunTrigger::Manual).await.unwrap().user_sync.unwrap();
    assert_eq!((next.successful, next.failed), (40, 0));
    let w = w.lock().unwrap();
    assert_eq!(w.user_rows.len(), 40, "every store has today's snapshot");
    assert_eq!(w.runs.last().unwrap().status, RunStatus::Succeeded);
}
