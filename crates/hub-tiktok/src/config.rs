//! [`TikTokConfig`]: everything the client needs, with production defaults.

use std::fmt;
use std::time::Duration;

use hub_domain::Secret;

/// TikTok's consent-page host.
pub const DEFAULT_AUTH_BASE_URL: &str = "https://www.tiktok.com";
/// TikTok's API host (token, revoke and the Display API).
pub const DEFAULT_API_BASE_URL: &str = "https://open.tiktokapis.com";

/// Settings of a [`crate::TikTokClient`].
///
/// `Debug` never shows the client secret.
#[derive(Clone)]
pub struct TikTokConfig {
    pub client_key: String,
    pub client_secret: Secret<String>,
    /// Sent byte for byte in both OAuth legs (consent URL and code exchange).
    pub redirect_uri: String,
    /// Consent page host, without a trailing slash (`https://www.tiktok.com`).
    pub auth_base_url: String,
    /// API host, without a trailing slash (`https://open.tiktokapis.com`).
    pub api_base_url: String,
    /// Client-side budget per data endpoint: requests per [`Self::rate_window`].
    /// With `burst`, `rate_limit_per_min + burst <= 600` keeps every sliding minute under
    /// TikTok's 600 (see the crate docs).
    pub rate_limit_per_min: u32,
    /// How many requests may go at once before the budget starts spacing them.
    pub burst: u32,
    /// The window `rate_limit_per_min` is counted over: 60 s for TikTok. Tests shorten it
    /// (together with the sandbox's `rate_window_ms`) to keep budget tests fast.
    pub rate_window: Duration,
    /// Whole-request timeout of one attempt (connect + send + read body).
    pub timeout: Duration,
    /// Retries after the first attempt for rate limits and transient failures.
    pub max_retries: u32,
    /// First backoff ceiling; doubles each retry up to `backoff_cap` (full jitter below it).
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
}

impl TikTokConfig {
    /// Production defaults (TikTok's hosts, 570/min + burst 10, 20 s timeout, 3 retries,
    /// backoff 500 ms doubling up to 10 s).
    pub fn new(client_key: impl Into<String>, client_secret: Secret<String>, redirect_uri: impl Into<String>) -> Self {
        TikTokConfig {
            client_key: client_key.into(),
            client_secret,
            redirect_uri: redirect_uri.into(),
            auth_base_url: DEFAULT_AUTH_BASE_URL.into(),
            api_base_url: DEFAULT_API_BASE_URL.into(),
            rate_limit_per_min: 570,
            burst: 10,
            rate_window: Duration::from_secs(60),
            timeout: Duration::from_secs(20),
            max_retries: 3,
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(10),
        }
    }

    /// The longest one call may take with its retries: every attempt timing out and every
    /// backoff at its cap (a `Retry-After` is capped there too). The budget wait before each
    /// attempt is not counted.
    pub fn slowest_call(&self) -> Duration {
        let attempts = self.max_retries.saturating_add(1);
        self.timeout.saturating_mul(attempts).saturating_add(self.backoff_cap.saturating_mul(self.max_retries))
    }

    /// The burst that goes with a budget of `rate_limit_per_min`: one second of it, at most
    /// 10, and no more than keeps `rate + burst` within TikTok's 600 a minute (10 at the
    /// default 570, 5 at 595, 1 at 600).
    ///
    /// A shared bucket that holds a few permits keeps its refill while a taker is late by a
    /// round trip; a bucket of one loses it (the two-instance bench ran at 1.2–1.4 × the
    /// floor with a burst of 1).
    pub fn burst_for(rate_limit_per_min: u32) -> u32 {
        let second = rate_limit_per_min.div_ceil(60).min(10);
        match 600u32.checked_sub(rate_limit_per_min) {
            Some(room) => second.min(room),
            None => second,
        }
        .max(1)
    }

    /// Points both hosts at one base URL (the sandbox serves auth and API paths together).
    pub fn with_base_url(mut self, base_url: &str) -> Self {
        self.auth_base_url = base_url.to_string();
        self.api_base_url = base_url.to_string();
        self
    }
}

impl fmt::Debug for TikTokConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TikTokConfig")
            .field("client_key", &self.client_key)
            .field("client_secret", &"[redacted]")
            .field("redirect_uri", &self.redirect_uri)
            .field("auth_base_url", &self.auth_base_url)
            .field("api_base_url", &self.api_base_url)
            .field("rate_limit_per_min", &self.rate_limit_per_min)
            .field("burst", &self.burst)
            .field("rate_window", &self.rate_window)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_cap", &self.backoff_cap)
            .finish()
    }
}

/// Why a [`crate::TikTokClient`] could not be built. Never contains the secret.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{field} is not a usable base URL ({value:?}): {reason}")]
    BaseUrl { field: &'static str, value: String, reason: String },
    #[error("{0} must not be empty")]
    Empty(&'static str),
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slowest_call_counts_every_attempt_and_backoff() {
        let mut c = TikTokConfig::new("key", Secret::new("s".into()), "https://x/cb");
        assert_eq!(c.slowest_call(), Duration::from_secs(4 * 20 + 3 * 10));
        (c.timeout, c.max_retries) = (Duration::from_secs(5), 0);
        assert_eq!(c.slowest_call(), Duration::from_secs(5));
    }

    #[test]
    fn debug_hides_the_secret() {
        let c = TikTokConfig::new("key", Secret::new("canary-secret-4711".into()), "https://x/cb");
        let s = format!("{c:?} {c:#?}");
        assert!(!s.contains("canary-secret-4711"), "{s}");
        assert!(s.contains("[redacted]"));
        assert!(s.contains("key"));
    }

    #[test]
    fn the_burst_is_a_second_of_the_budget_within_tiktoks_600() {
        // (rate per minute, burst)
        let cases = [
            (1, 1),
            (60, 1),
            (300, 5),
            (570, 10),
            (590, 10),
            (595, 5),
            (599, 1),
            (600, 1),
            (601, 10),
            (5700, 10),
            (11_400, 10),
        ];
        for (rate, burst) in cases {
            assert_eq!(TikTokConfig::burst_for(rate), burst, "rate {rate}");
            if rate <= 590 {
                assert!(rate + TikTokConfig::burst_for(rate) <= 600, "rate {rate}");
            }
        }
    }
}
