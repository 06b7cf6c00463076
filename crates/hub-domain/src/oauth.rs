//! One-time records of the connect flow: admin-issued invites and OAuth state nonces.

use chrono::{DateTime, Utc};

use crate::store::StoreCode;

/// A connect link to issue: only the SHA-256 of its secret token is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConnectInvite {
    pub token_hash: String,
    pub store_code: StoreCode,
    pub created_by: String,
    pub expires_at: DateTime<Utc>,
}

/// A stored connect invite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectInvite {
    pub id: i64,
    pub token_hash: String,
    pub store_code: StoreCode,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    /// When an admin (or a newer link) revoked it.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ConnectInvite {
    /// Unused, unrevoked and unexpired at `now`.
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.used_at.is_none() && self.revoked_at.is_none() && self.expires_at > now
    }
}

/// An OAuth `state` nonce to remember until the callback consumes it. Its Debug output
/// leaves out the PKCE verifier (it proves the code exchange is ours).
#[derive(Clone, PartialEq, Eq)]
pub struct NewOAuthState {
    /// SHA-256 (hex) of the state's random nonce.
    pub nonce_hash: String,
    pub store_code: StoreCode,
    pub invite_id: Option<i64>,
    /// SHA-256 (hex) of the browser-binding cookie value.
    pub browser_binding: String,
    /// PKCE code verifier sent with the code exchange.
    pub pkce_verifier: Option<String>,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for NewOAuthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewOAuthState")
            .field("nonce_hash", &self.nonce_hash)
            .field("store_code", &self.store_code)
            .field("invite_id", &self.invite_id)
            .field("browser_binding", &self.browser_binding)
            .field("pkce_verifier", &self.pkce_verifier.as_ref().map(|_| "<redacted>"))
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A consumed OAuth state, as handed back once to the callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthState {
    pub state: NewOAuthState,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_verifier_never_prints() {
        let state = NewOAuthState {
            nonce_hash: "h".into(),
            store_code: StoreCode::parse("store_a").unwrap(),
            invite_id: Some(7),
            browser_binding: "b".into(),
            pkce_verifier: Some("verifier-canary-0123456789".into()),
            expires_at: DateTime::UNIX_EPOCH,
        };
        let printed = format!("{state:?} {:?}", OAuthState { state: state.clone(), created_at: DateTime::UNIX_EPOCH });
        assert!(!printed.contains("verifier-canary"), "{printed}");
        assert!(printed.contains("pkce_verifier: Some(\"<redacted>\")") && printed.contains("invite_id: Some(7)"));
    }
}
