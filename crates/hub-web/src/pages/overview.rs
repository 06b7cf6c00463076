//! The overview: how the chain grows (key figures with 1/7/30-day change, followers and views
//! over the chosen period), which stores and videos do best, which stores need someone, and
//! how last night's run went. One screen, like an analytics home page.

use actix_web::{HttpResponse, web};
use chrono::{Duration, NaiveDate};
use futures::TryFutureExt;
use hub_domain::{
    ConnectionStatus, DateRange, DayTotals, GapsQuery, JobKind, MetricDeltas, Overview, RunStatus, SortOrder,
    StoreOverview, StoreReportQuery, StoreReportRow, StoreSort, SyncRun, TopVideo, TopVideosQuery, VideoSort,
};
use hub_engine::collect;
use maud::{Markup, html};
use serde::Deserialize;

use crate::chart::{LineChart, Metric};
use crate::error::WebError;
use crate::format::{compact, duration, local, signed, signed_pct, thousands};
use crate::layout::{self, Section, status_badge};
use crate::routes;
use crate::state::WebState;
use crate::viewer::Viewer;
use crate::widgets::{Period, delta, range_picker};

/// How many rows the breakdown cards show.
const TOP: usize = 5;

#[derive(Debug, Deserialize)]
pub(crate) struct Params {
    days: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// One key figure with its changes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Figure {
    pub metric: Metric,
    pub deltas: MetricDeltas,
}

/// Why a store is on the "needs attention" card.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Attention {
    pub code: String,
    pub name: String,
    pub status: Option<ConnectionStatus>,
    /// Days of the last week without a snapshot (connected stores).
    pub missing_days: usize,
}

/// Everything the overview shows.
#[derive(Debug, Clone)]
pub(crate) struct OverviewView {
    pub date: NaiveDate,
    pub period: Period,
    /// Why the custom range asked for was not used.
    pub period_problem: Option<&'static str>,
    pub stores: i64,
    pub connected: i64,
    pub figures: Vec<Figure>,
    pub followers: LineChart,
    pub views: LineChart,
    pub top_stores: Vec<StoreReportRow>,
    pub top_videos: Vec<TopVideo>,
    pub attention: Vec<Attention>,
    pub attention_total: usize,
    pub last_runs: Vec<SyncRun>,
}

/// The points of a chart from the daily totals (a day without snapshots has no point).
pub(crate) fn series(totals: &[DayTotals], metric: Metric) -> Vec<(NaiveDate, Option<i64>)> {
    totals
        .iter()
        .filter_map(|t| {
            let v = match metric {
                Metric::Followers => (t.user_stores > 0).then_some(t.followers),
                Metric::Likes => (t.user_stores > 0).then_some(t.likes),
                Metric::Views => (t.video_rows > 0).then_some(t.views),
            };
            Some((t.date?, v))
        })
        .collect()
}

/// The stores that need someone: needing reconnect or disconnected first, then never
/// connected, then connected stores with missing days; by code within each.
pub(crate) fn attention(stores: &[StoreOverview], missing: &[(String, usize)]) -> Vec<Attention> {
    let rank = |a: &Attention| match a.status {
        Some(ConnectionStatus::NeedReconnect(_)) => 0,
        Some(ConnectionStatus::Disconnected) => 1,
        None => 2,
        Some(ConnectionStatus::Connected) => 3,
    };
    let mut out: Vec<Attention> = stores
        .iter()
        .filter_map(|s| {
            let code = s.store.code.to_string();
            let missing_days = missing.iter().find(|(c, _)| *c == code).map_or(0, |(_, n)| *n);
            let needs = !matches!(s.connection_status, Some(ConnectionStatus::Connected)) || missing_days > 0;
            needs.then(|| Attention { code, name: s.store.name.clone(), status: s.connection_status, missing_days })
        })
        .collect();
    out.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.code.cmp(&b.code)));
    out
}

async fn load(state: &WebState, viewer: &Viewer, period: Period) -> Result<OverviewView, WebError> {
    let (admin, reports, syncs) = (state.engine.admin(), state.engine.reports(), state.engine.syncs());
    let actor = &viewer.actor;
    let today = reports.today();
    let range = period.range;
    let week = DateRange::last_days(today - Duration::days(1), 7);
    let report = StoreReportQuery {
        range,
        sort: StoreSort::FollowerGrowth,
        order: SortOrder::Desc,
        limit: TOP as i64,
        offset: 0,
    };
    let videos = TopVideosQuery { range, sort: VideoSort::ViewsGained, store: None, group: None, limit: TOP as i64 };
    let gaps = GapsQuery::new(week, false).map_err(WebError::internal)?;
    let (overview, totals, top, top_videos, stores, gaps) = futures::try_join!(
        reports.overview(actor, None).map_err(WebError::from),
        reports.daily_totals(actor, range).map_err(WebError::from),
        reports.store_report(actor, &report).map_err(WebError::from),
        reports.top_videos(actor, &videos).map_err(WebError::from),
        async { Ok::<_, WebError>(collect(admin.stores(actor).await?).await?) },
        reports.gaps(actor, gaps).map_err(WebError::from),
    )?;
    // Last night's run covers every store: shown to people who see every store.
    let mut last_runs = Vec::new();
    if viewer.chain_wide() {
        for job in [JobKind::RefreshTokens, JobKind::SyncUserDaily, JobKind::SyncVideoDaily] {
            if let Some(run) = syncs.latest_run(job).await? {
                last_runs.push(run);
            }
        }
    }
    let missing: Vec<(String, usize)> = gaps.iter().map(|g| (g.store_code.to_string(), g.missing.len())).collect();
    Ok(build(overview, period, &totals, top.rows, top_videos, &stores, &missing, last_runs))
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn build(
    overview: Overview,
    period: Period,
    totals: &[DayTotals],
    top_stores: Vec<StoreReportRow>,
    top_videos: Vec<TopVideo>,
    stores: &[StoreOverview],
    missing: &[(String, usize)],
    last_runs: Vec<SyncRun>,
) -> OverviewView {
    let all = attention(stores, missing);
    OverviewView {
        date: overview.date,
        period,
        period_problem: None,
        stores: overview.connections.stores,
        connected: overview.connections.connected,
        figures: vec![
            Figure { metric: Metric::Followers, deltas: overview.followers },
            Figure { metric: Metric::Likes, deltas: overview.likes },
            Figure { metric: Metric::Views, deltas: overview.views },
        ],
        followers: LineChart::new("chart-followers", Metric::Followers, series(totals, Metric::Followers)),
        views: LineChart::new("chart-views", Metric::Views, series(totals, Metric::Views)),
        top_stores: top_stores.into_iter().filter(|r| r.follower_growth.is_some()).collect(),
        top_videos,
        attention_total: all.len(),
        attention: all.into_iter().take(TOP * 2).collect(),
        last_runs,
    }
}

fn figure(f: &Figure) -> Markup {
    let d = f.deltas;
    let base = |x: Option<i64>| d.value.zip(x).map(|(v, x)| v - x);
    html! {
        section class=(format!("figure {}", f.metric.class())) aria-label=(f.metric.label()) {
            div.label { (f.metric.label()) }
            div.value { @if let Some(v) = d.value { span title=(thousands(v)) { (compact(v)) } } @else { "–" } }
            dl {
                dt { "1 day" } dd { (delta(d.vs_previous_day, base(d.vs_previous_day))) }
                dt { "7 days" } dd { (delta(d.vs_7_days, base(d.vs_7_days))) }
                dt { "30 days" } dd { (delta(d.vs_30_days, base(d.vs_30_days))) }
            }
        }
    }
}

fn run_badge(status: RunStatus) -> Markup {
    let class = match status {
        RunStatus::Succeeded => "ok",
        RunStatus::Running => "idle",
        RunStatus::Partial | RunStatus::Interrupted => "warn",
        RunStatus::Failed => "bad",
    };
    html! { span class=(format!("badge {class}")) { (status.as_str().to_lowercase()) } }
}

pub(crate) fn job_label(job: JobKind) -> &'static str {
    match job {
        JobKind::RefreshTokens => "Token refresh",
        JobKind::SyncUserDaily => "Profiles",
        JobKind::SyncVideoDaily => "Videos",
        JobKind::ReencryptTokens => "Re-encryption",
    }
}

pub(crate) fn runs_table(runs: &[SyncRun], tz: &chrono_tz::Tz) -> Markup {
    html! {
        div.table-wrap tabindex="0" {
            table {
                thead { tr { th { "Job" } th { "Outcome" } th { "Started" } th.num { "Took" } th.num { "Stores" } th.num { "Failed" } } }
                tbody {
                    @for r in runs {
                        tr {
                            td { (job_label(r.job)) }
                            td { (run_badge(r.status)) }
                            td { (local(r.started_at, tz)) }
                            td.num { @if let Some(f) = r.finished_at { (duration((f - r.started_at).num_seconds())) } @else { "running" } }
                            td.num { (thousands(r.counts.processed)) " / " (thousands(r.counts.total)) }
                            td.num { (thousands(r.counts.failed)) }
                        }
                    }
                }
            }
        }
    }
}

pub(crate) fn render(v: &OverviewView, viewer: &Viewer, tz: &chrono_tz::Tz) -> Markup {
    let max_growth = v.top_stores.iter().filter_map(|r| r.follower_growth).max().unwrap_or(1).max(1);
    let max_views = v.top_videos.iter().map(|t| t.views_gained().unwrap_or(t.views)).max().unwrap_or(1).max(1);
    let content = html! {
        p.subtitle { (v.stores) " stores, " (v.connected) " connected · figures of " (v.date) }
        div.figures { @for f in &v.figures { (figure(f)) } }
        section.card aria-labelledby="growth-h" {
            div.chart-head {
                h2 #growth-h { "Growth " (v.period.label()) }
                (range_picker(routes::HOME, v.period, &[], v.period_problem))
            }
            div.charts { (v.followers.render()) (v.views.render()) }
        }
        div.grid {
            section.card aria-labelledby="top-stores-h" {
                h2 #top-stores-h { "Top stores by follower growth" }
                @if v.top_stores.is_empty() {
                    p.empty-state { "No growth to compare yet: it needs two days of snapshots." }
                } @else {
                    ol.breakdown {
                        @for r in &v.top_stores {
                            @let g = r.follower_growth.unwrap_or(0);
                            li {
                                a href=(routes::store(r.store_code.as_str())) { (r.store_name) }
                                span.num { (signed(g)) @if let Some(p) = r.follower_growth_pct { " (" (signed_pct(p)) ")" } }
                                meter min="0" max=(max_growth) value=(g.max(0)) aria-label=(format!("{} share of the top growth", r.store_name)) {}
                            }
                        }
                    }
                }
            }
            section.card aria-labelledby="top-videos-h" {
                h2 #top-videos-h { "Top videos by views gained" }
                @if v.top_videos.is_empty() {
                    p.empty-state { "No video snapshots in this period yet." }
                } @else {
                    ol.breakdown {
                        @for t in &v.top_videos {
                            @let gained = t.views_gained().unwrap_or(t.views);
                            @let title = t.title.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| format!("Video {}", t.video_id));
                            li {
                                span { (title) " · " a href=(routes::store(t.store_code.as_str())) { (t.store_code) } }
                                span.num { (compact(gained)) }
                                meter min="0" max=(max_views) value=(gained.max(0)) aria-label=(format!("{title} share of the top views")) {}
                            }
                        }
                    }
                }
            }
            section.card aria-labelledby="attention-h" {
                h2 #attention-h { "Needs attention" @if v.attention_total > 0 { " (" (v.attention_total) ")" } }
                @if v.attention.is_empty() {
                    p.empty-state { "Every store is connected and synced. Nothing to do." }
                } @else {
                    ol.breakdown {
                        @for a in &v.attention {
                            li {
                                a href=(routes::store(&a.code)) { (a.name) }
                                span.num {
                                    @if a.status == Some(ConnectionStatus::Connected) {
                                        span.badge.warn { (a.missing_days) " missing days" }
                                    } @else { (status_badge(a.status)) }
                                }
                            }
                        }
                    }
                    @if v.attention_total > v.attention.len() {
                        p { a href=(format!("{}?status=attention", routes::STORES)) { "All " (v.attention_total) " stores needing attention" } }
                    }
                }
            }
            @if viewer.chain_wide() {
                section.card aria-labelledby="run-h" {
                    h2 #run-h { "Last night's run" }
                    @if v.last_runs.is_empty() {
                        p.empty-state { "No run yet: the first nightly sync fills this in." }
                    } @else {
                        (runs_table(&v.last_runs, tz))
                    }
                    p { a href=(routes::SYNC) { "Sync details" @if viewer.can_run_chain() { " and run now" } } }
                }
            }
        }
    };
    layout::page(viewer, Section::Overview, "Overview", content)
}

/// `GET /dashboard/`.
pub(crate) async fn page(
    state: web::Data<WebState>,
    viewer: Viewer,
    params: web::Query<Params>,
) -> Result<HttpResponse, WebError> {
    let today = state.engine.reports().today();
    let (period, problem) = Period::parse(params.days.as_deref(), params.from.as_deref(), params.to.as_deref(), today);
    let mut view = load(&state, &viewer, period).await?;
    view.period_problem = problem;
    Ok(layout::ok(render(&view, &viewer, &state.tz)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viewer::tests::viewer;
    use hub_domain::Role;
    use hub_domain::{ConnectionCounts, Store, StoreCode};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn store(code: &str, status: Option<ConnectionStatus>) -> StoreOverview {
        StoreOverview {
            store: Store {
                code: StoreCode::parse(code).unwrap(),
                name: format!("Store {code}"),
                pic_name: "Ann".into(),
                pic_contact: None,
                group: None,
                created_at: chrono::DateTime::<chrono::Utc>::MIN_UTC,
                archived_at: None,
            },
            account_id: None,
            revoke_reason: None,
            connection_status: status,
            account_identifier: None,
            connected_at: None,
            last_sync_time: None,
            token_expires_at: None,
            latest_user_stats: None,
            latest_video_stats: None,
        }
    }

    fn day(date: &str, followers: i64, views: Option<i64>) -> DayTotals {
        DayTotals {
            date: Some(d(date)),
            user_stores: 2,
            followers,
            likes: followers * 3,
            videos: 4,
            video_stores: views.map_or(0, |_| 2),
            video_rows: views.map_or(0, |_| 8),
            views: views.unwrap_or(0),
        }
    }

    fn view() -> OverviewView {
        let totals = vec![
            day("2026-12-01", 1000, Some(5000)),
            day("2026-12-02", 1100, None),
            day("2026-12-03", 1204, Some(6000)),
        ];
        let deltas =
            |v| MetricDeltas { value: Some(v), vs_previous_day: Some(104), vs_7_days: None, vs_30_days: Some(-5) };
        let overview = Overview {
            date: d("2026-12-03"),
            connections: ConnectionCounts { stores: 3, connected: 1, ..ConnectionCounts::default() },
            stores_with_snapshot: 1,
            stores_with_video_snapshot: 1,
            followers: deltas(1204),
            likes: deltas(3612),
            videos: deltas(4),
            views: deltas(23_912_345),
        };
        let stores = [
            store("ok1", Some(ConnectionStatus::Connected)),
            store("gap1", Some(ConnectionStatus::Connected)),
            store("new1", None),
            store("bad1", Some(ConnectionStatus::NeedReconnect(hub_domain::ReconnectReason::Revoked))),
        ];
        build(
            overview,
            Period::last(d("2026-12-03"), 30),
            &totals,
            vec![],
            vec![],
            &stores,
            &[("gap1".into(), 2)],
            vec![],
        )
    }

    #[test]
    fn charts_come_from_the_daily_totals_with_gaps_for_days_without_data() {
        let v = view();
        assert_eq!(v.followers.points.iter().map(|p| p.1).collect::<Vec<_>>(), [Some(1000), Some(1100), Some(1204)]);
        assert_eq!(v.views.points.iter().map(|p| p.1).collect::<Vec<_>>(), [Some(5000), None, Some(6000)]);
    }

    #[test]
    fn stores_needing_attention_come_worst_first() {
        let v = view();
        let codes: Vec<&str> = v.attention.iter().map(|a| a.code.as_str()).collect();
        assert_eq!(codes, ["bad1", "new1", "gap1"]);
        assert_eq!(v.attention[2].missing_days, 2);
        assert_eq!(v.attention_total, 3);
    }

    #[test]
    fn the_page_shows_figures_charts_and_empty_states() {
        let html = render(&view(), &viewer(Role::Viewer), &chrono_tz::Asia::Jakarta).into_string();
        assert!(html.contains("23.9M"), "compact figure");
        assert!(html.contains("+104 (+9.5%)"), "1-day change against the day before: {html}");
        assert!(html.contains("-5 (-0.4%)"));
        assert_eq!(html.matches("<svg").count(), 2, "the followers and views charts");
        assert!(html.contains("Needs reconnect (revoked)"));
        assert!(html.contains("2 missing days"));
        assert!(html.contains("No run yet"));
        assert!(!html.contains("run now"), "a viewer is not offered to run a sync");
        assert!(render(&view(), &viewer(Role::Operator), &chrono_tz::UTC).into_string().contains("run now"));
    }
}
