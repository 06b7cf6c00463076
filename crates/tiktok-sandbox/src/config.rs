//! Configuration: the start-up [`SandboxConfig`] and the run-time [`RuntimeKnobs`].

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The four scopes the sandbox knows, in TikTok's spelling.
pub const KNOWN_SCOPES: [&str; 4] = ["user.info.basic", "user.info.profile", "user.info.stats", "video.list"];

/// Token lifetimes: TikTok's pages disagree, the sandbox can produce each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TokenProfile {
    /// Access token 86 400 s (24 h), refresh token 31 536 000 s (365 days).
    #[default]
    Classic,
    /// Access token 7 200 s (2 h), refresh token 15 552 000 s (180 days).
    New,
}

impl TokenProfile {
    /// (access token lifetime, refresh token lifetime) in seconds, before time scaling.
    pub fn lifetimes(self) -> (i64, i64) {
        match self {
            TokenProfile::Classic => (86_400, 31_536_000),
            TokenProfile::New => (7_200, 15_552_000),
        }
    }
}

/// What a refresh-token grant does with the refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Rotation {
    /// The same refresh token comes back.
    None,
    /// A new refresh token comes back; the old one keeps working until it expires.
    #[default]
    May,
    /// A new refresh token each time; the old one dies at once, and replaying a
    /// dead one revokes the whole grant.
    Strict,
}

/// What the per-endpoint rate windows are keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RateLimitKey {
    /// One window per endpoint for the whole app (the stricter case).
    #[default]
    Client,
    /// One window per endpoint and access token.
    Token,
}

macro_rules! simple_from_str {
    ($ty:ty, $($s:literal => $v:path),+) => {
        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($s => Ok($v),)+
                    other => Err(format!("unknown value {other:?}; expected one of: {}", [$($s),+].join(", "))),
                }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let s = match self { $($v => $s,)+ };
                f.write_str(s)
            }
        }
    };
}
simple_from_str!(TokenProfile, "classic" => TokenProfile::Classic, "new" => TokenProfile::New);
simple_from_str!(Rotation, "none" => Rotation::None, "may" => Rotation::May, "strict" => Rotation::Strict);
simple_from_str!(RateLimitKey, "client" => RateLimitKey::Client, "token" => RateLimitKey::Token);

/// A uniform latency range in milliseconds (before dividing by the time scale).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatencyMs {
    pub min: u64,
    pub max: u64,
}

impl FromStr for LatencyMs {
    type Err = String;
    /// `"300-800"`, or a single number `"250"` for a fixed latency.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (a, b) = match s.split_once('-') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (s, s),
        };
        let min: u64 = a.parse().map_err(|_| format!("bad latency {s:?}, expected MIN-MAX in ms"))?;
        let max: u64 = b.parse().map_err(|_| format!("bad latency {s:?}, expected MIN-MAX in ms"))?;
        if min > max {
            return Err(format!("bad latency {s:?}: MIN > MAX"));
        }
        Ok(LatencyMs { min, max })
    }
}

/// Everything that can be changed while the sandbox runs, through
/// [`crate::SandboxHandle::update`] or `POST /sandbox/config` (a JSON object with
/// just the fields to change).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeKnobs {
    /// `GET /v2/auth/authorize/` redirects at once instead of showing the consent page.
    pub auto_consent: bool,
    /// Every consent is denied (`error=access_denied`).
    pub deny_all: bool,
    /// When set, the user grants only these of the requested scopes.
    pub grant_scopes: Option<Vec<String>>,
    /// When set, consent always picks this account index (a `sandbox_account` query
    /// parameter on the authorize URL still wins).
    pub force_account: Option<usize>,
    /// The scopes the app itself has been approved for; a field needing another
    /// scope answers `scope_permission_missed`.
    pub app_scopes: Vec<String>,
    /// Requests per endpoint per window (multiplied by `time_scale`); 0 = no limit.
    pub rate_limit_per_min: u32,
    /// What the rate windows are keyed by.
    pub rate_limit_key: RateLimitKey,
    /// Length of the sliding rate window in milliseconds (60 000; shorter for tests).
    /// Also the window of `peak_window` in the stats.
    pub rate_window_ms: u64,
    /// Latency added to every TikTok route (divided by `time_scale`); `None` = off.
    pub latency_ms: Option<LatencyMs>,
    /// Time-scale factor K: rate limits ×K, latencies ÷K, token lifetimes and code TTL ÷K.
    pub time_scale: f64,
    /// Token lifetimes.
    pub token_profile: TokenProfile,
    /// Refresh-token rotation.
    pub rotation: Rotation,
    /// HTTP status of OAuth error bodies: 200 (TikTok's quirk) or 400.
    pub oauth_error_status: u16,
    /// Lifetime of an authorization code in seconds (divided by `time_scale`).
    pub code_ttl_secs: u64,
    /// Share (0.0–1.0) of data requests answered `internal_error` (HTTP 500).
    pub fault_internal_error: f64,
    /// Share (0.0–1.0) of data requests held `hang_secs` before being answered.
    pub fault_hang: f64,
    /// How long a hung request is held, in seconds (not scaled).
    pub hang_secs: u64,
    /// Share (0.0–1.0) of data requests answered a spurious `access_token_invalid`.
    pub fault_token_invalid: f64,
    /// Share (0.0–1.0) of token-endpoint requests answered `server_error` (HTTP 500).
    pub fault_token_server_error: f64,
    /// Where the signed webhook events (`authorization.removed`) are delivered; `None` = nowhere.
    pub webhook_url: Option<String>,
    /// Extra deliveries of each event (TikTok delivers at least once).
    pub webhook_duplicates: u32,
    /// Delivery attempts of an event while the receiver does not answer 200 (TikTok retries).
    pub webhook_max_attempts: u32,
}

impl Default for RuntimeKnobs {
    fn default() -> Self {
        RuntimeKnobs {
            auto_consent: true,
            deny_all: false,
            grant_scopes: None,
            force_account: None,
            app_scopes: KNOWN_SCOPES.iter().map(|s| s.to_string()).collect(),
            rate_limit_per_min: 600,
            rate_limit_key: RateLimitKey::Client,
            rate_window_ms: 60_000,
            latency_ms: None,
            time_scale: 1.0,
            token_profile: TokenProfile::Classic,
            rotation: Rotation::May,
            oauth_error_status: 200,
            code_ttl_secs: 300,
            fault_internal_error: 0.0,
            fault_hang: 0.0,
            hang_secs: 300,
            fault_token_invalid: 0.0,
            fault_token_server_error: 0.0,
            webhook_url: None,
            webhook_duplicates: 0,
            webhook_max_attempts: 5,
        }
    }
}

impl RuntimeKnobs {
    /// Checks the values; the error names the offending field.
    pub fn validate(&self) -> Result<(), String> {
        for s in self.app_scopes.iter().chain(self.grant_scopes.iter().flatten()) {
            if !KNOWN_SCOPES.contains(&s.as_str()) {
                return Err(format!("unknown scope {s:?}"));
            }
        }
        if !(self.time_scale.is_finite() && self.time_scale > 0.0) {
            return Err("time_scale must be > 0".into());
        }
        if self.oauth_error_status != 200 && self.oauth_error_status != 400 {
            return Err("oauth_error_status must be 200 or 400".into());
        }
        if self.rate_window_ms == 0 {
            return Err("rate_window_ms must be > 0".into());
        }
        for (name, v) in [
            ("fault_internal_error", self.fault_internal_error),
            ("fault_hang", self.fault_hang),
            ("fault_token_invalid", self.fault_token_invalid),
            ("fault_token_server_error", self.fault_token_server_error),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{name} must be within 0.0..=1.0"));
            }
        }
        if let Some(l) = self.latency_ms
            && l.min > l.max
        {
            return Err("latency_ms.min > latency_ms.max".into());
        }
        Ok(())
    }

    /// Applies a partial JSON object (only the fields to change) on top of `self`.
    pub fn merged_with(&self, patch: &serde_json::Value) -> Result<RuntimeKnobs, String> {
        let serde_json::Value::Object(patch) = patch else {
            return Err("expected a JSON object".into());
        };
        let mut current = serde_json::to_value(self).map_err(|e| e.to_string())?;
        let obj = current.as_object_mut().ok_or("internal: knobs not an object")?;
        for (k, v) in patch {
            if !obj.contains_key(k) {
                return Err(format!("unknown field {k:?}"));
            }
            obj.insert(k.clone(), v.clone());
        }
        let next: RuntimeKnobs = serde_json::from_value(current).map_err(|e| e.to_string())?;
        next.validate()?;
        Ok(next)
    }
}

/// Every knob of the sandbox. `SandboxConfig::default()` is what the tests and the
/// demo use; change single fields with struct update syntax.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SandboxConfig {
    /// Address to listen on (`127.0.0.1:0` = a random free port).
    pub listen: SocketAddr,
    /// actix worker threads.
    pub workers: usize,
    pub client_key: String,
    pub client_secret: String,
    /// The one registered redirect URI (compared byte for byte).
    pub redirect_uri: String,
    /// Number of sandbox accounts.
    pub accounts: usize,
    /// Mean number of videos per account at the anchor time.
    pub videos_per_account: u32,
    /// Seed of all generated data.
    pub seed: u64,
    /// The instant the generated history is anchored to: each account has its
    /// initial videos posted in the 365 days before it and keeps posting after it.
    /// `None` = midnight UTC of the day the sandbox starts.
    pub anchor: Option<DateTime<Utc>>,

    // ---- run-time knobs (same meaning as in RuntimeKnobs) ----
    pub auto_consent: bool,
    pub deny_all: bool,
    pub grant_scopes: Option<Vec<String>>,
    pub force_account: Option<usize>,
    pub app_scopes: Vec<String>,
    pub rate_limit_per_min: u32,
    pub rate_limit_key: RateLimitKey,
    pub rate_window_ms: u64,
    pub latency_ms: Option<LatencyMs>,
    pub time_scale: f64,
    pub token_profile: TokenProfile,
    pub rotation: Rotation,
    pub oauth_error_status: u16,
    pub code_ttl_secs: u64,
    pub fault_internal_error: f64,
    pub fault_hang: f64,
    pub hang_secs: u64,
    pub fault_token_invalid: f64,
    pub fault_token_server_error: f64,
    pub webhook_url: Option<String>,
    pub webhook_duplicates: u32,
    pub webhook_max_attempts: u32,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        let k = RuntimeKnobs::default();
        SandboxConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            workers: 2,
            client_key: "sandbox-client-key".into(),
            client_secret: "sandbox-client-secret-0123456789abcdef".into(),
            redirect_uri: "http://127.0.0.1:3000/auth/tiktok/callback".into(),
            accounts: 300,
            videos_per_account: 50,
            seed: 42,
            anchor: None,
            auto_consent: k.auto_consent,
            deny_all: k.deny_all,
            grant_scopes: k.grant_scopes,
            force_account: k.force_account,
            app_scopes: k.app_scopes,
            rate_limit_per_min: k.rate_limit_per_min,
            rate_limit_key: k.rate_limit_key,
            rate_window_ms: k.rate_window_ms,
            latency_ms: k.latency_ms,
            time_scale: k.time_scale,
            token_profile: k.token_profile,
            rotation: k.rotation,
            oauth_error_status: k.oauth_error_status,
            code_ttl_secs: k.code_ttl_secs,
            fault_internal_error: k.fault_internal_error,
            fault_hang: k.fault_hang,
            hang_secs: k.hang_secs,
            fault_token_invalid: k.fault_token_invalid,
            fault_token_server_error: k.fault_token_server_error,
            webhook_url: k.webhook_url,
            webhook_duplicates: k.webhook_duplicates,
            webhook_max_attempts: k.webhook_max_attempts,
        }
    }
}

impl SandboxConfig {
    /// The run-time part of this configuration.
    pub fn knobs(&self) -> RuntimeKnobs {
        RuntimeKnobs {
            auto_consent: self.auto_consent,
            deny_all: self.deny_all,
            grant_scopes: self.grant_scopes.clone(),
            force_account: self.force_account,
            app_scopes: self.app_scopes.clone(),
            rate_limit_per_min: self.rate_limit_per_min,
            rate_limit_key: self.rate_limit_key,
            rate_window_ms: self.rate_window_ms,
            latency_ms: self.latency_ms,
            time_scale: self.time_scale,
            token_profile: self.token_profile,
            rotation: self.rotation,
            oauth_error_status: self.oauth_error_status,
            code_ttl_secs: self.code_ttl_secs,
            fault_internal_error: self.fault_internal_error,
            fault_hang: self.fault_hang,
            hang_secs: self.hang_secs,
            fault_token_invalid: self.fault_token_invalid,
            fault_token_server_error: self.fault_token_server_error,
            webhook_url: self.webhook_url.clone(),
            webhook_duplicates: self.webhook_duplicates,
            webhook_max_attempts: self.webhook_max_attempts,
        }
    }
}
