//! Sandbox-only routes under `/sandbox/`: clock, config, stats, accounts, grants,
//! token minting and placeholder media.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::Data;
use crate::data::h;
use crate::display::{embed_link, share_url};
use crate::html;
use crate::state::{S_ALL, State, TokenResponse, parse_scopes};

/// One account as `GET /sandbox/accounts` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    pub index: usize,
    pub open_id: String,
    pub union_id: String,
    pub display_name: String,
    pub username: String,
    /// A grant that is neither revoked nor past its refresh-token expiry.
    pub has_live_grant: bool,
    /// Videos visible now (create_time ≤ the sandbox clock).
    pub video_count: u64,
    pub follower_count: i64,
    pub following_count: i64,
    pub likes_count: i64,
}

/// One visible video with its current stats, as `GET /sandbox/accounts/{open_id}/videos` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoInfo {
    /// 19-digit decimal id.
    pub id: String,
    pub create_time: i64,
    pub title: String,
    pub video_description: String,
    pub duration: i64,
    pub width: i64,
    pub height: i64,
    pub share_url: String,
    pub embed_link: String,
    pub like_count: i64,
    pub comment_count: i64,
    pub share_count: i64,
    pub view_count: i64,
}

/// What `GET/POST /sandbox/clock` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockInfo {
    /// The sandbox clock, RFC 3339.
    pub now: DateTime<Utc>,
    pub unix: i64,
    /// Offset from real time in seconds.
    pub offset_seconds: i64,
}

fn bad_request(msg: impl Into<String>) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({"error": msg.into()}))
}

pub(crate) fn clock_info(st: &State) -> ClockInfo {
    let now = st.now();
    ClockInfo { now, unix: now.timestamp(), offset_seconds: st.offset_ms() / 1000 }
}

pub(crate) fn accounts(st: &State) -> Vec<AccountInfo> {
    let now_ms = st.now_ms();
    let now = now_ms.div_euclid(1000);
    let day = now_ms.div_euclid(86_400_000);
    let oauth = st.oauth_read();
    let live: Vec<bool> = (0..st.data.accounts.len()).map(|i| oauth.account_has_live_grant(i, now_ms)).collect();
    drop(oauth);
    st.data
        .accounts
        .iter()
        .map(|a| AccountInfo {
            index: a.index,
            open_id: a.open_id.clone(),
            union_id: a.union_id.clone(),
            display_name: a.display_name.clone(),
            username: a.username.clone(),
            has_live_grant: live[a.index],
            video_count: st.data.count_at(a, now),
            follower_count: st.data.follower_count(a, day),
            following_count: st.data.following_count(a, day),
            likes_count: st.data.likes_total(a, now, day),
        })
        .collect()
}

/// Visible videos of an account, newest first; `None` for an unknown open_id.
pub(crate) fn visible_videos(st: &State, open_id: &str) -> Option<Vec<VideoInfo>> {
    let a = &st.data.accounts[st.data.account_index(open_id)?];
    let now_ms = st.now_ms();
    let now = now_ms.div_euclid(1000);
    let day = now_ms.div_euclid(86_400_000);
    let n = st.data.count_at(a, now);
    Some(
        (0..n)
            .rev()
            .map(|k| {
                let v = st.data.video(a, k, day);
                VideoInfo {
                    id: v.id.to_string(),
                    create_time: v.create_time,
                    share_url: share_url(a, v.id),
                    embed_link: embed_link(v.id),
                    title: v.title,
                    video_description: v.description,
                    duration: v.duration,
                    width: v.width,
                    height: v.height,
                    like_count: v.like_count,
                    comment_count: v.comment_count,
                    share_count: v.share_count,
                    view_count: v.view_count,
                }
            })
            .collect(),
    )
}

pub(crate) fn mint(st: &State, account: usize, scopes: u8) -> TokenResponse {
    let knobs = st.knobs().clone();
    let now_ms = st.now_ms();
    st.oauth_write().mint(&st.data, account, scopes, now_ms, &knobs)
}

async fn get_clock(st: Data) -> HttpResponse {
    HttpResponse::Ok().json(clock_info(&st))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    advance_days: Option<i64>,
    advance_seconds: Option<i64>,
    set: Option<DateTime<Utc>>,
}

async fn post_clock(st: Data, body: web::Bytes) -> HttpResponse {
    let change: ClockChange = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => {
            return bad_request(format!(
                "expected {{\"advance_days\":n}}, {{\"advance_seconds\":n}} or {{\"set\":\"RFC3339\"}}: {e}"
            ));
        }
    };
    if change.advance_days.is_none() && change.advance_seconds.is_none() && change.set.is_none() {
        return bad_request("give advance_days, advance_seconds or set");
    }
    if let Some(t) = change.set {
        st.set_now(t);
    }
    if let Some(d) = change.advance_days {
        st.advance_ms(d.saturating_mul(86_400_000));
    }
    if let Some(s) = change.advance_seconds {
        st.advance_ms(s.saturating_mul(1000));
    }
    HttpResponse::Ok().json(clock_info(&st))
}

async fn get_config(st: Data) -> HttpResponse {
    HttpResponse::Ok().json(&*st.knobs())
}

async fn post_config(st: Data, body: web::Bytes) -> HttpResponse {
    let patch: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(format!("invalid JSON: {e}")),
    };
    let mut knobs = st.knobs_mut();
    match knobs.merged_with(&patch) {
        Ok(next) => {
            *knobs = next;
            HttpResponse::Ok().json(&*knobs)
        }
        Err(e) => bad_request(e),
    }
}

async fn get_stats(st: Data) -> HttpResponse {
    let window = st.knobs().rate_window_ms;
    HttpResponse::Ok().json(st.stats.snapshot(window))
}

async fn reset_stats(st: Data) -> HttpResponse {
    st.stats.reset();
    st.fetches.reset();
    let window = st.knobs().rate_window_ms;
    HttpResponse::Ok().json(st.stats.snapshot(window))
}

async fn account_stats(st: Data) -> HttpResponse {
    HttpResponse::Ok().json(st.fetches.snapshot())
}

async fn reset_rate_limits(st: Data) -> HttpResponse {
    for l in &st.limiters {
        l.reset();
    }
    HttpResponse::Ok().json(json!({}))
}

#[derive(Deserialize)]
struct RevokeBody {
    open_id: String,
}

async fn revoke_grant(st: Data, body: web::Bytes) -> HttpResponse {
    let b: RevokeBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return bad_request(format!("expected {{\"open_id\":\"…\"}}: {e}")),
    };
    let Some(i) = st.data.account_index(&b.open_id) else {
        return HttpResponse::NotFound().json(json!({"error": "unknown open_id"}));
    };
    let now_ms = st.now_ms();
    let n = st.oauth_write().revoke_account(i, now_ms);
    HttpResponse::Ok().json(json!({"open_id": b.open_id, "revoked_live_grants": n}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MintBody {
    account: Option<usize>,
    open_id: Option<String>,
    scopes: Option<String>,
}

async fn mint_tokens(st: Data, body: web::Bytes) -> HttpResponse {
    let b: MintBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return bad_request(format!(
                "expected {{\"account\":n}} or {{\"open_id\":\"…\"}}, optional \"scopes\": {e}"
            ));
        }
    };
    let account = match (b.account, b.open_id.as_deref()) {
        (Some(i), _) if i < st.data.accounts.len() => i,
        (None, Some(o)) => match st.data.account_index(o) {
            Some(i) => i,
            None => return HttpResponse::NotFound().json(json!({"error": "unknown open_id"})),
        },
        _ => return bad_request("account index out of range or missing"),
    };
    let scopes = match b.scopes.as_deref() {
        None => S_ALL,
        Some(s) => match parse_scopes(s.split(',')) {
            Ok(bits) => bits,
            Err(u) => return bad_request(format!("unknown scope {u:?}")),
        },
    };
    HttpResponse::Ok().json(mint(&st, account, scopes))
}

async fn list_accounts(st: Data) -> HttpResponse {
    HttpResponse::Ok().json(accounts(&st))
}

async fn account_videos(st: Data, path: web::Path<String>) -> HttpResponse {
    match visible_videos(&st, &path) {
        Some(v) => HttpResponse::Ok().json(v),
        None => HttpResponse::NotFound().json(json!({"error": "unknown open_id"})),
    }
}

async fn media(path: web::Path<(String, String)>, req: HttpRequest) -> HttpResponse {
    let (kind, name) = path.into_inner();
    let stem = name.trim_end_matches(".svg");
    let size: u32 = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "size")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(168)
        .clamp(16, 1080);
    let hash = stem.bytes().fold(0u64, |acc, b| h(&[acc, u64::from(b)]));
    let svg = match kind.as_str() {
        "avatar" => html::placeholder_svg(hash, "@", size, size),
        "cover" => html::placeholder_svg(hash, "▶", 270, 480),
        _ => return HttpResponse::NotFound().finish(),
    };
    HttpResponse::Ok().content_type("image/svg+xml").insert_header(("cache-control", "public, max-age=86400")).body(svg)
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/sandbox/health", web::get().to(health))
        .route("/sandbox/clock", web::get().to(get_clock))
        .route("/sandbox/clock", web::post().to(post_clock))
        .route("/sandbox/config", web::get().to(get_config))
        .route("/sandbox/config", web::post().to(post_config))
        .route("/sandbox/stats", web::get().to(get_stats))
        .route("/sandbox/stats/reset", web::post().to(reset_stats))
        .route("/sandbox/stats/accounts", web::get().to(account_stats))
        .route("/sandbox/ratelimit/reset", web::post().to(reset_rate_limits))
        .route("/sandbox/grants/revoke", web::post().to(revoke_grant))
        .route("/sandbox/tokens", web::post().to(mint_tokens))
        .route("/sandbox/accounts", web::get().to(list_accounts))
        .route("/sandbox/accounts/{open_id}/videos", web::get().to(account_videos))
        .route("/sandbox/accounts/{open_id}/deauthorize", web::post().to(crate::webhook::deauthorize))
        .route("/sandbox/media/{kind}/{name}", web::get().to(media));
}
