//! The gap report: the days a connected store has no user snapshot for.

use chrono::{Duration, NaiveDate};

use super::rules::DateRange;
use crate::account::ConnectionStatus;
use crate::error::DomainError;
use crate::store::StoreCode;

/// The longest range the gap report walks day by day.
pub const MAX_GAP_DAYS: i64 = 366;

/// Days without a user snapshot for one store that is or was connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreGaps {
    pub store_code: StoreCode,
    pub status: ConnectionStatus,
    /// The first day a snapshot was expected: `max(from, connected date)`.
    pub expected_from: NaiveDate,
    /// Days a snapshot was expected (0 when connected after `to`).
    pub expected_days: i64,
    /// Missing days, oldest first.
    pub missing: Vec<NaiveDate>,
}

/// What the repository knows of one connected store: when it was connected (in the report
/// time zone) and the days of the range that have a user snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreDays {
    pub store_code: StoreCode,
    pub status: ConnectionStatus,
    pub connected_on: NaiveDate,
    /// Days with a user snapshot, any order (days outside the range are ignored).
    pub present: Vec<NaiveDate>,
}

impl StoreGaps {
    /// The gap rule: a store owes one user snapshot for every day of `range` from the day it
    /// was connected on; each such day without one is missing.
    pub fn find(range: DateRange, days: StoreDays) -> Self {
        let expected_from = range.from.max(days.connected_on);
        let expected_days = ((range.to - expected_from).num_days() + 1).max(0);
        let mut present = days.present;
        present.sort_unstable();
        let missing = (0..expected_days)
            .map(|i| expected_from + Duration::days(i))
            .filter(|d| present.binary_search(d).is_err())
            .collect();
        Self { store_code: days.store_code, status: days.status, expected_from, expected_days, missing }
    }
}

/// What the gap report asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GapsQuery {
    pub range: DateRange,
    /// Also list stores without gaps.
    pub all: bool,
}

impl GapsQuery {
    /// Refuses ranges longer than [`MAX_GAP_DAYS`] (naming `from`).
    pub fn new(range: DateRange, all: bool) -> Result<Self, DomainError> {
        if range.days() > MAX_GAP_DAYS {
            return Err(DomainError::invalid("from", "must be at most 366 days before to"));
        }
        Ok(Self { range, all })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn gap_rule_table() {
        let range = DateRange { from: d("2026-01-20"), to: d("2026-01-24") };
        // (connected on, present days, expected_from, expected_days, missing)
        type Case<'a> = (&'a str, &'a [&'a str], &'a str, i64, &'a [&'a str]);
        let cases: &[Case<'_>] = &[
            (
                "2026-01-01",
                &["2026-01-20", "2026-01-21", "2026-01-22", "2026-01-23", "2026-01-24"],
                "2026-01-20",
                5,
                &[],
            ),
            ("2026-01-01", &["2026-01-24", "2026-01-20"], "2026-01-20", 5, &["2026-01-21", "2026-01-22", "2026-01-23"]),
            ("2026-01-22", &["2026-01-22"], "2026-01-22", 3, &["2026-01-23", "2026-01-24"]),
            ("2026-01-24", &[], "2026-01-24", 1, &["2026-01-24"]),
            ("2026-01-25", &[], "2026-01-25", 0, &[]),
            // Days outside the range never count.
            (
                "2026-01-01",
                &["2026-01-19", "2026-01-25"],
                "2026-01-20",
                5,
                &["2026-01-20", "2026-01-21", "2026-01-22", "2026-01-23", "2026-01-24"],
            ),
        ];
        for (connected, present, from, days, missing) in cases {
            let g = StoreGaps::find(
                range,
                StoreDays {
                    store_code: StoreCode::parse("s1").unwrap(),
                    status: ConnectionStatus::Connected,
                    connected_on: d(connected),
                    present: present.iter().map(|p| d(p)).collect(),
                },
            );
            assert_eq!(g.expected_from, d(from), "{connected} {present:?}");
            assert_eq!(g.expected_days, *days, "{connected} {present:?}");
            assert_eq!(g.missing, missing.iter().map(|m| d(m)).collect::<Vec<_>>(), "{connected} {present:?}");
        }
    }

    #[test]
    fn gap_ranges_are_at_most_366_days() {
        assert!(GapsQuery::new(DateRange { from: d("2025-01-24"), to: d("2026-01-24") }, false).is_ok());
        assert_eq!(
            GapsQuery::new(DateRange { from: d("2025-01-23"), to: d("2026-01-24") }, false).unwrap_err().field(),
            "from"
        );
    }
}
