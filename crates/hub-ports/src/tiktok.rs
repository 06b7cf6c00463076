//! The TikTok port: Login Kit token calls and the Display API, as the engine needs them.
//!
//! The adapter (`hub-tiktok`) owns the wire format, both error envelopes, the per-endpoint
//! rate budget, timeouts and retries. What reaches the engine is a typed outcome that says
//! what to do next. No error ever carries a token.

use std::time::Duration;

use async_trait::async_trait;
use hub_domain::Secret;

/// A token pair from the token endpoint (code exchange or refresh).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub access_token: Secret<String>,
    pub refresh_token: Secret<String>,
    pub open_id: String,
    /// Seconds until the access token expires, as TikTok said (never assumed).
    pub expires_in: i64,
    /// Seconds until the refresh token expires, as TikTok said.
    pub refresh_expires_in: i64,
    /// Granted scopes.
    pub scopes: Vec<String>,
}

/// The account fields the hub reads (`user.info.basic` + `user.info.stats`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TikTokUser {
    pub open_id: String,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
    pub follower_count: i64,
    pub following_count: i64,
    pub likes_count: i64,
    pub video_count: i64,
}

/// One video as `video/list` and `video/query` return it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TikTokVideo {
    /// 19-digit id, kept as text.
    pub id: String,
    /// Unix seconds.
    pub create_time: Option<i64>,
    pub title: Option<String>,
    pub video_description: Option<String>,
    pub share_url: Option<String>,
    pub cover_image_url: Option<String>,
    pub duration: Option<i32>,
    pub view_count: i64,
    pub like_count: i64,
    pub comment_count: i64,
    pub share_count: i64,
}

/// A page of `video/list`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VideoPage {
    pub videos: Vec<TikTokVideo>,
    /// Pass back to get the next (older) page: Unix milliseconds.
    pub cursor: Option<i64>,
    /// More videos exist even when this page was short.
    pub has_more: bool,
}

/// What went wrong with a TikTok call, by what the caller should do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TikTokError {
    /// 429 / `rate_limit_exceeded` still after the adapter's retries. Try later.
    #[error("TikTok rate limit exceeded")]
    RateLimited { retry_after: Option<Duration> },
    /// `access_token_invalid`: refresh the token once, then retry once.
    #[error("TikTok refused the access token")]
    AccessTokenInvalid,
    /// `scope_not_authorized` / `scope_permission_missed`: refreshing cannot help; reconnect.
    #[error("TikTok scope missing ({code})")]
    ScopeMissing { code: String },
    /// `invalid_grant` on the token endpoint: the refresh token (or code) is dead; reconnect.
    #[error("TikTok refused the grant: {description}")]
    InvalidGrant { description: String },
    /// 5xx, timeouts, connection failures after the adapter's retries. Try later.
    #[error("TikTok unavailable: {message}")]
    Transient { message: String },
    /// Any other refusal (`invalid_params`, `invalid_client`, …): a bug or a misconfiguration.
    #[error("TikTok rejected the request: {code}: {message}")]
    Rejected { code: String, message: String },
}

impl TikTokError {
    /// A short machine-readable reason for logs and sync logs.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::RateLimited { .. } => "rate_limited",
            Self::AccessTokenInvalid => "access_token_invalid",
            Self::ScopeMissing { .. } => "scope_missing",
            Self::InvalidGrant { .. } => "invalid_grant",
            Self::Transient { .. } => "transient",
            Self::Rejected { .. } => "rejected",
        }
    }

    /// Whether trying again later could succeed without anyone reconnecting the store.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Transient { .. })
    }
}

/// TikTok's Login Kit and Display API.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait TikTokApi: Send + Sync {
    /// The consent-page URL (scopes `user.info.basic,user.info.stats,video.list`,
    /// `disable_auto_auth=1`, the configured redirect URI) for `state` and a PKCE S256
    /// `code_challenge`.
    fn authorize_url(&self, state: &str, code_challenge: &str) -> String;
    /// Exchanges an authorization code (with its PKCE verifier) for tokens.
    async fn exchange_code(&self, code: &str, code_verifier: &str) -> Result<TokenGrant, TikTokError>;
    /// Refreshes a token pair. The answer's refresh token replaces the old one.
    async fn refresh(&self, refresh_token: &Secret<String>) -> Result<TokenGrant, TikTokError>;
    /// Revokes the grant behind an access token.
    async fn revoke(&self, access_token: &Secret<String>) -> Result<(), TikTokError>;
    /// The account's profile and statistics.
    async fn user_info(&self, access_token: &Secret<String>) -> Result<TikTokUser, TikTokError>;
    /// One page of the account's public videos, newest first; `cursor` from the last page.
    async fn video_list(
        &self,
        access_token: &Secret<String>,
        cursor: Option<i64>,
        max_count: u8,
    ) -> Result<VideoPage, TikTokError>;
    /// Current statistics of up to 20 of the account's videos (others are silently absent).
    async fn video_query(&self, access_token: &Secret<String>, ids: &[String])
    -> Result<Vec<TikTokVideo>, TikTokError>;
}

/// Why a ciphertext did not decrypt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    /// Not of the `keyid:base64` form.
    #[error("malformed ciphertext")]
    Malformed,
    /// Encrypted with a key id that is not configured.
    #[error("unknown key id {0}")]
    UnknownKey(String),
    /// Tampered with, or bound to another row or column.
    #[error("ciphertext failed authentication")]
    Forged,
}

/// Tokens at rest: authenticated encryption bound to where a ciphertext is stored.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait TokenCipher: Send + Sync {
    /// Encrypts `plaintext` with the newest key; `binding` (e.g. `store_code:access`) must be
    /// given again to decrypt.
    fn encrypt(&self, plaintext: &str, binding: &str) -> String;
    /// Decrypts a ciphertext made for `binding` with any configured key.
    fn decrypt(&self, ciphertext: &str, binding: &str) -> Result<Secret<String>, CipherError>;
    /// Whether a ciphertext was made with an older key than the newest.
    fn is_stale(&self, ciphertext: &str) -> bool;
}
