//! One store's history: daily user and video snapshots.

use chrono::{DateTime, NaiveDate, Utc};
use hub_domain::{UserSnapshotRow, VideoSnapshotRow};
use paperclip::actix::Apiv2Schema;
use serde::Serialize;

use crate::json::common::{envelope, opt_ts, ts};

/// One day's account statistics.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct UserStatJson {
    pub id: i64,
    pub store_code: String,
    pub snapshot_date: NaiveDate,
    pub follower_count: i64,
    pub following_count: i64,
    pub likes_count: i64,
    pub video_count: i64,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
}

impl From<UserSnapshotRow> for UserStatJson {
    fn from(r: UserSnapshotRow) -> Self {
        let s = r.snapshot;
        Self {
            id: r.id,
            store_code: s.store_code.to_string(),
            snapshot_date: s.snapshot_date,
            follower_count: s.follower_count,
            following_count: s.following_count,
            likes_count: s.likes_count,
            video_count: s.video_count,
            display_name: s.display_name,
            avatar_url: s.avatar_url,
            created_at: r.created_at,
        }
    }
}

/// One day's statistics of one video.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct VideoStatJson {
    pub id: i64,
    pub store_code: String,
    pub snapshot_date: NaiveDate,
    /// TikTok's video id (19 digits, as text).
    pub video_id: String,
    pub view_count: i64,
    pub like_count: i64,
    pub comment_count: i64,
    pub share_count: i64,
    pub description: Option<String>,
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
    pub title: Option<String>,
    #[serde(serialize_with = "opt_ts")]
    pub create_time: Option<DateTime<Utc>>,
    pub share_url: Option<String>,
    pub cover_image_url: Option<String>,
    /// Seconds.
    pub duration: Option<i32>,
}

impl From<VideoSnapshotRow> for VideoStatJson {
    fn from(r: VideoSnapshotRow) -> Self {
        let s = r.snapshot;
        Self {
            id: r.id,
            store_code: s.store_code.to_string(),
            snapshot_date: s.snapshot_date,
            video_id: s.video_id.to_string(),
            view_count: s.view_count,
            like_count: s.like_count,
            comment_count: s.comment_count,
            share_count: s.share_count,
            description: s.description,
            created_at: r.created_at,
            title: s.title,
            create_time: s.create_time,
            share_url: s.share_url,
            cover_image_url: s.cover_image_url,
            duration: s.duration,
        }
    }
}

envelope!(
    /// `{"success":true,"data":[snapshot…],"count":n}`
    UserStatsResponse, list UserStatJson
);
envelope!(
    /// `{"success":true,"data":[snapshot…],"count":n}`
    VideoStatsResponse, list VideoStatJson
);

pub(crate) const USER_STAT_COLUMNS: &[&str] = &[
    "id",
    "storeCode",
    "snapshotDate",
    "followerCount",
    "followingCount",
    "likesCount",
    "videoCount",
    "displayName",
    "avatarUrl",
    "createdAt",
];

pub(crate) const VIDEO_STAT_COLUMNS: &[&str] = &[
    "id",
    "storeCode",
    "snapshotDate",
    "videoId",
    "viewCount",
    "likeCount",
    "commentCount",
    "shareCount",
    "description",
    "createdAt",
    "title",
    "createTime",
    "shareUrl",
    "coverImageUrl",
    "duration",
];
