//! The engine: the one door into the core. Adapters hold an [`Engine`] and call its
//! services' use cases; none of them reaches a port.

use std::sync::Arc;

use crate::admin::Admin;
use crate::config::EngineConfig;
use crate::connect::ConnectFlow;
use crate::lifecycle::Lifecycle;
use crate::pace::DbGate;
use crate::ports::Ports;
use crate::reports::Reports;
use crate::sync::Syncs;
use crate::system::System;
use crate::tokens::Tokens;

/// The hub's use cases, grouped in services that share the ports.
pub struct Engine {
    admin: Admin,
    reports: Reports,
    syncs: Arc<Syncs>,
    connect: ConnectFlow,
    lifecycle: Lifecycle,
    system: System,
    config: EngineConfig,
}

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
        ));
        let access = crate::access::StoreAccess::new(Arc::clone(&ports.stores));
        let auditor = crate::audit::Auditor::new(Arc::clone(&ports.audit));
        let syncs = Arc::new(Syncs::new(ports.clone(), config.clone(), Arc::clone(&tokens), db));
        Self {
            admin: Admin::new(
                Arc::clone(&ports.stores),
                Arc::clone(&ports.accounts),
                Arc::clone(&ports.audit),
                Arc::clone(&ports.clock),
            ),
            reports: Reports::new(
                Arc::clone(&ports.reports),
                Arc::clone(&ports.imports),
                Arc::clone(&ports.clock),
                config.report_tz,
                access,
                auditor,
            ),
            lifecycle: Lifecycle::new(&ports),
            connect: ConnectFlow::new(ports.clone(), config.clone(), tokens, state_secret),
            system: System::new(ports, config.clone(), Arc::clone(&syncs)),
            syncs,
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

    /// Health, pool figures, housekeeping.
    pub fn system(&self) -> &System {
        &self.system
    }

    /// The engine's settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }
}
