//! A store's lifecycle changes: what a disconnect, archive or restore did.

use hub_engine::LifecycleChange;
use paperclip::actix::Apiv2Schema;
use serde::Serialize;

use crate::json::common::envelope;
use crate::json::stores::StoreJson;

/// The store after the change, and what the change did.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct LifecycleJson {
    pub store: StoreJson,
    /// False when the change had already been made (the call is idempotent).
    pub changed: bool,
    /// The grant at TikTok: `revoked`, `pending` (TikTok did not answer; retried in the
    /// background, the tokens already gone from the store) or `none` (no tokens were held).
    pub revoke: String,
    /// Unused connect links revoked by the change.
    pub links_revoked: u64,
}

impl From<LifecycleChange> for LifecycleJson {
    fn from(c: LifecycleChange) -> Self {
        Self {
            store: c.store.into(),
            changed: c.changed,
            revoke: c.revoke.as_str().to_owned(),
            links_revoked: c.links_revoked,
        }
    }
}

/// Connect links revoked.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct LinksRevokedJson {
    pub revoked: u64,
}

envelope!(
    /// `{"success":true,"data":{"store","changed","revoke","linksRevoked"}}`
    LifecycleResponse, LifecycleJson
);
envelope!(
    /// `{"success":true,"data":{"revoked":n}}`
    LinksRevokedResponse, LinksRevokedJson
);
