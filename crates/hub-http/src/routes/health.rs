//! `GET /health` (real checks, the spec's shape), `GET /health/live` (the process answers),
//! `GET /health/ready` (the database answers and carries this build's migrations), and
//! `GET /` (what the service is). The database is asked at most once a second whoever
//! calls (the engine caches the ping), and a per-address limit applies.

use std::time::Instant;

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use paperclip::actix::web::{self, Json};
use paperclip::actix::{Apiv2Schema, api_v2_operation};
use serde::Serialize;

use crate::json::common::rfc3339;
use crate::request::request_id;
use crate::routes::reply::{json_with, reply};
use crate::state::{API_TITLE, AppState};

/// What each check found.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct HealthChecks {
    /// `ok` or `error` (one round trip, 2 s at most, shared by the checks of one second).
    pub database: String,
    /// `ok` or `error` (a canary encrypted and decrypted with the token keys).
    pub encryption: String,
    /// `enabled` or `disabled`.
    pub scheduler: String,
}

/// The service's health.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct HealthJson {
    /// `healthy` or `unhealthy`.
    pub status: String,
    pub timestamp: String,
    /// Seconds since start.
    pub uptime: u64,
    pub version: String,
    pub request_id: String,
    pub checks: HealthChecks,
    /// Milliseconds the checks took.
    pub response_time: u64,
}

reply!(
    /// 200 healthy, 503 unhealthy.
    HealthReply {
        200 => HealthJson: "Healthy",
        503 => HealthJson: "Unhealthy: the database or the token cipher fails",
    }
);

/// Health check
///
/// Checks the database (one round trip), the token cipher (encrypts and decrypts a canary)
/// and reports whether the scheduler runs. No authentication.
#[api_v2_operation(tags(Health))]
async fn health(req: HttpRequest, state: web::Data<AppState>) -> HealthReply {
    let started = Instant::now();
    let checks = state.engine.system().health().await;
    let healthy = checks.healthy();
    let ok = |b: bool| if b { "ok" } else { "error" }.to_owned();
    let body = HealthJson {
        status: if healthy { "healthy" } else { "unhealthy" }.to_owned(),
        timestamp: rfc3339(&checks.checked_at),
        uptime: state.started.elapsed().as_secs(),
        version: state.config.version.clone(),
        request_id: request_id(&req).unwrap_or_default(),
        checks: HealthChecks {
            database: ok(checks.database),
            encryption: ok(checks.encryption),
            scheduler: if checks.scheduler_enabled { "enabled" } else { "disabled" }.to_owned(),
        },
        response_time: started.elapsed().as_millis() as u64,
    };
    let status = if healthy { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    HealthReply(json_with(status, &body))
}

/// The process answers.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct LiveJson {
    /// Always `alive`.
    pub status: String,
    /// Seconds since start.
    pub uptime: u64,
}

/// Liveness
///
/// The process answers requests; nothing else is checked (a database outage must not make an
/// orchestrator restart a healthy process). No authentication.
#[api_v2_operation(tags(Health))]
async fn live(state: web::Data<AppState>) -> Json<LiveJson> {
    Json(LiveJson { status: "alive".into(), uptime: state.started.elapsed().as_secs() })
}

/// Whether the hub can serve.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct ReadyJson {
    /// `ready` or `not_ready`.
    pub status: String,
    /// `ok` or `error`.
    pub database: String,
    /// Migrations of this build not applied yet (null when the database could not say).
    pub pending_migrations: Option<usize>,
}

reply!(
    /// 200 ready, 503 not ready.
    ReadyReply {
        200 => ReadyJson: "Ready",
        503 => ReadyJson: "Not ready: the database does not answer, or migrations are missing",
    }
);

/// Readiness
///
/// The database answers (the same once-a-second ping as `/health`) and every migration of
/// this build is applied: send traffic here. No authentication.
#[api_v2_operation(tags(Health))]
async fn ready(state: web::Data<AppState>) -> ReadyReply {
    let r = state.engine.system().readiness().await;
    let body = ReadyJson {
        status: if r.ready() { "ready" } else { "not_ready" }.into(),
        database: if r.database { "ok" } else { "error" }.into(),
        pending_migrations: r.pending_migrations,
    };
    let status = if r.ready() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    ReadyReply(json_with(status, &body))
}

/// The service's name, version and endpoints.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct RootJson {
    pub name: String,
    pub version: String,
    /// Swagger UI.
    pub documentation: String,
    /// Route summary.
    pub endpoints: serde_json::Value,
}

/// Service information
///
/// Name, version, where the documentation is, and the endpoints. No authentication.
#[api_v2_operation(tags(Health))]
async fn root(state: web::Data<AppState>) -> Json<RootJson> {
    Json(RootJson {
        name: API_TITLE.into(),
        version: state.config.version.clone(),
        documentation: "/docs".into(),
        endpoints: serde_json::json!({
            "health": "GET /health",
            "live": "GET /health/live",
            "ready": "GET /health/ready",
            "connect": "GET /connect/tiktok?store_code=xxx&invite=xxx (the link from POST /admin/stores/{store_code}/connect-link)",
            "authUrl": "GET /auth/url?store_code=xxx&invite=xxx",
            "callback": "GET /auth/tiktok/callback",
            "docs": "GET /api/docs",
            "openapi": "GET /api/openapi.json",
            "admin": {
                "listStores": "GET /admin/stores",
                "createStore": "POST /admin/stores",
                "getStore": "GET /admin/stores/{store_code}",
                "accounts": "GET /admin/stores/{store_code}/accounts",
                "userStats": "GET /admin/stores/{store_code}/user-stats?days=30",
                "videoStats": "GET /admin/stores/{store_code}/video-stats?days=30",
                "storeSyncLogs": "GET /admin/stores/{store_code}/sync-logs?limit=50",
                "connectLink": "POST /admin/stores/{store_code}/connect-link",
                "runSync": "POST /admin/sync/run",
                "syncStatus": "GET /admin/sync/status",
                "syncLogs": "GET /admin/sync/logs?store_code=xxx&limit=50",
                "syncRun": "GET /admin/sync/runs/{id}",
                "auditLogs": "GET /admin/audit-logs?limit=50&action=xxx&store_code=xxx"
            }
        }),
    })
}

pub(crate) fn config(cfg: &mut web::ServiceConfig<'_>) {
    cfg.service(web::resource("/health").route(web::get().to(health)))
        .service(web::resource("/health/live").route(web::get().to(live)))
        .service(web::resource("/health/ready").route(web::get().to(ready)))
        .service(web::resource("/").route(web::get().to(root)));
}
