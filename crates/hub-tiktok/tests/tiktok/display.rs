//! The Display API through the real client against the sandbox: fields, paging, query,
//! error mapping, retries of injected faults, timeouts, 429s and the client-side budget.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::support::*;
use hub_domain::Secret;
use hub_ports::{TikTokApi, TikTokError, TikTokVideo};
use hub_tiktok::TikTokClient;
use tiktok_sandbox::{SandboxConfig, SandboxHandle};

const ALL: &str = "user.info.basic,user.info.stats,video.list";

/// A token for the account with the most videos, and that account's open_id.
fn biggest(sb: &SandboxHandle) -> (Secret<String>, String) {
    let (i, a) = sb.accounts().into_iter().enumerate().max_by_key(|(_, a)| a.video_count).expect("accounts");
    let t = sb.issue_tokens(i, ALL);
    assert_eq!(t.open_id, a.open_id);
    (Secret::new(t.access_token), a.open_id)
}

fn token(sb: &SandboxHandle, account: usize, scopes: &str) -> Secret<String> {
    Secret::new(sb.issue_tokens(account, scopes).access_token)
}

#[tokio::test]
async fn user_info_reads_profile_and_64_bit_stats() {
    let (sb, cfg) = sandbox(sandbox_cfg()).await;
    let api = client(&sb, &cfg);
    let g = connect(&api).await;
    let u = api.user_info(&g.access_token).await.expect("user info");
    let a = sb.accounts().into_iter().find(|a| a.open_id == g.open_id).expect("account");
    assert_eq!(u.open_id, a.open_id);
    assert_eq!(u.display_name.as_deref(), Some(a.display_name.as_str()));
    assert!(u.avatar_url.as_deref().is_some_and(|s| s.starts_with("http")));
    assert_eq!(u.follower_count, a.follower_count);
    assert_eq!(u.following_count, a.following_count);
    assert_eq!(u.likes_count, a.likes_count);
    assert_eq!(u.video_count, i64::try_from(a.video_count).expect("fits"));
    assert_eq!(sb.stats().user_info.ok, 1);
}

#[tokio::test]
async fn paging_walks_the_whole_list_without_gaps_or_repeats() {
    let (sb, cfg) = sandbox(sandbox_cfg()).await;
    let api = client(&sb, &cfg);
    let (tok, open_id) = biggest(&sb);
    let want = sb.visible_videos(&open_id);
    assert!(want.len() > 20, "a list that needs several pages");

    for max_count in [20u8, 7] {
        let before = sb.stats().video_list.calls;
        let mut got: Vec<TikTokVideo> = Vec::new();
        let mut cursor = None;
        let mut pages = 0;
        loop {
            let page = api.video_list(&tok, cursor, max_count).await.expect("page");
            pages += 1;
            assert!(page.videos.len() <= usize::from(max_count));
            got.extend(page.videos);
            if !page.has_more {
                break;
            }
            cursor = page.cursor;
            assert!(cursor.is_some(), "has_more without a cursor");
            assert!(pages < 200, "paging does not end");
        }
        assert_eq!(sb.stats().video_list.calls - before, pages);
        let ids: Vec<&str> = got.iter().map(|v| v.id.as_str()).collect();
        let unique: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "no repeats");
        let want_ids: Vec<&str> = want.iter().map(|v| v.id.as_str()).collect();
        assert_eq!(ids, want_ids, "every video, newest first (max_count {max_count})");
    }

    // Every field the hub reads arrives.
    let page = api.video_list(&tok, None, 3).await.expect("page");
    for (v, w) in page.videos.iter().zip(&want) {
        assert_eq!(v.id, w.id);
        assert_eq!(v.id.len(), 19);
        assert_eq!(v.create_time, Some(w.create_time));
        assert_eq!(v.title.as_deref(), Some(w.title.as_str()));
        assert_eq!(v.video_description.as_deref(), Some(w.video_description.as_str()));
        assert_eq!(v.share_url.as_deref(), Some(w.share_url.as_str()));
        assert!(v.cover_image_url.is_some());
        assert_eq!(v.duration.map(i64::from), Some(w.duration));
        assert_eq!(
            (v.view_count, v.like_count, v.comment_count, v.share_count),
            (w.view_count, w.like_count, w.comment_count, w.share_count)
        );
    }
}

#[tokio::test]
async fn video_query_of_twenty_ids() {
    let (sb, cfg) = sandbox(sandbox_cfg()).await;
    let api = client(&sb, &cfg);
    let (tok, open_id) = biggest(&sb);
    let want: Vec<String> = sb.visible_videos(&open_id).into_iter().skip(3).take(20).map(|v| v.id).collect();
    assert_eq!(want.len(), 20);

    let got = api.video_query(&tok, &want).await.expect("query");
    let got_ids: HashSet<String> = got.iter().map(|v| v.id.clone()).collect();
    assert_eq!(got_ids, want.iter().cloned().collect::<HashSet<_>>());
    assert!(got.iter().all(|v| v.view_count >= 0 && v.create_time.is_some()));

    // Another account's video is silently absent.
    let other = sb.accounts().into_iter().find(|a| a.open_id != open_id && a.video_count > 0).expect("other");
    let foreign = sb.visible_videos(&other.open_id)[0].id.clone();
    let got = api.video_query(&tok, &[want[0].clone(), foreign]).await.expect("query");
    assert_eq!(got.len(), 1);

    // More than 20 ids is a caller bug: refused before any call.
    let before = sb.stats().video_query.calls;
    let too_many: Vec<String> = (0..21).map(|i| format!("{i}")).collect();
    let r = api.video_query(&tok, &too_many).await;
    assert!(matches!(&r, Err(TikTokError::Rejected { code, .. }) if code == "invalid_params"), "{r:?}");
    assert!(api.video_query(&tok, &[]).await.expect("empty").is_empty());
    assert_eq!(sb.stats().video_query.calls, before);
}

#[tokio::test]
async fn error_mapping_of_the_display_api() {
    let (sb, cfg) = sandbox(sandbox_cfg()).await;
    let api = client(&sb, &cfg);

    // A garbage token: access_token_invalid, never retried.
    let r = api.user_info(&Secret::new("act.garbage".into())).await;
    assert_eq!(r, Err(TikTokError::AccessTokenInvalid));
    assert_eq!(sb.stats().user_info.calls, 1);

    // The user unticked scopes: scope_not_authorized, never retried.
    let basic = token(&sb, 0, "user.info.basic");
    let r = api.user_info(&basic).await;
    assert_eq!(r, Err(TikTokError::ScopeMissing { code: "scope_not_authorized".into() }));
    let r = api.video_list(&basic, None, 10).await;
    assert_eq!(r, Err(TikTokError::ScopeMissing { code: "scope_not_authorized".into() }));
    let r = api.video_query(&basic, &["1".into()]).await;
    assert_eq!(r, Err(TikTokError::ScopeMissing { code: "scope_not_authorized".into() }));

    // The same through the real consent flow with a partial grant.
    sb.update(|k| k.grant_scopes = Some(vec!["user.info.basic".into(), "user.info.stats".into()]));
    let g = connect(&api).await;
    assert_eq!(g.scopes, ["user.info.basic", "user.info.stats"]);
    api.user_info(&g.access_token).await.expect("user info is granted");
    let r = api.video_list(&g.access_token, None, 10).await;
    assert!(matches!(r, Err(TikTokError::ScopeMissing { .. })), "{r:?}");
    sb.update(|k| k.grant_scopes = None);

    // The app itself lacks a scope: scope_permission_missed.
    sb.update(|k| k.app_scopes = vec!["user.info.basic".into(), "user.info.stats".into()]);
    let full = token(&sb, 1, ALL);
    let r = api.video_list(&full, None, 10).await;
    assert_eq!(r, Err(TikTokError::ScopeMissing { code: "scope_permission_missed".into() }));
    sb.update(|k| k.app_scopes = tiktok_sandbox::KNOWN_SCOPES.iter().map(|s| s.to_string()).collect());

    // Spurious access_token_invalid from TikTok: mapped, not retried.
    sb.update(|k| k.fault_token_invalid = 1.0);
    let before = sb.stats().video_list.calls;
    assert_eq!(api.video_list(&full, None, 10).await, Err(TikTokError::AccessTokenInvalid));
    assert_eq!(sb.stats().video_list.calls - before, 1);
    sb.update(|k| k.fault_token_invalid = 0.0);

    // An expired access token (the clock moved past 24 h).
    sb.advance_clock(chrono::Duration::hours(25));
    assert_eq!(api.user_info(&full).await, Err(TikTokError::AccessTokenInvalid));

    let s = api.stats();
    assert_eq!(s.user_info.retries + s.video_list.retries + s.video_query.retries, 0);
}

#[tokio::test]
async fn injected_500s_are_retried() {
    let (sb, cfg) = sandbox(sandbox_cfg()).await;
    let api = client(&sb, &cfg);
    let tok = token(&sb, 0, ALL);
    let max = u64::from(api.config().max_retries);

    sb.update(|k| k.fault_internal_error = 1.0);
    let r = api.user_info(&tok).await;
    assert!(matches!(&r, Err(TikTokError::Transient { message }) if message.contains("internal_error")), "{r:?}");
    assert_eq!(sb.stats().user_info.calls, max + 1, "exactly max_retries + 1 attempts");
    let s = api.stats().user_info;
    assert_eq!((s.calls, s.retries, s.errors), (max + 1, max, 1));

    // Flaky: every call gets through.
    sb.update(|k| k.fault_internal_error = 0.3);
    let mut c = client_cfg(&sb, &cfg);
    c.max_retries = 10;
    let patient = TikTokClient::new(c).expect("client");
    let before = sb.stats().video_list;
    for _ in 0..20 {
        patient.video_list(&tok, None, 5).await.expect("eventually answered");
    }
    let after = sb.stats().video_list;
    let s = patient.stats().video_list;
    assert_eq!(s.errors, 0);
    assert_eq!(after.errors - before.errors, s.retries, "one retry per injected failure");
    assert_eq!(after.calls - before.calls, 20 + s.retries);
}

#[tokio::test]
async fn a_hung_request_times_out() {
    let (sb, cfg) = sandbox(SandboxConfig { hang_secs: 30, ..sandbox_cfg() }).await;
    let tok = token(&sb, 0, ALL);
    let mut c = client_cfg(&sb, &cfg);
    c.timeout = Duration::from_millis(250);
    c.max_retries = 1;
    let api = TikTokClient::new(c).expect("client");

    sb.update(|k| k.fault_hang = 1.0);
    let start = Instant::now();
    let r = api.video_list(&tok, None, 10).await;
    let took = start.elapsed();
    assert!(matches!(&r, Err(TikTokError::Transient { message }) if message.contains("timed out")), "{r:?}");
    assert!(took >= Duration::from_millis(500), "two attempts of 250 ms: {took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(api.stats().video_list.calls, 2);
    sb.stop().await;
}

#[tokio::test]
async fn http_429_is_retried_then_rate_limited() {
    let (sb, cfg) = sandbox(SandboxConfig { rate_limit_per_min: 2, ..sandbox_cfg() }).await;
    let api = client(&sb, &cfg);
    let tok = token(&sb, 0, ALL);
    api.user_info(&tok).await.expect("1st");
    api.user_info(&tok).await.expect("2nd");
    let r = api.user_info(&tok).await;
    assert_eq!(r, Err(TikTokError::RateLimited { retry_after: None }));
    let max = u64::from(api.config().max_retries);
    assert_eq!(sb.stats().user_info.http_429, max + 1);
    let s = api.stats().user_info;
    assert_eq!((s.http_429, s.retries, s.errors), (max + 1, max, 1));
    // Endpoints are counted separately: video/list still has its budget.
    api.video_list(&tok, None, 5).await.expect("own window");

    // Rate limit lifted: the retry succeeds.
    sb.update(|k| k.rate_limit_per_min = 0);
    api.user_info(&tok).await.expect("after the limit");
}

/// Fires `n` concurrent `user/info` calls.
async fn burst(api: &TikTokClient, tok: &Secret<String>, n: usize) -> Vec<Result<(), TikTokError>> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let api = api.clone();
        let tok = tok.clone();
        set.spawn(async move { api.user_info(&tok).await.map(|_| ()) });
    }
    set.join_all().await
}

#[tokio::test]
async fn the_client_budget_keeps_bursts_under_the_limit() {
    // Sandbox: 30 requests per 2 s sliding window. Client: 20 per 2 s with a burst of 5, so
    // no 2 s window can see more than 25.
    let window = Duration::from_secs(2);
    let (sb, cfg) = sandbox(SandboxConfig { rate_limit_per_min: 30, rate_window_ms: 2000, ..sandbox_cfg() }).await;
    let tok = token(&sb, 0, ALL);
    let mut c = client_cfg(&sb, &cfg);
    c.rate_limit_per_min = 20;
    c.burst = 5;
    c.rate_window = window;
    c.max_retries = 0;
    let budgeted = TikTokClient::new(c).expect("client");

    let start = Instant::now();
    let results = burst(&budgeted, &tok, 25).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let s = sb.stats().user_info;
    assert_eq!(s.http_429, 0);
    assert!(s.peak_window <= 25, "{s:?}");
    let cs = budgeted.stats().user_info;
    assert!(cs.budget_waits >= 15, "{cs:?}");
    assert!(cs.budget_wait_us_total > 0);
    assert!(start.elapsed() >= Duration::from_millis(1500), "the budget spaced the calls");

    // Control: without a budget the same sandbox answers 429s to a burst of 35.
    sb.reset_rate_limits();
    sb.reset_stats();
    let mut c = client_cfg(&sb, &cfg);
    c.rate_limit_per_min = 10_000;
    c.burst = 10_000;
    c.max_retries = 0;
    let unbudgeted = TikTokClient::new(c).expect("client");
    let results = burst(&unbudgeted, &tok, 35).await;
    let limited = results.iter().filter(|r| matches!(r, Err(TikTokError::RateLimited { .. }))).count();
    assert!(limited > 0);
    assert_eq!(sb.stats().user_info.http_429, u64::try_from(limited).expect("fits"));
}
