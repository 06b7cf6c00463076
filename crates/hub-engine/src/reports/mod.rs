//! Reports: the history of one store (user and video snapshots), the cross-store reports
//! (overview, store report, top videos, gaps) and the store import. Every read is a stream of
//! pages or one query; JSON and CSV answers come from the same use case.

mod history;
mod import;
mod service;
mod summaries;

pub use import::MAX_IMPORT_ROWS;
pub use service::{GAP_PAGE, ImportReport, ImportRows, ReportError, Reports};
