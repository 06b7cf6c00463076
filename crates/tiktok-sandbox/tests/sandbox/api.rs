//! Display API: user info, video list/query, scopes, errors, rate windows, faults.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tiktok_sandbox::{RateLimitKey, SandboxConfig};

const USER_FIELDS: &str = "open_id,union_id,avatar_url,avatar_url_100,avatar_large_url,display_name,bio_description,profile_deep_link,is_verified,username,follower_count,following_count,likes_count,video_count";
const VIDEO_FIELDS: &str = "id,create_time,cover_image_url,share_url,video_description,title,duration,height,width,embed_html,embed_link,like_count,comment_count,share_count,view_count";

/// The account with the most visible videos.
fn biggest(t: &T) -> tiktok_sandbox::AccountInfo {
    t.sb.accounts().into_iter().max_by_key(|a| a.video_count).unwrap()
}

#[tokio::test]
async fn user_info_shape_envelope_logid_and_filtering() {
    let t = start(cfg()).await;
    let tok = t.sb.issue_tokens(3, ALL_SCOPES);
    let r =
        t.c.get(with_query(&t.url("/v2/user/info/"), &[("fields", USER_FIELDS)]))
            .bearer_auth(&tok.access_token)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let header = r.headers()["x-tt-logid"].to_str().unwrap().to_string();
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"]["code"], "ok");
    assert_eq!(b["error"]["message"], "");
    assert_eq!(b["error"]["log_id"], header.as_str());
    let u = b["data"]["user"].as_object().unwrap();
    let mut keys: Vec<&str> = u.keys().map(String::as_str).collect();
    keys.sort();
    let mut want: Vec<&str> = USER_FIELDS.split(',').collect();
    want.sort();
    assert_eq!(keys, want);
    let acc = &t.sb.accounts()[3];
    assert_eq!(u["open_id"], acc.open_id.as_str());
    assert_eq!(u["display_name"], "Sandbox Store 0003");
    assert_eq!(u["username"], acc.username.as_str());
    assert_eq!(u["video_count"], acc.video_count);
    assert_eq!(u["follower_count"], acc.follower_count);
    assert_eq!(u["likes_count"], acc.likes_count);
    assert!(u["is_verified"].is_boolean());
    assert!(u["avatar_url"].as_str().unwrap().starts_with("http"));

    // Only the requested fields come back.
    let (s, b) = t.user_info(&tok.access_token, "display_name,follower_count").await;
    assert_eq!(s, StatusCode::OK);
    let u = b["data"]["user"].as_object().unwrap();
    assert_eq!(u.len(), 2);
    assert!(u.contains_key("display_name") && u.contains_key("follower_count"));

    // The avatar URL serves an image.
    let img = t.c.get(b_avatar(&t, &tok.access_token).await).send().await.unwrap();
    assert_eq!(img.status(), StatusCode::OK);
    assert_eq!(img.headers()["content-type"], "image/svg+xml");
    assert!(img.headers().contains_key("x-tt-logid"));
    t.sb.stop().await;
}

async fn b_avatar(t: &T, at: &str) -> String {
    t.user_info(at, "avatar_url").await.1["data"]["user"]["avatar_url"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn invalid_fields_and_tokens() {
    let t = start(cfg()).await;
    let tok = t.sb.issue_tokens(0, ALL_SCOPES);
    for fields in ["", "open_id,nickname", "foo", ",,"] {
        let (s, b) = t.user_info(&tok.access_token, fields).await;
        assert_api_error(s, &b, 400, "invalid_params");
        let (s, b) = t.video_list(&tok.access_token, fields, "{}").await;
        assert_api_error(s, &b, 400, "invalid_params");
    }
    // No fields parameter at all.
    let r = t.c.get(t.url("/v2/user/info/")).bearer_auth(&tok.access_token).send().await.unwrap();
    let s = r.status();
    assert_api_error(s, &r.json().await.unwrap(), 400, "invalid_params");

    for bad in ["", "act.unknown", "rft.not-an-access-token", tok.refresh_token.as_str()] {
        let (s, b) = t.user_info(bad, "open_id").await;
        assert_api_error(s, &b, 401, "access_token_invalid");
    }
    let r = t.c.get(t.url("/v2/user/info/?fields=open_id")).send().await.unwrap();
    let s = r.status();
    assert_api_error(s, &r.json().await.unwrap(), 401, "access_token_invalid");
    let st = t.sb.stats();
    assert_eq!(st.user_info.errors, st.user_info.calls);
    assert_eq!(st.user_info.ok, 0);
    t.sb.stop().await;
}

#[tokio::test]
async fn scope_not_authorized_and_scope_permission_missed() {
    let t = start(cfg()).await;
    let basic = t.sb.issue_tokens(1, "user.info.basic");
    let full = t.sb.issue_tokens(1, ALL_SCOPES);
    let cases = [
        ("follower_count", "user.info.stats"),
        ("username", "user.info.profile"),
        ("open_id,video_count", "user.info.stats"),
    ];
    for (fields, scope) in cases {
        let (s, b) = t.user_info(&basic.access_token, fields).await;
        assert_api_error(s, &b, 401, "scope_not_authorized");
        assert!(b["error"]["message"].as_str().unwrap().contains(scope));
        assert_eq!(t.user_info(&full.access_token, fields).await.0, StatusCode::OK);
    }
    assert_eq!(t.user_info(&basic.access_token, "open_id,display_name").await.0, StatusCode::OK);
    let (s, b) = t.video_list(&basic.access_token, "id", "{}").await;
    assert_api_error(s, &b, 401, "scope_not_authorized");
    let (s, b) = t.video_query(&basic.access_token, "id", r#"{"filters":{"video_ids":["1"]}}"#).await;
    assert_api_error(s, &b, 401, "scope_not_authorized");

    // The app itself lacks a scope: 400 scope_permission_missed, whatever the token holds.
    let (s, b) = t.post_json("/sandbox/config", json!({"app_scopes": ["user.info.basic", "user.info.profile"]})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = t.user_info(&full.access_token, "open_id,follower_count").await;
    assert_api_error(s, &b, 400, "scope_permission_missed");
    let (s, b) = t.video_list(&full.access_token, "id", "{}").await;
    assert_api_error(s, &b, 400, "scope_permission_missed");
    assert_eq!(t.user_info(&full.access_token, "open_id,username").await.0, StatusCode::OK);
    t.sb.stop().await;
}

#[tokio::test]
async fn video_list_shape_and_bad_bodies() {
    let t = start(cfg()).await;
    let acc = biggest(&t);
    let tok = t.sb.issue_tokens(acc.index, ALL_SCOPES);
    let (s, b) = t.video_list(&tok.access_token, VIDEO_FIELDS, "{}").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let d = &b["data"];
    let videos = d["videos"].as_array().unwrap();
    assert!(!videos.is_empty() && videos.len() <= 10, "default max_count 10");
    assert_eq!(d["has_more"], true);
    let v = videos[0].as_object().unwrap();
    assert_eq!(v.len(), 15);
    let id = v["id"].as_str().unwrap();
    assert_eq!(id.len(), 19);
    assert!(id.bytes().all(|c| c.is_ascii_digit()));
    assert!(v["title"].as_str().unwrap().chars().count() <= 150);
    assert!(v["share_url"].as_str().unwrap().ends_with(id));
    assert!(v["embed_html"].as_str().unwrap().contains(id));
    assert!(v["cover_image_url"].as_str().unwrap().contains("x-expires="));
    let last = videos.last().unwrap();
    assert_eq!(d["cursor"], last["create_time"].as_i64().unwrap() * 1000);
    let ct: Vec<i64> = videos.iter().map(|v| v["create_time"].as_i64().unwrap()).collect();
    assert!(ct.windows(2).all(|w| w[0] > w[1]), "newest first");
    // The newest video is the newest visible one.
    assert_eq!(id, t.sb.visible_videos(&acc.open_id)[0].id);

    // Field filtering on videos.
    let (_, b) = t.video_list(&tok.access_token, "id,view_count", r#"{"max_count":3}"#).await;
    let vs = b["data"]["videos"].as_array().unwrap();
    assert!((1..=3).contains(&vs.len()), "{} videos", vs.len());
    assert!(vs.iter().all(|v| v.as_object().unwrap().len() == 2));

    for body in [
        r#"{"max_count":0}"#,
        r#"{"max_count":21}"#,
        r#"{"max_count":"ten"}"#,
        r#"{"cursor":-5}"#,
        "not json",
        "",
        "[1,2]",
    ] {
        let (s, b) = t.video_list(&tok.access_token, "id", body).await;
        assert_api_error(s, &b, 400, "invalid_params");
    }
    for body in [
        r#"{"filters":{"video_ids":[]}}"#,
        &format!(r#"{{"filters":{{"video_ids":{}}}}}"#, json!(vec!["7000000000000000000"; 21])),
        r#"{"video_ids":["1"]}"#,
        "{",
    ] {
        let (s, b) = t.video_query(&tok.access_token, "id", body).await;
        assert_api_error(s, &b, 400, "invalid_params");
    }
    t.sb.stop().await;
}

#[tokio::test]
async fn cursor_paging_covers_every_video_once_with_short_pages() {
    let t = start(SandboxConfig { accounts: 60, workers: 1, ..Default::default() }).await;
    let mut accounts = t.sb.accounts();
    accounts.sort_by_key(|a| std::cmp::Reverse(a.video_count));
    let mut short_pages = 0;
    let mut pages_total = 0;
    // The biggest accounts, one with no videos, with several page sizes.
    let zero = accounts.iter().find(|a| a.video_count == 0).expect("an account without videos").clone();
    for (acc, max_count) in accounts.iter().take(4).zip([20u64, 10, 7, 20]).chain([(&zero, 20)]) {
        let tok = t.sb.issue_tokens(acc.index, ALL_SCOPES);
        let want: Vec<String> = t.sb.visible_videos(&acc.open_id).into_iter().map(|v| v.id).collect();
        assert_eq!(want.len() as u64, acc.video_count);
        let mut got: Vec<String> = Vec::new();
        let mut cursor: Option<i64> = None;
        loop {
            let body = match cursor {
                None => json!({"max_count": max_count}),
                Some(c) => json!({"max_count": max_count, "cursor": c}),
            };
            let (s, b) = t.video_list(&tok.access_token, "id,create_time", &body.to_string()).await;
            assert_eq!(s, StatusCode::OK, "{b}");
            let d = &b["data"];
            let vs = d["videos"].as_array().unwrap();
            pages_total += 1;
            for v in vs {
                if let Some(c) = cursor {
                    assert!(v["create_time"].as_i64().unwrap() * 1000 < c, "older than the cursor");
                }
                got.push(v["id"].as_str().unwrap().to_string());
            }
            let has_more = d["has_more"].as_bool().unwrap();
            if has_more {
                assert!(!vs.is_empty());
                if (vs.len() as u64) < max_count {
                    short_pages += 1;
                }
            } else {
                break;
            }
            cursor = Some(d["cursor"].as_i64().unwrap());
            assert!(got.len() <= want.len(), "runaway paging");
        }
        let unique: HashSet<&String> = got.iter().collect();
        assert_eq!(unique.len(), got.len(), "no repeats");
        assert_eq!(got, want, "every video exactly once, newest first");
    }
    assert!(pages_total > 30, "{pages_total}");
    assert!(short_pages >= 1, "short pages occur ({short_pages} of {pages_total})");
    assert!(short_pages * 4 < pages_total, "but rarely ({short_pages} of {pages_total})");
    t.sb.stop().await;
}

#[tokio::test]
async fn video_query_returns_only_own_visible_videos() {
    let t = start(cfg()).await;
    let mut accs = t.sb.accounts();
    accs.sort_by_key(|a| std::cmp::Reverse(a.video_count));
    let (a, b) = (&accs[0], &accs[1]);
    let mine: Vec<String> = t.sb.visible_videos(&a.open_id).into_iter().map(|v| v.id).take(3).collect();
    let theirs = t.sb.visible_videos(&b.open_id)[0].id.clone();
    let tok = t.sb.issue_tokens(a.index, ALL_SCOPES);
    let ids = vec![
        mine[2].clone(),
        theirs,
        "7000000000000000001".to_string(),
        "not-a-number".to_string(),
        mine[0].clone(),
        mine[0].clone(),
    ];
    let (s, body) =
        t.video_query(&tok.access_token, "id,like_count", &json!({"filters": {"video_ids": ids}}).to_string()).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let got: Vec<&str> = body["data"]["videos"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap()).collect();
    assert_eq!(got, vec![mine[2].as_str(), mine[0].as_str()]);
    let want_likes = t.sb.visible_videos(&a.open_id)[0].like_count;
    assert_eq!(body["data"]["videos"][1]["like_count"], want_likes);
    t.sb.stop().await;
}

#[tokio::test]
async fn rate_window_per_endpoint_slides_and_counts_stats() {
    let t = start(SandboxConfig { rate_limit_per_min: 5, rate_window_ms: 1000, ..cfg() }).await;
    let tok = t.sb.issue_tokens(0, ALL_SCOPES);
    let started = Instant::now();
    for i in 0..5 {
        assert_eq!(t.user_info(&tok.access_token, "open_id").await.0, StatusCode::OK, "call {i}");
    }
    let (s, b) = t.user_info(&tok.access_token, "open_id").await;
    assert!(started.elapsed() < Duration::from_millis(900), "test too slow to be meaningful");
    assert_api_error(s, &b, 429, "rate_limit_exceeded");
    // Other endpoints have their own window.
    assert_eq!(t.video_list(&tok.access_token, "id", "{}").await.0, StatusCode::OK);
    let st = t.sb.stats();
    assert_eq!(st.user_info.calls, 6);
    assert_eq!(st.user_info.ok, 5);
    assert_eq!(st.user_info.http_429, 1);
    assert_eq!(st.user_info.peak_window, 6);
    assert_eq!(st.video_list.calls, 1);
    // The window slides.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(t.user_info(&tok.access_token, "open_id").await.0, StatusCode::OK);

    // Keyed by client: another user's token shares the budget; keyed by token it does not.
    t.sb.reset_rate_limits();
    let other = t.sb.issue_tokens(1, ALL_SCOPES);
    for _ in 0..5 {
        assert_eq!(t.user_info(&tok.access_token, "open_id").await.0, StatusCode::OK);
    }
    assert_eq!(t.user_info(&other.access_token, "open_id").await.0, StatusCode::TOO_MANY_REQUESTS);
    t.sb.update(|k| k.rate_limit_key = RateLimitKey::Token);
    assert_eq!(t.user_info(&other.access_token, "open_id").await.0, StatusCode::OK);

    // Time scale multiplies the limit; 0 disables it.
    t.sb.reset_rate_limits();
    t.sb.update(|k| {
        k.rate_limit_key = RateLimitKey::Client;
        k.time_scale = 2.0;
    });
    let mut ok = 0;
    for _ in 0..12 {
        if t.user_info(&tok.access_token, "open_id").await.0 == StatusCode::OK {
            ok += 1;
        }
    }
    assert_eq!(ok, 10);
    t.sb.update(|k| k.rate_limit_per_min = 0);
    assert_eq!(t.user_info(&tok.access_token, "open_id").await.0, StatusCode::OK);

    let (_, reset) = t.post_json("/sandbox/stats/reset", json!({})).await;
    assert_eq!(reset["user_info"]["calls"], 0);
    let (_, st) = t.get_json("/sandbox/stats").await;
    assert_eq!(st["window_ms"], 1000);
    for ep in ["authorize", "token", "revoke", "user_info", "video_list", "video_query"] {
        for k in ["calls", "ok", "http_429", "errors", "peak_window"] {
            assert!(st[ep][k].is_u64(), "{ep}.{k}");
        }
    }
    t.sb.stop().await;
}

#[tokio::test]
async fn clock_advance_grows_counts_and_reveals_new_videos() {
    let t = start(cfg()).await;
    let acc = biggest(&t);
    let tok = t.sb.issue_tokens(acc.index, ALL_SCOPES);
    let before_user =
        t.user_info(&tok.access_token, "follower_count,likes_count,video_count").await.1["data"]["user"].clone();
    let before = t.sb.visible_videos(&acc.open_id);

    let (s, c) = t.post_json("/sandbox/clock", json!({"advance_days": 30})).await;
    assert_eq!(s, StatusCode::OK);
    assert!(c["offset_seconds"].as_i64().unwrap() >= 30 * 86_400 - 1);
    // The 24 h access token died with the clock jump.
    let (s, b) = t.user_info(&tok.access_token, "open_id").await;
    assert_api_error(s, &b, 401, "access_token_invalid");
    let tok = t.sb.issue_tokens(acc.index, ALL_SCOPES);
    let after_user =
        t.user_info(&tok.access_token, "follower_count,likes_count,video_count").await.1["data"]["user"].clone();
    let after = t.sb.visible_videos(&acc.open_id);
    for k in ["follower_count", "likes_count", "video_count"] {
        assert!(after_user[k].as_i64() > before_user[k].as_i64(), "{k}: {before_user} -> {after_user}");
    }
    assert_eq!(after_user["video_count"], after.len());
    assert!(after.len() > before.len());
    // Old videos are all still there, with counts that never went down.
    let mut grew = 0;
    for old in &before {
        let new = after.iter().find(|v| v.id == old.id).expect("video stays");
        assert!(new.view_count >= old.view_count && new.like_count >= old.like_count);
        assert!(new.comment_count >= old.comment_count && new.share_count >= old.share_count);
        grew += usize::from(new.view_count > old.view_count);
    }
    assert_eq!(grew, before.len(), "every video gains views over 30 days");
    // A new video appears at the top of the list.
    let (_, b) = t.video_list(&tok.access_token, "id", r#"{"max_count":1}"#).await;
    assert_eq!(b["data"]["videos"][0]["id"], after[0].id.as_str());
    assert!(!before.iter().any(|v| v.id == after[0].id));

    // set / advance_seconds / GET.
    let (_, c) = t.post_json("/sandbox/clock", json!({"set": "2030-01-02T03:04:05Z"})).await;
    assert!(c["now"].as_str().unwrap().starts_with("2030-01-02T03:04:0"));
    let (_, c) = t.post_json("/sandbox/clock", json!({"advance_seconds": 3600})).await;
    assert!(c["now"].as_str().unwrap().starts_with("2030-01-02T04:04:0"));
    let (_, c) = t.get_json("/sandbox/clock").await;
    assert!(c["now"].as_str().unwrap().starts_with("2030-01-02T04:0"));
    assert_eq!(t.sb.now().format("%Y-%m-%d").to_string(), "2030-01-02");
    let (s, _) = t.post_json("/sandbox/clock", json!({"travel": 1})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    t.sb.stop().await;
}

#[tokio::test]
async fn same_seed_same_data_other_seed_other_data() {
    let anchor = Some(chrono::DateTime::parse_from_rfc3339("2026-06-01T00:00:00Z").unwrap().to_utc());
    let mk = |seed| SandboxConfig { seed, anchor, accounts: 30, workers: 1, ..Default::default() };
    let a = start(mk(42)).await;
    let b = start(mk(42)).await;
    let c = start(mk(43)).await;
    let (aa, ba, ca) = (a.sb.accounts(), b.sb.accounts(), c.sb.accounts());
    assert_eq!(aa, ba);
    assert_ne!(aa[0].open_id, ca[0].open_id);
    for acc in &aa {
        assert_eq!(a.sb.visible_videos(&acc.open_id), b.sb.visible_videos(&acc.open_id));
    }
    let total: usize = aa.iter().map(|x| a.sb.visible_videos(&x.open_id).len()).sum();
    assert!(total > 30 * 20, "{total}");
    // Over HTTP too.
    let ta = a.sb.issue_tokens(5, ALL_SCOPES);
    let tb = b.sb.issue_tokens(5, ALL_SCOPES);
    let fields = "open_id,union_id,display_name,username,bio_description,is_verified,follower_count,following_count,likes_count,video_count";
    assert_eq!(
        a.user_info(&ta.access_token, fields).await.1["data"],
        b.user_info(&tb.access_token, fields).await.1["data"]
    );
    for t in [a, b, c] {
        t.sb.stop().await;
    }
}

#[tokio::test]
async fn faults_latency_and_runtime_config() {
    let t = start(cfg()).await;
    let tok = t.sb.issue_tokens(0, ALL_SCOPES);
    let cases = [
        (json!({"fault_internal_error": 1.0}), 500, "internal_error"),
        (json!({"fault_token_invalid": 1.0}), 401, "access_token_invalid"),
    ];
    for (patch, status, code) in cases {
        let (s, k) = t.post_json("/sandbox/config", patch.clone()).await;
        assert_eq!(s, StatusCode::OK, "{k}");
        let (s, b) = t.user_info(&tok.access_token, "open_id").await;
        assert_api_error(s, &b, status, code);
        let (s, b) = t.video_list(&tok.access_token, "id", "{}").await;
        assert_api_error(s, &b, status, code);
        t.sb.update(|k| {
            k.fault_internal_error = 0.0;
            k.fault_token_invalid = 0.0;
        });
    }
    assert_eq!(t.user_info(&tok.access_token, "open_id").await.0, StatusCode::OK);

    // A hung request is held hang_secs.
    t.sb.update(|k| {
        k.fault_hang = 1.0;
        k.hang_secs = 1;
    });
    let started = Instant::now();
    assert_eq!(t.user_info(&tok.access_token, "open_id").await.0, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(1000));
    t.sb.update(|k| k.fault_hang = 0.0);

    // Latency ÷ time scale.
    let (s, _) =
        t.post_json("/sandbox/config", json!({"latency_ms": {"min": 400, "max": 400}, "time_scale": 2.0})).await;
    assert_eq!(s, StatusCode::OK);
    let started = Instant::now();
    assert_eq!(t.user_info(&tok.access_token, "open_id").await.0, StatusCode::OK);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(195) && took < Duration::from_millis(390), "{took:?}");

    // Bad config patches are refused and change nothing.
    for patch in [
        json!({"no_such_knob": 1}),
        json!({"fault_hang": 2.0}),
        json!({"oauth_error_status": 418}),
        json!({"rotation": "sometimes"}),
        json!([1]),
    ] {
        let (s, b) = t.post_json("/sandbox/config", patch.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{patch}: {b}");
    }
    let (_, k) = t.get_json("/sandbox/config").await;
    assert_eq!(k["time_scale"], 2.0);
    assert_eq!(k["fault_hang"], 0.0);
    assert_eq!(k["rotation"], "may");
    t.sb.stop().await;
}

#[tokio::test]
async fn control_routes_accounts_videos_and_mint() {
    let t = start(cfg()).await;
    let (s, accs) = t.get_json("/sandbox/accounts").await;
    assert_eq!(s, StatusCode::OK);
    let accs = accs.as_array().unwrap();
    assert_eq!(accs.len(), 20);
    assert_eq!(accs[7]["index"], 7);
    assert_eq!(accs[7]["display_name"], "Sandbox Store 0007");
    assert_eq!(accs[7]["has_live_grant"], false);
    let open_id = accs[7]["open_id"].as_str().unwrap();

    let (s, tok) = t.post_json("/sandbox/tokens", json!({"open_id": open_id, "scopes": "user.info.basic"})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(tok["open_id"], open_id);
    assert_eq!(tok["scope"], "user.info.basic");
    let (_, accs) = t.get_json("/sandbox/accounts").await;
    assert_eq!(accs[7]["has_live_grant"], true);

    let (s, vids) = t.get_json(&format!("/sandbox/accounts/{open_id}/videos")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(vids.as_array().unwrap().len() as u64, accs[7]["video_count"].as_u64().unwrap());
    let (s, _) = t.get_json("/sandbox/accounts/nobody/videos").await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Every response carries x-tt-logid, even unknown paths (no trailing slash).
    let r = t.c.get(t.url("/v2/user/info?fields=open_id")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.headers().contains_key("x-tt-logid"));
    t.sb.stop().await;
}

#[tokio::test]
async fn ten_thousand_accounts_start_instantly() {
    let started = Instant::now();
    let t = start(SandboxConfig { accounts: 10_000, workers: 1, ..Default::default() }).await;
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    let tok = t.sb.issue_tokens(9_999, ALL_SCOPES);
    let (s, b) = t.user_info(&tok.access_token, "display_name,video_count").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["data"]["user"]["display_name"], "Sandbox Store 9999");
    t.sb.stop().await;
}
