//! The engine: the one door into the core. Adapters hold an [`Engine`] and call its
//! services' use cases; none of them reaches a port.

use std::sync::Arc;

use hub_domain::Actor;

use crate::access::{Access, Permission};
use crate::admin::Admin;
use crate::audit::Auditor;
use crate::config::EngineConfig;
use crate::connect::ConnectFlow;
use crate::lifecycle::Lifecycle;
use crate::notify::Notifications;
use crate::pace::DbGate;
use crate::people::People;
use crate::ports::Ports;
use crate::reports::Reports;
use crate::retention::Retention;
use crate::sync::Syncs;
use crate::system::System;
use crate::tokens::Tokens;

/// The hub's use cases, grouped in services that share the ports.
pub struct Engine {
    admin: Admin,
    reports: Reports,
    syncs: Arc<Syncs>,
    connect: Arc<ConnectFlow>,
    lifecycle: Lifecycle,
    notifications: Notifications,
    system: System,
    retention: Retention,
    people: People,
    access: Access,
    config: EngineConfig,
}

/// Why the daily announcements failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnnounceError {
    #[error(transparent)]
    Report(#[from] crate::ReportError),
    #[error(transparent)]
    Storage(#[from] hub_ports::RepoError),
}

/// The actor's role or store scope does not allow it (a `DENIED` row was written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Your role or store groups do not allow this")]
pub struct Forbidden;

impl Engine {
    /// Wires the engine. `state_secret` signs OAuth states.
    pub fn new(ports: Ports, config: EngineConfig, state_secret: &[u8]) -> Self {
        let db = Arc::new(DbGate::new(config.job_db_connections));
        let tokens = Arc::new(Tokens::new(
            Arc::clone(&db),
            Arc::clone(&ports.accounts),
            Arc::clone(&ports.tiktok),
            Arc::clone(&ports.cipher),
            Arc::clone(&ports.clock),
            config.instance_id.clone(),
            config.token_call_limit,
        ));
        let access = Access::new(Arc::clone(&ports.stores), Auditor::new(Arc::clone(&ports.audit)));
        let connect =
            Arc::new(ConnectFlow::new(ports.clone(), config.clone(), tokens.clone(), state_secret, access.clone()));
        // Background work (deliveries, retention) shares the jobs' gate, so the admin API
        // keeps its reserve of the pool.
        let notifications =
            Notifications::new(&ports, Arc::clone(&connect), access.clone(), config.webhooks.clone(), Arc::clone(&db));
        let syncs =
            Arc::new(Syncs::new(ports.clone(), config.clone(), Arc::clone(&tokens), Arc::clone(&db), access.clone()));
        Self {
            admin: Admin::new(
                Arc::clone(&ports.stores),
                Arc::clone(&ports.accounts),
                Arc::clone(&ports.audit),
                Arc::clone(&ports.clock),
                access.clone(),
            ),
            reports: Reports::new(
                Arc::clone(&ports.reports),
                Arc::clone(&ports.imports),
                Arc::clone(&ports.clock),
                config.report_tz,
                access.clone(),
            ),
            lifecycle: Lifecycle::new(&ports, access.clone()),
            retention: Retention::new(
                Arc::clone(&ports.retention),
                Arc::clone(&ports.clock),
                config.retention,
                Arc::clone(&db),
            ),
            people: People::new(
                Arc::clone(&ports.users),
                Arc::clone(&ports.sessions),
                Arc::clone(&ports.api_keys),
                Arc::clone(&ports.stores),
                Arc::clone(&ports.clock),
                access.clone(),
                config.people,
            ),
            connect,
            notifications,
            system: System::new(ports, config.clone(), Arc::clone(&syncs)),
            syncs,
            access,
            config,
        }
    }

    /// Stores, their accounts, the audit trail.
    pub fn admin(&self) -> &Admin {
        &self.admin
    }

    /// History, reports, exports and the store import.
    pub fn reports(&self) -> &Reports {
        &self.reports
    }

    /// The sync jobs.
    pub fn syncs(&self) -> &Arc<Syncs> {
        &self.syncs
    }

    /// Connect links and the OAuth flow.
    pub fn connect(&self) -> &ConnectFlow {
        &self.connect
    }

    /// Disconnect, archive and restore stores; revoke connect links and grants.
    pub fn lifecycle(&self) -> &Lifecycle {
        &self.lifecycle
    }

    /// Outgoing notifications: endpoints and the outbox's delivery.
    pub fn notifications(&self) -> &Notifications {
        &self.notifications
    }

    /// Announces yesterday's `digest.daily` (totals and changes) and `report.gaps` (the stores
    /// missing snapshots in the 7 days to yesterday) to their endpoints: at most once per
    /// endpoint and day, however many instances run the schedule. Returns the rows queued.
    pub async fn announce_daily(&self) -> Result<u64, AnnounceError> {
        let actor = Actor::system();
        let now = self.notifications.now();
        let day = self.reports.today() - chrono::Duration::days(1);
        let overview = self.reports.overview(&actor, Some(day)).await?;
        let range = hub_domain::DateRange { from: day - chrono::Duration::days(6), to: day };
        let query = hub_domain::GapsQuery::new(range, false).map_err(crate::ReportError::from)?;
        let gaps = self.reports.gaps(&actor, query).await?;
        let digest = self.notifications.announce(&hub_domain::Notification::digest_daily(&overview, now)).await?;
        let missing = self.notifications.announce(&hub_domain::Notification::report_gaps(range, &gaps, now)).await?;
        Ok(digest + missing)
    }

    /// Health, pool figures, housekeeping.
    pub fn system(&self) -> &System {
        &self.system
    }

    /// Purging sync logs, sync runs and audit rows past their retention period.
    pub fn retention(&self) -> &Retention {
        &self.retention
    }

    /// Users, sessions and personal API keys.
    pub fn people(&self) -> &People {
        &self.people
    }

    /// The access rules for what has no use case of its own (`/metrics`, the import
    /// template): `Ok` when `actor` has `permission`, else a `DENIED` row for `action`.
    pub async fn permit(&self, actor: &Actor, permission: Permission, action: &str) -> Result<(), Forbidden> {
        self.access.permit(actor, permission, action).await.map_err(|_| Forbidden)
    }

    /// The engine's settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }
}
