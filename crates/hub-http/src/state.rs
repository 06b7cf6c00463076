//! What every handler and middleware shares: the engine, the settings, the limiters and the
//! metrics. Built once per process: every worker shares its limiters.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hub_domain::Secret;
use hub_engine::Engine;
use ipnet::IpNet;

use crate::auth::ApiKeys;
use crate::limits::{AuthFailures, IpLimiter, LimitClock, UntrustedForwarders};
use crate::metrics::{Metrics, MetricsSource};

/// The OpenAPI document's title (and the service's name on `GET /`).
pub const API_TITLE: &str = "TikTok Content Reporting Hub";

/// The adapter's settings (from the app's typed config).
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Every key that may call the admin API (several at once during a rotation).
    pub api_keys: Vec<Secret<String>>,
    /// Admin requests per minute per client address; 0 = no limit.
    pub rate_limit_admin_per_min: u32,
    /// OAuth requests (connect, auth URL, callback) per minute per client address; 0 = no limit.
    pub rate_limit_oauth_per_min: u32,
    /// Health-check requests (`/health*`) per minute per client address; 0 = no limit.
    pub rate_limit_health_per_min: u32,
    /// Sign-in attempts (`POST /auth/login`) per minute per client address; 0 = no limit.
    pub rate_limit_login_per_min: u32,
    /// Failed API-key or sign-in attempts from one address (failed sign-ins: also to one
    /// account) before it is blocked; 0 = never blocked.
    pub auth_failure_max: u32,
    /// How long such a block lasts (and the window the failures are counted in).
    pub auth_failure_block: Duration,
    /// Proxies (networks) whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Origins allowed to call the API from a browser; empty = no CORS headers.
    pub cors_origins: Vec<String>,
    /// Mark the OAuth browser-binding cookie and the session cookie `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// The hub's origin as browsers reach it (`PUBLIC_BASE_URL`'s scheme, host and port): the
    /// only `Origin` (or `Referer`) accepted on unsafe requests made with a session cookie.
    pub public_origin: String,
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// Worker threads serving requests (`HTTP_WORKERS`).
    pub workers: usize,
    /// Shown by `/`, `/health` and the OpenAPI document.
    pub version: String,
    /// Who may read Swagger UI and the OpenAPI document (`API_DOCS`).
    pub api_docs: ApiDocs,
    /// Send `Strict-Transport-Security` on every answer (the hub is reached over https).
    pub hsts: bool,
    /// The app's client key and secret, and the timestamp tolerance, for `POST /webhooks/tiktok`.
    pub tiktok_webhook: crate::tiktok_webhook::WebhookKeys,
}

/// Who may read the documentation routes (`/api/docs`, `/api/openapi.json`, `/docs`,
/// `/swagger`): everyone, admins (the `X-API-KEY` of the admin API, with its limits and
/// failure block), or no one (404).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiDocs {
    #[default]
    Public,
    AdminKey,
    Off,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            api_keys: Vec::new(),
            rate_limit_admin_per_min: 100,
            rate_limit_oauth_per_min: 10,
            rate_limit_health_per_min: 120,
            rate_limit_login_per_min: 10,
            auth_failure_max: 5,
            auth_failure_block: Duration::from_secs(15 * 60),
            trusted_proxies: Vec::new(),
            cors_origins: Vec::new(),
            secure_cookies: true,
            public_origin: "http://localhost:3000".into(),
            body_limit_bytes: 64 * 1024,
            workers: std::thread::available_parallelism().map_or(2, usize::from),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            api_docs: ApiDocs::Public,
            hsts: false,
            tiktok_webhook: crate::tiktok_webhook::WebhookKeys {
                client_key: String::new(),
                client_secret: Secret::new(String::new()),
                tolerance: Duration::from_secs(300),
            },
        }
    }
}

/// Everything the handlers share. Build one per process and hand it to [`crate::serve`] (or
/// [`crate::build_app`]).
pub struct AppState {
    pub(crate) engine: Arc<Engine>,
    pub(crate) config: HttpConfig,
    pub(crate) started: Instant,
    /// What `/metrics` renders (see [`AppState::with_metrics_source`]).
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) keys: ApiKeys,
    pub(crate) admin_limiter: Option<IpLimiter>,
    pub(crate) oauth_limiter: Option<IpLimiter>,
    pub(crate) health_limiter: Option<IpLimiter>,
    pub(crate) login_limiter: Option<IpLimiter>,
    /// Failed API keys and sign-ins, per client address.
    pub(crate) auth_failures: AuthFailures,
    /// Failed sign-ins per account (the SHA-256 of the email as typed, in lower case: an
    /// unknown address is blocked the same way as a known one).
    pub(crate) account_failures: AuthFailures<[u8; 32]>,
    /// Peers whose `X-Forwarded-For` was ignored, to warn once about each.
    pub(crate) untrusted_forwarders: UntrustedForwarders,
    /// The time of the limits and the auth-failure block.
    pub(crate) clock: LimitClock,
    /// The limits every instance shares (see [`AppState::with_shared_limits`]).
    pub(crate) shared: Option<Arc<dyn hub_ports::SharedLimits>>,
    /// Another driving adapter served by the same app (the dashboard), see [`Mount`].
    pub(crate) mount: Option<Mount>,
}

/// Routes of another adapter served beside the API on the same listener, under `prefix`
/// (hub-app mounts the dashboard, `hub-web`, at `/dashboard`; this crate never names it).
/// The middleware gives them request ids, the access log, security headers and the
/// untrusted-forwarder check, but leaves their answers as they are: their errors are their
/// own pages (no JSON envelope), and their `Cache-Control` and CSP stand.
#[derive(Clone)]
pub struct Mount {
    pub prefix: &'static str,
    pub configure: Arc<dyn Fn(&mut actix_web::web::ServiceConfig) + Send + Sync>,
}

impl std::fmt::Debug for Mount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mount").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

/// How many client addresses each limit tracks right now: what its memory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackedClients {
    pub admin: usize,
    pub oauth: usize,
    pub health: usize,
    pub login: usize,
    pub auth_failures: usize,
    pub account_failures: usize,
    /// Peers remembered for the untrusted `X-Forwarded-For` warning (at most 1,000).
    pub untrusted_forwarders: usize,
}

impl AppState {
    pub fn new(engine: Arc<Engine>, config: HttpConfig) -> Self {
        Self::with_clock(engine, config, LimitClock::system())
    }

    /// [`AppState::new`] with the limits on `clock` (tests pass [`LimitClock::manual`]).
    pub fn with_clock(engine: Arc<Engine>, config: HttpConfig, clock: LimitClock) -> Self {
        let limiter = |per_minute| IpLimiter::with_clock(per_minute, clock.clone());
        Self {
            keys: ApiKeys::new(&config.api_keys),
            admin_limiter: limiter(config.rate_limit_admin_per_min),
            oauth_limiter: limiter(config.rate_limit_oauth_per_min),
            health_limiter: limiter(config.rate_limit_health_per_min),
            login_limiter: limiter(config.rate_limit_login_per_min),
            auth_failures: AuthFailures::new(config.auth_failure_max, config.auth_failure_block),
            account_failures: AuthFailures::new(config.auth_failure_max, config.auth_failure_block),
            untrusted_forwarders: UntrustedForwarders::default(),
            clock,
            engine,
            config,
            started: Instant::now(),
            metrics: Arc::new(Metrics::new(None)),
            shared: None,
            mount: None,
        }
    }

    /// Counts the admin rate per address and the auth failures across every instance in
    /// `limits` too (besides this process's own limits, which stay in force).
    pub fn with_shared_limits(mut self, limits: Arc<dyn hub_ports::SharedLimits>) -> Self {
        self.shared = Some(limits);
        self
    }

    /// Serves `mount`'s routes beside the API.
    #[must_use]
    pub fn with_mount(mut self, mount: Mount) -> Self {
        self.mount = Some(mount);
        self
    }

    /// The client addresses the limits hold now.
    pub fn tracked_clients(&self) -> TrackedClients {
        TrackedClients {
            admin: self.admin_limiter.as_ref().map_or(0, IpLimiter::len),
            oauth: self.oauth_limiter.as_ref().map_or(0, IpLimiter::len),
            health: self.health_limiter.as_ref().map_or(0, IpLimiter::len),
            login: self.login_limiter.as_ref().map_or(0, IpLimiter::len),
            auth_failures: self.auth_failures.len(),
            account_failures: self.account_failures.len(),
            untrusted_forwarders: self.untrusted_forwarders.len(),
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Plugs `source` into `/metrics` (the HTTP series are always there).
    #[must_use]
    pub fn with_metrics_source(mut self, source: Arc<dyn MetricsSource>) -> Self {
        self.metrics = Arc::new(Metrics::new(Some(source)));
        self
    }

    /// What `/metrics` renders, to serve it on another listener too ([`crate::serve_metrics`]).
    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.metrics)
    }
}
