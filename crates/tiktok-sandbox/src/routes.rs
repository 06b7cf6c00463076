//! TikTok's own routes: consent, token, revoke, user info, video list and query.
// Handlers return a ready HttpResponse as their error value on purpose.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, LOCATION};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use rand::Rng;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::config::{KNOWN_SCOPES, LatencyMs, RateLimitKey};
use crate::data::{Account, VideoData, h};
use crate::html;
use crate::state::{
    Authed, Endpoint, OAuthError, Outcome, S_ALL, S_BASIC, S_PROFILE, S_STATS, S_VIDEO, State, oauth_err, parse_scopes,
    scaled_secs, scope_name,
};

pub(crate) type Data = web::Data<State>;

pub(crate) const LOGID_HEADER: &str = "x-tt-logid";

/// TikTok-style log id: UTC timestamp + 16 hex digits.
pub(crate) fn new_log_id() -> String {
    format!("{}{:016X}", Utc::now().format("%Y%m%d%H%M%S"), rand::rng().random::<u64>())
}

// ---------------------------------------------------------------- v2 envelope

fn envelope(status: StatusCode, log_id: &str, code: &str, message: &str, data: Value) -> HttpResponse {
    let body = json!({
        "data": data,
        "error": {"code": code, "message": message, "log_id": log_id},
    });
    HttpResponse::build(status).insert_header((LOGID_HEADER, log_id)).json(body)
}

fn api_error(st: &State, ep: Endpoint, log_id: &str, status: u16, code: &str, message: &str) -> HttpResponse {
    let outcome = if status == 429 { Outcome::RateLimited } else { Outcome::Error };
    st.stats.record(ep, outcome);
    envelope(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), log_id, code, message, json!({}))
}

fn api_ok(st: &State, ep: Endpoint, log_id: &str, data: Value) -> HttpResponse {
    st.stats.record(ep, Outcome::Ok);
    envelope(StatusCode::OK, log_id, "ok", "", data)
}

/// The knobs a data request needs, copied out of the lock.
struct ApiKnobs {
    latency: Option<LatencyMs>,
    time_scale: f64,
    limit: u64,
    key: RateLimitKey,
    window: Duration,
    f_internal: f64,
    f_hang: f64,
    hang: Duration,
    f_token: f64,
    app_scopes: u8,
}

impl ApiKnobs {
    fn read(st: &State) -> ApiKnobs {
        let k = st.knobs();
        let limit = if k.rate_limit_per_min == 0 {
            0
        } else {
            ((f64::from(k.rate_limit_per_min) * k.time_scale).round() as u64).max(1)
        };
        ApiKnobs {
            latency: k.latency_ms,
            time_scale: k.time_scale,
            limit,
            key: k.rate_limit_key,
            window: Duration::from_millis(k.rate_window_ms),
            f_internal: k.fault_internal_error,
            f_hang: k.fault_hang,
            hang: Duration::from_secs(k.hang_secs),
            f_token: k.fault_token_invalid,
            app_scopes: parse_scopes(k.app_scopes.iter().map(|s| s.as_str())).unwrap_or(S_ALL),
        }
    }
}

async fn sleep_latency(latency: Option<LatencyMs>, time_scale: f64) {
    if let Some(l) = latency {
        let ms = if l.max > l.min { rand::rng().random_range(l.min..=l.max) } else { l.min };
        let d = Duration::from_secs_f64(ms as f64 / 1000.0 / time_scale);
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
    }
}

fn bearer(req: &HttpRequest) -> &str {
    req.headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .unwrap_or("")
}

fn roll(p: f64) -> bool {
    p > 0.0 && rand::rng().random::<f64>() < p
}

/// Common start of the data endpoints: stats, latency, rate window, faults, token.
async fn api_prelude(st: &State, ep: Endpoint, req: &HttpRequest, log_id: &str) -> Result<(Authed, u8), HttpResponse> {
    let k = ApiKnobs::read(st);
    st.stats.record_call(ep, k.window);
    sleep_latency(k.latency, k.time_scale).await;
    let token = bearer(req);
    let limiter = &st.limiters[ep as usize - Endpoint::UserInfo as usize];
    if !limiter.admit(st.rate_key(k.key, token), k.limit, k.window) {
        return Err(api_error(
            st,
            ep,
            log_id,
            429,
            "rate_limit_exceeded",
            "API rate limit was exceeded, please try again later.",
        ));
    }
    if roll(k.f_hang) {
        tracing::debug!(?ep, "fault: hanging request");
        tokio::time::sleep(k.hang).await;
    }
    if roll(k.f_internal) {
        return Err(api_error(st, ep, log_id, 500, "internal_error", "Internal error (sandbox fault injection)."));
    }
    if roll(k.f_token) {
        return Err(api_error(
            st,
            ep,
            log_id,
            401,
            "access_token_invalid",
            "The access token is invalid or not found in the request.",
        ));
    }
    let authed = st.oauth_read().validate_access(token, st.now_ms());
    match authed {
        Some(a) => Ok((a, k.app_scopes)),
        None => Err(api_error(
            st,
            ep,
            log_id,
            401,
            "access_token_invalid",
            "The access token is invalid or not found in the request.",
        )),
    }
}

/// The requested `fields`, as indexes into `table`; `Err(message)` when missing or unknown.
fn parse_fields(req: &HttpRequest, table: &[(&str, u8)]) -> Result<Vec<usize>, String> {
    let raw = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "fields")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let mut out = Vec::new();
    for f in raw.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        match table.iter().position(|(n, _)| *n == f) {
            Some(i) => {
                if !out.contains(&i) {
                    out.push(i);
                }
            }
            None => return Err(format!("Invalid field: {f}")),
        }
    }
    if out.is_empty() {
        return Err("The fields parameter is required.".into());
    }
    Ok(out)
}

/// Scope checks of a request needing `needed`.
fn check_scopes(st: &State, ep: Endpoint, log_id: &str, needed: u8, app: u8, token: u8) -> Result<(), HttpResponse> {
    let missing_app = needed & !app;
    if missing_app != 0 {
        let s = scope_name(missing_app & missing_app.wrapping_neg());
        return Err(api_error(
            st,
            ep,
            log_id,
            400,
            "scope_permission_missed",
            &format!("The app has not been approved for the scope {s}."),
        ));
    }
    let missing = needed & !token;
    if missing != 0 {
        let s = scope_name(missing & missing.wrapping_neg());
        return Err(api_error(
            st,
            ep,
            log_id,
            401,
            "scope_not_authorized",
            &format!("The user did not authorize the scope required for completing this request: {s}."),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------- user info

const USER_FIELDS: [(&str, u8); 14] = [
    ("open_id", S_BASIC),
    ("union_id", S_BASIC),
    ("avatar_url", S_BASIC),
    ("avatar_url_100", S_BASIC),
    ("avatar_large_url", S_BASIC),
    ("display_name", S_BASIC),
    ("bio_description", S_PROFILE),
    ("profile_deep_link", S_PROFILE),
    ("is_verified", S_PROFILE),
    ("username", S_PROFILE),
    ("follower_count", S_STATS),
    ("following_count", S_STATS),
    ("likes_count", S_STATS),
    ("video_count", S_STATS),
];

pub(crate) async fn user_info(st: Data, req: HttpRequest) -> HttpResponse {
    let ep = Endpoint::UserInfo;
    let log_id = new_log_id();
    let (authed, app_scopes) = match api_prelude(&st, ep, &req, &log_id).await {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    let fields = match parse_fields(&req, &USER_FIELDS) {
        Ok(f) => f,
        Err(m) => return api_error(&st, ep, &log_id, 400, "invalid_params", &m),
    };
    let needed = fields.iter().fold(0, |acc, &i| acc | USER_FIELDS[i].1);
    if let Err(resp) = check_scopes(&st, ep, &log_id, needed, app_scopes, authed.scopes) {
        return resp;
    }
    let a = &st.data.accounts[authed.account];
    let now_ms = st.now_ms();
    let now = now_ms.div_euclid(1000);
    let day = now_ms.div_euclid(86_400_000);
    let base = st.base_url();
    let mut user = Map::with_capacity(fields.len());
    for &i in &fields {
        let name = USER_FIELDS[i].0;
        let v: Value = match name {
            "open_id" => a.open_id.clone().into(),
            "union_id" => a.union_id.clone().into(),
            "avatar_url" => avatar(base, a, 168).into(),
            "avatar_url_100" => avatar(base, a, 100).into(),
            "avatar_large_url" => avatar(base, a, 1080).into(),
            "display_name" => a.display_name.clone().into(),
            "bio_description" => a.bio_description.clone().into(),
            "profile_deep_link" => format!("https://www.tiktok.com/@{}", a.username).into(),
            "is_verified" => a.is_verified.into(),
            "username" => a.username.clone().into(),
            "follower_count" => st.data.follower_count(a, day).into(),
            "following_count" => st.data.following_count(a, day).into(),
            "likes_count" => st.data.likes_total(a, now, day).into(),
            "video_count" => st.data.count_at(a, now).into(),
            _ => Value::Null,
        };
        user.insert(name.to_string(), v);
    }
    api_ok(&st, ep, &log_id, json!({ "user": user }))
}

pub(crate) fn avatar(base: &str, a: &Account, size: u32) -> String {
    format!("{base}/sandbox/media/avatar/{}.svg?size={size}", a.open_id)
}

// ---------------------------------------------------------------- videos

const VIDEO_FIELDS: [(&str, u8); 15] = [
    ("id", S_VIDEO),
    ("create_time", S_VIDEO),
    ("cover_image_url", S_VIDEO),
    ("share_url", S_VIDEO),
    ("video_description", S_VIDEO),
    ("title", S_VIDEO),
    ("duration", S_VIDEO),
    ("height", S_VIDEO),
    ("width", S_VIDEO),
    ("embed_html", S_VIDEO),
    ("embed_link", S_VIDEO),
    ("like_count", S_VIDEO),
    ("comment_count", S_VIDEO),
    ("share_count", S_VIDEO),
    ("view_count", S_VIDEO),
];

pub(crate) fn share_url(a: &Account, id: u64) -> String {
    format!("https://www.tiktok.com/@{}/video/{id}", a.username)
}

pub(crate) fn embed_link(id: u64) -> String {
    format!("https://www.tiktok.com/player/v1/{id}")
}

fn video_json(st: &State, a: &Account, v: &VideoData, fields: &[usize], now: i64) -> Value {
    let mut m = Map::with_capacity(fields.len());
    for &i in fields {
        let name = VIDEO_FIELDS[i].0;
        let val: Value = match name {
            "id" => v.id.to_string().into(),
            "create_time" => v.create_time.into(),
            "cover_image_url" => {
                let expires = now + 6 * 3600;
                let sig = h(&[st.data.seed, v.id, expires as u64]);
                format!(
                    "{}/sandbox/media/cover/{}.svg?x-expires={expires}&x-signature={sig:016x}",
                    st.base_url(),
                    v.id
                )
                .into()
            }
            "share_url" => share_url(a, v.id).into(),
            "video_description" => v.description.clone().into(),
            "title" => v.title.clone().into(),
            "duration" => v.duration.into(),
            "height" => v.height.into(),
            "width" => v.width.into(),
            "embed_html" => format!(
                "<blockquote class=\"tiktok-embed\" cite=\"{}\" data-video-id=\"{}\" style=\"max-width: 605px;min-width: 325px;\"><section></section></blockquote>",
                share_url(a, v.id),
                v.id
            )
            .into(),
            "embed_link" => embed_link(v.id).into(),
            "like_count" => v.like_count.into(),
            "comment_count" => v.comment_count.into(),
            "share_count" => v.share_count.into(),
            "view_count" => v.view_count.into(),
            _ => Value::Null,
        };
        m.insert(name.to_string(), val);
    }
    Value::Object(m)
}

/// A JSON object body (serde would also accept an array for a struct).
fn json_object<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    match serde_json::from_slice::<Value>(body).map_err(|e| e.to_string())? {
        v @ Value::Object(_) => serde_json::from_value(v).map_err(|e| e.to_string()),
        _ => Err("expected a JSON object".into()),
    }
}

#[derive(Deserialize)]
struct ListBody {
    max_count: Option<i64>,
    cursor: Option<i64>,
}

/// One page of an account's list: (video indexes newest first, next cursor, has_more).
pub(crate) fn list_page(
    st: &State,
    a: &Account,
    now: i64,
    cursor: Option<i64>,
    max_count: u64,
) -> (Vec<u64>, i64, bool) {
    let visible = st.data.count_at(a, now);
    let upper = match cursor {
        None => visible,
        Some(c) if c <= 0 => 0,
        Some(c) => visible.min(st.data.count_at(a, (c - 1).div_euclid(1000))),
    };
    let mut page = upper.min(max_count);
    if upper > max_count && max_count >= 2 && st.data.short_page(a, upper - 1) {
        page = 1 + h(&[st.data.seed, a.index as u64, upper]) % (max_count - 1);
    }
    let ks: Vec<u64> = (upper - page..upper).rev().collect();
    let next_cursor = match ks.last() {
        Some(&k) => st.data.create_time(a, k) * 1000,
        None => cursor.unwrap_or(0),
    };
    (ks, next_cursor, upper - page > 0)
}

/// What `video/list` and `video/query` check first, in TikTok's order: the token and the rate
/// window, the `fields`, the scopes, then the JSON body.
async fn video_prelude<T: serde::de::DeserializeOwned>(
    st: &State,
    ep: Endpoint,
    req: &HttpRequest,
    log_id: &str,
    body: &[u8],
) -> Result<(Authed, Vec<usize>, T), HttpResponse> {
    let (authed, app_scopes) = api_prelude(st, ep, req, log_id).await?;
    let fields = parse_fields(req, &VIDEO_FIELDS).map_err(|m| api_error(st, ep, log_id, 400, "invalid_params", &m))?;
    check_scopes(st, ep, log_id, S_VIDEO, app_scopes, authed.scopes)?;
    let body = json_object(body)
        .map_err(|e| api_error(st, ep, log_id, 400, "invalid_params", &format!("Invalid request body: {e}")))?;
    Ok((authed, fields, body))
}

pub(crate) async fn video_list(st: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let ep = Endpoint::VideoList;
    let log_id = new_log_id();
    let (authed, fields, body) = match video_prelude::<ListBody>(&st, ep, &req, &log_id, &body).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let max_count = body.max_count.unwrap_or(10);
    if !(1..=20).contains(&max_count) {
        return api_error(&st, ep, &log_id, 400, "invalid_params", "max_count must be between 1 and 20.");
    }
    if body.cursor.is_some_and(|c| c < 0) {
        return api_error(&st, ep, &log_id, 400, "invalid_params", "cursor must not be negative.");
    }
    let a = &st.data.accounts[authed.account];
    let now_ms = st.now_ms();
    let now = now_ms.div_euclid(1000);
    let day = now_ms.div_euclid(86_400_000);
    let (ks, cursor, has_more) = list_page(&st, a, now, body.cursor, max_count as u64);
    let videos: Vec<Value> = ks.iter().map(|&k| video_json(&st, a, &st.data.video(a, k, day), &fields, now)).collect();
    api_ok(&st, ep, &log_id, json!({"videos": videos, "cursor": cursor, "has_more": has_more}))
}

#[derive(Deserialize)]
struct QueryBody {
    filters: QueryFilters,
}

#[derive(Deserialize)]
struct QueryFilters {
    video_ids: Vec<String>,
}

pub(crate) async fn video_query(st: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let ep = Endpoint::VideoQuery;
    let log_id = new_log_id();
    let (authed, fields, body) = match video_prelude::<QueryBody>(&st, ep, &req, &log_id, &body).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let ids = body.filters.video_ids;
    if ids.is_empty() || ids.len() > 20 {
        return api_error(&st, ep, &log_id, 400, "invalid_params", "video_ids must hold 1 to 20 ids.");
    }
    let a = &st.data.accounts[authed.account];
    let now_ms = st.now_ms();
    let now = now_ms.div_euclid(1000);
    let day = now_ms.div_euclid(86_400_000);
    let visible = st.data.count_at(a, now);
    let mut seen = Vec::with_capacity(ids.len());
    let mut videos = Vec::with_capacity(ids.len());
    for id in &ids {
        let Ok(n) = id.trim().parse::<u64>() else {
            continue;
        };
        if seen.contains(&n) {
            continue;
        }
        seen.push(n);
        if let Some((acc, k)) = st.data.decode_video_id(n)
            && acc == a.index
            && k < visible
        {
            videos.push(video_json(&st, a, &st.data.video(a, k, day), &fields, now));
        }
    }
    api_ok(&st, ep, &log_id, json!({ "videos": videos }))
}

// ---------------------------------------------------------------- OAuth errors

fn oauth_error_response(st: &State, ep: Endpoint, e: &OAuthError, status: StatusCode) -> HttpResponse {
    st.stats.record(ep, Outcome::Error);
    let log_id = new_log_id();
    tracing::debug!(error = e.error, description = %e.description, "oauth error");
    HttpResponse::build(status)
        .insert_header((LOGID_HEADER, log_id.as_str()))
        .json(json!({"error": e.error, "error_description": e.description, "log_id": log_id}))
}

fn configured_error_status(st: &State) -> StatusCode {
    if st.knobs().oauth_error_status == 400 { StatusCode::BAD_REQUEST } else { StatusCode::OK }
}

fn parse_form(req: &HttpRequest, body: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let ct = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    if !ct.starts_with("application/x-www-form-urlencoded") {
        return Err(oauth_err("invalid_request", "Content-Type must be application/x-www-form-urlencoded."));
    }
    Ok(url::form_urlencoded::parse(body).into_owned().collect())
}

fn required<'a>(form: &'a HashMap<String, String>, name: &str) -> Result<&'a str, OAuthError> {
    form.get(name)
        .map(|s| s.as_str())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| oauth_err("invalid_request", format!("Missing required parameter: {name}.")))
}

fn check_client(st: &State, form: &HashMap<String, String>) -> Result<(), OAuthError> {
    let key = required(form, "client_key")?;
    let secret = required(form, "client_secret")?;
    if key != st.client_key {
        return Err(oauth_err("invalid_client", "Client key is invalid."));
    }
    if secret != st.client_secret {
        return Err(oauth_err("invalid_client", "Client secret is invalid."));
    }
    Ok(())
}

// ---------------------------------------------------------------- token

pub(crate) async fn token(st: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let ep = Endpoint::Token;
    let knobs = st.knobs().clone();
    st.stats.record_call(ep, Duration::from_millis(knobs.rate_window_ms));
    sleep_latency(knobs.latency_ms, knobs.time_scale).await;
    if roll(knobs.fault_token_server_error) {
        let e = oauth_err("server_error", "Internal error (sandbox fault injection).");
        return oauth_error_response(&st, ep, &e, StatusCode::INTERNAL_SERVER_ERROR);
    }
    let result = (|| {
        let form = parse_form(&req, &body)?;
        check_client(&st, &form)?;
        let now_ms = st.now_ms();
        match required(&form, "grant_type")? {
            "authorization_code" => {
                let code = required(&form, "code")?;
                let redirect_uri = required(&form, "redirect_uri")?;
                let verifier = form.get("code_verifier").map(|s| s.as_str());
                st.oauth_write().redeem_code(&st.data, code, redirect_uri, verifier, now_ms, &knobs)
            }
            "refresh_token" => {
                let rt = required(&form, "refresh_token")?;
                st.oauth_write().refresh(&st.data, rt, now_ms, &knobs)
            }
            other => Err(oauth_err("unsupported_grant_type", format!("Unsupported grant_type: {other}."))),
        }
    })();
    match result {
        Ok(t) => {
            st.stats.record(ep, Outcome::Ok);
            HttpResponse::Ok().insert_header((LOGID_HEADER, new_log_id())).json(t)
        }
        Err(e) => oauth_error_response(&st, ep, &e, configured_error_status(&st)),
    }
}

// ---------------------------------------------------------------- revoke

pub(crate) async fn revoke(st: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let ep = Endpoint::Revoke;
    let (window, latency, ts) = {
        let k = st.knobs();
        (k.rate_window_ms, k.latency_ms, k.time_scale)
    };
    st.stats.record_call(ep, Duration::from_millis(window));
    sleep_latency(latency, ts).await;
    let result = (|| {
        let form = parse_form(&req, &body)?;
        check_client(&st, &form)?;
        let token = required(&form, "token")?;
        // RFC 7009: an unknown token is not an error.
        let revoked = st.oauth_write().revoke_token(token);
        tracing::debug!(revoked, "revoke");
        Ok::<_, OAuthError>(())
    })();
    match result {
        Ok(()) => {
            st.stats.record(ep, Outcome::Ok);
            HttpResponse::Ok().insert_header((LOGID_HEADER, new_log_id())).json(json!({}))
        }
        Err(e) => oauth_error_response(&st, ep, &e, configured_error_status(&st)),
    }
}

// ---------------------------------------------------------------- authorize

enum AuthFail {
    /// 400 HTML page: never redirect to an unregistered URI.
    Page(String),
    /// Redirect to the registered URI with `error` and `error_description`.
    Redirect(&'static str, String),
}

struct AuthRequest {
    scopes: u8,
    state: Option<String>,
    challenge: Option<String>,
    account_override: Option<usize>,
}

fn validate_auth(st: &State, p: &HashMap<String, String>) -> Result<AuthRequest, AuthFail> {
    let get = |k: &str| p.get(k).map(|s| s.as_str());
    match get("client_key") {
        Some(k) if k == st.client_key => {}
        Some(_) => {
            return Err(AuthFail::Page("client_key is invalid: this app is not registered.".into()));
        }
        None => return Err(AuthFail::Page("client_key is missing.".into())),
    }
    match get("redirect_uri") {
        Some(r) if r == st.redirect_uri => {}
        Some(r) => {
            return Err(AuthFail::Page(format!("redirect_uri {r:?} does not match the registered redirect URI.")));
        }
        None => return Err(AuthFail::Page("redirect_uri is missing.".into())),
    }
    let account_override = match get("sandbox_account") {
        None | Some("") => None,
        Some(s) => match s.parse::<usize>() {
            Ok(i) if i < st.data.accounts.len() => Some(i),
            _ => {
                return Err(AuthFail::Page(format!(
                    "sandbox_account {s:?} is not an account index (0..{}).",
                    st.data.accounts.len()
                )));
            }
        },
    };
    if get("response_type") != Some("code") {
        return Err(AuthFail::Redirect("unsupported_response_type", "response_type must be code.".into()));
    }
    let scope = get("scope").unwrap_or("");
    let scopes = parse_scopes(scope.split(','))
        .map_err(|s| AuthFail::Redirect("invalid_scope", format!("Unknown scope: {s}.")))?;
    if scopes & S_BASIC == 0 {
        return Err(AuthFail::Redirect("invalid_scope", "The scope must include user.info.basic.".into()));
    }
    let challenge = match (get("code_challenge"), get("code_challenge_method")) {
        (None | Some(""), None | Some("")) => None,
        (Some(c), Some("S256")) if !c.is_empty() => Some(c.to_string()),
        (Some(c), _) if !c.is_empty() => {
            return Err(AuthFail::Redirect("invalid_request", "code_challenge_method must be S256.".into()));
        }
        _ => {
            return Err(AuthFail::Redirect(
                "invalid_request",
                "code_challenge_method given without code_challenge.".into(),
            ));
        }
    };
    Ok(AuthRequest { scopes, state: get("state").map(str::to_string), challenge, account_override })
}

fn redirect(base: &str, params: &[(&str, &str)]) -> HttpResponse {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    let location = format!("{base}{sep}{}", ser.finish());
    HttpResponse::Found().insert_header((LOCATION, location)).finish()
}

fn error_redirect(st: &State, state: Option<&str>, error: &str, description: &str) -> HttpResponse {
    st.stats.record(Endpoint::Authorize, Outcome::Error);
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(s) = state {
        params.push(("state", s));
    }
    redirect(&st.redirect_uri, &params)
}

fn error_page(st: &State, message: &str) -> HttpResponse {
    st.stats.record(Endpoint::Authorize, Outcome::Error);
    HttpResponse::BadRequest().content_type("text/html; charset=utf-8").body(html::error_page(message))
}

fn grant_mask(st: &State) -> u8 {
    st.knobs().grant_scopes.as_ref().map_or(S_ALL, |g| parse_scopes(g.iter().map(|s| s.as_str())).unwrap_or(S_ALL))
}

/// Approves: issues a code for `account` and redirects to the callback.
fn approve(st: &State, ar: &AuthRequest, account: usize, granted: u8) -> HttpResponse {
    let ttl = {
        let k = st.knobs();
        scaled_secs(k.code_ttl_secs as i64, k.time_scale)
    };
    let now_ms = st.now_ms();
    let code =
        st.oauth_write().issue_code(account, granted, &st.redirect_uri, ar.challenge.clone(), now_ms + ttl * 1000);
    st.stats.record(Endpoint::Authorize, Outcome::Ok);
    let scopes = crate::state::scopes_string(granted);
    let mut params = vec![("code", code.as_str()), ("scopes", scopes.as_str())];
    if let Some(s) = &ar.state {
        params.push(("state", s));
    }
    redirect(&st.redirect_uri, &params)
}

fn choose_account(st: &State, ar: &AuthRequest) -> usize {
    if let Some(i) = ar.account_override {
        return i;
    }
    let forced = st.knobs().force_account;
    match forced {
        Some(i) if i < st.data.accounts.len() => i,
        _ => {
            let now_ms = st.now_ms();
            st.oauth_write().next_account(st.data.accounts.len(), now_ms)
        }
    }
}

pub(crate) async fn authorize(st: Data, req: HttpRequest) -> HttpResponse {
    let ep = Endpoint::Authorize;
    let (window, latency, ts, auto, deny) = {
        let k = st.knobs();
        (k.rate_window_ms, k.latency_ms, k.time_scale, k.auto_consent, k.deny_all)
    };
    st.stats.record_call(ep, Duration::from_millis(window));
    sleep_latency(latency, ts).await;
    let params: HashMap<String, String> =
        url::form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect();
    let ar = match validate_auth(&st, &params) {
        Ok(ar) => ar,
        Err(AuthFail::Page(m)) => return error_page(&st, &m),
        Err(AuthFail::Redirect(e, d)) => {
            return error_redirect(&st, params.get("state").map(|s| s.as_str()), e, &d);
        }
    };
    if deny {
        return error_redirect(&st, ar.state.as_deref(), "access_denied", "The user denied the authorization request.");
    }
    if st.data.accounts.is_empty() {
        return error_page(&st, "The sandbox has no accounts.");
    }
    if auto {
        let account = choose_account(&st, &ar);
        let granted = ar.scopes & grant_mask(&st);
        return approve(&st, &ar, account, granted);
    }
    // The consent page.
    let preselected = ar
        .account_override
        .or_else(|| st.knobs().force_account)
        .filter(|&i| i < st.data.accounts.len())
        .unwrap_or_else(|| {
            let now_ms = st.now_ms();
            let oauth = st.oauth_read();
            (0..st.data.accounts.len()).find(|&a| !oauth.account_has_live_grant(a, now_ms)).unwrap_or(0)
        });
    let now_ms = st.now_ms();
    let connected: Vec<bool> = {
        let oauth = st.oauth_read();
        (0..st.data.accounts.len()).map(|a| oauth.account_has_live_grant(a, now_ms)).collect()
    };
    let mask = grant_mask(&st);
    let hidden_keys =
        ["client_key", "redirect_uri", "response_type", "scope", "state", "code_challenge", "code_challenge_method"];
    let page = html::ConsentPage {
        hidden: hidden_keys.iter().filter_map(|k| params.get(*k).map(|v| (*k, v.as_str()))).collect(),
        accounts: st
            .data
            .accounts
            .iter()
            .map(|a| (a.index, a.display_name.as_str(), a.username.as_str(), connected[a.index]))
            .collect(),
        preselected,
        scopes: KNOWN_SCOPES
            .iter()
            .enumerate()
            .filter(|(i, _)| ar.scopes & (1 << i) != 0)
            .map(|(i, s)| (*s, mask & (1 << i) != 0, 1 << i == S_BASIC))
            .collect(),
    };
    st.stats.record(ep, Outcome::Ok);
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(html::consent_page(&page))
}

/// `POST /v2/auth/authorize/decision`: the consent page's form (sandbox route).
pub(crate) async fn authorize_decision(st: Data, body: web::Bytes) -> HttpResponse {
    let ep = Endpoint::Authorize;
    let window = st.knobs().rate_window_ms;
    st.stats.record_call(ep, Duration::from_millis(window));
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let params: HashMap<String, String> = pairs.iter().filter(|(k, _)| k != "granted_scope").cloned().collect();
    let ar = match validate_auth(&st, &params) {
        Ok(ar) => ar,
        Err(AuthFail::Page(m)) => return error_page(&st, &m),
        Err(AuthFail::Redirect(e, d)) => {
            return error_redirect(&st, params.get("state").map(|s| s.as_str()), e, &d);
        }
    };
    match params.get("decision").map(|s| s.as_str()) {
        Some("approve") => {}
        Some("deny") => {
            return error_redirect(
                &st,
                ar.state.as_deref(),
                "access_denied",
                "The user denied the authorization request.",
            );
        }
        _ => return error_page(&st, "decision must be approve or deny."),
    }
    let account = match params.get("account").map(|s| s.parse::<usize>()) {
        Some(Ok(i)) if i < st.data.accounts.len() => i,
        _ => return error_page(&st, "account must be a sandbox account index."),
    };
    let ticked = parse_scopes(pairs.iter().filter(|(k, _)| k == "granted_scope").map(|(_, v)| v.as_str())).unwrap_or(0);
    let granted = ar.scopes & (ticked | S_BASIC) & grant_mask(&st);
    approve(&st, &ar, account, granted)
}
