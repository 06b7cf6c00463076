//! Reports over the daily snapshots: the overview of one day, the per-store comparison of two
//! days, the top videos, the snapshot gaps, and the rows of the store import. Plain data plus
//! the pure rules (date ranges and their defaults, deltas, growth, engagement).

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};

use crate::account::{ConnectionStatus, ReconnectReason};
use crate::error::DomainError;
use crate::snapshot::VideoId;
use crate::store::{NewStore, Store, StoreCode};

/// The earliest date a report accepts (older dates are typing mistakes).
pub const MIN_REPORT_DATE: (i32, u32, u32) = (2000, 1, 1);
/// The latest date a report accepts.
pub const MAX_REPORT_DATE: (i32, u32, u32) = (2100, 12, 31);
/// The longest range the gap report walks day by day.
pub const MAX_GAP_DAYS: i64 = 366;

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
}

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

/// The totals of one day across every store, as stored. `None` fields: no snapshot that day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DayTotals {
    pub date: Option<NaiveDate>,
    /// Stores with a user snapshot that day.
    pub user_stores: i64,
    pub followers: i64,
    pub likes: i64,
    pub videos: i64,
    /// Stores with at least one video snapshot that day.
    pub video_stores: i64,
    /// Video snapshot rows that day.
    pub video_rows: i64,
    pub views: i64,
}

impl DayTotals {
    fn user(&self, v: i64) -> Option<i64> {
        (self.user_stores > 0).then_some(v)
    }

    fn video(&self, v: i64) -> Option<i64> {
        (self.video_rows > 0).then_some(v)
    }
}

/// How many stores are in each connection state (now: statuses have no history).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectionCounts {
    pub stores: i64,
    pub connected: i64,
    pub never_connected: i64,
    pub disconnected: i64,
    /// Every reason, in [`ReconnectReason::ALL`] order, with 0 when no store has it.
    pub need_reconnect: Vec<(ReconnectReason, i64)>,
}

impl ConnectionCounts {
    /// Counts from `(status, stores)` pairs; `None` status = never connected.
    pub fn from_groups(groups: impl IntoIterator<Item = (Option<ConnectionStatus>, i64)>) -> Self {
        let mut c = Self { need_reconnect: ReconnectReason::ALL.iter().map(|r| (*r, 0)).collect(), ..Self::default() };
        let mut bump = |r: ReconnectReason, n: i64| {
            if let Some(slot) = c.need_reconnect.iter_mut().find(|(k, _)| *k == r) {
                slot.1 += n;
            }
        };
        let mut rest: Vec<(Option<ConnectionStatus>, i64)> = Vec::new();
        for (status, n) in groups {
            match status {
                Some(ConnectionStatus::NeedReconnect(r)) => bump(r, n),
                other => rest.push((other, n)),
            }
        }
        c.stores = c.need_reconnect.iter().map(|(_, n)| n).sum();
        for (status, n) in rest {
            c.stores += n;
            match status {
                None => c.never_connected += n,
                Some(ConnectionStatus::Connected) => c.connected += n,
                Some(ConnectionStatus::Disconnected) => c.disconnected += n,
                Some(ConnectionStatus::NeedReconnect(_)) => {}
            }
        }
        c
    }

    /// Stores needing reconnect, whatever the reason.
    pub fn need_reconnect_total(&self) -> i64 {
        self.need_reconnect.iter().map(|(_, n)| n).sum()
    }

    /// Stores needing someone's attention: NEED_RECONNECT (any reason) and DISCONNECTED.
    pub fn needing_attention(&self) -> i64 {
        self.need_reconnect_total() + self.disconnected
    }
}

/// One metric of the overview with its changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricDeltas {
    /// `None` when the day has no data for this metric.
    pub value: Option<i64>,
    pub vs_previous_day: Option<i64>,
    pub vs_7_days: Option<i64>,
    pub vs_30_days: Option<i64>,
}

/// `GET /admin/reports/overview`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    pub date: NaiveDate,
    pub connections: ConnectionCounts,
    pub stores_with_snapshot: i64,
    pub stores_with_video_snapshot: i64,
    pub followers: MetricDeltas,
    pub likes: MetricDeltas,
    pub videos: MetricDeltas,
    pub views: MetricDeltas,
}

impl Overview {
    /// The dates whose totals the overview needs: the day, the day before, 7 and 30 days before.
    pub fn dates(date: NaiveDate) -> [NaiveDate; 4] {
        [date, date - Duration::days(1), date - Duration::days(7), date - Duration::days(30)]
    }

    /// Builds the overview from the totals of [`Overview::dates`] (in that order).
    pub fn build(date: NaiveDate, connections: ConnectionCounts, days: [DayTotals; 4]) -> Self {
        let metric = |get: &dyn Fn(&DayTotals) -> Option<i64>| {
            let value = get(&days[0]);
            MetricDeltas {
                value,
                vs_previous_day: delta(value, get(&days[1])),
                vs_7_days: delta(value, get(&days[2])),
                vs_30_days: delta(value, get(&days[3])),
            }
        };
        Self {
            date,
            connections,
            stores_with_snapshot: days[0].user_stores,
            stores_with_video_snapshot: days[0].video_stores,
            followers: metric(&|d| d.user(d.followers)),
            likes: metric(&|d| d.user(d.likes)),
            videos: metric(&|d| d.user(d.videos)),
            views: metric(&|d| d.video(d.views)),
        }
    }
}

/// Sort keys of the store report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreSort {
    Followers,
    FollowerGrowth,
    Views,
    ViewGrowth,
    Engagement,
}

impl StoreSort {
    pub const ALL: [Self; 5] = [Self::Followers, Self::FollowerGrowth, Self::Views, Self::ViewGrowth, Self::Engagement];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Followers => "followers",
            Self::FollowerGrowth => "follower_growth",
            Self::Views => "views",
            Self::ViewGrowth => "view_growth",
            Self::Engagement => "engagement",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw).ok_or(DomainError::invalid(
            "sort",
            "must be one of followers, follower_growth, views, view_growth, engagement",
        ))
    }
}

/// Ascending or descending; nulls always come last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortOrder {
    Asc,
    Desc,
}

impl SortOrder {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw {
            "asc" => Ok(Self::Asc),
            "desc" => Ok(Self::Desc),
            _ => Err(DomainError::invalid("order", "must be asc or desc")),
        }
    }
}

/// Which page of the store report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreReportQuery {
    pub range: DateRange,
    pub sort: StoreSort,
    pub order: SortOrder,
    pub limit: i64,
    pub offset: i64,
}

/// A store's numbers at the two ends of a range, as stored (the repository's row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreEnds {
    pub store_code: StoreCode,
    pub store_name: String,
    /// `None`: no user snapshot that day.
    pub followers_from: Option<i64>,
    pub followers_to: Option<i64>,
    /// `None`: no video snapshot that day.
    pub views_from: Option<i64>,
    pub views_to: Option<i64>,
    /// likes + comments + shares over the store's videos at `to`.
    pub interactions_to: Option<i64>,
}

/// One row of the store report.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreReportRow {
    pub store_code: StoreCode,
    pub store_name: String,
    pub followers_from: Option<i64>,
    pub followers_to: Option<i64>,
    pub follower_growth: Option<i64>,
    pub follower_growth_pct: Option<f64>,
    pub views_from: Option<i64>,
    pub views_to: Option<i64>,
    pub view_growth: Option<i64>,
    pub view_growth_pct: Option<f64>,
    pub engagement: Option<f64>,
    /// No user snapshot at `from`.
    pub missing_from: bool,
    /// No user snapshot at `to`.
    pub missing_to: bool,
}

impl From<StoreEnds> for StoreReportRow {
    fn from(e: StoreEnds) -> Self {
        Self {
            follower_growth: delta(e.followers_to, e.followers_from),
            follower_growth_pct: growth_pct(e.followers_from, e.followers_to),
            view_growth: delta(e.views_to, e.views_from),
            view_growth_pct: growth_pct(e.views_from, e.views_to),
            engagement: engagement(e.interactions_to, e.views_to),
            missing_from: e.followers_from.is_none(),
            missing_to: e.followers_to.is_none(),
            store_code: e.store_code,
            store_name: e.store_name,
            followers_from: e.followers_from,
            followers_to: e.followers_to,
            views_from: e.views_from,
            views_to: e.views_to,
        }
    }
}

/// A page of the store report and the number of rows in all pages.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreReportPage {
    pub range: DateRange,
    pub rows: Vec<StoreReportRow>,
    pub total: i64,
}

/// Sort keys of the top-videos report (always descending, nulls last).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VideoSort {
    Views,
    ViewsGained,
    Likes,
    Engagement,
}

impl VideoSort {
    pub const ALL: [Self; 4] = [Self::Views, Self::ViewsGained, Self::Likes, Self::Engagement];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Views => "views",
            Self::ViewsGained => "views_gained",
            Self::Likes => "likes",
            Self::Engagement => "engagement",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or(DomainError::invalid("sort", "must be one of views, views_gained, likes, engagement"))
    }
}

/// What the top-videos report asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopVideosQuery {
    pub range: DateRange,
    pub sort: VideoSort,
    pub store: Option<StoreCode>,
    pub limit: i64,
}

/// One video at `to`, with its views at `from`.
#[derive(Debug, Clone, PartialEq)]
pub struct TopVideo {
    pub store_code: StoreCode,
    pub video_id: VideoId,
    pub title: Option<String>,
    pub description: Option<String>,
    pub create_time: Option<chrono::DateTime<chrono::Utc>>,
    pub share_url: Option<String>,
    pub views: i64,
    pub likes: i64,
    pub comments: i64,
    pub shares: i64,
    /// `None` when the video had no snapshot at `from`.
    pub views_from: Option<i64>,
}

impl TopVideo {
    /// Views gained since `from`; `None` when the video had no snapshot then.
    pub fn views_gained(&self) -> Option<i64> {
        delta(Some(self.views), self.views_from)
    }

    /// (likes + comments + shares) / views; `None` without views.
    pub fn engagement(&self) -> Option<f64> {
        engagement(Some(self.likes + self.comments + self.shares), Some(self.views))
    }
}

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

/// What a store import does when a row's store code already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnConflict {
    /// The row is an error (the default): nothing is written.
    #[default]
    Fail,
    /// The row is skipped.
    Skip,
    /// The store's name and person in charge are replaced.
    Update,
}

impl OnConflict {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw {
            "fail" => Ok(Self::Fail),
            "skip" => Ok(Self::Skip),
            "update" => Ok(Self::Update),
            _ => Err(DomainError::invalid("on_conflict", "must be one of skip, update, fail")),
        }
    }
}

/// What happens (or would happen) to one import row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportAction {
    Create,
    Update,
    Skip,
    Error,
}

impl ImportAction {
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Skip => "skip",
            Self::Error => "error",
        }
    }
}

/// One row's outcome in the import report. `row` counts data rows from 1 (the header is row 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRowReport {
    pub row: usize,
    pub store_code: Option<String>,
    pub action: ImportAction,
    /// The offending field of an error row.
    pub field: Option<String>,
    pub message: Option<String>,
}

/// Totals of an import report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportCounts {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub skipped: usize,
    pub errors: usize,
}

/// The validated writes of an import, applied in one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportPlan {
    pub create: Vec<NewStore>,
    pub update: Vec<NewStore>,
}

/// Decides each row's fate: `rows` are the parsed rows (or the row's validation error), `existing`
/// the stores already stored under the rows' codes. Pure: no I/O.
pub fn plan_import(
    rows: &[Result<NewStore, DomainError>],
    existing: &[Store],
    on_conflict: OnConflict,
) -> (Vec<ImportRowReport>, ImportCounts, ImportPlan) {
    let existing: BTreeMap<&StoreCode, &Store> = existing.iter().map(|s| (&s.code, s)).collect();
    let mut seen: BTreeMap<StoreCode, usize> = BTreeMap::new();
    let mut reports = Vec::with_capacity(rows.len());
    let mut counts = ImportCounts { rows: rows.len(), ..ImportCounts::default() };
    let mut plan = ImportPlan::default();
    for (i, row) in rows.iter().enumerate() {
        let n = i + 1;
        let report = |store_code: Option<String>, action, field: Option<&str>, message: Option<String>| {
            ImportRowReport { row: n, store_code, action, field: field.map(str::to_owned), message }
        };
        let r = match row {
            Err(e) => report(None, ImportAction::Error, Some(e.field()), Some(e.to_string())),
            Ok(new) => {
                let code = Some(new.code.to_string());
                if let Some(first) = seen.get(&new.code) {
                    report(
                        code,
                        ImportAction::Error,
                        Some("store_code"),
                        Some(format!("store_code repeats row {first}")),
                    )
                } else {
                    seen.insert(new.code.clone(), n);
                    match (existing.get(&new.code), on_conflict) {
                        (None, _) => {
                            plan.create.push(new.clone());
                            report(code, ImportAction::Create, None, None)
                        }
                        (Some(_), OnConflict::Fail) => report(
                            code,
                            ImportAction::Error,
                            Some("store_code"),
                            Some("store_code already exists (on_conflict=fail)".into()),
                        ),
                        (Some(_), OnConflict::Skip) => {
                            report(code, ImportAction::Skip, None, Some("store exists".into()))
                        }
                        (Some(old), OnConflict::Update) if same(old, new) => {
                            report(code, ImportAction::Skip, None, Some("unchanged".into()))
                        }
                        (Some(_), OnConflict::Update) => {
                            plan.update.push(new.clone());
                            report(code, ImportAction::Update, None, None)
                        }
                    }
                }
            }
        };
        match r.action {
            ImportAction::Create => counts.created += 1,
            ImportAction::Update => counts.updated += 1,
            ImportAction::Skip => counts.skipped += 1,
            ImportAction::Error => counts.errors += 1,
        }
        reports.push(r);
    }
    (reports, counts, plan)
}

fn same(old: &Store, new: &NewStore) -> bool {
    old.name == new.name.as_str()
        && old.pic_name == new.pic_name.as_str()
        && old.pic_contact.as_deref() == new.pic_contact.as_ref().map(|c| c.as_str())
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
        assert!(GapsQuery::new(DateRange { from: d("2025-01-24"), to: d("2026-01-24") }, false).is_ok());
        assert_eq!(
            GapsQuery::new(DateRange { from: d("2025-01-23"), to: d("2026-01-24") }, false).unwrap_err().field(),
            "from"
        );
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
    fn overview_deltas_are_null_when_the_earlier_day_is_empty() {
        let day = |users, followers, video_rows, views| DayTotals {
            date: None,
            user_stores: users,
            followers,
            likes: followers * 2,
            videos: 3,
            video_stores: users,
            video_rows,
            views,
        };
        let o = Overview::build(
            d("2026-01-24"),
            ConnectionCounts::default(),
            [day(2, 100, 4, 1000), day(2, 90, 0, 0), day(0, 0, 4, 400), day(1, 40, 2, 100)],
        );
        assert_eq!(
            o.followers,
            MetricDeltas { value: Some(100), vs_previous_day: Some(10), vs_7_days: None, vs_30_days: Some(60) }
        );
        assert_eq!(
            o.views,
            MetricDeltas { value: Some(1000), vs_previous_day: None, vs_7_days: Some(600), vs_30_days: Some(900) }
        );
        assert_eq!(o.likes.vs_previous_day, Some(20));
        let empty = Overview::build(
            d("2026-01-24"),
            ConnectionCounts::default(),
            [day(0, 0, 0, 0), day(1, 1, 1, 1), day(1, 1, 1, 1), day(1, 1, 1, 1)],
        );
        assert_eq!(
            empty.followers,
            MetricDeltas { value: None, vs_previous_day: None, vs_7_days: None, vs_30_days: None }
        );
    }

    #[test]
    fn connection_counts_cover_every_reason() {
        let c = ConnectionCounts::from_groups([
            (None, 2),
            (Some(ConnectionStatus::Connected), 5),
            (Some(ConnectionStatus::NeedReconnect(ReconnectReason::Revoked)), 1),
            (Some(ConnectionStatus::NeedReconnect(ReconnectReason::ScopeMissing)), 2),
            (Some(ConnectionStatus::Disconnected), 1),
        ]);
        assert_eq!((c.stores, c.connected, c.never_connected, c.disconnected), (11, 5, 2, 1));
        assert_eq!(c.need_reconnect.len(), ReconnectReason::ALL.len());
        assert!(c.need_reconnect.contains(&(ReconnectReason::RefreshExpired, 0)));
        assert!(c.need_reconnect.contains(&(ReconnectReason::ScopeMissing, 2)));
        assert_eq!((c.need_reconnect_total(), c.needing_attention()), (3, 4));
    }

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

    fn stored(code: &str, name: &str) -> Store {
        Store {
            code: StoreCode::parse(code).unwrap(),
            name: name.into(),
            pic_name: "Ann".into(),
            pic_contact: None,
            created_at: chrono::DateTime::<chrono::Utc>::MIN_UTC,
        }
    }

    #[test]
    fn import_plan_table() {
        let rows = vec![
            NewStore::parse("new1", "New", "Ann", None),
            NewStore::parse("old1", "Changed", "Ann", None),
            NewStore::parse("old2", "Same", "Ann", None),
            NewStore::parse("bad code", "X", "Ann", None),
            NewStore::parse("new1", "Again", "Ann", None),
        ];
        let existing = [stored("old1", "Old"), stored("old2", "Same")];
        let actions = |oc| {
            let (r, c, p) = plan_import(&rows, &existing, oc);
            (r.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(), c, p.create.len(), p.update.len())
        };
        let (a, c, creates, updates) = actions(OnConflict::Fail);
        assert_eq!(a, ["create", "error", "error", "error", "error"]);
        assert_eq!((c.rows, c.created, c.errors, creates, updates), (5, 1, 4, 1, 0));
        let (a, c, _, _) = actions(OnConflict::Skip);
        assert_eq!(a, ["create", "skip", "skip", "error", "error"]);
        assert_eq!((c.skipped, c.errors), (2, 2));
        let (a, c, creates, updates) = actions(OnConflict::Update);
        assert_eq!(a, ["create", "update", "skip", "error", "error"]);
        assert_eq!((c.created, c.updated, c.skipped, creates, updates), (1, 1, 1, 1, 1));
        let (r, _, _) = plan_import(&rows, &existing, OnConflict::Update);
        assert_eq!(r[3].field.as_deref(), Some("store_code"));
        assert_eq!(r[4].message.as_deref(), Some("store_code repeats row 1"));
    }
}
