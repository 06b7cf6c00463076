//! The composition root: adapters built from the config and plugged into the engine.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hub_engine::{AesGcmCipher, Engine, EngineConfig, Ports};
use hub_ports::SystemClock;
use hub_postgres::{Db, DbConfig};
use hub_tiktok::{TikTokClient, TikTokConfig};

use crate::config::Config;

/// Everything a running hub holds.
pub struct Hub {
    pub engine: Arc<Engine>,
    /// The TikTok adapter, for its per-endpoint counters (`/metrics`).
    pub tiktok: Arc<TikTokClient>,
    /// The limits every instance shares (TikTok's budget, the HTTP limits and blocks).
    pub limits: Arc<dyn hub_ports::SharedLimits>,
}

/// A name for this process in sync runs and refresh leases: host, pid and a random suffix.
fn instance_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_default();
    let host = if host.is_empty() { "hub".to_owned() } else { host };
    let suffix = &hub_engine::state::random_token(4)[..4];
    let id = format!("{host}:{}:{suffix}", std::process::id());
    id.chars().take(100).collect()
}

/// Connects to the database (pre-warming `DB_POOL_MIN` connections) and wires the engine.
pub async fn build(config: &Config) -> anyhow::Result<Hub> {
    let db = Db::connect(&DbConfig {
        url: config.database_url.expose().clone(),
        max_size: config.db_pool_size,
        wait_timeout: Duration::from_secs(10),
        statement_timeout: config.db_statement_timeout,
    })
    .await?;
    tracing::info!(sslmode = db.sslmode().as_str(), pool = config.db_pool_size, "database connected");
    let warm: Vec<_> = futures_warm(&db, config.db_pool_min).await;
    drop(warm);

    let keys: Vec<(String, hub_domain::Secret<[u8; 32]>)> =
        config.token_keys.iter().map(|k| (k.id.clone(), k.key.clone())).collect();
    let cipher = Arc::new(AesGcmCipher::new(&keys).context("TOKEN_ENC_KEY")?);
    if !cipher.self_test() {
        anyhow::bail!("TOKEN_ENC_KEY failed the encryption self-test");
    }

    let mut tiktok_config = TikTokConfig::new(
        config.tiktok_client_key.clone(),
        config.tiktok_client_secret.clone(),
        config.tiktok_redirect_uri.clone(),
    );
    tiktok_config.auth_base_url = config.tiktok_auth_base_url.clone();
    tiktok_config.api_base_url = config.tiktok_api_base_url.clone();
    tiktok_config.rate_limit_per_min = config.tiktok_rate_limit_per_min;
    tiktok_config.burst = TikTokConfig::burst_for(config.tiktok_rate_limit_per_min);
    tiktok_config.timeout = config.tiktok_timeout;
    let token_call_limit = tiktok_config.slowest_call();
    // One TikTok budget for every instance: in Redis when REDIS_URL is set, else in PostgreSQL.
    let limits: Arc<dyn hub_ports::SharedLimits> = match &config.redis_url {
        Some(url) => Arc::new(
            hub_redis::RedisLimits::connect(url.expose())
                .await
                .context("REDIS_URL")?
                .with_prefix(&config.redis_key_prefix),
        ),
        None => Arc::new(db.clone()),
    };
    tracing::info!(backend = limits.backend(), instances_hint = config.instances_hint, "shared TikTok budget");
    let tiktok = Arc::new(
        TikTokClient::with_shared_budget(tiktok_config, Arc::clone(&limits), config.instances_hint)
            .context("TikTok client")?,
    );

    let repos = Arc::new(db.clone());
    let ports = Ports {
        stores: repos.clone(),
        accounts: repos.clone(),
        snapshots: repos.clone(),
        sync_logs: repos.clone(),
        sync_runs: repos.clone(),
        audit: repos.clone(),
        retention: repos.clone(),
        connect: repos.clone(),
        reports: repos.clone(),
        imports: repos.clone(),
        lifecycle: repos.clone(),
        events: repos.clone(),
        webhooks: repos.clone(),
        users: repos.clone(),
        sessions: repos.clone(),
        api_keys: repos.clone(),
        locks: repos.clone(),
        health: repos,
        tiktok: tiktok.clone(),
        cipher,
        webhook_sender: Arc::new(hub_webhooks::HttpSender::new(hub_webhooks::SenderConfig {
            allow_private: config.webhook_allow_private,
            ..hub_webhooks::SenderConfig::default()
        })),
        clock: Arc::new(SystemClock),
    };
    let engine_config = EngineConfig {
        sync_concurrency: config.sync_concurrency,
        video_sync_concurrency: config.video_sync_concurrency,
        max_concurrency: config.sync_max_concurrency,
        tiktok_budget_per_min: config.tiktok_rate_limit_per_min,
        // The rest of the pool stays free for the admin API.
        job_db_connections: hub_engine::jobs_share_of_pool(config.db_pool_size),
        refresh_window: config.token_refresh_window,
        report_tz: config.report_tz,
        public_base_url: config.public_base_url.clone(),
        open_connect: config.oauth_open_connect,
        connect_link_ttl: config.connect_link_ttl,
        instance_id: instance_id(),
        // A live run's heartbeat stays well inside the stale-run threshold of every instance.
        heartbeat_every: hub_engine::HEARTBEAT_EVERY.min(config.sync_stale_after / 4),
        // A refresh lease outlives the slowest token call of this client.
        token_call_limit,
        people: hub_engine::PeopleConfig {
            session_idle: config.session_idle,
            session_absolute: config.session_absolute,
            ..hub_engine::PeopleConfig::default()
        },
        retention: hub_engine::RetentionPolicy {
            sync_logs_days: config.retention_sync_logs_days,
            sync_runs_days: config.retention_sync_runs_days,
            audit_days: config.retention_audit_days,
            ..hub_engine::RetentionPolicy::default()
        },
        webhooks: hub_engine::NotifyConfig {
            retry_base: config.webhook_retry_base,
            disable_after: config.webhook_disable_after,
            ..hub_engine::NotifyConfig::default()
        },
        ..EngineConfig::default()
    };
    let engine = Arc::new(Engine::new(ports, engine_config, config.state_secret.expose()));
    Ok(Hub { engine, tiktok, limits })
}

/// Opens up to `n` pool connections at once and returns them (dropping them keeps them idle).
async fn futures_warm(db: &Db, n: usize) -> Vec<impl Sized> {
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        match db.conn().await {
            Ok(c) => conns.push(c),
            Err(e) => {
                tracing::warn!(error = %e, "could not pre-warm a database connection");
                break;
            }
        }
    }
    conns
}
