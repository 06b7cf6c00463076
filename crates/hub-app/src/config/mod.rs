//! Typed configuration, read once from the environment at start-up.
//!
//! Every setting of `.env.example` is parsed here and nowhere else; libraries receive the
//! typed values. A missing or invalid value stops start-up with one line naming the variable
//! and what it expects. Secrets are wrapped in [`Secret`] and never printed.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use chrono_tz::Tz;
use hub_domain::Secret;
use ipnet::IpNet;

/// A setting that is missing or invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var} {expected}")]
pub struct ConfigError {
    /// The environment variable's name.
    pub var: &'static str,
    /// What a valid value looks like. Never contains the value itself.
    pub expected: String,
}

fn bad(var: &'static str, expected: impl Into<String>) -> ConfigError {
    ConfigError { var, expected: expected.into() }
}

/// `development` or `production`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// One AES-256-GCM key for tokens at rest, with the id written in front of each ciphertext.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenKey {
    pub id: String,
    pub key: Secret<[u8; 32]>,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenKey {{ id: {:?}, key: [redacted] }}", self.id)
    }
}

/// An address or network (`10.0.0.0/8`, `127.0.0.1`, `::1`): an address alone is its host
/// network.
fn parse_net(s: &str) -> Option<IpNet> {
    s.parse::<IpNet>().ok().or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

/// Every setting of the hub.
#[derive(Debug, Clone)]
pub struct Config {
    pub app_env: AppEnv,
    pub host: String,
    pub port: u16,
    /// Worker threads serving HTTP (`HTTP_WORKERS`, default: the number of cores).
    pub http_workers: usize,
    /// Where staff's browsers reach the hub (connect links); defaults to the redirect URI's origin.
    pub public_base_url: String,

    pub database_url: Secret<String>,
    pub db_pool_size: usize,
    pub db_pool_min: usize,
    pub db_logging: bool,
    /// `statement_timeout` of every pooled connection; `None` = off (`DB_STATEMENT_TIMEOUT=0`).
    pub db_statement_timeout: Option<Duration>,

    pub tiktok_client_key: String,
    pub tiktok_client_secret: Secret<String>,
    pub tiktok_redirect_uri: String,
    pub tiktok_auth_base_url: String,
    pub tiktok_api_base_url: String,
    pub tiktok_rate_limit_per_min: u32,
    pub tiktok_timeout: Duration,
    /// Where the shared TikTok budget lives when not in PostgreSQL (`redis://…`; may hold a password).
    pub redis_url: Option<Secret<String>>,
    /// Before every key the hub writes in Redis (`hub:`).
    pub redis_key_prefix: String,
    /// How many instances are expected: while the shared budget does not answer, each keeps
    /// to `1 / instances_hint` of TikTok's budget.
    pub instances_hint: u32,
    /// How far a TikTok webhook signature's timestamp may be from now.
    pub tiktok_webhook_tolerance: Duration,

    /// Newest first: the first key encrypts, every key decrypts.
    pub token_keys: Vec<TokenKey>,
    pub admin_api_keys: Vec<Secret<String>>,
    pub state_secret: Secret<Vec<u8>>,

    pub sync_concurrency: usize,
    pub video_sync_concurrency: usize,
    /// The most stores a user or video sync grows to in flight while TikTok's budget is
    /// under-used.
    pub sync_max_concurrency: usize,
    pub token_refresh_window: Duration,
    pub report_tz: Tz,

    pub cron_enabled: bool,
    pub tz: Tz,
    pub cron_token_refresh: String,
    pub cron_sync_user_daily: String,
    pub cron_sync_video_daily: String,

    pub log_level: String,
    pub log_format: LogFormat,
    pub cors_origins: Vec<String>,

    pub rate_limit_admin_per_min: u32,
    pub rate_limit_oauth_per_min: u32,
    pub rate_limit_health_per_min: u32,
    /// Sign-in attempts per minute per client address.
    pub rate_limit_login_per_min: u32,
    pub auth_failure_max: u32,
    pub auth_failure_block: Duration,
    pub trusted_proxies: Vec<IpNet>,
    pub oauth_open_connect: bool,
    /// Who may read Swagger UI and the OpenAPI document.
    pub api_docs: hub_http::ApiDocs,
    pub connect_link_ttl: Duration,
    pub shutdown_grace: Duration,
    /// A sign-in session unused this long ends (`SESSION_IDLE_MINUTES`).
    pub session_idle: Duration,
    /// A sign-in session ends this long after sign-in, used or not (`SESSION_ABSOLUTE_HOURS`).
    pub session_absolute: Duration,

    /// A second listener serving only `GET /metrics`, without the API key; `None` = off.
    pub metrics_addr: Option<SocketAddr>,
    /// A RUNNING run whose heartbeat is older than this is INTERRUPTED and its day retried.
    pub sync_stale_after: Duration,
    /// Same-day retries of the stores a run left, as delays after the run.
    pub sync_retry_delays: Vec<Duration>,

    /// Days sync log lines are kept (`RETENTION_SYNC_LOGS_DAYS`); 0 = forever.
    pub retention_sync_logs_days: u32,
    /// Days finished sync runs are kept (`RETENTION_SYNC_RUNS_DAYS`); 0 = forever.
    pub retention_sync_runs_days: u32,
    /// Days audit rows are kept (`RETENTION_AUDIT_DAYS`); 0 = forever.
    pub retention_audit_days: u32,
    /// Notification endpoints may be private, loopback or link-local (`WEBHOOK_ALLOW_PRIVATE`).
    pub webhook_allow_private: bool,
    /// The wait after a first failed delivery, doubled per attempt (`WEBHOOK_RETRY_BASE_MS`).
    pub webhook_retry_base: Duration,
    /// Consecutive failed deliveries that disable an endpoint (`WEBHOOK_DISABLE_AFTER_FAILURES`).
    pub webhook_disable_after: i32,
    /// How often the outbox is polled when idle (`WEBHOOK_POLL_MS`).
    pub webhook_poll: Duration,
    /// When `report.gaps` and `digest.daily` are announced (`CRON_NOTIFY_DAILY`).
    pub cron_notify_daily: String,
}

/// Reads settings through `get` (the environment in production, a map in tests).
struct Reader<F: Fn(&str) -> Option<String>> {
    get: F,
}

impl<F: Fn(&str) -> Option<String>> Reader<F> {
    /// The trimmed value, `None` when unset or blank.
    fn opt(&self, var: &str) -> Option<String> {
        (self.get)(var).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    fn required(&self, var: &'static str, expected: &str) -> Result<String, ConfigError> {
        self.opt(var).ok_or_else(|| bad(var, format!("is required: {expected}")))
    }

    fn parse<T: FromStr>(&self, var: &'static str, default: T, expected: &str) -> Result<T, ConfigError> {
        match self.opt(var) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| bad(var, format!("must be {expected}"))),
        }
    }

    fn ranged<T: FromStr + PartialOrd + std::fmt::Display + Copy>(
        &self,
        var: &'static str,
        default: T,
        min: T,
        max: T,
    ) -> Result<T, ConfigError> {
        let expected = format!("must be a whole number from {min} to {max}");
        let v = self.parse(var, default, &expected)?;
        if v < min || v > max { Err(bad(var, expected)) } else { Ok(v) }
    }

    fn flag(&self, var: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.opt(var).map(|v| v.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) => match v.as_str() {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" => Ok(false),
                _ => Err(bad(var, "must be true or false")),
            },
        }
    }

    fn tz(&self, var: &'static str) -> Result<Tz, ConfigError> {
        match self.opt(var) {
            None => Ok(Tz::UTC),
            Some(v) => v.parse().map_err(|_| bad(var, "must be an IANA time zone name such as UTC or Asia/Jakarta")),
        }
    }

    fn url(&self, var: &'static str, default: Option<&str>) -> Result<String, ConfigError> {
        let v = match default {
            Some(d) => self.opt(var).unwrap_or_else(|| d.to_owned()),
            None => self.required(var, "an http(s) URL")?,
        };
        if !(v.starts_with("https://") || v.starts_with("http://")) || v.contains(char::is_whitespace) {
            return Err(bad(var, "must be an http:// or https:// URL"));
        }
        Ok(v.trim_end_matches('/').to_owned())
    }

    fn cron(&self, var: &'static str, default: &str) -> Result<String, ConfigError> {
        let v = self.opt(var).unwrap_or_else(|| default.to_owned());
        // Five fields as in crontab (Sunday = 0 or 7), read by the scheduler's own parser.
        if hub_jobs::parse_schedule(&v).is_err() {
            return Err(bad(var, "must be a five-field crontab expression such as \"0 2 * * *\""));
        }
        Ok(v)
    }

    /// A comma-separated list of minutes (decimals allowed, e.g. `0.5`), each at most a day.
    fn minutes_list(&self, var: &'static str, default: &[u64]) -> Result<Vec<Duration>, ConfigError> {
        let Some(raw) = self.opt(var) else {
            return Ok(default.iter().map(|m| Duration::from_secs(m * 60)).collect());
        };
        let expected = "must be a comma-separated list of minutes from 0 to 1440 (e.g. 15,60,180)";
        raw.split(',')
            .map(|m| {
                let m: f64 = m.trim().parse().map_err(|_| bad(var, expected))?;
                if !(0.0..=1440.0).contains(&m) {
                    return Err(bad(var, expected));
                }
                Ok(Duration::from_secs_f64(m * 60.0))
            })
            .collect()
    }

    /// Days rows are kept: 0 (forever) or 1 to 36,500.
    fn retention_days(&self, var: &'static str, default: u32) -> Result<u32, ConfigError> {
        let expected = "must be a whole number of days from 0 (keep forever) to 36500";
        let v: u32 = self.parse(var, default, expected)?;
        if v > 36_500 { Err(bad(var, expected)) } else { Ok(v) }
    }

    fn list(&self, var: &str) -> Vec<String> {
        self.opt(var)
            .map(|v| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default()
    }
}

const KEY_EXPECTED: &str =
    "must be 64 hex characters (32 bytes), or a comma-separated list of id:64-hex keys with the newest first";

fn parse_token_keys(raw: &str) -> Result<Vec<TokenKey>, ConfigError> {
    let mut keys: Vec<TokenKey> = Vec::new();
    for (i, entry) in raw.split(',').map(str::trim).enumerate() {
        let (id, hex_key) = match entry.split_once(':') {
            Some((id, k)) => (id.trim().to_owned(), k.trim()),
            None if i == 0 && !raw.contains(',') => ("k1".to_owned(), entry),
            None => return Err(bad("TOKEN_ENC_KEY", KEY_EXPECTED)),
        };
        let id_ok = !id.is_empty() && id.len() <= 16 && id.bytes().all(|b| b.is_ascii_alphanumeric());
        let mut key = [0u8; 32];
        if !id_ok || hex_key.len() != 64 || hex::decode_to_slice(hex_key, &mut key).is_err() {
            return Err(bad("TOKEN_ENC_KEY", KEY_EXPECTED));
        }
        if keys.iter().any(|k| k.id == id) {
            return Err(bad("TOKEN_ENC_KEY", "must not repeat a key id"));
        }
        keys.push(TokenKey { id, key: Secret::new(key) });
    }
    Ok(keys)
}

impl Config {
    /// Reads the process environment (after an optional `.env`, which never overrides).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let r = Reader { get };

        let database_url = r.required("DATABASE_URL", "a postgres:// URL")?;
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(bad("DATABASE_URL", "must be a postgres:// or postgresql:// URL"));
        }
        // sslmode, sslrootcert and the driver's options; the messages never hold the URL.
        if let Err(e) = hub_postgres::check_url(&database_url) {
            let line = e.to_string();
            return Err(bad("DATABASE_URL", line.strip_prefix("DATABASE_URL ").unwrap_or(&line)));
        }
        let tiktok_client_key = r.required("TIKTOK_CLIENT_KEY", "your TikTok app's client key")?;
        let tiktok_client_secret = r.required("TIKTOK_CLIENT_SECRET", "your TikTok app's client secret")?;
        let tiktok_redirect_uri = r.url("TIKTOK_REDIRECT_URI", None)?;
        if tiktok_redirect_uri.contains(['?', '#']) {
            return Err(bad(
                "TIKTOK_REDIRECT_URI",
                "must have no query and no fragment (TikTok compares it byte for byte)",
            ));
        }
        // TikTok compares it byte for byte: keep it exactly as given.
        let tiktok_redirect_uri = r.opt("TIKTOK_REDIRECT_URI").unwrap_or(tiktok_redirect_uri);
        let token_keys = parse_token_keys(&r.required("TOKEN_ENC_KEY", KEY_EXPECTED)?)?;
        let admin_api_keys: Vec<Secret<String>> = r.list("ADMIN_API_KEY").into_iter().map(Secret::new).collect();
        if admin_api_keys.is_empty() {
            return Err(bad(
                "ADMIN_API_KEY",
                "is required: one or more comma-separated keys of at least 32 characters",
            ));
        }
        if admin_api_keys.iter().any(|k| k.expose().len() < 32) {
            return Err(bad("ADMIN_API_KEY", "must hold keys of at least 32 characters each"));
        }
        let state_secret = r.required("STATE_SECRET", "at least 32 random characters (e.g. 64 hex)")?;
        if state_secret.len() < 32 {
            return Err(bad("STATE_SECRET", "must be at least 32 characters (e.g. 64 hex)"));
        }

        let app_env = match r.opt("APP_ENV").or_else(|| r.opt("NODE_ENV")).as_deref() {
            None | Some("development") => AppEnv::Development,
            Some("production") => AppEnv::Production,
            Some(_) => return Err(bad("APP_ENV", "must be development or production")),
        };
        let log_level = match r.opt("LOG_LEVEL").unwrap_or_else(|| "info".into()).to_ascii_lowercase().as_str() {
            l @ ("trace" | "debug" | "info" | "warn" | "error") => l.to_owned(),
            "fatal" => "error".to_owned(),
            _ => {
                return Err(bad("LOG_LEVEL", "must be trace, debug, info, warn, error or fatal"));
            }
        };
        let log_format = match r.opt("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(_) => return Err(bad("LOG_FORMAT", "must be text or json")),
        };
        let mut trusted_proxies = Vec::new();
        for p in r.list("TRUSTED_PROXIES") {
            trusted_proxies.push(
                parse_net(&p)
                    .ok_or_else(|| bad("TRUSTED_PROXIES", "must be comma-separated IP addresses or CIDR networks"))?,
            );
        }
        let public_base_url = match r.opt("PUBLIC_BASE_URL") {
            Some(_) => r.url("PUBLIC_BASE_URL", None)?,
            None => origin_of(&tiktok_redirect_uri),
        };
        let db_pool_size = r.ranged("DB_POOL_SIZE", 20usize, 1, 1000)?;
        let oauth_open_connect = r.flag("OAUTH_OPEN_CONNECT", false)?;
        let open_connect_understood = r.flag("OAUTH_OPEN_CONNECT_I_UNDERSTAND", false)?;
        // The open flow lets anyone who knows a store code attach any TikTok account to it: in
        // production only with a second, explicit setting.
        if oauth_open_connect && app_env == AppEnv::Production && !open_connect_understood {
            return Err(bad(
                "OAUTH_OPEN_CONNECT",
                "must not be true with APP_ENV=production unless OAUTH_OPEN_CONNECT_I_UNDERSTAND=true: anyone who knows a store code could attach any TikTok account to it",
            ));
        }
        let api_docs = match r.opt("API_DOCS").map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("public") => hub_http::ApiDocs::Public,
            Some("key") => hub_http::ApiDocs::AdminKey,
            Some("off") => hub_http::ApiDocs::Off,
            Some(_) => return Err(bad("API_DOCS", "must be public, key or off")),
        };
        let redis_url = match r.opt("REDIS_URL") {
            None => None,
            Some(v) if v.starts_with("redis://") => Some(Secret::new(v)),
            Some(_) => return Err(bad("REDIS_URL", "must be a redis:// URL (TLS to Redis is not supported)")),
        };
        let redis_key_prefix = r.opt("REDIS_KEY_PREFIX").unwrap_or_else(|| hub_redis::DEFAULT_PREFIX.to_owned());
        if redis_key_prefix.len() > 64 || !redis_key_prefix.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad("REDIS_KEY_PREFIX", "must be 1 to 64 visible ASCII characters, such as hub:staging:"));
        }
        let metrics_addr = match r.opt("METRICS_ADDR") {
            None => None,
            Some(v) => {
                Some(v.parse().map_err(|_| bad("METRICS_ADDR", "must be an address:port such as 127.0.0.1:9464"))?)
            }
        };

        Ok(Self {
            app_env,
            host: r.opt("HOST").unwrap_or_else(|| "0.0.0.0".into()),
            port: r.ranged("PORT", 3000u16, 0, 65535)?,
            http_workers: r.ranged(
                "HTTP_WORKERS",
                std::thread::available_parallelism().map_or(2, usize::from),
                1,
                256,
            )?,
            public_base_url,
            database_url: Secret::new(database_url),
            db_pool_size,
            db_pool_min: r.ranged("DB_POOL_MIN", 2usize, 0, 1000)?.min(db_pool_size),
            db_logging: r.flag("DB_LOGGING", false)?,
            db_statement_timeout: Some(Duration::from_secs(r.ranged("DB_STATEMENT_TIMEOUT", 30u64, 0, 86_400)?))
                .filter(|t| !t.is_zero()),
            tiktok_client_key,
            tiktok_client_secret: Secret::new(tiktok_client_secret),
            tiktok_redirect_uri,
            tiktok_auth_base_url: r.url("TIKTOK_AUTH_BASE_URL", Some("https://www.tiktok.com"))?,
            tiktok_api_base_url: r.url("TIKTOK_API_BASE_URL", Some("https://open.tiktokapis.com"))?,
            tiktok_rate_limit_per_min: r.ranged("TIKTOK_RATE_LIMIT_PER_MIN", 570u32, 1, 1_000_000)?,
            tiktok_timeout: Duration::from_secs(r.ranged("TIKTOK_TIMEOUT_SECONDS", 20u64, 1, 600)?),
            redis_url,
            redis_key_prefix,
            instances_hint: r.ranged("HUB_INSTANCES_HINT", 1u32, 1, 1000)?,
            tiktok_webhook_tolerance: Duration::from_secs(r.ranged(
                "TIKTOK_WEBHOOK_TOLERANCE_SECONDS",
                300u64,
                1,
                86_400,
            )?),
            token_keys,
            admin_api_keys,
            state_secret: Secret::new(state_secret.into_bytes()),
            sync_concurrency: r.ranged("SYNC_CONCURRENCY", 30usize, 1, 1000)?,
            video_sync_concurrency: r.ranged("VIDEO_SYNC_CONCURRENCY", 20usize, 1, 1000)?,
            sync_max_concurrency: r.ranged("SYNC_MAX_CONCURRENCY", 100usize, 1, 10_000)?,
            token_refresh_window: Duration::from_secs(3600 * r.ranged("TOKEN_REFRESH_WINDOW_HOURS", 6u64, 1, 24 * 30)?),
            report_tz: r.tz("REPORT_TZ")?,
            cron_enabled: r.flag("CRON_ENABLED", true)?,
            tz: r.tz("TZ")?,
            cron_token_refresh: r.cron("CRON_TOKEN_REFRESH", "0 1 * * *")?,
            cron_sync_user_daily: r.cron("CRON_SYNC_USER_DAILY", "0 2 * * *")?,
            cron_sync_video_daily: r.cron("CRON_SYNC_VIDEO_DAILY", "0 3 * * *")?,
            log_level,
            log_format,
            cors_origins: r.list("CORS_ORIGIN"),
            rate_limit_admin_per_min: r.ranged("RATE_LIMIT_ADMIN_PER_MIN", 100u32, 0, 1_000_000)?,
            rate_limit_oauth_per_min: r.ranged("RATE_LIMIT_OAUTH_PER_MIN", 10u32, 0, 1_000_000)?,
            rate_limit_health_per_min: r.ranged("RATE_LIMIT_HEALTH_PER_MIN", 120u32, 0, 1_000_000)?,
            rate_limit_login_per_min: r.ranged("RATE_LIMIT_LOGIN_PER_MIN", 10u32, 0, 1_000_000)?,
            auth_failure_max: r.ranged("AUTH_FAILURE_MAX", 5u32, 0, 1_000_000)?,
            auth_failure_block: Duration::from_secs(60 * r.ranged("AUTH_FAILURE_BLOCK_MINUTES", 15u64, 0, 24 * 60)?),
            trusted_proxies,
            oauth_open_connect,
            api_docs,
            connect_link_ttl: Duration::from_secs(3600 * r.ranged("CONNECT_LINK_TTL_HOURS", 72u64, 1, 24 * 30)?),
            shutdown_grace: Duration::from_secs(r.ranged("SHUTDOWN_GRACE_SECONDS", 30u64, 0, 3600)?),
            session_idle: Duration::from_secs(60 * r.ranged("SESSION_IDLE_MINUTES", 480u64, 1, 7 * 24 * 60)?),
            session_absolute: Duration::from_secs(3600 * r.ranged("SESSION_ABSOLUTE_HOURS", 168u64, 1, 24 * 90)?),
            metrics_addr,
            sync_stale_after: Duration::from_secs(r.ranged("SYNC_STALE_AFTER_SECONDS", 120u64, 2, 86_400)?),
            sync_retry_delays: r.minutes_list("SYNC_RETRY_DELAYS", &[15, 60, 180])?,
            retention_sync_logs_days: r.retention_days("RETENTION_SYNC_LOGS_DAYS", 90)?,
            retention_sync_runs_days: r.retention_days("RETENTION_SYNC_RUNS_DAYS", 90)?,
            retention_audit_days: r.retention_days("RETENTION_AUDIT_DAYS", 365)?,
            webhook_allow_private: r.flag("WEBHOOK_ALLOW_PRIVATE", false)?,
            webhook_retry_base: Duration::from_millis(r.ranged("WEBHOOK_RETRY_BASE_MS", 30_000u64, 10, 3_600_000)?),
            webhook_disable_after: r.ranged("WEBHOOK_DISABLE_AFTER_FAILURES", 20i32, 1, 10_000)?,
            webhook_poll: Duration::from_millis(r.ranged("WEBHOOK_POLL_MS", 1000u64, 50, 60_000)?),
            cron_notify_daily: r.cron("CRON_NOTIFY_DAILY", "0 7 * * *")?,
        })
    }
}

/// `https://host:port/path` → `https://host:port`.
pub(crate) fn origin_of(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => url[..after_scheme + i].to_owned(),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests;
