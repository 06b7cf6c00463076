//! The hub's HTTP adapter (actix-web): the admin REST API, the public OAuth pages, the
//! OpenAPI document and Swagger UI.
//!
//! Handlers call [`hub_engine::Engine`] and never speak SQL. Each route group exposes
//! `config(cfg)`; [`build_app`] assembles them with the middleware (request ids, security
//! headers, CORS, per-IP limits, the API-key guard) and the error envelope of [`ApiError`].

mod auth;
mod dto;
mod error;
mod extract;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod html;
mod limits;
mod metrics;
mod middleware;
mod openapi;
mod routes;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpServer, web};
use chrono::{DateTime, Utc};
use hub_domain::Secret;
use hub_engine::Engine;
use paperclip::actix::OpenApiExt;
use paperclip::v2::models::{DefaultApiRaw, Info};

pub use error::{ApiError, Code};
pub use limits::{AuthFailures, IpLimiter, LimitClock};
pub use metrics::{MetricFamily, MetricType, Metrics, MetricsSource, Sample, SampleValue, serve_metrics};
pub use openapi::STORE_CODE_EXAMPLE;
pub use routes::docs::{SWAGGER_UI_VERSION, asset_names as docs_asset_names};

/// The adapter's settings (from the app's typed config).
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Every key that may call the admin API (several at once during a rotation).
    pub api_keys: Vec<Secret<String>>,
    /// Admin requests per minute per client address; 0 = no limit.
    pub rate_limit_admin_per_min: u32,
    /// OAuth requests (connect, auth URL, callback) per minute per client address; 0 = no limit.
    pub rate_limit_oauth_per_min: u32,
    /// Failed API-key attempts from one address before it is blocked; 0 = never blocked.
    pub auth_failure_max: u32,
    /// How long such a block lasts (and the window the failures are counted in).
    pub auth_failure_block: Duration,
    /// Proxies (networks) whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<(IpAddr, u8)>,
    /// Origins allowed to call the API from a browser; empty = no CORS headers.
    pub cors_origins: Vec<String>,
    /// Mark the OAuth browser-binding cookie `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// Shown by `/`, `/health` and the OpenAPI document.
    pub version: String,
    /// Who may read Swagger UI and the OpenAPI document (`API_DOCS`).
    pub api_docs: ApiDocs,
    /// Send `Strict-Transport-Security` on every answer (the hub is reached over https).
    pub hsts: bool,
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
            auth_failure_max: 5,
            auth_failure_block: Duration::from_secs(15 * 60),
            trusted_proxies: Vec::new(),
            cors_origins: Vec::new(),
            secure_cookies: true,
            body_limit_bytes: 64 * 1024,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            api_docs: ApiDocs::Public,
            hsts: false,
        }
    }
}

/// One scheduled job as the scheduler sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledJob {
    /// `refresh_tokens`, `sync_user_daily`, `sync_video_daily`, …
    pub name: String,
    /// Its cron expression.
    pub schedule: String,
    pub next_run: Option<DateTime<Utc>>,
    /// Running now in this process.
    pub running: bool,
}

/// What `GET /admin/sync/status` and `/health` need to know of the scheduler.
pub trait SchedulerView: Send + Sync {
    fn enabled(&self) -> bool;
    /// IANA name of the time zone the schedules are read in.
    fn timezone(&self) -> String;
    fn jobs(&self) -> Vec<ScheduledJob>;
}

/// A scheduler that is not running (e.g. `CRON_ENABLED=false`, or a process without one).
#[derive(Debug, Clone, Default)]
pub struct NoScheduler {
    pub timezone: String,
}

impl SchedulerView for NoScheduler {
    fn enabled(&self) -> bool {
        false
    }

    fn timezone(&self) -> String {
        if self.timezone.is_empty() { "UTC".into() } else { self.timezone.clone() }
    }

    fn jobs(&self) -> Vec<ScheduledJob> {
        Vec::new()
    }
}

/// Everything the handlers share: the engine, the scheduler's view, the settings and the
/// limiters. Build one per process and hand it to [`serve`] (or [`build_app`]): every
/// worker shares its limiters.
pub struct AppState {
    pub(crate) engine: Arc<Engine>,
    pub(crate) scheduler: Arc<dyn SchedulerView>,
    pub(crate) config: HttpConfig,
    pub(crate) started: Instant,
    /// What `/metrics` renders (see [`AppState::with_metrics_source`]).
    pub(crate) metrics: Arc<metrics::Metrics>,
    pub(crate) keys: auth::ApiKeys,
    pub(crate) admin_limiter: Option<IpLimiter>,
    pub(crate) oauth_limiter: Option<IpLimiter>,
    pub(crate) auth_failures: AuthFailures,
    /// Peers whose `X-Forwarded-For` was ignored, to warn once about each.
    pub(crate) untrusted_forwarders: limits::UntrustedForwarders,
    /// The time of the limits and the auth-failure block.
    pub(crate) clock: LimitClock,
}

/// How many client addresses each limit tracks right now: what its memory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackedClients {
    pub admin: usize,
    pub oauth: usize,
    pub auth_failures: usize,
    /// Peers remembered for the untrusted `X-Forwarded-For` warning (at most 1,000).
    pub untrusted_forwarders: usize,
}

impl AppState {
    pub fn new(engine: Arc<Engine>, scheduler: Arc<dyn SchedulerView>, config: HttpConfig) -> Self {
        Self::with_clock(engine, scheduler, config, LimitClock::system())
    }

    /// [`AppState::new`] with the limits on `clock` (tests pass [`LimitClock::manual`]).
    pub fn with_clock(
        engine: Arc<Engine>,
        scheduler: Arc<dyn SchedulerView>,
        config: HttpConfig,
        clock: LimitClock,
    ) -> Self {
        let limiter = |per_minute| IpLimiter::with_clock(per_minute, clock.clone());
        Self {
            keys: auth::ApiKeys::new(&config.api_keys),
            admin_limiter: limiter(config.rate_limit_admin_per_min),
            oauth_limiter: limiter(config.rate_limit_oauth_per_min),
            auth_failures: AuthFailures::new(config.auth_failure_max, config.auth_failure_block),
            untrusted_forwarders: limits::UntrustedForwarders::default(),
            clock,
            engine,
            scheduler,
            config,
            started: Instant::now(),
            metrics: Arc::new(metrics::Metrics::new(None)),
        }
    }

    /// The client addresses the limits hold now.
    pub fn tracked_clients(&self) -> TrackedClients {
        TrackedClients {
            admin: self.admin_limiter.as_ref().map_or(0, IpLimiter::len),
            oauth: self.oauth_limiter.as_ref().map_or(0, IpLimiter::len),
            auth_failures: self.auth_failures.len(),
            untrusted_forwarders: self.untrusted_forwarders.len(),
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }
}

/// The OpenAPI document's title.
pub const API_TITLE: &str = "TikTok Content Reporting Hub";

/// The whole application: every route, the docs, the middleware and the extractor settings.
pub fn build_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let spec = DefaultApiRaw {
        info: Info {
            title: API_TITLE.into(),
            version: state.config.version.clone(),
            description: Some(
                "Admin REST API (X-API-KEY) and public OAuth pages of the hub. Every error answers \
                 {\"success\":false,\"error\":{\"code\",\"message\",\"requestId\"}}."
                    .into(),
            ),
            ..Default::default()
        },
        ..Default::default()
    };
    let body_limit = state.config.body_limit_bytes;
    // Docs routes are registered first, outside any scope, straight on the actix app.
    App::new()
        .configure(routes::docs::config)
        .wrap_api_with_spec(spec)
        .app_data(state)
        .app_data(extract::json_config(body_limit))
        .app_data(extract::query_config())
        .app_data(extract::path_config())
        .app_data(web::PayloadConfig::new(body_limit))
        .configure(routes::health::config)
        // Before the store and sync routes: see `routes::reports::config`.
        .configure(routes::reports::config)
        .configure(routes::stores::config)
        .configure(routes::sync::config)
        .configure(routes::audit::config)
        .configure(routes::oauth::config)
        .configure(metrics::config)
        .with_raw_json_spec_v3(|app, spec| {
            // Every route is registered by now: the document's paths (plus the documentation
            // routes) are the method table of the `Allow` header on 405 answers.
            let mut allow = openapi::AllowTable::from_spec(&spec);
            for route in routes::docs::DOCS_ROUTES {
                allow.add(route, [actix_web::http::Method::GET]);
            }
            app.app_data(web::Data::new(allow))
                .service(paperclip::actix::web::resource(routes::docs::SPEC_PATH).route(routes::docs::spec_route(spec)))
        })
        .default_service(web::to(routes::not_found))
        .wrap(actix_web::middleware::from_fn(middleware::guard))
        .wrap(actix_web::middleware::from_fn(middleware::request_context))
        .wrap(actix_web::middleware::from_fn(metrics::track))
        .build()
}

/// Serves the app on `listener` with two workers (a 2-core machine). Stop it through the
/// returned server's handle (`server.handle().stop(true)` drains requests in flight).
pub fn serve(listener: std::net::TcpListener, state: AppState) -> std::io::Result<actix_web::dev::Server> {
    let state = web::Data::new(state);
    let server = HttpServer::new(move || build_app(state.clone()))
        .workers(2)
        .shutdown_timeout(30)
        .disable_signals()
        .listen(listener)?
        .run();
    Ok(server)
}
