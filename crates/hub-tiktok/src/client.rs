//! [`TikTokClient`]: the real `TikTokApi`.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use hub_domain::Secret;
use hub_ports::{Rate, SharedLimits, TikTokApi, TikTokError, TikTokUser, TikTokVideo, TokenGrant, VideoPage};
use rand::Rng;
use reqwest::header::{HeaderValue, RETRY_AFTER};
use serde_json::{Map, Value, json};

use crate::answers::{data_of, grant_of, page_of, user_of, videos_from};
use crate::config::{BuildError, TikTokConfig};
use crate::decode::{self, Success, rejected};
use crate::shared::SharedBudget;
use crate::stats::{ClientStats, Counters, Endpoint};

/// Scopes the hub asks for on the consent page.
pub const SCOPES: &str = "user.info.basic,user.info.stats,video.list";
/// Exactly the `user/info` fields the hub reads.
pub const USER_FIELDS: &str =
    "open_id,union_id,avatar_url,display_name,follower_count,following_count,likes_count,video_count";
/// Exactly the video fields the hub reads.
pub const VIDEO_FIELDS: &str = "id,create_time,cover_image_url,share_url,video_description,title,duration,like_count,comment_count,share_count,view_count";
/// `video/query` takes at most this many ids.
pub const MAX_QUERY_IDS: usize = 20;
/// The token endpoint's limit is undocumented; token and revoke calls share this generous
/// budget per [`TikTokConfig::rate_window`] so a runaway loop cannot hammer it.
pub const TOKEN_BUDGET_PER_WINDOW: u32 = 600;
const TOKEN_BUDGET_BURST: u32 = 60;

const USER_AGENT: &str = concat!("tiktok-content-hub/", env!("CARGO_PKG_VERSION"), " (hub-tiktok)");

/// The real TikTok client: Login Kit token calls and the Display API v2.
///
/// Cheap to clone (one shared connection pool, budget and counters).
#[derive(Clone)]
pub struct TikTokClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    cfg: TikTokConfig,
    authorize_url: String,
    token_url: String,
    revoke_url: String,
    user_info_url: String,
    video_list_url: String,
    video_query_url: String,
    /// token+revoke, user/info, video/list, video/query (see `Endpoint::budget`).
    budgets: [DefaultDirectRateLimiter; 4],
    /// The same budgets shared with every instance, when configured.
    shared: Option<SharedBudget>,
    counters: [Counters; 5],
}

impl std::fmt::Debug for TikTokClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TikTokClient").field("config", &self.inner.cfg).finish_non_exhaustive()
    }
}

/// What a request needs for one attempt.
enum Req<'a> {
    Form(&'a str, Vec<(&'static str, &'a str)>),
    Get(&'a str, &'a Secret<String>),
    Post(&'a str, &'a Secret<String>, Value),
}

fn base_url(field: &'static str, value: &str) -> Result<String, BuildError> {
    let trimmed = value.trim().trim_end_matches('/');
    let bad = |reason: String| BuildError::BaseUrl { field, value: value.to_string(), reason };
    let url = url::Url::parse(trimmed).map_err(|e| bad(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("the scheme must be http or https".into()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("no query or fragment allowed".into()));
    }
    Ok(trimmed.to_string())
}

fn limiter(per_window: u32, burst: u32, window: Duration) -> Option<DefaultDirectRateLimiter> {
    let period = window.checked_div(per_window)?;
    let quota = Quota::with_period(period)?.allow_burst(NonZeroU32::new(burst)?);
    Some(RateLimiter::direct(quota))
}

/// RFC 3986 percent-encoding of a query value: everything but unreserved characters.
fn pct(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Full jitter: uniform in `[0, min(cap, base · 2^retry)]`.
pub(crate) fn backoff(base: Duration, cap: Duration, retry: u32) -> Duration {
    let ceiling = base.checked_mul(2u32.saturating_pow(retry.min(31))).unwrap_or(cap).min(cap);
    if ceiling.is_zero() {
        return Duration::ZERO;
    }
    let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rand::rng().random_range(0..=nanos))
}

/// Replaces every occurrence of a secret in `s` (defence in depth: TikTok should never echo
/// one, but an error message must not become the place a token leaks).
fn scrub_str(s: &mut String, secrets: &[&str]) {
    for secret in secrets.iter().filter(|x| x.len() >= 6) {
        if s.contains(secret) {
            *s = s.replace(secret, "[redacted]");
        }
    }
}

pub(crate) fn scrub(mut e: TikTokError, secrets: &[&str]) -> TikTokError {
    match &mut e {
        TikTokError::InvalidGrant { description: s }
        | TikTokError::Transient { message: s }
        | TikTokError::ScopeMissing { code: s } => scrub_str(s, secrets),
        TikTokError::Rejected { code, message } => {
            scrub_str(code, secrets);
            scrub_str(message, secrets);
        }
        TikTokError::RateLimited { .. } | TikTokError::AccessTokenInvalid => {}
    }
    e
}

fn transport_error(ep: Endpoint, e: &reqwest::Error, timeout: Duration) -> TikTokError {
    let kind = if e.is_timeout() {
        format!("timed out after {} ms", timeout.as_millis())
    } else if e.is_connect() {
        "could not connect".to_string()
    } else if e.is_body() || e.is_decode() {
        "failed reading the answer".to_string()
    } else {
        "request failed".to_string()
    };
    // The URL holds no secret, but leave it out anyway: the endpoint name says enough.
    let mut msg = format!("{}: {kind}", ep.name());
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    TikTokError::Transient { message: msg }
}

impl TikTokClient {
    /// Builds the client: validates the configuration, installs the ring TLS provider
    /// (reqwest is built with `rustls-no-provider`) and creates the connection pool. Its
    /// budget is this process's alone.
    pub fn new(config: TikTokConfig) -> Result<Self, BuildError> {
        Self::build(config, None)
    }

    /// [`TikTokClient::new`] whose every call also draws from one budget per endpoint shared
    /// by every instance in `limits`; while `limits` does not answer, this instance paces
    /// itself at `1 / instances_hint` of the budget.
    pub fn with_shared_budget(
        config: TikTokConfig,
        limits: Arc<dyn SharedLimits>,
        instances_hint: u32,
    ) -> Result<Self, BuildError> {
        Self::build(config, Some((limits, instances_hint)))
    }

    fn build(config: TikTokConfig, shared: Option<(Arc<dyn SharedLimits>, u32)>) -> Result<Self, BuildError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        if config.client_key.trim().is_empty() {
            return Err(BuildError::Empty("client_key"));
        }
        if config.client_secret.expose().is_empty() {
            return Err(BuildError::Empty("client_secret"));
        }
        if config.redirect_uri.is_empty() {
            return Err(BuildError::Empty("redirect_uri"));
        }
        for (name, v) in [("rate_limit_per_min", config.rate_limit_per_min), ("burst", config.burst)] {
            if v == 0 {
                return Err(BuildError::Zero(name));
            }
        }
        for (name, d) in [("rate_window", config.rate_window), ("timeout", config.timeout)] {
            if d.is_zero() {
                return Err(BuildError::Zero(name));
            }
        }
        let auth = base_url("auth_base_url", &config.auth_base_url)?;
        let api = base_url("api_base_url", &config.api_base_url)?;
        if u64::from(config.rate_limit_per_min) + u64::from(config.burst) > 600
            && config.rate_window >= Duration::from_secs(60)
        {
            tracing::warn!(
                rate_limit_per_min = config.rate_limit_per_min,
                burst = config.burst,
                "TikTok budget above 600 per minute: rate + burst should stay <= 600"
            );
        }

        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            // The token call must never follow a redirect (RFC 9700); no TikTok API
            // endpoint redirects, so none follows any.
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(32)
            .build()
            .map_err(|e| BuildError::Http(e.to_string()))?;

        let window = config.rate_window;
        let data =
            || limiter(config.rate_limit_per_min, config.burst, window).ok_or(BuildError::Zero("rate_limit_per_min"));
        let token_budget = limiter(
            TOKEN_BUDGET_PER_WINDOW.max(config.rate_limit_per_min),
            TOKEN_BUDGET_BURST.max(config.burst),
            window,
        )
        .ok_or(BuildError::Zero("rate_window"))?;
        let budgets = [token_budget, data()?, data()?, data()?];
        let data_rate = Rate { per_window: config.rate_limit_per_min, window, burst: config.burst };
        let token_rate = Rate {
            per_window: TOKEN_BUDGET_PER_WINDOW.max(config.rate_limit_per_min),
            window,
            burst: TOKEN_BUDGET_BURST.max(config.burst),
        };
        let shared =
            shared.map(|(limits, hint)| SharedBudget::new(limits, [token_rate, data_rate, data_rate, data_rate], hint));

        Ok(TikTokClient {
            inner: Arc::new(Inner {
                http,
                authorize_url: format!("{auth}/v2/auth/authorize/"),
                token_url: format!("{api}/v2/oauth/token/"),
                revoke_url: format!("{api}/v2/oauth/revoke/"),
                user_info_url: format!("{api}/v2/user/info/?fields={USER_FIELDS}"),
                video_list_url: format!("{api}/v2/video/list/?fields={VIDEO_FIELDS}"),
                video_query_url: format!("{api}/v2/video/query/?fields={VIDEO_FIELDS}"),
                cfg: config,
                budgets,
                shared,
                counters: Default::default(),
            }),
        })
    }

    /// Counters per endpoint since the client was built.
    pub fn stats(&self) -> ClientStats {
        crate::stats::collect(&self.inner.counters)
    }

    /// The configuration in use (its `Debug` hides the secret).
    pub fn config(&self) -> &TikTokConfig {
        &self.inner.cfg
    }

    fn counters(&self, ep: Endpoint) -> &Counters {
        &self.inner.counters[ep as usize]
    }

    /// The shared budget's backend (`postgres`, `redis`), when the budget is shared.
    pub fn shared_backend(&self) -> Option<&'static str> {
        self.inner.shared.as_ref().map(SharedBudget::backend)
    }

    async fn wait_for_budget(&self, ep: Endpoint) {
        let limiter = &self.inner.budgets[ep.budget()];
        let start = Instant::now();
        let mut waited = limiter.check().is_err();
        if waited {
            limiter.until_ready().await;
        }
        if let Some(shared) = &self.inner.shared {
            let before = Instant::now();
            shared.acquire(ep.budget()).await;
            waited |= before.elapsed() >= Duration::from_millis(2);
        }
        if waited {
            self.counters(ep).budget_wait(start.elapsed());
        }
    }

    /// One call with budget, retries and decoding. `idempotent = false` (the token
    /// endpoint: codes are single use, refresh tokens may rotate) retries only failures the
    /// server certainly did not act on, so a lost answer never makes us replay a code or a
    /// rotated refresh token.
    async fn call(
        &self,
        ep: Endpoint,
        req: Req<'_>,
        idempotent: bool,
        secrets: &[&str],
    ) -> Result<Success, TikTokError> {
        let cfg = &self.inner.cfg;
        let mut attempt: u32 = 0;
        loop {
            self.wait_for_budget(ep).await;
            let builder = match &req {
                Req::Form(url, form) => self.inner.http.post(*url).form(form),
                Req::Get(url, token) => self.inner.http.get(*url).bearer_auth(token.expose()),
                Req::Post(url, token, body) => self.inner.http.post(*url).bearer_auth(token.expose()).json(body),
            };
            let start = Instant::now();
            let (status, log_id, outcome, declined) = match builder.send().await {
                Err(e) => (None, None, Err(transport_error(ep, &e, cfg.timeout)), e.is_connect()),
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let header_log_id = resp
                        .headers()
                        .get("x-tt-logid")
                        .and_then(|v: &HeaderValue| v.to_str().ok())
                        .map(str::to_string);
                    let retry_after =
                        decode::retry_after(resp.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()));
                    match resp.bytes().await {
                        Err(e) => (Some(status), header_log_id, Err(transport_error(ep, &e, cfg.timeout)), false),
                        Ok(body) => {
                            let d = decode::decode(status, &body);
                            let outcome = d.outcome.map_err(|e| match e {
                                TikTokError::RateLimited { .. } => TikTokError::RateLimited { retry_after },
                                other => other,
                            });
                            (Some(status), d.log_id.or(header_log_id), outcome, d.server_declined)
                        }
                    }
                }
            };
            let took = start.elapsed();
            self.counters(ep).attempt(attempt > 0, status, took);
            let outcome = outcome.map_err(|e| scrub(e, secrets));
            tracing::debug!(
                endpoint = ep.name(),
                attempt,
                status = status.unwrap_or(0),
                duration_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
                log_id = log_id.as_deref().unwrap_or(""),
                outcome = match &outcome {
                    Ok(_) => "ok",
                    Err(e) => e.reason(),
                },
                "tiktok call"
            );
            match outcome {
                Ok(s) => return Ok(s),
                Err(e) => {
                    let retryable = e.is_retryable() && (idempotent || declined);
                    if !retryable || attempt >= cfg.max_retries {
                        self.counters(ep).error();
                        if let TikTokError::Transient { message } = &e {
                            tracing::debug!(endpoint = ep.name(), attempts = attempt + 1, message = %message, "tiktok call failed");
                        }
                        return Err(e);
                    }
                    let mut pause = backoff(cfg.backoff_base, cfg.backoff_cap, attempt);
                    if let TikTokError::RateLimited { retry_after: Some(ra) } = &e {
                        pause = pause.max((*ra).min(cfg.backoff_cap));
                    }
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn token_call(&self, form: Vec<(&'static str, &str)>, secrets: &[&str]) -> Result<TokenGrant, TikTokError> {
        let ep = Endpoint::Token;
        let success = self.call(ep, Req::Form(&self.inner.token_url, form), false, secrets).await?;
        grant_of(success).inspect_err(|_| self.counters(ep).error())
    }

    fn data(&self, ep: Endpoint, success: Success) -> Result<Map<String, Value>, TikTokError> {
        data_of(ep, success).inspect_err(|_| self.counters(ep).error())
    }
}

#[async_trait]
impl TikTokApi for TikTokClient {
    fn authorize_url(&self, state: &str, code_challenge: &str) -> String {
        let cfg = &self.inner.cfg;
        format!(
            "{}?client_key={}&scope={}&response_type=code&redirect_uri={}&state={}&disable_auto_auth=1&code_challenge={}&code_challenge_method=S256",
            self.inner.authorize_url,
            pct(&cfg.client_key),
            pct(SCOPES),
            pct(&cfg.redirect_uri),
            pct(state),
            pct(code_challenge),
        )
    }

    async fn exchange_code(&self, code: &str, code_verifier: &str) -> Result<TokenGrant, TikTokError> {
        let cfg = &self.inner.cfg;
        let secret = cfg.client_secret.expose().as_str();
        let mut form = vec![
            ("client_key", cfg.client_key.as_str()),
            ("client_secret", secret),
            ("code", code),
            ("grant_type", "authorization_code"),
            ("redirect_uri", cfg.redirect_uri.as_str()),
        ];
        if !code_verifier.is_empty() {
            form.push(("code_verifier", code_verifier));
        }
        self.token_call(form, &[secret, code, code_verifier]).await
    }

    async fn refresh(&self, refresh_token: &Secret<String>) -> Result<TokenGrant, TikTokError> {
        let cfg = &self.inner.cfg;
        let secret = cfg.client_secret.expose().as_str();
        let rt = refresh_token.expose().as_str();
        let form = vec![
            ("client_key", cfg.client_key.as_str()),
            ("client_secret", secret),
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
        ];
        self.token_call(form, &[secret, rt]).await
    }

    async fn revoke(&self, access_token: &Secret<String>) -> Result<(), TikTokError> {
        let cfg = &self.inner.cfg;
        let secret = cfg.client_secret.expose().as_str();
        let token = access_token.expose().as_str();
        let form = vec![("client_key", cfg.client_key.as_str()), ("client_secret", secret), ("token", token)];
        // Revoking twice is harmless, so every retryable failure is retried.
        self.call(Endpoint::Revoke, Req::Form(&self.inner.revoke_url, form), true, &[secret, token]).await.map(|_| ())
    }

    async fn user_info(&self, access_token: &Secret<String>) -> Result<TikTokUser, TikTokError> {
        let ep = Endpoint::UserInfo;
        let s =
            self.call(ep, Req::Get(&self.inner.user_info_url, access_token), true, &[access_token.expose()]).await?;
        let data = self.data(ep, s)?;
        user_of(&data).inspect_err(|_| self.counters(ep).error())
    }

    async fn video_list(
        &self,
        access_token: &Secret<String>,
        cursor: Option<i64>,
        max_count: u8,
    ) -> Result<VideoPage, TikTokError> {
        let ep = Endpoint::VideoList;
        let mut body = json!({ "max_count": max_count.clamp(1, 20) });
        if let Some(c) = cursor {
            body["cursor"] = json!(c);
        }
        let s = self
            .call(ep, Req::Post(&self.inner.video_list_url, access_token, body), true, &[access_token.expose()])
            .await?;
        let data = self.data(ep, s)?;
        Ok(page_of(&data))
    }

    async fn video_query(
        &self,
        access_token: &Secret<String>,
        ids: &[String],
    ) -> Result<Vec<TikTokVideo>, TikTokError> {
        let ep = Endpoint::VideoQuery;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        if ids.len() > MAX_QUERY_IDS {
            // A caller bug: refuse before spending budget rather than silently dropping ids.
            self.counters(ep).error();
            return Err(rejected(
                "invalid_params",
                format!("video/query takes at most {MAX_QUERY_IDS} ids, got {}", ids.len()),
            ));
        }
        let body = json!({ "filters": { "video_ids": ids } });
        let s = self
            .call(ep, Req::Post(&self.inner.video_query_url, access_token, body), true, &[access_token.expose()])
            .await?;
        let data = self.data(ep, s)?;
        Ok(videos_from(&data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> TikTokClient {
        let cfg = TikTokConfig::new("key &=?", Secret::new("s3cret-value".into()), "https://shop.example/cb?x=1 y")
            .with_base_url(base);
        TikTokClient::new(cfg).expect("client")
    }

    #[test]
    fn authorize_url_is_complete_and_encoded() {
        let c = client("https://auth.example/");
        let u = c.authorize_url("st/ate+=&", "chal_lenge-~.");
        assert!(u.starts_with("https://auth.example/v2/auth/authorize/?"), "{u}");
        let parsed = url::Url::parse(&u).expect("url");
        let q: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
        assert_eq!(q["client_key"], "key &=?");
        assert_eq!(q["scope"], SCOPES);
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["redirect_uri"], "https://shop.example/cb?x=1 y");
        assert_eq!(q["state"], "st/ate+=&");
        assert_eq!(q["disable_auto_auth"], "1");
        assert_eq!(q["code_challenge"], "chal_lenge-~.");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q.len(), 8);
        // Percent-encoded, never form-encoded: no '+' for a space, no raw reserved bytes.
        assert!(u.contains("state=st%2Fate%2B%3D%26&"), "{u}");
        assert!(u.contains("redirect_uri=https%3A%2F%2Fshop.example%2Fcb%3Fx%3D1%20y&"), "{u}");
        assert!(!u.contains("s3cret"));
    }

    #[test]
    fn backoff_is_full_jitter_and_capped() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_millis(1000);
        for retry in 0..40 {
            let ceiling = (base * 2u32.saturating_pow(retry.min(31))).min(cap);
            for _ in 0..50 {
                assert!(backoff(base, cap, retry) <= ceiling);
            }
        }
        // Full jitter really spreads: some draws land in the lower half of the range.
        let low = (0..200).filter(|_| backoff(base, cap, 3) < Duration::from_millis(400)).count();
        assert!(low > 20 && low < 180, "{low}");
        assert_eq!(backoff(Duration::ZERO, cap, 5), Duration::ZERO);
    }

    #[test]
    fn rejects_bad_configs() {
        let ok = TikTokConfig::new("k", Secret::new("s".into()), "https://x/cb");
        let mut c = ok.clone();
        c.api_base_url = "ftp://x".into();
        assert!(matches!(TikTokClient::new(c), Err(BuildError::BaseUrl { field: "api_base_url", .. })));
        let mut c = ok.clone();
        c.auth_base_url = "not a url".into();
        assert!(matches!(TikTokClient::new(c), Err(BuildError::BaseUrl { .. })));
        let mut c = ok.clone();
        c.burst = 0;
        assert!(matches!(TikTokClient::new(c), Err(BuildError::Zero("burst"))));
        let mut c = ok.clone();
        c.client_secret = Secret::new(String::new());
        assert!(matches!(TikTokClient::new(c), Err(BuildError::Empty("client_secret"))));
        assert!(TikTokClient::new(ok).is_ok());
    }

    #[test]
    fn scrubs_secrets_from_errors() {
        let e = scrub(
            TikTokError::Rejected { code: "x".into(), message: "bad token act.abcdefgh here".into() },
            &["act.abcdefgh"],
        );
        assert_eq!(e.to_string(), "TikTok rejected the request: x: bad token [redacted] here");
    }
}
