//! Daily snapshots of an account's and its videos' statistics.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::DomainError;
use crate::store::StoreCode;

/// A TikTok video id: a decimal number of up to 32 digits (TikTok's are 19), kept as text
/// because it does not fit a JavaScript number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VideoId(String);

impl VideoId {
    /// Parses a video id: 1–32 ASCII digits.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        if !raw.is_empty() && raw.len() <= 32 && raw.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(DomainError::invalid("video_id", "must be 1-32 decimal digits"))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VideoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One day's account statistics of a store, as written by the user sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSnapshot {
    pub store_code: StoreCode,
    pub snapshot_date: NaiveDate,
    pub follower_count: i64,
    pub following_count: i64,
    pub likes_count: i64,
    pub video_count: i64,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
}

/// A stored user snapshot (`tiktok_user_daily`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSnapshotRow {
    pub id: i64,
    pub snapshot: UserSnapshot,
    pub created_at: DateTime<Utc>,
}

/// One day's statistics of one video, as written by the video sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoSnapshot {
    pub store_code: StoreCode,
    pub snapshot_date: NaiveDate,
    pub video_id: VideoId,
    pub view_count: i64,
    pub like_count: i64,
    pub comment_count: i64,
    pub share_count: i64,
    pub description: Option<String>,
    pub title: Option<String>,
    pub create_time: Option<DateTime<Utc>>,
    pub share_url: Option<String>,
    pub cover_image_url: Option<String>,
    pub duration: Option<i32>,
}

/// A stored video snapshot (`tiktok_video_daily`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoSnapshotRow {
    pub id: i64,
    pub snapshot: VideoSnapshot,
    pub created_at: DateTime<Utc>,
}

/// A video the hub has already seen for a store: the video sync refreshes these with
/// `video/query` instead of paging through them again with `video/list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownVideo {
    pub video_id: VideoId,
    pub create_time: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn video_id_accepts_exactly_digits(raw in "\\PC{0,40}") {
            let ok = !raw.is_empty() && raw.len() <= 32 && raw.bytes().all(|b| b.is_ascii_digit());
            prop_assert_eq!(VideoId::parse(&raw).is_ok(), ok);
        }

        #[test]
        fn nineteen_digit_ids_parse(n in 1_000_000_000_000_000_000u64..u64::MAX) {
            let raw = n.to_string();
            let id = VideoId::parse(&raw).unwrap();
            prop_assert_eq!(id.as_str(), raw.as_str());
        }
    }
}
