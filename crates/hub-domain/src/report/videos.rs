//! The top videos of a day, with the views they gained over a range.

use super::rules::{DateRange, delta, engagement};
use crate::error::DomainError;
use crate::group::StoreGroup;
use crate::snapshot::VideoId;
use crate::store::StoreCode;

/// Sort keys of the top-videos report (always descending, nulls last).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VideoSort {
    Views,
    ViewsGained,
    Likes,
    Engagement,
}

impl VideoSort {
    pub const ALL: [Self; 4] = [Self::Views, Self::ViewsGained, Self::Likes, Self::Engagement];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Views => "views",
            Self::ViewsGained => "views_gained",
            Self::Likes => "likes",
            Self::Engagement => "engagement",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or(DomainError::invalid("sort", "must be one of views, views_gained, likes, engagement"))
    }
}

/// What the top-videos report asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopVideosQuery {
    pub range: DateRange,
    pub sort: VideoSort,
    pub store: Option<StoreCode>,
    /// Only the stores of this group (within the asker's scope).
    pub group: Option<StoreGroup>,
    pub limit: i64,
}

/// One video at `to`, with its views at `from`.
#[derive(Debug, Clone, PartialEq)]
pub struct TopVideo {
    pub store_code: StoreCode,
    pub video_id: VideoId,
    pub title: Option<String>,
    pub description: Option<String>,
    pub create_time: Option<chrono::DateTime<chrono::Utc>>,
    pub share_url: Option<String>,
    pub views: i64,
    pub likes: i64,
    pub comments: i64,
    pub shares: i64,
    /// `None` when the video had no snapshot at `from`.
    pub views_from: Option<i64>,
}

impl TopVideo {
    /// Views gained since `from`; `None` when the video had no snapshot then.
    pub fn views_gained(&self) -> Option<i64> {
        delta(Some(self.views), self.views_from)
    }

    /// (likes + comments + shares) / views; `None` without views.
    pub fn engagement(&self) -> Option<f64> {
        engagement(Some(self.likes + self.comments + self.shares), Some(self.views))
    }
}
