//! Reports, streamed exports and the store import.
//!
//! The reporting ports are wired with [`Engine::with_reports`] (not through [`crate::Ports`],
//! so the engine's other constructors are unchanged); without them every call here answers
//! [`ReportError::NotConfigured`].
//!
//! Exports are streams of pages: each page is one keyset (or offset) query on a pooled
//! connection given back before the next, so memory stays flat however long the export is,
//! and a slow client simply stops the stream being polled.

use std::future::Future;
use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use hub_domain::{AuditOutcome, DayTotals};
use hub_domain::{
    ConnectionCounts, DateRange, DomainError, GapsQuery, ImportCounts, ImportRowReport, NewStore, OnConflict, Overview,
    StoreCode, StoreGaps, StoreOverview, StoreReportPage, StoreReportQuery, StoreReportRow, SyncLog, TopVideo,
    TopVideosQuery, UserSnapshotRow, VideoSnapshotRow, plan_import,
};
use hub_ports::{RepoError, RepoResult, ReportRepo, StoreImportRepo, SyncLogCursor, VideoCursor};

use crate::Engine;
use crate::context::{Actor, json_str};
use crate::sync::business_date;

/// Rows per page of a streamed export.
pub const EXPORT_PAGE: i64 = 1000;
/// Stores per page of the gap report (a 366-day page of 1,000 stores is one ~100 ms query).
pub const GAP_PAGE: i64 = 1000;
/// The most data rows one store import may hold.
pub const MAX_IMPORT_ROWS: usize = 10_000;

/// The reporting ports.
#[derive(Clone)]
pub struct Reporting {
    pub reports: Arc<dyn ReportRepo>,
    pub imports: Arc<dyn StoreImportRepo>,
}

/// A stream of pages of an export.
pub type Pages<T> = BoxStream<'static, Result<Vec<T>, ReportError>>;

/// Why a report, export or import failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReportError {
    /// A parameter is invalid (the error names it).
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("Store not found")]
    StoreNotFound,
    /// The reporting ports were not wired.
    #[error("reports are not available in this process")]
    NotConfigured,
    /// The import holds invalid rows (or conflicts with `on_conflict=fail`): nothing was written.
    #[error("the import was refused: {} of {} rows are invalid", .0.counts.errors, .0.counts.rows)]
    ImportRejected(Box<ImportReport>),
    /// The stores changed while the import ran: nothing was written; retrying re-plans it.
    #[error("stores changed during the import: {0}")]
    Conflict(String),
    #[error(transparent)]
    Storage(RepoError),
}

impl From<RepoError> for ReportError {
    fn from(e: RepoError) -> Self {
        Self::Storage(e)
    }
}

/// What an import did (or, for a dry run, would do), row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub dry_run: bool,
    pub on_conflict: OnConflict,
    /// Whether the writes were made (false for a dry run and a refused import).
    pub applied: bool,
    pub counts: ImportCounts,
    pub rows: Vec<ImportRowReport>,
}

/// Pages of `fetch(after, limit)` until a short page; `cursor` gives the next `after`.
fn keyset<T, C, F, Fut>(limit: i64, fetch: F, cursor: fn(&T) -> C) -> Pages<T>
where
    T: Send + 'static,
    C: Send + 'static,
    F: Fn(Option<C>, i64) -> Fut + Send + 'static,
    Fut: Future<Output = RepoResult<Vec<T>>> + Send + 'static,
{
    stream::try_unfold((Some(None::<C>), fetch), move |(after, fetch)| async move {
        let Some(after) = after else { return Ok(None) };
        let rows = fetch(after, limit).await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let next = ((rows.len() as i64) >= limit).then(|| rows.last().map(cursor)).flatten();
        Ok(Some((rows, (next.map(Some), fetch))))
    })
    .boxed()
}

impl Engine {
    /// Plugs in the reporting ports.
    pub fn with_reports(mut self, reports: Arc<dyn ReportRepo>, imports: Arc<dyn StoreImportRepo>) -> Self {
        self.reporting = Some(Reporting { reports, imports });
        self
    }

    fn reporting(&self) -> Result<&Reporting, ReportError> {
        self.reporting.as_ref().ok_or(ReportError::NotConfigured)
    }

    /// Today in the report time zone (`REPORT_TZ`).
    pub fn report_today(&self) -> NaiveDate {
        business_date(self.ports.clock.now(), self.config.report_tz)
    }

    /// A range from optional ends: `to` defaults to today, `from` to `default_days` before `to`.
    pub fn report_range(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        default_days: i64,
    ) -> Result<DateRange, ReportError> {
        Ok(DateRange::resolve(from, to, self.report_today(), default_days)?)
    }

    /// The range of the last `days` days (today included), as the JSON history routes read it.
    pub fn report_last_days(&self, days: u32) -> DateRange {
        let to = self.report_today();
        DateRange { from: to - Duration::days(i64::from(days.max(1)) - 1), to }
    }

    async fn require_report_store(&self, code: &StoreCode) -> Result<(), ReportError> {
        self.ports.stores.get(code).await?.map(|_| ()).ok_or(ReportError::StoreNotFound)
    }

    /// The overview of `date` (default today): connections now, the day's totals and their
    /// changes against the day before, 7 and 30 days before.
    pub async fn report_overview(&self, date: Option<NaiveDate>) -> Result<Overview, ReportError> {
        let r = self.reporting()?;
        let date = date.unwrap_or_else(|| self.report_today());
        let dates = Overview::dates(date);
        let (groups, totals) = futures::try_join!(r.reports.connection_counts(), r.reports.day_totals(&dates))?;
        let mut days = [DayTotals::default(); 4];
        for (slot, (d, t)) in days.iter_mut().zip(dates.iter().zip(totals)) {
            *slot = DayTotals { date: Some(*d), ..t };
        }
        Ok(Overview::build(date, ConnectionCounts::from_groups(groups), days))
    }

    /// One page of the store report.
    pub async fn report_stores(&self, query: &StoreReportQuery) -> Result<StoreReportPage, ReportError> {
        let r = self.reporting()?;
        let (rows, total) = r.reports.store_report(query).await?;
        Ok(StoreReportPage { range: query.range, rows: rows.into_iter().map(Into::into).collect(), total })
    }

    /// Every row of the store report, in pages (offset pages of [`EXPORT_PAGE`]).
    pub fn report_stores_pages(&self, query: StoreReportQuery) -> Result<Pages<StoreReportRow>, ReportError> {
        let repo = Arc::clone(&self.reporting()?.reports);
        let s = stream::try_unfold(Some(0i64), move |offset| {
            let repo = Arc::clone(&repo);
            async move {
                let Some(offset) = offset else { return Ok(None) };
                let q = StoreReportQuery { limit: EXPORT_PAGE, offset, ..query };
                let (rows, _) = repo.store_report(&q).await?;
                if rows.is_empty() {
                    return Ok(None);
                }
                let next = ((rows.len() as i64) >= EXPORT_PAGE).then_some(offset + EXPORT_PAGE);
                Ok(Some((rows.into_iter().map(StoreReportRow::from).collect(), next)))
            }
        });
        Ok(s.boxed())
    }

    /// The top videos at `to` (of one store when given, which must exist).
    pub async fn report_top_videos(&self, query: &TopVideosQuery) -> Result<Vec<TopVideo>, ReportError> {
        let r = self.reporting()?;
        if let Some(code) = &query.store {
            self.require_report_store(code).await?;
        }
        Ok(r.reports.top_videos(query).await?)
    }

    /// The gap report, in pages of [`GAP_PAGE`] stores.
    pub fn report_gaps_pages(&self, query: GapsQuery) -> Result<Pages<StoreGaps>, ReportError> {
        let repo = Arc::clone(&self.reporting()?.reports);
        let tz = self.config.report_tz.name().to_owned();
        // A page may hold fewer stores than asked (stores without gaps are left out), so the
        // cursor is the last store the repository looked at, carried with the rows.
        let s = stream::try_unfold(Some(None::<StoreCode>), move |after| {
            let (repo, tz) = (Arc::clone(&repo), tz.clone());
            async move {
                let Some(after) = after else { return Ok(None) };
                let rows = repo.gaps(query.range, &tz, true, after, GAP_PAGE).await?;
                let Some(last) = rows.last().map(|g| g.store_code.clone()) else { return Ok(None) };
                let next = ((rows.len() as i64) >= GAP_PAGE).then_some(Some(last));
                let rows: Vec<StoreGaps> = rows.into_iter().filter(|g| query.all || !g.missing.is_empty()).collect();
                Ok(Some((rows, next)))
            }
        });
        Ok(s.boxed())
    }

    /// The whole gap report.
    pub async fn report_gaps(&self, query: GapsQuery) -> Result<Vec<StoreGaps>, ReportError> {
        let mut pages = self.report_gaps_pages(query)?;
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            out.extend(page?);
        }
        Ok(out)
    }

    /// Every store with its overview, in keyset pages by code.
    pub fn export_stores(&self) -> Result<Pages<StoreOverview>, ReportError> {
        let repo = Arc::clone(&self.reporting()?.reports);
        Ok(keyset(
            EXPORT_PAGE,
            move |after, limit| {
                let repo = Arc::clone(&repo);
                async move { repo.stores_page(after, limit).await }
            },
            |o: &StoreOverview| o.store.code.clone(),
        ))
    }

    /// A store's user snapshots in `range`, newest first, in keyset pages.
    pub async fn export_user_stats(
        &self,
        code: &StoreCode,
        range: DateRange,
    ) -> Result<Pages<UserSnapshotRow>, ReportError> {
        let repo = Arc::clone(&self.reporting()?.reports);
        self.require_report_store(code).await?;
        let code = code.clone();
        Ok(keyset(
            EXPORT_PAGE,
            move |before, limit| {
                let (repo, code) = (Arc::clone(&repo), code.clone());
                async move { repo.user_stats_page(&code, range, before, limit).await }
            },
            |r: &UserSnapshotRow| r.snapshot.snapshot_date,
        ))
    }

    /// A store's video snapshots in `range`, newest day first, in keyset pages.
    pub async fn export_video_stats(
        &self,
        code: &StoreCode,
        range: DateRange,
    ) -> Result<Pages<VideoSnapshotRow>, ReportError> {
        let repo = Arc::clone(&self.reporting()?.reports);
        self.require_report_store(code).await?;
        let code = code.clone();
        Ok(keyset(
            EXPORT_PAGE,
            move |after, limit| {
                let (repo, code) = (Arc::clone(&repo), code.clone());
                async move { repo.video_stats_page(&code, range, after, limit).await }
            },
            |r: &VideoSnapshotRow| VideoCursor {
                date: r.snapshot.snapshot_date,
                video_id: r.snapshot.video_id.clone(),
            },
        ))
    }

    /// Sync-log lines, newest first (of one store when given, which must exist): all of them,
    /// or the newest `limit`.
    pub async fn export_sync_logs(
        &self,
        store: Option<&StoreCode>,
        limit: Option<i64>,
    ) -> Result<Pages<SyncLog>, ReportError> {
        let repo = Arc::clone(&self.reporting()?.reports);
        if let Some(code) = store {
            self.require_report_store(code).await?;
        }
        let store = store.cloned();
        let pages = keyset(
            limit.unwrap_or(EXPORT_PAGE).max(1),
            move |after, limit| {
                let (repo, store) = (Arc::clone(&repo), store.clone());
                async move { repo.sync_logs_page(store, after, limit).await }
            },
            |l: &SyncLog| SyncLogCursor { run_time: l.run_time, id: l.id },
        );
        Ok(if limit.is_some() { pages.take(1).boxed() } else { pages })
    }

    /// Imports stores: plans every row against the stored stores, then (unless `dry_run`)
    /// writes them and one `store.import` audit row in one transaction. Any invalid row
    /// refuses the whole import ([`ReportError::ImportRejected`] with the row-by-row report).
    pub async fn import_stores(
        &self,
        rows: &[Result<NewStore, DomainError>],
        on_conflict: OnConflict,
        dry_run: bool,
        actor: &Actor,
    ) -> Result<ImportReport, ReportError> {
        let r = self.reporting()?;
        if rows.is_empty() {
            return Err(DomainError::invalid("file", "must hold at least one data row").into());
        }
        if rows.len() > MAX_IMPORT_ROWS {
            return Err(DomainError::invalid("file", "must hold at most 10000 data rows").into());
        }
        let mut codes: Vec<StoreCode> = rows.iter().filter_map(|r| r.as_ref().ok().map(|s| s.code.clone())).collect();
        codes.sort();
        codes.dedup();
        let existing = r.imports.stores_by_code(&codes).await?;
        let (reports, counts, plan) = plan_import(rows, &existing, on_conflict);
        let mut report = ImportReport { dry_run, on_conflict, applied: false, counts, rows: reports };
        if dry_run {
            return Ok(report);
        }
        if counts.errors > 0 {
            return Err(ReportError::ImportRejected(Box::new(report)));
        }
        let details = format!(
            "{{\"rows\":{},\"created\":{},\"updated\":{},\"skipped\":{},\"onConflict\":{}}}",
            counts.rows,
            counts.created,
            counts.updated,
            counts.skipped,
            json_str(match on_conflict {
                OnConflict::Fail => "fail",
                OnConflict::Skip => "skip",
                OnConflict::Update => "update",
            })
        );
        let audit = actor.audit("store.import", None, None, AuditOutcome::Success, Some(details));
        match r.imports.apply_import(&plan, &audit).await {
            Ok(()) => {
                tracing::info!(
                    created = counts.created,
                    updated = counts.updated,
                    skipped = counts.skipped,
                    "stores imported"
                );
                report.applied = true;
                Ok(report)
            }
            Err(RepoError::Conflict(m)) => Err(ReportError::Conflict(m)),
            Err(RepoError::NotFound) => Err(ReportError::Conflict("a store to update was deleted".into())),
            Err(e) => Err(e.into()),
        }
    }
}
