//! TikTok's Display API: user info, video list and video query.
// Handlers return a ready HttpResponse as their error value on purpose.
#![allow(clippy::result_large_err)]

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::api::{Data, api_error, api_ok, api_prelude, check_scopes, new_log_id, parse_fields};
use crate::data::{Account, VideoData, h};
use crate::state::{Authed, Endpoint, S_BASIC, S_PROFILE, S_STATS, S_VIDEO, State};

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
    st.fetches.user_info(authed.account);
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
    if body.cursor.is_none() {
        st.fetches.first_page(authed.account);
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
