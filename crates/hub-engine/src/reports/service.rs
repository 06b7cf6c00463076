//! The reports service, its errors and its dates.

use std::sync::Arc;

use chrono::NaiveDate;
use hub_domain::{DateRange, DomainError, ImportCounts, ImportRowReport, NewStore, OnConflict, business_date};
use hub_ports::{Clock, RepoError, ReportRepo, StoreImportRepo};

use crate::access::{Access, Refusal};
use crate::audit::Auditor;

/// Stores per page of the gap report (a 366-day page of 1,000 stores is one ~100 ms query).
pub const GAP_PAGE: i64 = 1000;

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

/// The rows of an import file: each parsed store or its error; or why the file itself could
/// not be read.
pub type ImportRows = Result<Vec<Result<NewStore, DomainError>>, DomainError>;

/// Why a report, export or import failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReportError {
    /// A parameter is invalid (the error names it).
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("Store not found")]
    StoreNotFound,
    /// The actor's role or store scope does not allow it (a `DENIED` row was written).
    #[error("Your role or store groups do not allow this")]
    Forbidden,
    /// The import holds invalid rows (or conflicts with `on_conflict=fail`): nothing was written.
    #[error("the import was refused: {} of {} rows are invalid", .0.counts.errors, .0.counts.rows)]
    ImportRejected(Box<ImportReport>),
    /// The stores changed while the import ran: nothing was written; retrying re-plans it.
    #[error("stores changed during the import: {0}")]
    Conflict(String),
    #[error(transparent)]
    Storage(RepoError),
}

impl ReportError {
    /// The reason an audit row names.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid",
            Self::StoreNotFound => "store_not_found",
            Self::Forbidden => "forbidden",
            Self::ImportRejected(_) => "rows_invalid",
            Self::Conflict(_) => "conflict",
            Self::Storage(_) => "storage",
        }
    }
}

impl From<RepoError> for ReportError {
    fn from(e: RepoError) -> Self {
        Self::Storage(e)
    }
}

impl From<Refusal> for ReportError {
    fn from(e: Refusal) -> Self {
        match e {
            Refusal::Forbidden => Self::Forbidden,
            Refusal::StoreNotFound => Self::StoreNotFound,
            Refusal::Storage(e) => Self::Storage(e),
        }
    }
}

/// The reporting use cases.
#[derive(Clone)]
pub struct Reports {
    pub(super) reports: Arc<dyn ReportRepo>,
    pub(super) imports: Arc<dyn StoreImportRepo>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) tz: chrono_tz::Tz,
    pub(super) access: Access,
    pub(super) auditor: Auditor,
}

impl Reports {
    pub(crate) fn new(
        reports: Arc<dyn ReportRepo>,
        imports: Arc<dyn StoreImportRepo>,
        clock: Arc<dyn Clock>,
        tz: chrono_tz::Tz,
        access: Access,
    ) -> Self {
        Self { reports, imports, clock, tz, auditor: access.auditor().clone(), access }
    }

    /// Today in the report time zone (`REPORT_TZ`).
    pub fn today(&self) -> NaiveDate {
        business_date(self.clock.now(), &self.tz)
    }

    /// A report's range from optional ends: `to` defaults to today, `from` to `default_days`
    /// before `to`.
    pub fn range(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        default_days: i64,
    ) -> Result<DateRange, ReportError> {
        Ok(DateRange::resolve(from, to, self.today(), default_days)?)
    }

    /// A history list's window ([`DateRange::history`]): the last `days` days, or `from`..`to`.
    pub fn history_range(
        &self,
        days: Option<u32>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<DateRange, ReportError> {
        Ok(DateRange::history(days, from, to, self.today())?)
    }
}
