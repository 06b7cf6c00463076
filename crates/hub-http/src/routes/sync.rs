//! Sync operations: trigger a sync, the scheduler's status, one run.

use actix_web::http::StatusCode;
use hub_engine::{JobSelection, SyncRequest, Triggered};
use paperclip::actix::web::{self, Json};
use paperclip::actix::{Apiv2Schema, api_v2_operation};
use paperclip::v2::models::{DataType, DataTypeFormat, DefaultSchemaRaw};
use serde::{Deserialize, Deserializer};

use crate::error::ApiError;
use crate::extract::{AdminKey, Fields, FromBody, JsonBody};
use crate::json::sync::{RunIdsJson, SyncRunResponse, SyncRunResultResponse, SyncStartedResponse, SyncStatusResponse};
use crate::params::store_code;
use crate::routes::reply::{json_with, reply};
use crate::state::AppState;

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
    /// The engine's request.
    pub(crate) fn validate(self) -> Result<SyncRequest, ApiError> {
        let selection = match self.job.unwrap_or(JobParam::All) {
            JobParam::All => JobSelection::All,
            JobParam::User => JobSelection::User,
            JobParam::Video => JobSelection::Video,
            JobParam::RefreshTokens => JobSelection::RefreshTokens,
        };
        let store = self.store_code.as_deref().map(store_code).transpose()?;
        Ok(SyncRequest { store, selection, wait: self.wait.unwrap_or(true) })
    }
}

reply!(
    /// 200 when the sync ended (`wait`), 202 when it was started in the background.
    SyncRunReply {
        200 => SyncRunResultResponse: "The sync ended: the single-store result or the all-stores summary",
        202 => SyncStartedResponse: "Started in the background (wait=false)",
    }
);

/// Trigger a sync
///
/// Runs `job` for every store or for one store. By default waits for the end and answers
/// the result; with `"wait": false` answers 202 at once with the run ids (follow them at
/// `GET /admin/sync/runs/{id}`). A job already running answers 409 `SYNC_FAILED`. Audited
/// (action `sync.run`).
#[api_v2_operation(tags(Sync))]
async fn run(key: AdminKey, state: web::Data<AppState>, body: JsonBody<SyncRunBody>) -> Result<SyncRunReply, ApiError> {
    let request = body.0.validate()?;
    Ok(SyncRunReply(match state.engine.syncs().trigger(&key.0, request).await? {
        Triggered::Finished(outcome) => json_with(StatusCode::OK, &SyncRunResultResponse::new(outcome.into())),
        Triggered::Started { run_ids } => {
            json_with(StatusCode::ACCEPTED, &SyncStartedResponse::new(RunIdsJson { run_ids }))
        }
    }))
}

/// Scheduler status
///
/// Whether the scheduler runs, its jobs (schedule, next run, running, last run) and the
/// runs in progress in this process with their live progress.
#[api_v2_operation(tags(Sync))]
async fn status(key: AdminKey, state: web::Data<AppState>) -> Result<Json<SyncStatusResponse>, ApiError> {
    Ok(Json(SyncStatusResponse::new(state.engine.syncs().status(&key.0).await?.into())))
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
    key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<RunId>,
) -> Result<Json<SyncRunResponse>, ApiError> {
    let view = state.engine.syncs().run_view(&key.0, path.into_inner().0).await?;
    Ok(Json(SyncRunResponse::new(view.into())))
}

pub(crate) fn config(cfg: &mut web::ServiceConfig<'_>) {
    cfg.service(web::resource("/admin/sync/run").route(web::post().to(run)))
        .service(web::resource("/admin/sync/status").route(web::get().to(status)))
        .service(web::resource("/admin/sync/runs/{id}").route(web::get().to(run_by_id)));
}
