//! `tiktok-hub serve`: the HTTP API, the scheduler, and a graceful shutdown.

use std::net::TcpListener;
use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;
use hub_engine::Engine;
use hub_http::{AppState, HttpConfig, ScheduledJob, SchedulerView};

use crate::config::Config;
use crate::wiring;

/// The HTTP adapter's settings from the app's config.
pub fn http_config(config: &Config) -> HttpConfig {
    HttpConfig {
        api_keys: config.admin_api_keys.clone(),
        rate_limit_admin_per_min: config.rate_limit_admin_per_min,
        rate_limit_oauth_per_min: config.rate_limit_oauth_per_min,
        auth_failure_max: config.auth_failure_max,
        auth_failure_block: config.auth_failure_block,
        trusted_proxies: config.trusted_proxies.iter().map(|n| (n.addr, n.prefix)).collect(),
        cors_origins: config.cors_origins.clone(),
        secure_cookies: config.public_base_url.starts_with("https://"),
        ..HttpConfig::default()
    }
}

/// Serves until SIGINT or SIGTERM, then stops taking requests and work, lets in-flight
/// store syncs finish within `SHUTDOWN_GRACE_SECONDS`, and returns.
pub async fn run(config: &Config) -> anyhow::Result<()> {
    if config.app_env == crate::config::AppEnv::Production && !config.tiktok_redirect_uri.starts_with("https://") {
        tracing::warn!("APP_ENV=production with an http:// TIKTOK_REDIRECT_URI: TikTok requires https in production");
    }
    let hub = wiring::build(config).await?;
    let listener = TcpListener::bind((config.host.as_str(), config.port))
        .with_context(|| format!("cannot listen on {}:{}", config.host, config.port))?;
    let addr = listener.local_addr()?;
    let scheduler: Arc<dyn SchedulerView> = Arc::new(ConfigSchedule::new(config, Arc::clone(&hub.engine))?);
    let state = AppState::new(Arc::clone(&hub.engine), scheduler, http_config(config));
    let server = hub_http::serve(listener, state)?;
    let handle = server.handle();
    let server_task = tokio::spawn(server);
    // One line other tools parse (the demo, tests).
    println!("tiktok-hub listening on http://{addr}");
    tracing::info!(%addr, "listening");

    shutdown_signal().await;
    tracing::info!("shutting down");
    hub.engine.begin_shutdown();
    let grace = config.shutdown_grace;
    let stopped = tokio::time::timeout(grace, async {
        handle.stop(true).await;
        while !hub.engine.live_runs().is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
    .await;
    if stopped.is_err() {
        tracing::warn!(grace_s = grace.as_secs(), "shutdown deadline passed; unfinished work is recorded as not done");
    }
    server_task.abort();
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// The configured schedules, as `GET /admin/sync/status` shows them.
struct ConfigSchedule {
    enabled: bool,
    tz: chrono_tz::Tz,
    jobs: Vec<(&'static str, String, cron::Schedule)>,
    engine: Arc<Engine>,
}

impl ConfigSchedule {
    fn new(config: &Config, engine: Arc<Engine>) -> anyhow::Result<Self> {
        let mut jobs = Vec::new();
        for (name, expr) in [
            ("refresh_tokens", &config.cron_token_refresh),
            ("sync_user_daily", &config.cron_sync_user_daily),
            ("sync_video_daily", &config.cron_sync_video_daily),
        ] {
            let schedule: cron::Schedule =
                format!("0 {expr}").parse().with_context(|| format!("schedule of {name}"))?;
            jobs.push((name, expr.clone(), schedule));
        }
        Ok(Self { enabled: config.cron_enabled, tz: config.tz, jobs, engine })
    }
}

impl SchedulerView for ConfigSchedule {
    fn enabled(&self) -> bool {
        self.enabled
    }

    fn timezone(&self) -> String {
        self.tz.name().to_owned()
    }

    fn jobs(&self) -> Vec<ScheduledJob> {
        let live = self.engine.live_runs();
        self.jobs
            .iter()
            .map(|(name, expr, schedule)| ScheduledJob {
                name: (*name).to_owned(),
                schedule: expr.clone(),
                next_run: if self.enabled {
                    schedule.upcoming(self.tz).next().map(|t| t.with_timezone(&Utc))
                } else {
                    None
                },
                running: live.iter().any(|r| r.job == *name),
            })
            .collect()
    }
}
