//! Shared mutable state: clock, OAuth codes/grants/tokens, rate windows, stats.
//! Plain std locks; no lock is ever held across an await.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::{Deserialize, Serialize};

use crate::config::{KNOWN_SCOPES, RateLimitKey, Rotation, RuntimeKnobs};
use crate::data::Dataset;

/// Scope bits, in the order of [`KNOWN_SCOPES`].
pub(crate) const S_BASIC: u8 = 1;
pub(crate) const S_PROFILE: u8 = 2;
pub(crate) const S_STATS: u8 = 4;
pub(crate) const S_VIDEO: u8 = 8;
pub(crate) const S_ALL: u8 = 15;

/// Parses a comma list of scopes; `Err(name)` for an unknown one.
pub(crate) fn parse_scopes<'a>(list: impl IntoIterator<Item = &'a str>) -> Result<u8, String> {
    let mut bits = 0;
    for s in list {
        let s = s.trim();
        if s.is_empty() {
            continue;
        }
        match KNOWN_SCOPES.iter().position(|k| *k == s) {
            Some(i) => bits |= 1 << i,
            None => return Err(s.to_string()),
        }
    }
    Ok(bits)
}

pub(crate) fn scopes_string(bits: u8) -> String {
    KNOWN_SCOPES.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, s)| *s).collect::<Vec<_>>().join(",")
}

pub(crate) fn scope_name(bit: u8) -> &'static str {
    KNOWN_SCOPES[bit.trailing_zeros() as usize]
}

/// The endpoints counted in the stats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Authorize = 0,
    Token = 1,
    Revoke = 2,
    UserInfo = 3,
    VideoList = 4,
    VideoQuery = 5,
}

/// How a request ended, for the stats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    RateLimited,
    Error,
}

/// Counters of one endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointStats {
    /// Requests received.
    pub calls: u64,
    /// Successful answers.
    pub ok: u64,
    /// `rate_limit_exceeded` answers (HTTP 429).
    pub http_429: u64,
    /// Every other error answer (including OAuth errors sent with HTTP 200).
    pub errors: u64,
    /// Highest number of requests received in any sliding window of `window_ms`
    /// (real time).
    pub peak_window: u64,
}

/// What `GET /sandbox/stats` answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxStats {
    /// Length of the window of `peak_window` (the `rate_window_ms` knob).
    pub window_ms: u64,
    pub authorize: EndpointStats,
    pub token: EndpointStats,
    pub revoke: EndpointStats,
    pub user_info: EndpointStats,
    pub video_list: EndpointStats,
    pub video_query: EndpointStats,
}

#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    ok: AtomicU64,
    http_429: AtomicU64,
    errors: AtomicU64,
    /// (arrival instants within the window, peak)
    window: Mutex<(VecDeque<Instant>, u64)>,
}

#[derive(Default)]
pub(crate) struct Stats {
    eps: [Counters; 6],
}

impl Stats {
    pub fn record_call(&self, ep: Endpoint, window: Duration) {
        let c = &self.eps[ep as usize];
        c.calls.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let mut w = c.window.lock().unwrap_or_else(|e| e.into_inner());
        let (q, peak) = &mut *w;
        while q.front().is_some_and(|&t| now.duration_since(t) >= window) {
            q.pop_front();
        }
        q.push_back(now);
        *peak = (*peak).max(q.len() as u64);
    }

    pub fn record(&self, ep: Endpoint, outcome: Outcome) {
        let c = &self.eps[ep as usize];
        match outcome {
            Outcome::Ok => &c.ok,
            Outcome::RateLimited => &c.http_429,
            Outcome::Error => &c.errors,
        }
        .fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self, window_ms: u64) -> SandboxStats {
        let one = |ep: Endpoint| {
            let c = &self.eps[ep as usize];
            EndpointStats {
                calls: c.calls.load(Ordering::Relaxed),
                ok: c.ok.load(Ordering::Relaxed),
                http_429: c.http_429.load(Ordering::Relaxed),
                errors: c.errors.load(Ordering::Relaxed),
                peak_window: c.window.lock().unwrap_or_else(|e| e.into_inner()).1,
            }
        };
        SandboxStats {
            window_ms,
            authorize: one(Endpoint::Authorize),
            token: one(Endpoint::Token),
            revoke: one(Endpoint::Revoke),
            user_info: one(Endpoint::UserInfo),
            video_list: one(Endpoint::VideoList),
            video_query: one(Endpoint::VideoQuery),
        }
    }

    pub fn reset(&self) {
        for c in &self.eps {
            c.calls.store(0, Ordering::Relaxed);
            c.ok.store(0, Ordering::Relaxed);
            c.http_429.store(0, Ordering::Relaxed);
            c.errors.store(0, Ordering::Relaxed);
            *c.window.lock().unwrap_or_else(|e| e.into_inner()) = (VecDeque::new(), 0);
        }
    }
}

/// Sliding-window limiter of one endpoint. Only admitted requests count.
#[derive(Default)]
pub(crate) struct Limiter {
    windows: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Limiter {
    /// `true` when the request is admitted.
    pub fn admit(&self, key: &str, limit: u64, window: Duration) -> bool {
        if limit == 0 {
            return true;
        }
        let now = Instant::now();
        let mut map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let q = match map.get_mut(key) {
            Some(q) => q,
            None => map.entry(key.to_string()).or_default(),
        };
        while q.front().is_some_and(|&t| now.duration_since(t) >= window) {
            q.pop_front();
        }
        if q.len() as u64 >= limit {
            return false;
        }
        q.push_back(now);
        true
    }

    pub fn reset(&self) {
        self.windows.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// What the token endpoint answers on success (flat JSON, as TikTok).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub expires_in: i64,
    pub open_id: String,
    pub refresh_token: String,
    pub refresh_expires_in: i64,
    pub scope: String,
    pub token_type: String,
}

/// An OAuth error: TikTok's code and a description.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {description}")]
pub(crate) struct OAuthError {
    pub error: &'static str,
    pub description: String,
}

pub(crate) fn oauth_err(error: &'static str, description: impl Into<String>) -> OAuthError {
    OAuthError { error, description: description.into() }
}

struct CodeEntry {
    account: usize,
    scopes: u8,
    redirect_uri: String,
    challenge: Option<String>,
    expires_at_ms: i64,
}

struct Grant {
    account: usize,
    scopes: u8,
    revoked: bool,
    /// The grant counts as live until this instant (latest token expiry).
    live_until_ms: i64,
}

struct AccessEntry {
    grant: usize,
    expires_at_ms: i64,
}

struct RefreshEntry {
    grant: usize,
    expires_at_ms: i64,
    /// Rotated out under strict rotation: using it again revokes the grant.
    dead: bool,
}

#[derive(Default)]
pub(crate) struct OAuth {
    codes: HashMap<String, CodeEntry>,
    grants: Vec<Grant>,
    by_account: HashMap<usize, Vec<usize>>,
    access: HashMap<String, AccessEntry>,
    refresh: HashMap<String, RefreshEntry>,
    rr_cursor: usize,
}

/// A validated access token.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Authed {
    pub account: usize,
    pub scopes: u8,
}

fn random_token(prefix: &str, len: usize) -> String {
    let mut s = String::with_capacity(prefix.len() + len);
    s.push_str(prefix);
    s.extend(rand::rng().sample_iter(&Alphanumeric).take(len).map(char::from));
    s
}

/// Divides a duration in seconds by the time scale (at least 1 s).
pub(crate) fn scaled_secs(secs: i64, time_scale: f64) -> i64 {
    ((secs as f64 / time_scale).round() as i64).max(1)
}

impl OAuth {
    fn grant_live(&self, g: usize, now_ms: i64) -> bool {
        let g = &self.grants[g];
        !g.revoked && g.live_until_ms > now_ms
    }

    pub fn account_has_live_grant(&self, account: usize, now_ms: i64) -> bool {
        self.by_account.get(&account).is_some_and(|gs| gs.iter().any(|&g| self.grant_live(g, now_ms)))
    }

    /// Round robin over the accounts: the next one without a live grant; when
    /// all have one, simply the next one.
    pub fn next_account(&mut self, n: usize, now_ms: i64) -> usize {
        let start = self.rr_cursor % n;
        let pick = (0..n).map(|i| (start + i) % n).find(|&a| !self.account_has_live_grant(a, now_ms)).unwrap_or(start);
        self.rr_cursor = pick + 1;
        pick
    }

    pub fn issue_code(
        &mut self,
        account: usize,
        scopes: u8,
        redirect_uri: &str,
        challenge: Option<String>,
        expires_at_ms: i64,
    ) -> String {
        // Drop expired codes now and then so the map stays small.
        if self.codes.len() > 1024 {
            self.codes.retain(|_, c| c.expires_at_ms > expires_at_ms - 3_600_000);
        }
        let code = random_token("", 64);
        self.codes.insert(
            code.clone(),
            CodeEntry { account, scopes, redirect_uri: redirect_uri.to_string(), challenge, expires_at_ms },
        );
        code
    }

    /// Redeems a code (single use: the code is gone afterwards, whatever happens).
    pub fn redeem_code(
        &mut self,
        data: &Dataset,
        code: &str,
        redirect_uri: &str,
        verifier: Option<&str>,
        now_ms: i64,
        knobs: &RuntimeKnobs,
    ) -> Result<TokenResponse, OAuthError> {
        let entry = self
            .codes
            .remove(code)
            .ok_or_else(|| oauth_err("invalid_grant", "Authorization code is invalid or has already been used."))?;
        if entry.expires_at_ms <= now_ms {
            return Err(oauth_err("invalid_grant", "Authorization code is expired."));
        }
        if entry.redirect_uri != redirect_uri {
            return Err(oauth_err(
                "invalid_grant",
                "Redirect URI does not match the one used in the authorization request.",
            ));
        }
        if let Some(challenge) = &entry.challenge {
            let Some(verifier) = verifier.filter(|v| !v.is_empty()) else {
                return Err(oauth_err("invalid_request", "Missing code_verifier."));
            };
            if pkce_s256(verifier) != *challenge {
                return Err(oauth_err("invalid_grant", "Code verifier does not match the code challenge."));
            }
        }
        let grant = self.grants.len();
        self.grants.push(Grant { account: entry.account, scopes: entry.scopes, revoked: false, live_until_ms: now_ms });
        self.by_account.entry(entry.account).or_default().push(grant);
        Ok(self.issue_tokens(data, grant, None, now_ms, knobs))
    }

    /// A fresh grant without the OAuth dance (sandbox shortcut).
    pub fn mint(
        &mut self,
        data: &Dataset,
        account: usize,
        scopes: u8,
        now_ms: i64,
        knobs: &RuntimeKnobs,
    ) -> TokenResponse {
        let grant = self.grants.len();
        self.grants.push(Grant { account, scopes, revoked: false, live_until_ms: now_ms });
        self.by_account.entry(account).or_default().push(grant);
        self.issue_tokens(data, grant, None, now_ms, knobs)
    }

    /// New access token (+ refresh token unless `keep_refresh` names the one to return).
    fn issue_tokens(
        &mut self,
        data: &Dataset,
        grant: usize,
        keep_refresh: Option<String>,
        now_ms: i64,
        knobs: &RuntimeKnobs,
    ) -> TokenResponse {
        let (access_life, refresh_life) = knobs.token_profile.lifetimes();
        let expires_in = scaled_secs(access_life, knobs.time_scale);
        let access_token = random_token("act.", 60);
        let access_exp = now_ms + expires_in * 1000;
        self.access.insert(access_token.clone(), AccessEntry { grant, expires_at_ms: access_exp });
        let (refresh_token, refresh_exp) = match keep_refresh {
            Some(rt) => {
                let exp = self.refresh.get(&rt).map_or(now_ms, |e| e.expires_at_ms);
                (rt, exp)
            }
            None => {
                let rt = random_token("rft.", 60);
                let exp = now_ms + scaled_secs(refresh_life, knobs.time_scale) * 1000;
                self.refresh.insert(rt.clone(), RefreshEntry { grant, expires_at_ms: exp, dead: false });
                (rt, exp)
            }
        };
        let g = &mut self.grants[grant];
        g.live_until_ms = g.live_until_ms.max(access_exp).max(refresh_exp);
        TokenResponse {
            access_token,
            expires_in,
            open_id: data.accounts[g.account].open_id.clone(),
            refresh_token,
            refresh_expires_in: ((refresh_exp - now_ms) / 1000).max(0),
            scope: scopes_string(g.scopes),
            token_type: "Bearer".into(),
        }
    }

    pub fn refresh(
        &mut self,
        data: &Dataset,
        refresh_token: &str,
        now_ms: i64,
        knobs: &RuntimeKnobs,
    ) -> Result<TokenResponse, OAuthError> {
        let Some(entry) = self.refresh.get(refresh_token) else {
            return Err(oauth_err("invalid_grant", "Refresh token is invalid."));
        };
        let grant = entry.grant;
        if entry.dead {
            // Replay of a rotated refresh token: the whole grant dies.
            self.grants[grant].revoked = true;
            return Err(oauth_err("invalid_grant", "Refresh token has been rotated; the grant is revoked."));
        }
        if self.grants[grant].revoked {
            return Err(oauth_err("invalid_grant", "Refresh token is revoked."));
        }
        if entry.expires_at_ms <= now_ms {
            return Err(oauth_err("invalid_grant", "Refresh token is expired."));
        }
        match knobs.rotation {
            Rotation::None => Ok(self.issue_tokens(data, grant, Some(refresh_token.to_string()), now_ms, knobs)),
            Rotation::May => Ok(self.issue_tokens(data, grant, None, now_ms, knobs)),
            Rotation::Strict => {
                if let Some(e) = self.refresh.get_mut(refresh_token) {
                    e.dead = true;
                }
                Ok(self.issue_tokens(data, grant, None, now_ms, knobs))
            }
        }
    }

    /// Revokes the grant of an access (or refresh) token; `false` if unknown.
    pub fn revoke_token(&mut self, token: &str) -> bool {
        let grant = self.access.get(token).map(|e| e.grant).or_else(|| self.refresh.get(token).map(|e| e.grant));
        match grant {
            Some(g) => {
                self.grants[g].revoked = true;
                true
            }
            None => false,
        }
    }

    /// Revokes every grant of an account; returns how many were live.
    pub fn revoke_account(&mut self, account: usize, now_ms: i64) -> usize {
        let gs = self.by_account.get(&account).cloned().unwrap_or_default();
        let mut n = 0;
        for g in gs {
            if self.grant_live(g, now_ms) {
                n += 1;
            }
            self.grants[g].revoked = true;
        }
        n
    }

    pub fn validate_access(&self, token: &str, now_ms: i64) -> Option<Authed> {
        let e = self.access.get(token)?;
        let g = &self.grants[e.grant];
        (!g.revoked && e.expires_at_ms > now_ms).then_some(Authed { account: g.account, scopes: g.scopes })
    }
}

/// RFC 7636 S256: BASE64URL-NOPAD(SHA256(verifier)).
pub fn pkce_s256(verifier: &str) -> String {
    use base64::Engine;
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// Everything shared by the handlers.
pub(crate) struct State {
    pub client_key: String,
    pub client_secret: String,
    pub redirect_uri: String,
    pub data: Dataset,
    pub knobs: RwLock<RuntimeKnobs>,
    clock_offset_ms: AtomicI64,
    pub oauth: RwLock<OAuth>,
    pub stats: Stats,
    /// Reads per account that begin a sync (reset with the stats).
    pub fetches: crate::fetches::Fetches,
    /// user_info, video_list, video_query
    pub limiters: [Limiter; 3],
    pub base_url: OnceLock<String>,
    /// The answer status of every webhook delivery attempt (0: no answer), in order.
    pub webhook_attempts: std::sync::Mutex<Vec<u16>>,
}

impl State {
    pub fn new(cfg: &crate::SandboxConfig, data: Dataset) -> State {
        State {
            client_key: cfg.client_key.clone(),
            client_secret: cfg.client_secret.clone(),
            redirect_uri: cfg.redirect_uri.clone(),
            data,
            knobs: RwLock::new(cfg.knobs()),
            clock_offset_ms: AtomicI64::new(0),
            oauth: RwLock::new(OAuth::default()),
            stats: Stats::default(),
            fetches: Default::default(),
            limiters: Default::default(),
            base_url: OnceLock::new(),
            webhook_attempts: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub fn knobs(&self) -> std::sync::RwLockReadGuard<'_, RuntimeKnobs> {
        self.knobs.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn knobs_mut(&self) -> std::sync::RwLockWriteGuard<'_, RuntimeKnobs> {
        self.knobs.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn oauth_read(&self) -> std::sync::RwLockReadGuard<'_, OAuth> {
        self.oauth.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn oauth_write(&self) -> std::sync::RwLockWriteGuard<'_, OAuth> {
        self.oauth.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The sandbox clock in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        Utc::now().timestamp_millis() + self.clock_offset_ms.load(Ordering::Relaxed)
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.now_ms()).single().unwrap_or_else(Utc::now)
    }

    pub fn advance_ms(&self, ms: i64) {
        self.clock_offset_ms.fetch_add(ms, Ordering::Relaxed);
    }

    pub fn set_now(&self, t: DateTime<Utc>) {
        let offset = t.timestamp_millis() - Utc::now().timestamp_millis();
        self.clock_offset_ms.store(offset, Ordering::Relaxed);
    }

    pub fn offset_ms(&self) -> i64 {
        self.clock_offset_ms.load(Ordering::Relaxed)
    }

    pub fn base_url(&self) -> &str {
        self.base_url.get().map_or("http://127.0.0.1", |s| s.as_str())
    }

    pub fn rate_key<'a>(&'a self, key: RateLimitKey, token: &'a str) -> &'a str {
        match key {
            RateLimitKey::Client => &self.client_key,
            RateLimitKey::Token => token,
        }
    }
}
