//! Small pieces several pages share: a figure, a change, the period picker.

use chrono::NaiveDate;
use hub_domain::DateRange;
use maud::{Markup, html};

use crate::format::{change, thousands, trend};

/// A figure or a dash when there is none.
pub(crate) fn num(v: Option<i64>) -> Markup {
    match v {
        Some(v) => html! { (thousands(v)) },
        None => html! { span title="no data" { "–" } },
    }
}

/// A change with its arrow class: `+1,204 (+2.1%)`, or a dash.
pub(crate) fn delta(d: Option<i64>, base: Option<i64>) -> Markup {
    match d {
        Some(d) => html! { span class=(trend(d)) { (change(d, base)) } },
        None => html! { span.flat title="no data to compare" { "–" } },
    }
}

/// The range picker's choices (days).
pub(crate) const RANGES: [u32; 4] = [7, 30, 90, 365];

/// The longest custom range a page draws (the reports' own limit).
pub(crate) const MAX_CUSTOM_DAYS: i64 = 366;

/// The period a page shows: one of [`RANGES`] up to today, or a custom range picked with two
/// dates (`days=custom&from=YYYY-MM-DD&to=YYYY-MM-DD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Period {
    pub range: DateRange,
    /// The preset's days; `None` for a custom range.
    pub preset: Option<u32>,
}

impl Period {
    /// The last `days` days up to `today`.
    pub(crate) fn last(today: NaiveDate, days: u32) -> Self {
        Self { range: DateRange::last_days(today, days), preset: Some(days) }
    }

    /// Reads a page's `days`, `from` and `to` parameters. A custom range needs both dates, in
    /// order, not after `today` and at most [`MAX_CUSTOM_DAYS`] long; otherwise the page
    /// shows the last 30 days and the reason to put next to the picker. Dates without
    /// `days` count as a custom range; any other `days` is a preset (30 when unknown).
    pub(crate) fn parse(
        days: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        today: NaiveDate,
    ) -> (Self, Option<&'static str>) {
        fn filled(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        let (from, to) = (filled(from), filled(to));
        let custom = match days.map(str::trim) {
            Some("custom") => true,
            None | Some("") => from.is_some() || to.is_some(),
            Some(_) => false,
        };
        if !custom {
            let preset = days.and_then(|d| d.trim().parse().ok()).filter(|d| RANGES.contains(d)).unwrap_or(30);
            return (Self::last(today, preset), None);
        }
        let date = |v: Option<&str>| v.and_then(|v| NaiveDate::parse_from_str(v, "%Y-%m-%d").ok());
        let fallback = Self::last(today, 30);
        let (Some(from), Some(to)) = (date(from), date(to)) else {
            return (fallback, Some("Choose both dates of the custom range (YYYY-MM-DD)."));
        };
        if from > to {
            return (fallback, Some("The custom range's start is after its end."));
        }
        if to > today {
            return (fallback, Some("The custom range ends after today."));
        }
        let range = DateRange { from, to };
        if range.days() > MAX_CUSTOM_DAYS {
            return (fallback, Some("A custom range is at most 366 days long."));
        }
        (Self { range, preset: None }, None)
    }

    /// How a heading names it: `over the last 30 days`, `from 1 Nov 2026 to 30 Nov 2026`.
    pub(crate) fn label(&self) -> String {
        match self.preset {
            Some(d) => format!("over the last {d} days"),
            None => format!("from {} to {}", self.range.from.format("%-d %b %Y"), self.range.to.format("%-d %b %Y")),
        }
    }

    /// Its query parameters, for links that keep it (`days=30`, `days=custom&from=…&to=…`).
    pub(crate) fn query(&self) -> String {
        match self.preset {
            Some(d) => format!("days={d}"),
            None => format!("days=custom&from={}&to={}", self.range.from, self.range.to),
        }
    }
}

/// The period's fields: the presets and "Custom" (auto-submitting when `autosubmit`), and
/// the custom range's dates.
pub(crate) fn period_fields(period: Period, autosubmit: bool) -> Markup {
    let custom = period.preset.is_none();
    let (from, to) =
        if custom { (period.range.from.to_string(), period.range.to.to_string()) } else { Default::default() };
    html! {
        div {
            label for="days" { "Period" }
            select #days name="days" data-autosubmit[autosubmit] {
                @for d in RANGES {
                    option value=(d) selected[period.preset == Some(d)] { "Last " (d) " days" }
                }
                option value="custom" selected[custom] { "Custom range" }
            }
        }
        div { label for="from" { "From" } input #from type="date" name="from" value=(from); }
        div { label for="to" { "To" } input #to type="date" name="to" value=(to); }
    }
}

/// The period picker (a GET form); `extra` hidden fields keep the page's other parameters,
/// `problem` says why a custom range was not used.
pub(crate) fn range_picker(action: &str, period: Period, extra: &[(&str, String)], problem: Option<&str>) -> Markup {
    html! {
        form.range.toolbar method="get" action=(action) {
            @for (name, value) in extra { input type="hidden" name=(name) value=(value); }
            (period_fields(period, true))
            button.secondary type="submit" { "Show" }
            @if let Some(problem) = problem { p.error role="alert" { (problem) } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn periods_parse_presets_and_custom_ranges_and_say_why_a_range_is_refused() {
        let today = d("2026-12-03");
        let last30 = Period::last(today, 30);
        let custom = |f, t| Period { range: DateRange { from: d(f), to: d(t) }, preset: None };
        type Case<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, Period, bool);
        let cases: [Case<'_>; 11] = [
            (None, None, None, last30, false),
            (Some("7"), None, None, Period::last(today, 7), false),
            (Some("365"), Some("2026-01-01"), Some("2026-01-02"), Period::last(today, 365), false),
            (Some("12"), None, None, last30, false),
            (Some("custom"), Some("2026-11-01"), Some("2026-11-30"), custom("2026-11-01", "2026-11-30"), false),
            (None, Some("2026-11-01"), Some("2026-12-03"), custom("2026-11-01", "2026-12-03"), false),
            (Some("custom"), Some("2026-11-01"), Some(""), last30, true),
            (Some("custom"), Some("2026-11-31"), Some("2026-12-01"), last30, true),
            (Some("custom"), Some("2026-12-02"), Some("2026-12-01"), last30, true),
            (Some("custom"), Some("2026-12-01"), Some("2026-12-04"), last30, true),
            (Some("custom"), Some("2025-12-01"), Some("2026-12-02"), last30, true),
        ];
        for (days, from, to, want, refused) in cases {
            let (got, problem) = Period::parse(days, from, to, today);
            assert_eq!(got, want, "{days:?} {from:?} {to:?}");
            assert_eq!(problem.is_some(), refused, "{days:?} {from:?} {to:?}");
        }
        assert_eq!(custom("2026-11-01", "2026-11-30").query(), "days=custom&from=2026-11-01&to=2026-11-30");
        assert_eq!(custom("2026-11-01", "2026-11-30").label(), "from 1 Nov 2026 to 30 Nov 2026");
        assert_eq!(Period::last(today, 7).query(), "days=7");
    }

    #[test]
    fn the_picker_keeps_the_custom_dates_and_shows_the_problem() {
        let p = Period { range: DateRange { from: d("2026-11-01"), to: d("2026-11-30") }, preset: None };
        let html = range_picker("/dashboard/", p, &[], Some("nope")).into_string();
        assert!(html.contains(r#"<option value="custom" selected>"#), "{html}");
        assert!(html.contains(r#"value="2026-11-01""#) && html.contains(r#"value="2026-11-30""#), "{html}");
        assert!(html.contains("nope"));
        let html = range_picker("/dashboard/", Period::last(d("2026-12-03"), 90), &[], None).into_string();
        assert!(html.contains(r#"<option value="90" selected>"#), "{html}");
        assert!(!html.contains("role=\"alert\""));
    }
}
