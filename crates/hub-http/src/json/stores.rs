//! Stores and their accounts.

use chrono::{DateTime, Utc};
use hub_domain::{LatestUserStats, LatestVideoStats, Store, StoreOverview};
use hub_engine::StoreAccount;
use paperclip::actix::Apiv2Schema;
use serde::Serialize;

use crate::json::common::{envelope, opt_ts, ts};

/// A store's headline account numbers, from its latest user snapshot.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct LatestUserStatsJson {
    pub follower_count: i64,
    pub likes_count: i64,
    pub video_count: i64,
}

/// Totals over a store's latest day of video snapshots.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct LatestVideoStatsJson {
    pub total_videos: i64,
    pub total_views: i64,
}

/// A store with its connection and latest statistics.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct StoreJson {
    pub store_code: String,
    pub store_name: String,
    pub pic_name: String,
    pub pic_contact: Option<String>,
    /// The store's group (a region, for example); null: none.
    pub store_group: Option<String>,
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
    /// CONNECTED, NEED_RECONNECT, DISCONNECTED, or NOT_CONNECTED for a store never connected.
    pub connection_status: String,
    /// Why a store needs reconnecting: REVOKED, REFRESH_EXPIRED, SCOPE_MISSING, GRANT_INVALID, TOKEN_INVALID.
    pub connection_reason: Option<String>,
    pub account_id: Option<i64>,
    /// TikTok `open_id` of the connected account.
    pub account_identifier: Option<String>,
    #[serde(serialize_with = "opt_ts")]
    pub connected_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "opt_ts")]
    pub last_sync_time: Option<DateTime<Utc>>,
    #[serde(serialize_with = "opt_ts")]
    pub token_expires_at: Option<DateTime<Utc>>,
    pub latest_user_stats: Option<LatestUserStatsJson>,
    pub latest_video_stats: Option<LatestVideoStatsJson>,
}

impl From<StoreOverview> for StoreJson {
    fn from(o: StoreOverview) -> Self {
        let Store { code, name, pic_name, pic_contact, group, created_at } = o.store;
        Self {
            store_code: code.to_string(),
            store_name: name,
            pic_name,
            pic_contact,
            store_group: group.map(|g| g.to_string()),
            created_at,
            connection_status: o.connection_status.map_or("NOT_CONNECTED", |s| s.as_str()).to_owned(),
            connection_reason: o.connection_status.and_then(|s| s.reason()).map(|r| r.as_str().to_owned()),
            account_id: o.account_id.map(|a| a.0),
            account_identifier: o.account_identifier,
            connected_at: o.connected_at,
            last_sync_time: o.last_sync_time,
            token_expires_at: o.token_expires_at,
            latest_user_stats: o.latest_user_stats.map(
                |LatestUserStats { follower_count, likes_count, video_count, .. }| LatestUserStatsJson {
                    follower_count,
                    likes_count,
                    video_count,
                },
            ),
            latest_video_stats: o.latest_video_stats.map(|LatestVideoStats { total_videos, total_views, .. }| {
                LatestVideoStatsJson { total_videos, total_views }
            }),
        }
    }
}

/// A store as stored (a created or changed one).
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedStoreJson {
    pub store_code: String,
    pub store_name: String,
    pub pic_name: String,
    pub pic_contact: Option<String>,
    /// The store's group; null: none.
    pub store_group: Option<String>,
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
}

impl From<Store> for CreatedStoreJson {
    fn from(s: Store) -> Self {
        Self {
            store_code: s.code.to_string(),
            store_name: s.name,
            pic_name: s.pic_name,
            pic_contact: s.pic_contact,
            store_group: s.group.map(|g| g.to_string()),
            created_at: s.created_at,
        }
    }
}

/// `POST /admin/stores` answer.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct CreateStoreResponse {
    /// Always `true`.
    pub success: bool,
    pub data: CreatedStoreJson,
    pub message: String,
    /// What to do next: issue a connect link for the store's staff.
    pub next_step: String,
}

/// A store's TikTok account (tokens never leave the server).
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct AccountJson {
    pub id: i64,
    pub store_code: String,
    pub platform: String,
    /// Connected with an unexpired access token.
    pub has_valid_token: bool,
    pub account_identifier: Option<String>,
    #[serde(serialize_with = "opt_ts")]
    pub last_sync_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "ts")]
    pub updated_at: DateTime<Utc>,
    /// CONNECTED, NEED_RECONNECT or DISCONNECTED.
    pub status: String,
    pub status_reason: Option<String>,
    #[serde(serialize_with = "opt_ts")]
    pub token_expires_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "opt_ts")]
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
}

impl From<StoreAccount> for AccountJson {
    fn from(StoreAccount { account: a, has_valid_token }: StoreAccount) -> Self {
        Self {
            has_valid_token,
            id: a.id.0,
            store_code: a.store_code.to_string(),
            platform: a.platform,
            account_identifier: a.open_id,
            last_sync_at: a.last_sync_time,
            created_at: a.created_at,
            updated_at: a.updated_at,
            status: a.status.as_str().to_owned(),
            status_reason: a.status.reason().map(|r| r.as_str().to_owned()),
            token_expires_at: a.token_expires_at,
            refresh_token_expires_at: a.refresh_token_expires_at,
            scopes: a.scopes,
        }
    }
}

envelope!(
    /// `{"success":true,"data":[store…],"count":n}`
    StoreListResponse, list StoreJson
);
envelope!(
    /// `{"success":true,"data":store}`
    StoreResponse, StoreJson
);
envelope!(
    /// `{"success":true,"data":[account…],"count":n}`
    AccountListResponse, list AccountJson
);
envelope!(
    /// `{"success":true,"data":store}` (the store as stored after the change)
    UpdatedStoreResponse, CreatedStoreJson
);

pub(crate) const STORE_COLUMNS: &[&str] = &[
    "storeCode",
    "storeName",
    "picName",
    "picContact",
    "storeGroup",
    "createdAt",
    "connectionStatus",
    "connectionReason",
    "accountId",
    "accountIdentifier",
    "connectedAt",
    "lastSyncTime",
    "tokenExpiresAt",
    "latestUserStats.followerCount",
    "latestUserStats.likesCount",
    "latestUserStats.videoCount",
    "latestVideoStats.totalVideos",
    "latestVideoStats.totalViews",
];
