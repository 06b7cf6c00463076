//! The hub looking after itself: health, pool figures, the connection gauges of `/metrics`,
//! purging expired OAuth records, re-encrypting tokens after a key rotation.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use hub_domain::{ConnectionStatus, business_date};
use hub_ports::{PoolStats, RepoError};

use crate::config::EngineConfig;
use crate::ports::Ports;
use crate::sync::Syncs;

/// How long the database ping may take before it counts as down.
pub const DB_PING_TIMEOUT: Duration = Duration::from_secs(2);

/// What the health checks found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    /// One round trip within [`DB_PING_TIMEOUT`].
    pub database: bool,
    /// A canary encrypted and decrypted with the token keys.
    pub encryption: bool,
    pub scheduler_enabled: bool,
    pub checked_at: DateTime<Utc>,
}

impl Health {
    /// Every check passed.
    pub fn healthy(&self) -> bool {
        self.database && self.encryption
    }
}

/// Whether the hub can serve: the database answers and carries every migration of this build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    pub database: bool,
    /// Migrations of this build not applied yet; `None` when the database could not say.
    pub pending_migrations: Option<usize>,
}

impl Readiness {
    pub fn ready(&self) -> bool {
        self.database && self.pending_migrations == Some(0)
    }
}

/// Stores by connection status and the access-token expiries of the connected ones.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectionGauges {
    /// Stores per status (`None`: never connected).
    pub by_status: BTreeMap<Option<ConnectionStatusKey>, u64>,
    /// Connected accounts whose access token has expired.
    pub expired: u64,
    /// Seconds until the soonest access token of a connected account expires (negative:
    /// expired); `None` without connected accounts.
    pub min_expiry_secs: Option<f64>,
}

/// A connection status as an ordered map key: its name and its reason.
pub type ConnectionStatusKey = (&'static str, &'static str);

fn key(status: ConnectionStatus) -> ConnectionStatusKey {
    (status.as_str(), status.reason().map_or("", |r| r.as_str()))
}

/// The self-care use cases.
pub struct System {
    pub(crate) ports: Ports,
    config: EngineConfig,
    syncs: Arc<Syncs>,
    /// The last ping's time and answer; held while a ping runs (single flight).
    ping: tokio::sync::Mutex<Option<(std::time::Instant, bool)>>,
}

impl System {
    pub(crate) fn new(ports: Ports, config: EngineConfig, syncs: Arc<Syncs>) -> Self {
        Self { ports, config, syncs, ping: tokio::sync::Mutex::new(None) }
    }

    /// Whether the database answers: one ping per [`PING_CACHE`] at most, whoever asks; the
    /// callers that arrive while it runs wait for its answer.
    async fn database_up(&self) -> bool {
        let mut last = self.ping.lock().await;
        if let Some((at, up)) = *last
            && at.elapsed() < self.config.health_ping_cache
        {
            return up;
        }
        let up = match tokio::time::timeout(DB_PING_TIMEOUT, self.ports.health.ping()).await {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "health: database ping failed");
                false
            }
            Err(_) => {
                tracing::warn!("health: database ping timed out");
                false
            }
        };
        *last = Some((std::time::Instant::now(), up));
        up
    }

    /// Now, by the engine's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }

    /// Today in the report time zone.
    pub fn today(&self) -> NaiveDate {
        business_date(self.now(), &self.config.report_tz)
    }

    /// The database (one round trip, shared by the checks of one second), the token cipher
    /// (a canary) and the scheduler.
    pub async fn health(&self) -> Health {
        let database = self.database_up().await;
        const CANARY: &str = "health-check-canary";
        let cipher = &self.ports.cipher;
        let sealed = cipher.encrypt(CANARY, "health/canary");
        let encryption = cipher.decrypt(&sealed, "health/canary").is_ok_and(|plain| plain.expose() == CANARY);
        Health { database, encryption, scheduler_enabled: self.syncs.schedule().enabled, checked_at: self.now() }
    }

    /// Whether the hub can serve requests: the database answers and every migration of
    /// this build is applied.
    pub async fn readiness(&self) -> Readiness {
        let database = self.database_up().await;
        let pending_migrations = if database {
            match tokio::time::timeout(DB_PING_TIMEOUT, self.ports.health.pending_migrations()).await {
                Ok(Ok(n)) => Some(n),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "readiness: could not read the applied migrations");
                    None
                }
                Err(_) => None,
            }
        } else {
            None
        };
        Readiness { database, pending_migrations }
    }

    /// Pool figures, without touching the database.
    pub fn pool_stats(&self) -> PoolStats {
        self.ports.health.pool_stats()
    }

    /// Stores by connection status and token expiries, read in pages of stores.
    pub async fn connection_gauges(&self) -> Result<ConnectionGauges, RepoError> {
        let now = self.now();
        let mut g = ConnectionGauges::default();
        let mut after = None;
        loop {
            let page = self.ports.stores.stores_page(after.take(), crate::pages::PAGE).await?;
            for s in &page {
                *g.by_status.entry(s.connection_status.map(key)).or_default() += 1;
                if s.connection_status == Some(ConnectionStatus::Connected)
                    && let Some(at) = s.token_expires_at
                {
                    let left = (at - now).num_seconds() as f64;
                    g.min_expiry_secs = Some(g.min_expiry_secs.map_or(left, |m: f64| m.min(left)));
                    if left <= 0.0 {
                        g.expired += 1;
                    }
                }
            }
            if (page.len() as i64) < crate::pages::PAGE {
                return Ok(g);
            }
            after = page.last().map(|s| s.store.code.clone());
        }
    }

    /// Deletes OAuth states and connect invites that have expired, and sign-in sessions that
    /// ended (idle or past their absolute end); returns how many.
    pub async fn purge_expired(&self) -> Result<u64, RepoError> {
        let now = self.now();
        let idle = chrono::Duration::from_std(self.config.people.session_idle).unwrap_or(chrono::Duration::hours(8));
        let oauth = self.ports.connect.purge_expired(now).await?;
        Ok(oauth + self.ports.sessions.purge(now, now - idle).await?)
    }
}
