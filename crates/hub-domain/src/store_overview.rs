//! A store as the admin list shows it: its connection and latest statistics.

use chrono::{DateTime, NaiveDate, Utc};

use crate::account::{AccountId, ConnectionStatus};
use crate::lifecycle::RevokeReason;
use crate::store::Store;
use crate::sync::JobKind;

/// The latest user snapshot's headline numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatestUserStats {
    pub snapshot_date: NaiveDate,
    pub follower_count: i64,
    pub likes_count: i64,
    pub video_count: i64,
}

/// Totals over the latest day of video snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatestVideoStats {
    pub snapshot_date: NaiveDate,
    pub total_videos: i64,
    pub total_views: i64,
}

/// A store with its connection and latest statistics: one row of the admin store list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOverview {
    pub store: Store,
    /// `None` when the store has never been connected.
    pub account_id: Option<AccountId>,
    pub connection_status: Option<ConnectionStatus>,
    /// TikTok's reason, when its webhook said the authorization was removed.
    pub revoke_reason: Option<RevokeReason>,
    pub account_identifier: Option<String>,
    pub connected_at: Option<DateTime<Utc>>,
    pub last_sync_time: Option<DateTime<Utc>>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub latest_user_stats: Option<LatestUserStats>,
    pub latest_video_stats: Option<LatestVideoStats>,
}

impl StoreOverview {
    /// Whether a connected store still lacks `job`'s snapshot dated `date` (what a same-day
    /// retry covers).
    pub fn lacks_snapshot(&self, job: JobKind, date: NaiveDate) -> bool {
        let latest = match job {
            JobKind::SyncUserDaily => self.latest_user_stats.map(|u| u.snapshot_date),
            _ => self.latest_video_stats.map(|v| v.snapshot_date),
        };
        self.connection_status == Some(ConnectionStatus::Connected) && latest.is_none_or(|d| d < date)
    }

    /// How many videos the account had at its last sync (its video snapshots, else its
    /// profile); `None` when never synced.
    pub fn known_video_count(&self) -> Option<i64> {
        self.latest_video_stats.map(|v| v.total_videos).or(self.latest_user_stats.map(|u| u.video_count))
    }
}
