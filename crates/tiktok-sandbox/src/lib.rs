//! # tiktok-sandbox
//!
//! A faithful emulator of TikTok's API v2 — Login Kit OAuth (consent, token,
//! revoke) and the Display API (user info, video list, video query) — for tests,
//! the demo and benchmarks. See the crate README for every knob and route.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use tiktok_sandbox::{Sandbox, SandboxConfig};
//! let sb = Sandbox::start(SandboxConfig { accounts: 5, ..Default::default() }).await?;
//! let base = sb.base_url(); // both TIKTOK_AUTH_BASE_URL and TIKTOK_API_BASE_URL
//! sb.update(|k| k.rate_limit_per_min = 10);
//! sb.advance_clock(chrono::Duration::days(1));
//! sb.stop().await;
//! # let _ = base; Ok(()) }
//! ```

mod api;
mod config;
mod control;
mod data;
mod display;
mod fetches;
mod html;
mod oauth;
mod state;
mod webhook;

use std::io;
use std::net::SocketAddr;

use actix_web::body::MessageBody;
use actix_web::dev::{ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use chrono::{DateTime, Utc};

pub use config::{KNOWN_SCOPES, LatencyMs, RateLimitKey, Rotation, RuntimeKnobs, SandboxConfig, TokenProfile};
pub use control::{AccountInfo, ClockInfo, VideoInfo};
pub use state::{EndpointStats, SandboxStats, TokenResponse, pkce_s256};
pub use webhook::signature as webhook_signature;

use state::State;

/// Entry point: `Sandbox::start(config)`.
pub struct Sandbox;

/// A running sandbox. Dropping it leaves the server running until the runtime
/// ends; call [`SandboxHandle::stop`] to stop it.
pub struct SandboxHandle {
    addr: SocketAddr,
    state: web::Data<State>,
    server: ServerHandle,
    join: tokio::task::JoinHandle<io::Result<()>>,
}

async fn logid_middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let method = req.method().clone();
    let path = req.path().to_string();
    let mut res = next.call(req).await?;
    let name = HeaderName::from_static(api::LOGID_HEADER);
    if !res.headers().contains_key(&name)
        && let Ok(v) = HeaderValue::from_str(&api::new_log_id())
    {
        res.headers_mut().insert(name, v);
    }
    tracing::debug!(%method, %path, status = res.status().as_u16(), "request");
    Ok(res)
}

async fn not_found() -> HttpResponse {
    let log_id = api::new_log_id();
    HttpResponse::NotFound()
        .insert_header((api::LOGID_HEADER, log_id.as_str()))
        .json(serde_json::json!({
            "data": {},
            "error": {"code": "not_found", "message": "No such route in the TikTok sandbox (paths end with a slash).", "log_id": log_id},
        }))
}

fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v2/auth/authorize/", web::get().to(oauth::authorize))
        .route("/v2/auth/authorize/decision", web::post().to(oauth::authorize_decision))
        .route("/v2/oauth/token/", web::post().to(oauth::token))
        .route("/v2/oauth/revoke/", web::post().to(oauth::revoke))
        .route("/v2/user/info/", web::get().to(display::user_info))
        .route("/v2/video/list/", web::post().to(display::video_list))
        .route("/v2/video/query/", web::post().to(display::video_query))
        .configure(control::configure);
}

fn midnight_today() -> DateTime<Utc> {
    let now = Utc::now().timestamp();
    DateTime::from_timestamp(now - now.rem_euclid(86_400), 0).unwrap_or_else(Utc::now)
}

impl Sandbox {
    /// Generates the data, binds `config.listen` and serves in the background
    /// on the current tokio runtime.
    pub async fn start(config: SandboxConfig) -> io::Result<SandboxHandle> {
        config.knobs().validate().map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        if config.accounts > 0x00ff_ffff {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "at most 16 777 215 accounts"));
        }
        let anchor = config.anchor.unwrap_or_else(midnight_today);
        let data = data::Dataset::generate(config.seed, config.accounts, config.videos_per_account, anchor.timestamp());
        let state = web::Data::new(State::new(&config, data));
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .wrap(from_fn(logid_middleware))
                .configure(configure)
                .default_service(web::to(not_found))
        })
        .workers(config.workers.max(1))
        .disable_signals()
        .shutdown_timeout(1)
        .bind(config.listen)?;
        let mut addr = *server.addrs().first().ok_or_else(|| io::Error::other("no listening address"))?;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let _ = state.base_url.set(format!("http://{addr}"));
        let server = server.run();
        let handle = server.handle();
        let join = tokio::spawn(server);
        Ok(SandboxHandle { addr, state, server: handle, join })
    }
}

impl SandboxHandle {
    /// The bound address (an unspecified IP is reported as 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: both TikTok base URLs (auth and API) are this.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A consent URL for the configured client and redirect URI (no PKCE).
    pub fn authorize_url(&self, scope: &str, state: &str) -> String {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_key", &self.state.client_key)
            .append_pair("response_type", "code")
            .append_pair("scope", scope)
            .append_pair("redirect_uri", &self.state.redirect_uri)
            .append_pair("state", state)
            .append_pair("disable_auto_auth", "1")
            .finish();
        format!("{}/v2/auth/authorize/?{q}", self.base_url())
    }

    /// Same data as `GET /sandbox/stats`.
    pub fn stats(&self) -> SandboxStats {
        let window = self.state.knobs().rate_window_ms;
        self.state.stats.snapshot(window)
    }

    /// Zeroes the stats (as `POST /sandbox/stats/reset`).
    pub fn reset_stats(&self) {
        self.state.stats.reset();
    }

    /// Empties every rate window (as `POST /sandbox/ratelimit/reset`).
    pub fn reset_rate_limits(&self) {
        for l in &self.state.limiters {
            l.reset();
        }
    }

    /// The current run-time knobs.
    pub fn knobs(&self) -> RuntimeKnobs {
        self.state.knobs().clone()
    }

    /// Changes knobs at run time: `sb.update(|k| k.fault_internal_error = 0.5)`.
    ///
    /// # Panics
    /// When the result is invalid (see [`RuntimeKnobs::validate`]); the knobs
    /// then stay as they were.
    pub fn update(&self, f: impl FnOnce(&mut RuntimeKnobs)) {
        let mut next = self.state.knobs().clone();
        f(&mut next);
        if let Err(e) = next.validate() {
            panic!("invalid sandbox knobs: {e}");
        }
        *self.state.knobs_mut() = next;
    }

    /// Moves the sandbox clock (negative durations move it back).
    pub fn advance_clock(&self, d: chrono::Duration) {
        self.state.advance_ms(d.num_milliseconds());
    }

    /// Sets the sandbox clock.
    pub fn set_clock(&self, t: DateTime<Utc>) {
        self.state.set_now(t);
    }

    /// The sandbox clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.state.now()
    }

    /// Simulates the user removing the app: every grant of the account dies.
    pub fn revoke_grant(&self, open_id: &str) {
        if let Some(i) = self.state.data.account_index(open_id) {
            let now_ms = self.state.now_ms();
            self.state.oauth_write().revoke_account(i, now_ms);
        }
    }

    /// The answer status of every webhook delivery attempt so far (0: no answer), in order.
    pub fn webhook_attempts(&self) -> Vec<u16> {
        self.state.webhook_attempts.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Every account with its live-grant flag and current counts.
    pub fn accounts(&self) -> Vec<AccountInfo> {
        control::accounts(&self.state)
    }

    /// The visible videos of an account, newest first, with their current stats
    /// (empty for an unknown open_id).
    pub fn visible_videos(&self, open_id: &str) -> Vec<VideoInfo> {
        control::visible_videos(&self.state, open_id).unwrap_or_default()
    }

    /// Issues tokens for an account without the OAuth dance (as `POST /sandbox/tokens`).
    /// `scopes` is a comma list; unknown scopes are ignored.
    pub fn issue_tokens(&self, account: usize, scopes: &str) -> TokenResponse {
        let bits = scopes.split(',').filter_map(|s| state::parse_scopes([s]).ok()).fold(0, |a, b| a | b);
        control::mint(&self.state, account, bits)
    }

    /// Stops the server (open and hung requests are dropped).
    pub async fn stop(self) {
        self.server.stop(false).await;
        let _ = self.join.await;
    }
}
