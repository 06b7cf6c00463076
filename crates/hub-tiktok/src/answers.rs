//! What TikTok's successful answers hold: a token grant, a user, a page of videos. Read
//! leniently (missing counts are 0), refused when a field the hub needs is absent.

use hub_domain::Secret;
use hub_ports::{TikTokError, TikTokUser, TikTokVideo, TokenGrant, VideoPage};
use serde_json::{Map, Value};

use crate::decode::{Success, count, opt_i64, rejected, text};
use crate::stats::Endpoint;

fn invalid_response(ep: Endpoint, what: &str) -> TikTokError {
    rejected("invalid_response", format!("{} answered without {what}", ep.name()))
}

/// The grant of a successful token answer.
pub(crate) fn grant_of(success: Success) -> Result<TokenGrant, TikTokError> {
    let ep = Endpoint::Token;
    let obj = match success {
        Success::Token(obj) => obj,
        // Tolerate a v2-enveloped token answer.
        Success::Envelope(Value::Object(data)) if data.contains_key("access_token") => data,
        _ => return Err(invalid_response(ep, "an access_token")),
    };
    grant_from(&obj).ok_or_else(|| invalid_response(ep, "refresh_token, open_id or expiries"))
}

/// The `data` object of a successful v2 answer.
pub(crate) fn data_of(ep: Endpoint, success: Success) -> Result<Map<String, Value>, TikTokError> {
    match success {
        Success::Envelope(Value::Object(data)) => Ok(data),
        _ => Err(invalid_response(ep, "a data envelope")),
    }
}

/// The user of a `user/info` answer's `data`.
pub(crate) fn user_of(data: &Map<String, Value>) -> Result<TikTokUser, TikTokError> {
    let Some(Value::Object(u)) = data.get("user") else {
        return Err(invalid_response(Endpoint::UserInfo, "data.user"));
    };
    Ok(TikTokUser {
        open_id: text(u.get("open_id")).unwrap_or_default(),
        display_name: text(u.get("display_name")),
        avatar_url: text(u.get("avatar_url")),
        follower_count: count(u.get("follower_count")),
        following_count: count(u.get("following_count")),
        likes_count: count(u.get("likes_count")),
        video_count: count(u.get("video_count")),
    })
}

/// The page of a `video/list` answer's `data`.
pub(crate) fn page_of(data: &Map<String, Value>) -> VideoPage {
    VideoPage {
        videos: videos_from(data),
        cursor: opt_i64(data.get("cursor")),
        has_more: data.get("has_more").and_then(Value::as_bool).unwrap_or(false),
    }
}

fn grant_from(obj: &Map<String, Value>) -> Option<TokenGrant> {
    let access = text(obj.get("access_token"))?;
    let refresh = text(obj.get("refresh_token"))?;
    let open_id = text(obj.get("open_id"))?;
    Some(TokenGrant {
        access_token: Secret::new(access),
        refresh_token: Secret::new(refresh),
        open_id,
        expires_in: opt_i64(obj.get("expires_in"))?,
        refresh_expires_in: opt_i64(obj.get("refresh_expires_in"))?,
        scopes: text(obj.get("scope"))
            .unwrap_or_default()
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

pub(crate) fn video_from(v: &Value) -> Option<TikTokVideo> {
    let o = v.as_object()?;
    Some(TikTokVideo {
        id: text(o.get("id"))?,
        create_time: opt_i64(o.get("create_time")),
        title: text(o.get("title")),
        video_description: text(o.get("video_description")),
        share_url: text(o.get("share_url")),
        cover_image_url: text(o.get("cover_image_url")),
        duration: opt_i64(o.get("duration")).and_then(|d| i32::try_from(d).ok()),
        view_count: count(o.get("view_count")),
        like_count: count(o.get("like_count")),
        comment_count: count(o.get("comment_count")),
        share_count: count(o.get("share_count")),
    })
}

pub(crate) fn videos_from(data: &Map<String, Value>) -> Vec<TikTokVideo> {
    data.get("videos")
        .and_then(Value::as_array)
        .map(|vs| vs.iter().filter_map(video_from).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn lenient_video_and_grant_parsing() {
        let v = video_from(&json!({"id": 7_300_000_000_000_000_001_u64})).expect("video");
        assert_eq!(v.id, "7300000000000000001");
        assert_eq!((v.view_count, v.title, v.create_time), (0, None, None));
        assert!(video_from(&json!({"title": "no id"})).is_none());
        let g = grant_from(
            json!({"access_token":"act.1","refresh_token":"rft.1","open_id":"o","expires_in":7200,
                   "refresh_expires_in":"15552000","scope":"user.info.basic, video.list"})
            .as_object()
            .expect("obj"),
        )
        .expect("grant");
        assert_eq!(g.scopes, ["user.info.basic", "video.list"]);
        assert_eq!(g.refresh_expires_in, 15_552_000);
        assert!(grant_from(json!({"access_token":"act.1"}).as_object().expect("obj")).is_none());
    }
}
