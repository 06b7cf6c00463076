//! A store's life after it was connected: TikTok's reasons for a removed authorization, and
//! grants still to revoke at TikTok.

use std::fmt;

use chrono::{DateTime, Duration, Utc};

use crate::account::EncryptedTokens;
use crate::store::StoreCode;

/// Why TikTok removed an authorization (the `reason` of its `authorization.removed` event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RevokeReason {
    Unknown,
    UserDisconnected,
    AccountDeleted,
    AgeChanged,
    Banned,
    DeveloperRevoked,
}

impl RevokeReason {
    /// Every reason, by TikTok's number.
    pub const ALL: [Self; 6] = [
        Self::Unknown,
        Self::UserDisconnected,
        Self::AccountDeleted,
        Self::AgeChanged,
        Self::Banned,
        Self::DeveloperRevoked,
    ];

    /// TikTok's number (0–5).
    pub const fn code(self) -> i16 {
        match self {
            Self::Unknown => 0,
            Self::UserDisconnected => 1,
            Self::AccountDeleted => 2,
            Self::AgeChanged => 3,
            Self::Banned => 4,
            Self::DeveloperRevoked => 5,
        }
    }

    /// The reason of TikTok's number; `None` outside 0–5.
    pub fn from_code(code: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|r| i64::from(r.code()) == code)
    }

    /// The words people read ("user disconnected").
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::UserDisconnected => "user disconnected",
            Self::AccountDeleted => "account deleted",
            Self::AgeChanged => "age changed",
            Self::Banned => "banned",
            Self::DeveloperRevoked => "developer revoked",
        }
    }
}

impl fmt::Display for RevokeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A grant the hub still has to revoke at TikTok (its tokens, still encrypted, left the
/// account row when the store was disconnected or archived).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRevocation {
    pub id: i64,
    pub store_code: StoreCode,
    pub open_id: Option<String>,
    /// The refresh ciphertext is empty when none was stored.
    pub tokens: EncryptedTokens,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// How long the hub keeps trying to revoke a grant: after this, the row is dropped (with its
/// ciphertexts) and the failure logged; TikTok's grant dies when its refresh token does.
pub const REVOKE_GIVE_UP_AFTER: Duration = Duration::days(3);

/// When to try a failed revoke again: 1 min after the first failure, doubling to at most 1 h.
pub fn revoke_retry_delay(attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 7) - 1;
    Duration::minutes(1 << exp).min(Duration::hours(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_round_trip_by_number_and_read_as_words() {
        for r in RevokeReason::ALL {
            assert_eq!(RevokeReason::from_code(i64::from(r.code())), Some(r));
        }
        assert_eq!(RevokeReason::from_code(1).map(RevokeReason::as_str), Some("user disconnected"));
        assert_eq!(RevokeReason::from_code(6), None);
        assert_eq!(RevokeReason::from_code(-1), None);
    }

    #[test]
    fn retry_delay_doubles_up_to_an_hour() {
        let mins: Vec<i64> = (0..10).map(|a| revoke_retry_delay(a).num_minutes()).collect();
        assert_eq!(mins, [1, 1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }
}
