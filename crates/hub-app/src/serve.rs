//! `tiktok-hub serve`: the HTTP API, the scheduler, and a graceful shutdown.

use std::net::TcpListener;
use std::sync::Arc;

use anyhow::Context;
use hub_http::{AppState, HttpConfig};
use hub_jobs::{Scheduler, SchedulerConfig};

use crate::config::Config;
use crate::wiring;

/// The HTTP adapter's settings from the app's config.
pub fn http_config(config: &Config) -> HttpConfig {
    HttpConfig {
        api_keys: config.admin_api_keys.clone(),
        rate_limit_admin_per_min: config.rate_limit_admin_per_min,
        rate_limit_oauth_per_min: config.rate_limit_oauth_per_min,
        rate_limit_health_per_min: config.rate_limit_health_per_min,
        rate_limit_login_per_min: config.rate_limit_login_per_min,
        auth_failure_max: config.auth_failure_max,
        auth_failure_block: config.auth_failure_block,
        trusted_proxies: config.trusted_proxies.clone(),
        cors_origins: config.cors_origins.clone(),
        secure_cookies: config.public_base_url.starts_with("https://"),
        public_origin: crate::config::origin_of(&config.public_base_url),
        workers: config.http_workers,
        api_docs: config.api_docs,
        // Browsers reach the hub over https: tell them to keep to it.
        hsts: config.public_base_url.starts_with("https://"),
        tiktok_webhook: hub_http::tiktok_webhook::WebhookKeys {
            client_key: config.tiktok_client_key.clone(),
            client_secret: config.tiktok_client_secret.clone(),
            tolerance: config.tiktok_webhook_tolerance,
        },
        ..HttpConfig::default()
    }
}

/// The dashboard (`hub-web`), served by the HTTP adapter's app at `/dashboard/`.
pub fn dashboard(engine: &Arc<hub_engine::Engine>, config: &Config) -> hub_http::Mount {
    let settings = hub_web::WebConfig {
        public_origin: crate::config::origin_of(&config.public_base_url),
        secure_cookies: config.public_base_url.starts_with("https://"),
    };
    let web = hub_web::configure(hub_web::WebState::new(Arc::clone(engine), settings));
    hub_http::Mount { prefix: hub_web::MOUNT, configure: Arc::new(web) }
}

/// Serves until SIGINT or SIGTERM, then stops taking requests and work, lets in-flight
/// store syncs finish within `SHUTDOWN_GRACE_SECONDS`, and returns.
pub async fn run(config: &Config) -> anyhow::Result<()> {
    if config.app_env == crate::config::AppEnv::Production && !config.tiktok_redirect_uri.starts_with("https://") {
        tracing::warn!("APP_ENV=production with an http:// TIKTOK_REDIRECT_URI: TikTok requires https in production");
    }
    let hub = wiring::build(config).await?;
    // The dummy password hash, so the first sign-in with an unknown email is not faster.
    if let Err(e) = hub.engine.people().warm_up().await {
        tracing::warn!(error = %e, "could not prepare password hashing");
    }
    let listener = TcpListener::bind((config.host.as_str(), config.port))
        .with_context(|| format!("cannot listen on {}:{}", config.host, config.port))?;
    let addr = listener.local_addr()?;
    let scheduler = Scheduler::start(Arc::clone(&hub.engine), scheduler_config(config))?;
    hub.engine.syncs().attach_schedule(scheduler.view());
    let source = crate::metrics::HubMetrics { engine: Arc::clone(&hub.engine), tiktok: Arc::clone(&hub.tiktok) };
    let state = AppState::new(Arc::clone(&hub.engine), http_config(config))
        .with_metrics_source(Arc::new(source))
        .with_shared_limits(Arc::clone(&hub.limits))
        .with_mount(dashboard(&hub.engine, config));
    // GET /metrics without the key on its own (private) listener, when configured.
    let metrics_server = match config.metrics_addr {
        Some(at) => {
            let l = TcpListener::bind(at).with_context(|| format!("cannot listen on METRICS_ADDR {at}"))?;
            let metrics_at = l.local_addr()?;
            let server = hub_http::serve_metrics(l, state.metrics())?;
            println!("tiktok-hub metrics on http://{metrics_at}/metrics");
            tracing::info!(addr = %metrics_at, "serving /metrics without a key");
            Some((server.handle(), tokio::spawn(server)))
        }
        None => None,
    };
    let server = hub_http::serve(listener, state)?;
    let handle = server.handle();
    let server_task = tokio::spawn(server);
    // One line other tools parse (the demo, tests).
    println!("tiktok-hub listening on http://{addr}");
    tracing::info!(%addr, "listening");

    shutdown_signal().await;
    tracing::info!("shutting down");
    let grace = config.shutdown_grace;
    let stopped = tokio::time::timeout(grace, async {
        // Stop taking connections and ticks; let in-flight store syncs finish. The HTTP
        // workers stop only after the runs: a run started over the API lives on a worker's
        // runtime, and would die with it before closing its row.
        handle.pause().await;
        let finished = scheduler.shutdown(grace).await;
        handle.stop(true).await;
        finished
    })
    .await;
    if !matches!(stopped, Ok(true)) {
        tracing::warn!(grace_s = grace.as_secs(), "shutdown deadline passed; unfinished work is recorded as not done");
    }
    server_task.abort();
    if let Some((metrics_handle, metrics_task)) = metrics_server {
        metrics_handle.stop(false).await;
        metrics_task.abort();
    }
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

/// The scheduler's settings from the app's config.
pub fn scheduler_config(config: &Config) -> SchedulerConfig {
    SchedulerConfig {
        enabled: config.cron_enabled,
        timezone: config.tz,
        token_refresh: config.cron_token_refresh.clone(),
        user_daily: config.cron_sync_user_daily.clone(),
        video_daily: config.cron_sync_video_daily.clone(),
        retry_delays: config.sync_retry_delays.clone(),
        stale_after: config.sync_stale_after,
        // At least twice per staleness period, and at least once a minute.
        sweep_every: (config.sync_stale_after / 2).min(std::time::Duration::from_secs(60)),
        webhook_every: config.webhook_poll,
        notify_daily: config.cron_notify_daily.clone(),
        ..SchedulerConfig::default()
    }
}
