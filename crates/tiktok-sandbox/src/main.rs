//! `tiktok-sandbox`: run the TikTok API v2 emulator as a process.

use std::net::SocketAddr;

use chrono::{DateTime, Utc};
use clap::{ArgAction, Parser};
use tiktok_sandbox::{LatencyMs, RateLimitKey, Rotation, Sandbox, SandboxConfig, TokenProfile};

/// Emulator of TikTok's API v2 (Login Kit OAuth + Display API) for tests, demos and benchmarks.
#[derive(Debug, Parser)]
#[command(name = "tiktok-sandbox", version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "SANDBOX_LISTEN", default_value = "127.0.0.1:8088")]
    listen: SocketAddr,
    /// actix worker threads.
    #[arg(long, env = "SANDBOX_WORKERS", default_value_t = 2)]
    workers: usize,
    /// The registered client key.
    #[arg(long, env = "SANDBOX_CLIENT_KEY", default_value = "sandbox-client-key")]
    client_key: String,
    /// The registered client secret.
    #[arg(long, env = "SANDBOX_CLIENT_SECRET", default_value = "sandbox-client-secret-0123456789abcdef")]
    client_secret: String,
    /// The one registered redirect URI (compared byte for byte).
    #[arg(long, env = "SANDBOX_REDIRECT_URI", default_value = "http://127.0.0.1:3000/auth/tiktok/callback")]
    redirect_uri: String,
    /// Number of sandbox accounts.
    #[arg(long, env = "SANDBOX_ACCOUNTS", default_value_t = 300)]
    accounts: usize,
    /// Mean number of videos per account (some have 0, a few hundreds).
    #[arg(long, env = "SANDBOX_VIDEOS_PER_ACCOUNT", default_value_t = 50)]
    videos_per_account: u32,
    /// Seed of all generated data.
    #[arg(long, env = "SANDBOX_SEED", default_value_t = 42)]
    seed: u64,
    /// Anchor of the generated history, RFC 3339 (default: today 00:00 UTC).
    #[arg(long, env = "SANDBOX_ANCHOR")]
    anchor: Option<DateTime<Utc>>,
    /// Redirect at once from the consent URL (true) or show the consent page (false).
    #[arg(long, env = "SANDBOX_AUTO_CONSENT", default_value_t = true, action = ArgAction::Set)]
    auto_consent: bool,
    /// Deny every consent (redirect with error=access_denied).
    #[arg(long, env = "SANDBOX_DENY_ALL", default_value_t = false, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    deny_all: bool,
    /// Grant only these of the requested scopes (comma list).
    #[arg(long, env = "SANDBOX_GRANT_SCOPES", value_delimiter = ',')]
    grant_scopes: Option<Vec<String>>,
    /// Always consent as this account index.
    #[arg(long, env = "SANDBOX_FORCE_ACCOUNT")]
    force_account: Option<usize>,
    /// Scopes the app itself is approved for (comma list; others give scope_permission_missed).
    #[arg(
        long,
        env = "SANDBOX_APP_SCOPES",
        value_delimiter = ',',
        default_value = "user.info.basic,user.info.profile,user.info.stats,video.list"
    )]
    app_scopes: Vec<String>,
    /// Requests per endpoint per 60 s sliding window (×time-scale); 0 = no limit.
    #[arg(long, env = "SANDBOX_RATE_LIMIT_PER_MIN", default_value_t = 600)]
    rate_limit_per_min: u32,
    /// Key of the rate windows: client (per app) or token (per access token).
    #[arg(long, env = "SANDBOX_RATE_LIMIT_KEY", default_value = "client")]
    rate_limit_key: RateLimitKey,
    /// Length of the sliding rate window in ms (also the stats' peak window).
    #[arg(long, env = "SANDBOX_RATE_WINDOW_MS", default_value_t = 60_000)]
    rate_window_ms: u64,
    /// Uniform latency MIN-MAX in ms added to every TikTok route (÷time-scale); off by default.
    #[arg(long, env = "SANDBOX_LATENCY_MS")]
    latency_ms: Option<LatencyMs>,
    /// Time-scale factor K: rate limits ×K, latencies, token lifetimes and code TTL ÷K.
    #[arg(long, env = "SANDBOX_TIME_SCALE", default_value_t = 1.0)]
    time_scale: f64,
    /// Token lifetimes: classic (24 h / 365 d) or new (2 h / 180 d).
    #[arg(long, env = "SANDBOX_TOKEN_PROFILE", default_value = "classic")]
    token_profile: TokenProfile,
    /// Refresh-token rotation: none, may or strict (replaying a rotated token revokes the grant).
    #[arg(long, env = "SANDBOX_ROTATION", default_value = "may")]
    rotation: Rotation,
    /// HTTP status of OAuth error bodies: 200 (TikTok's quirk) or 400.
    #[arg(long, env = "SANDBOX_OAUTH_ERROR_STATUS", default_value_t = 200)]
    oauth_error_status: u16,
    /// Authorization code lifetime in seconds (÷time-scale).
    #[arg(long, env = "SANDBOX_CODE_TTL_SECS", default_value_t = 300)]
    code_ttl_secs: u64,
    /// Share (0.0-1.0) of data requests answered internal_error (HTTP 500).
    #[arg(long, env = "SANDBOX_FAULT_INTERNAL_ERROR", default_value_t = 0.0)]
    fault_internal_error: f64,
    /// Share (0.0-1.0) of data requests held --hang-secs before being answered.
    #[arg(long, env = "SANDBOX_FAULT_HANG", default_value_t = 0.0)]
    fault_hang: f64,
    /// How long a hung request is held, in seconds.
    #[arg(long, env = "SANDBOX_HANG_SECS", default_value_t = 300)]
    hang_secs: u64,
    /// Share (0.0-1.0) of data requests answered a spurious access_token_invalid (401).
    #[arg(long, env = "SANDBOX_FAULT_TOKEN_INVALID", default_value_t = 0.0)]
    fault_token_invalid: f64,
    /// Share (0.0-1.0) of token-endpoint requests answered server_error (HTTP 500).
    #[arg(long, env = "SANDBOX_FAULT_TOKEN_SERVER_ERROR", default_value_t = 0.0)]
    fault_token_server_error: f64,
    /// Where signed webhook events (authorization.removed) are delivered, e.g.
    /// http://127.0.0.1:3000/webhooks/tiktok.
    #[arg(long, env = "SANDBOX_WEBHOOK_URL")]
    webhook_url: Option<String>,
    /// Extra deliveries of each webhook event (duplicates, as TikTok may send).
    #[arg(long, env = "SANDBOX_WEBHOOK_DUPLICATES", default_value_t = 0)]
    webhook_duplicates: u32,
    /// Delivery attempts of a webhook event while the receiver does not answer 200.
    #[arg(long, env = "SANDBOX_WEBHOOK_MAX_ATTEMPTS", default_value_t = 5)]
    webhook_max_attempts: u32,
}

impl From<Args> for SandboxConfig {
    fn from(a: Args) -> Self {
        SandboxConfig {
            listen: a.listen,
            workers: a.workers,
            client_key: a.client_key,
            client_secret: a.client_secret,
            redirect_uri: a.redirect_uri,
            accounts: a.accounts,
            videos_per_account: a.videos_per_account,
            seed: a.seed,
            anchor: a.anchor,
            auto_consent: a.auto_consent,
            deny_all: a.deny_all,
            grant_scopes: a.grant_scopes,
            force_account: a.force_account,
            app_scopes: a.app_scopes,
            rate_limit_per_min: a.rate_limit_per_min,
            rate_limit_key: a.rate_limit_key,
            rate_window_ms: a.rate_window_ms,
            latency_ms: a.latency_ms,
            time_scale: a.time_scale,
            token_profile: a.token_profile,
            rotation: a.rotation,
            oauth_error_status: a.oauth_error_status,
            code_ttl_secs: a.code_ttl_secs,
            fault_internal_error: a.fault_internal_error,
            fault_hang: a.fault_hang,
            hang_secs: a.hang_secs,
            fault_token_invalid: a.fault_token_invalid,
            fault_token_server_error: a.fault_token_server_error,
            webhook_url: a.webhook_url,
            webhook_duplicates: a.webhook_duplicates,
            webhook_max_attempts: a.webhook_max_attempts,
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,actix_server=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = SandboxConfig::from(Args::parse());
    let sandbox = Sandbox::start(config).await?;
    println!("tiktok-sandbox listening on {}", sandbox.base_url());
    use std::io::Write as _;
    std::io::stdout().flush()?;

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: stopping"),
        _ = term.recv() => tracing::info!("SIGTERM: stopping"),
    }
    sandbox.stop().await;
    Ok(())
}
