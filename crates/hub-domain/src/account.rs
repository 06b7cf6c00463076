//! A store's TikTok account: who it is, its (encrypted) tokens and whether it works.

use std::fmt;

use chrono::{DateTime, Duration, Utc};

use crate::store::StoreCode;

/// Row id of a `store_accounts` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(pub i64);

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a store needs an admin (or its staff) to reconnect it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReconnectReason {
    /// The user removed the app's access (or TikTok revoked the grant).
    Revoked,
    /// The refresh token's lifetime ran out.
    RefreshExpired,
    /// A scope the hub needs was not granted (or was withdrawn).
    ScopeMissing,
    /// TikTok refused the refresh token (`invalid_grant`) for a reason it did not give.
    GrantInvalid,
    /// The access token is refused even right after a successful refresh.
    TokenInvalid,
}

impl ReconnectReason {
    /// Every reason, for tables and tests.
    pub const ALL: [Self; 5] =
        [Self::Revoked, Self::RefreshExpired, Self::ScopeMissing, Self::GrantInvalid, Self::TokenInvalid];

    /// The stored and displayed spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Revoked => "REVOKED",
            Self::RefreshExpired => "REFRESH_EXPIRED",
            Self::ScopeMissing => "SCOPE_MISSING",
            Self::GrantInvalid => "GRANT_INVALID",
            Self::TokenInvalid => "TOKEN_INVALID",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }

    /// A sentence for people: what happened and what to do.
    pub const fn explain(self) -> &'static str {
        match self {
            Self::Revoked => "access was revoked on TikTok; send the store a new connect link",
            Self::RefreshExpired => "the refresh token expired; send the store a new connect link",
            Self::ScopeMissing => "a required permission was not granted; reconnect and allow every permission",
            Self::GrantInvalid => "TikTok refused the stored grant; send the store a new connect link",
            Self::TokenInvalid => "TikTok refuses the access token even after a refresh; reconnect the store",
        }
    }
}

impl fmt::Display for ReconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a connected account can be synced, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionStatus {
    /// Tokens work; the account is synced every night.
    Connected,
    /// The account cannot be synced until someone reconnects it.
    NeedReconnect(ReconnectReason),
    /// Disconnected on purpose (by an admin or the app's own revoke call).
    Disconnected,
}

impl ConnectionStatus {
    /// The stored and displayed status word (`CONNECTED`, `NEED_RECONNECT`, `DISCONNECTED`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Connected => "CONNECTED",
            Self::NeedReconnect(_) => "NEED_RECONNECT",
            Self::Disconnected => "DISCONNECTED",
        }
    }

    /// The reason, when the status has one.
    pub const fn reason(self) -> Option<ReconnectReason> {
        match self {
            Self::NeedReconnect(r) => Some(r),
            _ => None,
        }
    }

    /// Rebuilds a status from its two stored columns. `None` for an unknown combination.
    pub fn from_parts(status: &str, reason: Option<&str>) -> Option<Self> {
        match status {
            "CONNECTED" => Some(Self::Connected),
            "DISCONNECTED" => Some(Self::Disconnected),
            // A NEED_RECONNECT row written without a reason reads as a refused grant.
            "NEED_RECONNECT" => {
                Some(Self::NeedReconnect(reason.map_or(Some(ReconnectReason::GrantInvalid), ReconnectReason::parse)?))
            }
            _ => None,
        }
    }
}

/// The two tokens of an account, encrypted by the engine's token cipher. Opaque to
/// everything but the cipher; never logged (the `Debug` output is redacted).
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptedTokens {
    pub access: String,
    pub refresh: String,
}

impl fmt::Debug for EncryptedTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptedTokens { .. }")
    }
}

/// When a token pair stops working, and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenMeta {
    pub access_expires_at: DateTime<Utc>,
    pub refresh_expires_at: DateTime<Utc>,
    /// Granted scopes, as TikTok spelled them.
    pub scopes: Vec<String>,
}

/// A store's TikTok account as stored (`store_accounts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub store_code: StoreCode,
    pub platform: String,
    /// TikTok's `open_id` of the connected user.
    pub open_id: Option<String>,
    pub tokens: Option<EncryptedTokens>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
    pub status: ConnectionStatus,
    pub connected_at: Option<DateTime<Utc>>,
    pub last_sync_time: Option<DateTime<Utc>>,
    pub last_refresh_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Account {
    /// Connected, with an access token that has not expired at `now`.
    pub fn has_valid_token(&self, now: DateTime<Utc>) -> bool {
        self.status == ConnectionStatus::Connected
            && self.tokens.is_some()
            && self.token_expires_at.is_some_and(|t| t > now)
    }

    /// The refresh token's lifetime has run out: no refresh can help.
    pub fn refresh_expired(&self, now: DateTime<Utc>) -> bool {
        self.refresh_token_expires_at.is_some_and(|t| t <= now)
    }

    /// Connected and its access token expires within `window` of `now` (or already has).
    pub fn refresh_due(&self, now: DateTime<Utc>, window: Duration) -> bool {
        self.status == ConnectionStatus::Connected
            && self.tokens.is_some()
            && self.token_expires_at.is_none_or(|t| t - now <= window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn account(status: ConnectionStatus, expires_in_h: i64) -> Account {
        let now = Utc.with_ymd_and_hms(2026, 1, 24, 0, 0, 0).unwrap();
        Account {
            id: AccountId(1),
            store_code: StoreCode::parse("s1").unwrap(),
            platform: "tiktok".into(),
            open_id: Some("open".into()),
            tokens: Some(EncryptedTokens { access: "a".into(), refresh: "r".into() }),
            token_expires_at: Some(now + Duration::hours(expires_in_h)),
            refresh_token_expires_at: Some(now + Duration::days(365)),
            scopes: vec![],
            status,
            connected_at: Some(now),
            last_sync_time: None,
            last_refresh_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn refresh_due_table() {
        let now = Utc.with_ymd_and_hms(2026, 1, 24, 0, 0, 0).unwrap();
        let window = Duration::hours(6);
        let cases = [
            (ConnectionStatus::Connected, 24, false),
            (ConnectionStatus::Connected, 6, true),
            (ConnectionStatus::Connected, 1, true),
            (ConnectionStatus::Connected, -1, true),
            (ConnectionStatus::NeedReconnect(ReconnectReason::Revoked), 1, false),
            (ConnectionStatus::Disconnected, 1, false),
        ];
        for (status, hours, due) in cases {
            assert_eq!(account(status, hours).refresh_due(now, window), due, "{status:?} {hours}");
        }
    }

    #[test]
    fn valid_token_needs_connected_and_unexpired() {
        let now = Utc.with_ymd_and_hms(2026, 1, 24, 0, 0, 0).unwrap();
        assert!(account(ConnectionStatus::Connected, 1).has_valid_token(now));
        assert!(!account(ConnectionStatus::Connected, -1).has_valid_token(now));
        assert!(!account(ConnectionStatus::NeedReconnect(ReconnectReason::ScopeMissing), 1).has_valid_token(now));
    }

    #[test]
    fn tokens_debug_is_redacted() {
        let t = EncryptedTokens { access: "secret-a".into(), refresh: "secret-r".into() };
        assert!(!format!("{t:?}").contains("secret"));
    }

    #[test]
    fn unknown_status_is_rejected() {
        assert_eq!(ConnectionStatus::from_parts("BOGUS", None), None);
        assert_eq!(ConnectionStatus::from_parts("NEED_RECONNECT", Some("BOGUS")), None);
        assert_eq!(
            ConnectionStatus::from_parts("NEED_RECONNECT", None),
            Some(ConnectionStatus::NeedReconnect(ReconnectReason::GrantInvalid))
        );
    }

    proptest! {
        #[test]
        fn status_round_trips_through_its_columns(idx in 0usize..7) {
            let all: Vec<ConnectionStatus> = [ConnectionStatus::Connected, ConnectionStatus::Disconnected]
                .into_iter()
                .chain(ReconnectReason::ALL.into_iter().map(ConnectionStatus::NeedReconnect))
                .collect();
            let s = all[idx];
            let back = ConnectionStatus::from_parts(s.as_str(), s.reason().map(ReconnectReason::as_str));
            prop_assert_eq!(back, Some(s));
        }

        #[test]
        fn reason_parse_accepts_only_known(raw in "[A-Z_]{0,20}") {
            match ReconnectReason::parse(&raw) {
                Some(r) => prop_assert_eq!(r.as_str(), raw.as_str()),
                None => prop_assert!(ReconnectReason::ALL.iter().all(|r| r.as_str() != raw)),
            }
        }
    }
}
