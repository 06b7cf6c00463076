//! The report rules: report dates and ranges, the business day, deltas, growth and
//! engagement. One definition each; SQL may sort by them, but the adapter's tests check its
//! order against these functions.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

use crate::error::DomainError;

/// The earliest date a report accepts (older dates are typing mistakes).
pub const MIN_REPORT_DATE: (i32, u32, u32) = (2000, 1, 1);
/// The latest date a report accepts.
pub const MAX_REPORT_DATE: (i32, u32, u32) = (2100, 12, 31);

/// Parses a `YYYY-MM-DD` report date between [`MIN_REPORT_DATE`] and [`MAX_REPORT_DATE`];
/// the error names `field`.
pub fn parse_report_date(raw: &str, field: &'static str) -> Result<NaiveDate, DomainError> {
    let (y, m, d) = MIN_REPORT_DATE;
    let min = NaiveDate::from_ymd_opt(y, m, d).expect("valid");
    let (y, m, d) = MAX_REPORT_DATE;
    let max = NaiveDate::from_ymd_opt(y, m, d).expect("valid");
    // Exactly ten characters: chrono alone accepts `2026-1-5` and `+2026-01-05`.
    let shaped = raw.len() == 10
        && raw.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    shaped
        .then(|| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok())
        .flatten()
        .filter(|d| (min..=max).contains(d))
        .ok_or(DomainError::invalid(field, "must be a date YYYY-MM-DD between 2000-01-01 and 2100-12-31"))
}

/// An inclusive range of snapshot dates, `from <= to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DateRange {
    /// Resolves optional ends: `to` defaults to `today`, `from` to `default_days` before `to`.
    /// A `from` after `to` is refused (naming `from`).
    pub fn resolve(
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        today: NaiveDate,
        default_days: i64,
    ) -> Result<Self, DomainError> {
        let to = to.unwrap_or(today);
        let from = from.unwrap_or(to - Duration::days(default_days));
        if from > to {
            return Err(DomainError::invalid("from", "must not be after to"));
        }
        Ok(Self { from, to })
    }

    /// Days in the range, both ends included.
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// The last `days` days up to `today`, today included (at least one day).
    pub fn last_days(today: NaiveDate, days: u32) -> Self {
        Self { from: today - Duration::days(i64::from(days.max(1)) - 1), to: today }
    }

    /// The window of a history list: the last `days` days up to `today`, or `from`..`to`
    /// (`to` defaults to `today`, `from` to the [`DEFAULT_HISTORY_DAYS`] days ending at `to`).
    /// `days` with `from` or `to` is refused (naming `days`).
    pub fn history(
        days: Option<u32>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        today: NaiveDate,
    ) -> Result<Self, DomainError> {
        match days {
            Some(_) if from.is_some() || to.is_some() => {
                Err(DomainError::invalid("days", "cannot be combined with from or to"))
            }
            Some(days) => Ok(Self::last_days(today, days)),
            None => Self::resolve(from, to, today, i64::from(DEFAULT_HISTORY_DAYS) - 1),
        }
    }
}

/// Days a history list covers when the request names none (today included).
pub const DEFAULT_HISTORY_DAYS: u32 = 30;

/// A change against an earlier value: `None` when either side has no data.
pub fn delta(current: Option<i64>, earlier: Option<i64>) -> Option<i64> {
    Some(current? - earlier?)
}

/// Growth in percent of `from`: `None` when an end is missing or `from` is 0.
pub fn growth_pct(from: Option<i64>, to: Option<i64>) -> Option<f64> {
    let (from, to) = (from?, to?);
    (from != 0).then(|| (to - from) as f64 * 100.0 / from as f64)
}

/// (likes + comments + shares) / views: `None` when there are no views.
pub fn engagement(interactions: Option<i64>, views: Option<i64>) -> Option<f64> {
    let (i, v) = (interactions?, views?);
    (v != 0).then(|| i as f64 / v as f64)
}

/// The business day of `now` in the report time zone (`REPORT_TZ`): the date snapshots are
/// filed under and reports default to.
pub fn business_date<Tz: TimeZone>(now: DateTime<Utc>, tz: &Tz) -> NaiveDate {
    now.with_timezone(tz).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn report_dates_table() {
        let cases = [
            ("2026-01-24", true),
            ("2000-01-01", true),
            ("2100-12-31", true),
            ("1999-12-31", false),
            ("2101-01-01", false),
            ("2026-02-30", false),
            ("2026-1-24", false),
            ("+2026-01-2", false),
            ("20260124", false),
            ("", false),
            ("2026-01-24T00:00:00Z", false),
        ];
        for (raw, ok) in cases {
            let got = parse_report_date(raw, "to");
            assert_eq!(got.is_ok(), ok, "{raw}");
            if let Err(e) = got {
                assert_eq!(e.field(), "to");
            }
        }
    }

    #[test]
    fn ranges_default_and_refuse_reversed_ends() {
        let today = d("2026-01-24");
        let r = DateRange::resolve(None, None, today, 30).unwrap();
        assert_eq!((r.from, r.to, r.days()), (d("2025-12-25"), today, 31));
        let r = DateRange::resolve(None, Some(d("2026-01-10")), today, 30).unwrap();
        assert_eq!(r.from, d("2025-12-11"));
        let r = DateRange::resolve(Some(d("2026-01-10")), Some(d("2026-01-10")), today, 30).unwrap();
        assert_eq!(r.days(), 1);
        let e = DateRange::resolve(Some(d("2026-01-11")), Some(d("2026-01-10")), today, 30).unwrap_err();
        assert_eq!(e.field(), "from");
    }

    #[test]
    fn history_windows_table() {
        let today = d("2026-01-24");
        // (days, from, to) → (from, to) or the refused field
        type Case<'a> = ((Option<u32>, Option<&'a str>, Option<&'a str>), Result<(&'a str, &'a str), &'a str>);
        let cases: &[Case<'_>] = &[
            ((None, None, None), Ok(("2025-12-26", "2026-01-24"))),
            ((Some(30), None, None), Ok(("2025-12-26", "2026-01-24"))),
            ((Some(1), None, None), Ok(("2026-01-24", "2026-01-24"))),
            ((Some(7), None, None), Ok(("2026-01-18", "2026-01-24"))),
            ((None, Some("2026-01-01"), None), Ok(("2026-01-01", "2026-01-24"))),
            ((None, None, Some("2026-01-10")), Ok(("2025-12-12", "2026-01-10"))),
            ((Some(7), Some("2026-01-01"), None), Err("days")),
            ((Some(7), None, Some("2026-01-01")), Err("days")),
            ((None, Some("2026-01-11"), Some("2026-01-10")), Err("from")),
        ];
        for ((days, from, to), want) in cases {
            let got =
                DateRange::history(*days, from.map(d), to.map(d), today).map(|r| (r.from, r.to)).map_err(|e| e.field());
            assert_eq!(got, want.map(|(f, t)| (d(f), d(t))), "{days:?} {from:?} {to:?}");
        }
        assert_eq!(DateRange::history(None, None, None, today).unwrap().days(), i64::from(DEFAULT_HISTORY_DAYS));
    }

    #[test]
    fn ratios_are_none_without_a_base() {
        assert_eq!(delta(Some(5), Some(3)), Some(2));
        assert_eq!(delta(Some(5), None), None);
        assert_eq!(delta(None, Some(5)), None);
        assert_eq!(growth_pct(Some(200), Some(250)), Some(25.0));
        assert_eq!(growth_pct(Some(200), Some(150)), Some(-25.0));
        assert_eq!(growth_pct(Some(0), Some(10)), None);
        assert_eq!(growth_pct(None, Some(10)), None);
        assert_eq!(engagement(Some(5), Some(100)), Some(0.05));
        assert_eq!(engagement(Some(5), Some(0)), None);
        assert_eq!(engagement(None, None), None);
    }

    #[test]
    fn business_dates_follow_the_zone() {
        let at = Utc.with_ymd_and_hms(2026, 1, 23, 20, 30, 0).unwrap();
        assert_eq!(business_date(at, &Utc), d("2026-01-23"));
        assert_eq!(business_date(at, &chrono::FixedOffset::east_opt(7 * 3600).unwrap()), d("2026-01-24"));
    }
}
