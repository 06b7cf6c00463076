//! Connect links and the OAuth flow's JSON answer.

use chrono::{DateTime, Utc};
use paperclip::actix::Apiv2Schema;
use serde::Serialize;

use crate::json::common::{envelope, ts};

/// A connect link for a store's staff.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectLinkJson {
    /// Single use; send it to the store's staff.
    pub url: String,
    #[serde(serialize_with = "ts")]
    pub expires_at: DateTime<Utc>,
}

/// The TikTok consent URL.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct AuthUrlJson {
    pub auth_url: String,
}

envelope!(
    /// `{"success":true,"data":{"url","expiresAt"}}`
    ConnectLinkResponse, ConnectLinkJson
);
envelope!(
    /// `{"success":true,"data":{"authUrl"}}`
    AuthUrlResponse, AuthUrlJson
);
