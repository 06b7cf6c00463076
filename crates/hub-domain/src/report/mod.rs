//! Reports over the daily snapshots: the overview of one day, the per-store comparison of two
//! days, the top videos, the snapshot gaps, and the rows of the store import. Plain data plus
//! the pure rules (date ranges and their defaults, the business day, deltas, growth,
//! engagement, the gap rule), each defined once.

mod gaps;
mod import;
mod overview;
mod rules;
mod stores;
mod videos;

pub use gaps::{GapsQuery, MAX_GAP_DAYS, StoreDays, StoreGaps};
pub use import::{ImportAction, ImportContext, ImportCounts, ImportPlan, ImportRowReport, OnConflict, plan_import};
pub use overview::{ConnectionCounts, DayTotals, MetricDeltas, Overview};
pub use rules::{
    DEFAULT_HISTORY_DAYS, DateRange, MAX_REPORT_DATE, MIN_REPORT_DATE, business_date, delta, engagement, growth_pct,
    parse_report_date,
};
pub use stores::{SortOrder, StoreEnds, StoreReportPage, StoreReportQuery, StoreReportRow, StoreSort};
pub use videos::{TopVideo, TopVideosQuery, VideoSort};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_names_round_trip() {
        for s in StoreSort::ALL {
            assert_eq!(StoreSort::parse(s.as_str()), Ok(s));
        }
        for s in VideoSort::ALL {
            assert_eq!(VideoSort::parse(s.as_str()), Ok(s));
        }
        assert_eq!(StoreSort::parse("Followers").unwrap_err().field(), "sort");
        assert_eq!(VideoSort::parse("").unwrap_err().field(), "sort");
        assert_eq!(SortOrder::parse("up").unwrap_err().field(), "order");
        assert_eq!(OnConflict::parse("merge").unwrap_err().field(), "on_conflict");
    }
}
