//! The reporting ports: cross-store reads of the snapshot tables, keyset pages for streamed
//! exports, and the one-transaction store import.

use async_trait::async_trait;
use chrono::NaiveDate;
use hub_domain::{
    ConnectionStatus, DateRange, DayTotals, ImportPlan, NewAuditEntry, Store, StoreCode, StoreDays, StoreEnds,
    StoreReportQuery, StoreScope, TopVideo, TopVideosQuery, UserSnapshotRow, VideoId, VideoSnapshotRow,
};

use crate::error::RepoResult;

/// Where a keyset page of a store's video snapshots resumes: after this row in the order
/// newest date first, then most viewed, then video id descending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoCursor {
    pub date: NaiveDate,
    pub views: i64,
    pub video_id: VideoId,
}

/// Read-only reports. Every call reads only the dates it needs, through the
/// `(store_code, snapshot_date)` unique indexes and the `(snapshot_date)` indexes. Every
/// cross-store call takes the caller's [`StoreScope`] and counts only its stores (a filter of
/// the query, never of the rows afterwards).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ReportRepo: Send + Sync {
    /// How many stores are in each connection status now (`None`: never connected).
    async fn connection_counts_in(&self, scope: &StoreScope) -> RepoResult<Vec<(Option<ConnectionStatus>, i64)>>;
    /// [`ReportRepo::connection_counts_in`] over every store.
    async fn connection_counts(&self) -> RepoResult<Vec<(Option<ConnectionStatus>, i64)>> {
        self.connection_counts_in(&StoreScope::All).await
    }
    /// The cross-store totals of each date, in the order given (a date without snapshots has
    /// zero counts).
    async fn day_totals_in(&self, scope: &StoreScope, dates: &[NaiveDate]) -> RepoResult<Vec<DayTotals>>;
    /// [`ReportRepo::day_totals_in`] over every store.
    async fn day_totals(&self, dates: &[NaiveDate]) -> RepoResult<Vec<DayTotals>> {
        self.day_totals_in(&StoreScope::All, dates).await
    }
    /// One page of the store report (every store, sorted, nulls last, then by code), and the
    /// number of stores in all pages.
    async fn store_report_in(&self, scope: &StoreScope, query: &StoreReportQuery) -> RepoResult<(Vec<StoreEnds>, i64)>;
    /// [`ReportRepo::store_report_in`] over every store.
    async fn store_report(&self, query: &StoreReportQuery) -> RepoResult<(Vec<StoreEnds>, i64)> {
        self.store_report_in(&StoreScope::All, query).await
    }
    /// The videos at `query.range.to` with their views at `from`, best first.
    async fn top_videos_in(&self, scope: &StoreScope, query: &TopVideosQuery) -> RepoResult<Vec<TopVideo>>;
    /// [`ReportRepo::top_videos_in`] over every store.
    async fn top_videos(&self, query: &TopVideosQuery) -> RepoResult<Vec<TopVideo>> {
        self.top_videos_in(&StoreScope::All, query).await
    }
    /// The facts the gap rule needs ([`hub_domain::StoreGaps::find`]) of up to `limit` stores that
    /// have been connected, after `after` by code (byte order): the day each was connected on
    /// in time zone `tz` (an IANA name), and the days of `range` with a user snapshot.
    async fn store_days_in(
        &self,
        scope: &StoreScope,
        range: DateRange,
        tz: &str,
        after: Option<StoreCode>,
        limit: i64,
    ) -> RepoResult<Vec<StoreDays>>;
    /// [`ReportRepo::store_days_in`] over every store.
    async fn store_days(
        &self,
        range: DateRange,
        tz: &str,
        after: Option<StoreCode>,
        limit: i64,
    ) -> RepoResult<Vec<StoreDays>> {
        self.store_days_in(&StoreScope::All, range, tz, after, limit).await
    }

    /// Up to `limit` of the store's user snapshots in `range`, newest first, older than `before`.
    async fn user_stats_page(
        &self,
        code: &StoreCode,
        range: DateRange,
        before: Option<NaiveDate>,
        limit: i64,
    ) -> RepoResult<Vec<UserSnapshotRow>>;
    /// Up to `limit` of the store's video snapshots in `range`, newest date first, then most
    /// viewed, then video id descending, after `after` in that order.
    async fn video_stats_page(
        &self,
        code: &StoreCode,
        range: DateRange,
        after: Option<VideoCursor>,
        limit: i64,
    ) -> RepoResult<Vec<VideoSnapshotRow>>;
}

/// The store import's storage.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait StoreImportRepo: Send + Sync {
    /// The stores stored under any of `codes`.
    async fn stores_by_code(&self, codes: &[StoreCode]) -> RepoResult<Vec<Store>>;
    /// Creates and updates the plan's stores and writes `audit`, all in one transaction.
    /// [`crate::error::RepoError::Conflict`] when a store to create exists by now, [`crate::error::RepoError::NotFound`]
    /// when a store to update is gone: nothing is written then.
    async fn apply_import(&self, plan: &ImportPlan, audit: &NewAuditEntry) -> RepoResult<()>;
}
