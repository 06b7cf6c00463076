//! The JSON the command line prints (`tiktok-hub sync`, `reencrypt`): its own shapes, so the
//! engine's types carry no wire names. Scripts read these keys (the chaos matrix reads
//! `run_ids` and the jobs' summaries).

use hub_engine::{JobSummary, ReencryptReport, StoreSyncResult, SyncSummary};
use serde::Serialize;

/// `tiktok-hub sync --store CODE`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreSyncJson {
    pub success: bool,
    pub store_code: String,
    pub message: String,
    /// Milliseconds.
    pub duration: i64,
    pub records_processed: i64,
}

impl From<StoreSyncResult> for StoreSyncJson {
    fn from(r: StoreSyncResult) -> Self {
        Self {
            success: r.success,
            store_code: r.store_code.to_string(),
            message: r.message,
            duration: r.duration_ms,
            records_processed: r.records_processed,
        }
    }
}

/// A refresh job's totals.
#[derive(Debug, Serialize)]
pub struct RefreshJson {
    pub total: i64,
    pub refreshed: i64,
    pub failed: i64,
}

/// A user or video job's totals.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobJson {
    pub total: i64,
    pub successful: i64,
    pub failed: i64,
    pub skipped: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_videos: Option<i64>,
}

impl From<JobSummary> for JobJson {
    fn from(j: JobSummary) -> Self {
        Self {
            total: j.total,
            successful: j.successful,
            failed: j.failed,
            skipped: j.skipped,
            total_videos: j.total_videos,
        }
    }
}

/// `tiktok-hub sync` (every store).
#[derive(Debug, Serialize)]
pub struct SyncJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_tokens: Option<RefreshJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_sync: Option<JobJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video_sync: Option<JobJson>,
    pub run_ids: Vec<i64>,
}

impl From<SyncSummary> for SyncJson {
    fn from(s: SyncSummary) -> Self {
        Self {
            refresh_tokens: s.refresh_tokens.map(|r| RefreshJson {
                total: r.total,
                refreshed: r.refreshed,
                failed: r.failed,
            }),
            user_sync: s.user_sync.map(Into::into),
            video_sync: s.video_sync.map(Into::into),
            run_ids: s.run_ids,
        }
    }
}

/// `tiktok-hub reencrypt`.
#[derive(Debug, Serialize)]
pub struct ReencryptJson {
    pub scanned: u64,
    pub rewritten: u64,
    pub already_current: u64,
    pub raced: u64,
    pub undecryptable: u64,
}

impl From<ReencryptReport> for ReencryptJson {
    fn from(r: ReencryptReport) -> Self {
        Self {
            scanned: r.scanned,
            rewritten: r.rewritten,
            already_current: r.already_current,
            raced: r.raced,
            undecryptable: r.undecryptable,
        }
    }
}
