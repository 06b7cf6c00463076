//! People and their credentials: users (with a role and a store scope), their sessions, and
//! personal API keys. Only hashes of secrets are ever held here.

use std::fmt;

use chrono::{DateTime, Duration, Utc};

use crate::error::DomainError;
use crate::group::StoreScope;
use crate::role::Role;
use crate::secret::Secret;
use crate::store::bounded_text;

/// A user's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub i64);

/// A personal API key's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApiKeyId(pub i64);

/// An email address, kept in lower case (addresses are unique whatever their case): printable
/// ASCII without spaces, one `@`, a local part of 1–64 characters, a domain with a dot inside,
/// 254 characters at most.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;
    const EXPECTED: &'static str = "must be an email address such as ops@example.com";

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let bad = || DomainError::invalid("email", Self::EXPECTED);
        if raw.len() > Self::MAX_LEN || !raw.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(bad());
        }
        let (local, domain) = raw.split_once('@').ok_or_else(bad)?;
        let dot_inside = domain.char_indices().any(|(i, c)| c == '.' && i > 0 && i + 1 < domain.len());
        if local.is_empty() || local.len() > 64 || domain.contains('@') || !dot_inside {
            return Err(bad());
        }
        Ok(Self(raw.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@` (a default display name).
    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's display name (`name`): 1–255 characters once trimmed, no control character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 255;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        bounded_text(raw, Self::MAX_CHARS, "name", "must be 1-255 characters").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An API key's name (`name`): 1–100 characters once trimmed, no control character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyName(String);

impl KeyName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        bounded_text(raw, Self::MAX_CHARS, "name", "must be 1-100 characters").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user as stored (without the password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub scope: StoreScope,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// A user with the PHC string of their password hash (argon2id), for checking a login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: Secret<String>,
}

/// A user to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub email: Email,
    pub name: DisplayName,
    pub role: Role,
    pub scope: StoreScope,
    /// The PHC string of the password's hash.
    pub password_hash: Secret<String>,
}

/// Changes to a user; `None` keeps a field as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserChange {
    pub name: Option<DisplayName>,
    pub role: Option<Role>,
    pub scope: Option<StoreScope>,
    pub active: Option<bool>,
    /// A new password hash (PHC string).
    pub password_hash: Option<Secret<String>>,
}

impl UserChange {
    /// Whether the change ends the user's sessions: a new password, or the user disabled.
    pub fn ends_sessions(&self) -> bool {
        self.password_hash.is_some() || self.active == Some(false)
    }

    /// Whether the user stays (or becomes) an active admin after the change.
    pub fn leaves_admin(&self, user: &User) -> bool {
        self.role.unwrap_or(user.role) == Role::Admin && self.active.unwrap_or(user.active)
    }

    /// Nothing to change.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A session of a signed-in user, as stored (the token itself is never stored: only its
/// SHA-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: i64,
    pub user: User,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The absolute end: `created_at` plus the absolute lifetime.
    pub expires_at: DateTime<Utc>,
}

impl Session {
    /// Whether the session still holds at `now`: before its absolute end, used within the
    /// last `idle`, and its user active.
    pub fn is_live(&self, now: DateTime<Utc>, idle: Duration) -> bool {
        now < self.expires_at && now < self.last_seen_at + idle && self.user.active
    }
}

/// A session to store at sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// SHA-256 (hex) of the session token.
    pub token_hash: String,
    pub user: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A personal API key as stored (the key itself is never stored: only its SHA-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    /// The first 12 hex digits of the key's SHA-256: names it in audit rows and lists.
    pub fingerprint: String,
    pub role: Role,
    pub scope: StoreScope,
    /// The person it belongs to (who created it); `None` for keys made by the break-glass key
    /// or the command line.
    pub owner: Option<UserId>,
    /// Who created it, as the audit trail names actors.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// Whether the key may be used at `now`: not revoked, not expired.
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

/// A personal API key to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub name: KeyName,
    /// SHA-256 (hex) of the key.
    pub key_hash: String,
    pub fingerprint: String,
    pub role: Role,
    pub scope: StoreScope,
    pub owner: Option<UserId>,
    pub created_by: String,
    pub expires_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("ops@example.com", Some("ops@example.com")),
            ("Ops.Lead+hub@Example.CO.ID", Some("ops.lead+hub@example.co.id")),
            ("a@b.c", Some("a@b.c")),
            ("", None),
            ("no-at.example.com", None),
            ("two@@example.com", None),
            ("a@b@c.com", None),
            ("@example.com", None),
            ("ops@localhost", None),
            ("ops@.com", None),
            ("ops@example.", None),
            (" ops@example.com", None),
            ("ops @example.com", None),
            ("ünï@example.com", None),
        ];
        for (raw, want) in cases {
            let got = Email::parse(raw).ok();
            assert_eq!(got.as_ref().map(Email::as_str), *want, "{raw:?}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
        assert_eq!(Email::parse("x").unwrap_err().field(), "email");
        assert_eq!(Email::parse("ops@example.com").unwrap().local_part(), "ops");
    }

    fn user(role: Role, active: bool) -> User {
        User {
            id: UserId(1),
            email: Email::parse("a@b.cd").unwrap(),
            name: "A".into(),
            role,
            scope: StoreScope::All,
            active,
            created_at: DateTime::<Utc>::MIN_UTC,
            last_login_at: None,
        }
    }

    #[test]
    fn changes_say_what_they_end() {
        let admin = user(Role::Admin, true);
        assert!(UserChange::default().leaves_admin(&admin));
        assert!(!UserChange { role: Some(Role::Operator), ..Default::default() }.leaves_admin(&admin));
        assert!(!UserChange { active: Some(false), ..Default::default() }.leaves_admin(&admin));
        assert!(UserChange { active: Some(false), ..Default::default() }.ends_sessions());
        assert!(!UserChange { role: Some(Role::Viewer), ..Default::default() }.ends_sessions());
        assert!(UserChange::default().is_empty());
    }

    #[test]
    fn sessions_and_keys_expire() {
        let t = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let s = Session {
            id: 1,
            user: user(Role::Viewer, true),
            created_at: t,
            last_seen_at: t,
            expires_at: t + Duration::days(7),
        };
        let idle = Duration::hours(8);
        assert!(s.is_live(t + Duration::hours(7), idle));
        assert!(!s.is_live(t + Duration::hours(8), idle), "idle");
        let busy = Session { last_seen_at: t + Duration::days(7) - Duration::minutes(1), ..s.clone() };
        assert!(!busy.is_live(t + Duration::days(7), idle), "absolute");
        let disabled = Session { user: user(Role::Viewer, false), ..s };
        assert!(!disabled.is_live(t, idle));
        let key = ApiKey {
            id: ApiKeyId(1),
            name: "k".into(),
            fingerprint: "0".repeat(12),
            role: Role::Viewer,
            scope: StoreScope::All,
            owner: None,
            created_by: "cli".into(),
            created_at: t,
            expires_at: Some(t + Duration::days(1)),
            last_used_at: None,
            revoked_at: None,
        };
        assert!(key.is_usable(t) && !key.is_usable(t + Duration::days(1)));
        assert!(!ApiKey { revoked_at: Some(t), ..key }.is_usable(t));
    }
}
