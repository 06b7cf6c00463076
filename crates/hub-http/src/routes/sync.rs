//! Sync operations: trigger, status, logs, runs.

use std::sync::Arc;

use actix_web::http::StatusCode;
use hub_domain::{AuditOutcome, JobKind, RunTrigger, StoreCode};
use hub_engine::{Actor, Engine, JobSelection, SyncError};
use paperclip::actix::web::{self, Json};
use paperclip::actix::{Apiv2Schema, api_v2_operation};
use paperclip::v2::models::{DataType, DataTypeFormat, DefaultSchemaRaw};
use serde::{Deserialize, Deserializer};

use crate::AppState;
use crate::dto::{
    JobStatusJson, LiveRunJson, RunIdsJson, SyncLogsResponse, SyncRunData, SyncRunJson, SyncRunResponse,
    SyncRunResultResponse, SyncStartedResponse, SyncStatusJson, SyncStatusResponse,
};
use crate::error::{ApiError, Code};
use crate::extract::{AdminKey, Fields, FromBody, JsonBody, LIMIT};
use crate::routes::{json_with, reply, store_code};

/// Which jobs to run.
#[derive(Debug, Clone, Copy, Deserialize, Apiv2Schema)]
#[serde(rename_all = "snake_case")]
pub enum JobParam {
    All,
    User,
    Video,
    RefreshTokens,
}

/// `POST /admin/sync/run` body; every field is optional.
#[derive(Debug, Apiv2Schema)]
pub struct SyncRunBody {
    /// Sync only this store (user and/or video; token refresh is not per store). Default: every store.
    pub store_code: Option<String>,
    /// `all` (default), `user`, `video` or `refresh_tokens`.
    pub job: Option<JobParam>,
    /// `true` (default): answer when the sync ends. `false`: answer 202 at once with the run ids.
    pub wait: Option<bool>,
}

/// The validated body.
pub(crate) struct SyncRequest {
    pub(crate) store: Option<StoreCode>,
    pub(crate) job: &'static str,
    pub(crate) selection: JobSelection,
    pub(crate) wait: bool,
}

const JOB_NAMES: [(&str, JobSelection); 4] = [
    ("all", JobSelection::All),
    ("user", JobSelection::User),
    ("video", JobSelection::Video),
    ("refresh_tokens", JobSelection::RefreshTokens),
];

impl FromBody for SyncRunBody {
    const OPTIONAL: bool = true;
    const FIELDS: &'static [&'static str] = &["store_code", "job", "wait"];

    fn from_fields(f: &Fields) -> Result<Self, ApiError> {
        let job = match f.string("job")? {
            None => None,
            Some(raw) => Some(match raw {
                "all" => JobParam::All,
                "user" => JobParam::User,
                "video" => JobParam::Video,
                "refresh_tokens" => JobParam::RefreshTokens,
                _ => return Err(ApiError::invalid("job must be one of all, user, video, refresh_tokens")),
            }),
        };
        Ok(Self { store_code: f.string("store_code")?.map(str::to_owned), job, wait: f.bool("wait")? })
    }
}

impl SyncRunBody {
    pub(crate) fn validate(self) -> Result<SyncRequest, ApiError> {
        let (job, selection) = JOB_NAMES[match self.job.unwrap_or(JobParam::All) {
            JobParam::All => 0,
            JobParam::User => 1,
            JobParam::Video => 2,
            JobParam::RefreshTokens => 3,
        }];
        let store = self.store_code.as_deref().map(store_code).transpose()?;
        Ok(SyncRequest { store, job, selection, wait: self.wait.unwrap_or(true) })
    }
}

reply!(
    /// 200 when the sync ended (`wait`), 202 when it was started in the background.
    SyncRunReply {
        200 => SyncRunResultResponse: "The sync ended: the single-store result or the all-stores summary",
        202 => SyncStartedResponse: "Started in the background (wait=false)",
    }
);

fn sync_error(e: SyncError) -> ApiError {
    match e {
        SyncError::AlreadyRunning(job) | SyncError::AlreadyDone(job) => ApiError::new(
            StatusCode::CONFLICT,
            Code::SyncFailed,
            format!("{job} is already running; try again when it ends (GET /admin/sync/status)"),
        ),
        SyncError::StoreNotFound => ApiError::store_not_found(),
        SyncError::Storage(cause) => {
            tracing::error!(error = %cause, "sync could not start");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, Code::SyncFailed, "The sync could not start")
        }
    }
}

/// Writes the one audit row of a sync trigger.
async fn audit(engine: &Engine, actor: &Actor, req: &SyncRequest, outcome: Result<serde_json::Value, &ApiError>) {
    let (outcome, mut details) = match outcome {
        Ok(d) => (AuditOutcome::Success, d),
        Err(e) => (AuditOutcome::Failure, serde_json::json!({ "error": e.code.as_str(), "status": e.status.as_u16() })),
    };
    details["job"] = req.job.into();
    details["wait"] = req.wait.into();
    let entry =
        actor.audit("sync.run", req.store.as_ref(), Some(req.job.to_owned()), outcome, Some(details.to_string()));
    if let Err(e) = engine.audit_action(&entry).await {
        tracing::error!(error = %e, "could not write the audit row");
    }
}

/// Runs the sync to its end in a task of its own, so a client that hangs up does not cut a
/// run short; the audit row is written there too.
async fn run_to_end(engine: Arc<Engine>, actor: Actor, req: SyncRequest) -> Result<SyncRunData, ApiError> {
    let task = tokio::spawn(async move {
        let result: Result<SyncRunData, ApiError> = match &req.store {
            Some(code) => engine.sync_store(code, req.selection).await.map(Into::into).map_err(sync_error),
            None => engine.run_sync(req.selection, None, RunTrigger::Manual).await.map(Into::into).map_err(sync_error),
        };
        let details = result.as_ref().map(|d| serde_json::json!({ "runIds": d.run_ids, "success": d.success }));
        audit(&engine, &actor, &req, details).await;
        result
    });
    task.await.map_err(|e| ApiError::internal(&e))?
}

/// Trigger a sync
///
/// Runs `job` for every store or for one store. By default waits for the end and answers
/// the result; with `"wait": false` answers 202 at once with the run ids (follow them at
/// `GET /admin/sync/runs/{id}`). A job already running answers 409 `SYNC_FAILED`. Audited
/// (action `sync.run`).
#[api_v2_operation(tags(Sync))]
async fn run(key: AdminKey, state: web::Data<AppState>, body: JsonBody<SyncRunBody>) -> Result<SyncRunReply, ApiError> {
    let AdminKey(actor) = key;
    let req = body.0.validate()?;
    let engine = Arc::clone(&state.engine);
    if req.wait {
        let data = run_to_end(engine, actor, req).await?;
        return Ok(SyncRunReply(json_with(StatusCode::OK, &SyncRunResultResponse::new(data))));
    }
    let started = match &req.store {
        Some(code) => match engine.get_store(code).await {
            Ok(_) => {
                let (engine, code, selection) = (Arc::clone(&engine), code.clone(), req.selection);
                tokio::spawn(async move {
                    if let Err(e) = engine.sync_store(&code, selection).await {
                        tracing::error!(store.code = %code, error = %e, "background store sync failed");
                    }
                });
                Ok(Vec::new())
            }
            Err(e) => Err(ApiError::from(e)),
        },
        None => engine.start_sync(req.selection, RunTrigger::Manual).await.map_err(sync_error),
    };
    let details = started.as_ref().map(|ids| serde_json::json!({ "runIds": ids }));
    audit(&engine, &actor, &req, details).await;
    let run_ids = started?;
    Ok(SyncRunReply(json_with(StatusCode::ACCEPTED, &SyncStartedResponse::new(RunIdsJson { run_ids }))))
}

/// Scheduler status
///
/// Whether the scheduler runs, its jobs (schedule, next run, running, last run) and the
/// runs in progress in this process with their live progress.
#[api_v2_operation(tags(Sync))]
async fn status(_key: AdminKey, state: web::Data<AppState>) -> Result<Json<SyncStatusResponse>, ApiError> {
    let live = state.engine.live_runs();
    let mut jobs = Vec::new();
    for job in state.scheduler.jobs() {
        let last_run = match JobKind::parse(&job.name) {
            Some(kind) => state.engine.ports().sync_runs.latest(kind).await.map_err(|e| ApiError::internal(&e))?,
            None => None,
        };
        jobs.push(JobStatusJson {
            running: job.running || live.iter().any(|l| l.job == job.name),
            name: job.name,
            schedule: job.schedule,
            next_run: job.next_run,
            last_run: last_run.map(Into::into),
        });
    }
    Ok(Json(SyncStatusResponse::new(SyncStatusJson {
        enabled: state.scheduler.enabled(),
        timezone: state.scheduler.timezone(),
        jobs,
        live_runs: live.iter().map(LiveRunJson::from).collect(),
    })))
}

/// `?store_code=&limit=`.
#[derive(Debug, Deserialize, Apiv2Schema)]
pub struct SyncLogsQuery {
    /// Only this store's lines.
    pub store_code: Option<String>,
    /// Lines to return, 1-500 (default 50).
    #[serde(default, deserialize_with = "crate::extract::limit")]
    pub limit: Option<u32>,
}

/// Sync logs
///
/// The newest `limit` sync-log lines, of one store when `store_code` is given.
#[api_v2_operation(tags(Sync))]
async fn logs(
    _key: AdminKey,
    state: web::Data<AppState>,
    query: web::Query<SyncLogsQuery>,
) -> Result<Json<SyncLogsResponse>, ApiError> {
    let code = query.store_code.as_deref().map(store_code).transpose()?;
    let rows = state.engine.sync_logs(code.as_ref(), i64::from(query.limit.unwrap_or(LIMIT.default))).await?;
    Ok(Json(SyncLogsResponse::new(rows.into_iter().map(Into::into).collect())))
}

/// A run id in the path: a positive whole number.
#[derive(Debug, Clone, Copy)]
pub struct RunId(i64);

impl<'de> Deserialize<'de> for RunId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(RunId)
            .ok_or_else(|| serde::de::Error::custom("id must be a positive whole number"))
    }
}

impl paperclip::v2::schema::Apiv2Schema for RunId {
    fn raw_schema() -> DefaultSchemaRaw {
        DefaultSchemaRaw {
            data_type: Some(DataType::Integer),
            format: Some(DataTypeFormat::Int64),
            description: Some("The run's id".into()),
            ..Default::default()
        }
    }
}

/// A sync run
///
/// One job run: counters, status, message; live rate and ETA while it runs in this process.
#[api_v2_operation(tags(Sync))]
async fn run_by_id(
    _key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<RunId>,
) -> Result<Json<SyncRunResponse>, ApiError> {
    let id = path.into_inner().0;
    let run = state.engine.sync_run(id).await.map_err(|e| match e {
        hub_engine::AdminError::NotFound => ApiError::not_found("Sync run not found"),
        other => other.into(),
    })?;
    let live = state.engine.live_runs().into_iter().find(|l| l.run_id == id);
    Ok(Json(SyncRunResponse::new(SyncRunJson::new(run, live.as_ref()))))
}

pub(crate) fn config(cfg: &mut web::ServiceConfig<'_>) {
    cfg.service(web::resource("/admin/sync/run").route(web::post().to(run)))
        .service(web::resource("/admin/sync/status").route(web::get().to(status)))
        .service(web::resource("/admin/sync/logs").route(web::get().to(logs)))
        .service(web::resource("/admin/sync/runs/{id}").route(web::get().to(run_by_id)));
}
