//! One store's history: its user and video snapshots in a range, newest first. The JSON
//! lists and the CSV exports of `…/user-stats` and `…/video-stats` both read here.

use std::sync::Arc;

use hub_domain::{Actor, DateRange, StoreCode, UserSnapshotRow, VideoSnapshotRow};
use hub_ports::VideoCursor;

use crate::access::Permission;
use crate::pages::{PAGE, Pages, keyset};
use crate::reports::service::{ReportError, Reports};

impl Reports {
    /// The store's user snapshots in `range`, newest first, in pages.
    pub async fn user_stats(
        &self,
        actor: &Actor,
        code: &StoreCode,
        range: DateRange,
    ) -> Result<Pages<UserSnapshotRow, ReportError>, ReportError> {
        self.access.store(actor, Permission::Read, "report.user_stats", code).await?;
        let (repo, code) = (Arc::clone(&self.reports), code.clone());
        Ok(keyset(
            PAGE,
            move |before, limit| {
                let (repo, code) = (Arc::clone(&repo), code.clone());
                async move { repo.user_stats_page(&code, range, before, limit).await }
            },
            |r: &UserSnapshotRow| r.snapshot.snapshot_date,
        ))
    }

    /// The store's video snapshots in `range`, newest day first, then most viewed, in pages.
    pub async fn video_stats(
        &self,
        actor: &Actor,
        code: &StoreCode,
        range: DateRange,
    ) -> Result<Pages<VideoSnapshotRow, ReportError>, ReportError> {
        self.access.store(actor, Permission::Read, "report.video_stats", code).await?;
        let (repo, code) = (Arc::clone(&self.reports), code.clone());
        Ok(keyset(
            PAGE,
            move |after, limit| {
                let (repo, code) = (Arc::clone(&repo), code.clone());
                async move { repo.video_stats_page(&code, range, after, limit).await }
            },
            |r: &VideoSnapshotRow| VideoCursor {
                date: r.snapshot.snapshot_date,
                views: r.snapshot.view_count,
                video_id: r.snapshot.video_id.clone(),
            },
        ))
    }
}
