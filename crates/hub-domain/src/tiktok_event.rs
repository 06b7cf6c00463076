//! Events TikTok sends the hub's webhook, once their signature is verified and their body
//! decoded by the adapter that received them.

use chrono::{DateTime, Utc};

use crate::lifecycle::RevokeReason;

/// What an event means to the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TikTokEventKind {
    /// `authorization.removed`: the user's grant is gone, for this reason.
    AuthorizationRemoved(RevokeReason),
    /// Any other event: acknowledged and logged.
    Other,
}

/// One verified TikTok webhook event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TikTokEvent {
    /// Identifies a delivery's content: a redelivery carries the same key (SHA-256 of the body).
    pub dedupe_key: String,
    /// TikTok's event name (`authorization.removed`, …).
    pub event: String,
    pub kind: TikTokEventKind,
    /// TikTok's `open_id` of the user the event is about.
    pub user_openid: Option<String>,
    pub create_time: DateTime<Utc>,
    /// TikTok's `content` string, as sent.
    pub content: Option<String>,
}
