//! One store: followers and likes over the chosen period, its videos, its sync history, its
//! connection (account, scopes, token expiry) and, for operators, connect link and sync now.

use actix_web::{HttpResponse, web};
use futures::TryFutureExt;
use hub_domain::{
    ConnectionStatus, DateRange, StoreCode, StoreOverview, SyncLog, SyncLogStatus, TopVideo, TopVideosQuery,
    UserSnapshotRow, VideoSort,
};
use hub_engine::{StoreAccount, collect};
use maud::{Markup, html};
use serde::Deserialize;

use crate::chart::{LineChart, Metric};
use crate::error::WebError;
use crate::format::{local, thousands};
use crate::layout::{self, Section, status_badge};
use crate::routes;
use crate::state::WebState;
use crate::table::{Cell, Column, Table};
use crate::viewer::Viewer;
use crate::widgets::{Period, range_picker};

/// Videos and sync-log lines shown.
const VIDEOS: i64 = 50;
const LOG_LINES: i64 = 20;

#[derive(Debug, Deserialize)]
pub(crate) struct Params {
    days: Option<String>,
    from: Option<String>,
    to: Option<String>,
    created: Option<u8>,
    synced: Option<String>,
    saved: Option<u8>,
}

/// Everything the store page shows.
pub(crate) struct StoreView {
    pub store: StoreOverview,
    pub account: Option<StoreAccount>,
    pub period: Period,
    /// Why the custom range asked for was not used.
    pub period_problem: Option<&'static str>,
    pub followers: LineChart,
    pub likes: LineChart,
    pub videos: Vec<TopVideo>,
    pub logs: Vec<SyncLog>,
}

/// The charts' points: one per day of `range`, `None` on days without a snapshot.
pub(crate) fn store_series(
    range: DateRange,
    rows: &[UserSnapshotRow],
    metric: Metric,
) -> Vec<(chrono::NaiveDate, Option<i64>)> {
    range
        .from
        .iter_days()
        .take(range.days() as usize)
        .map(|day| {
            let v = rows.iter().find(|r| r.snapshot.snapshot_date == day).map(|r| match metric {
                Metric::Likes => r.snapshot.likes_count,
                _ => r.snapshot.follower_count,
            });
            (day, v)
        })
        .collect()
}

async fn load(state: &WebState, viewer: &Viewer, code: &StoreCode, period: Period) -> Result<StoreView, WebError> {
    let (admin, reports, syncs) = (state.engine.admin(), state.engine.reports(), state.engine.syncs());
    let actor = &viewer.actor;
    let store = admin.store(actor, code).await.map_err(WebError::from)?;
    let range = period.range;
    let videos =
        TopVideosQuery { range, sort: VideoSort::Views, store: Some(code.clone()), group: None, limit: VIDEOS };
    let (accounts, stats, videos, logs) = futures::try_join!(
        admin.accounts(actor, code).map_err(WebError::from),
        async {
            collect(reports.user_stats(actor, code, range).await.map_err(WebError::from)?).await.map_err(WebError::from)
        },
        reports.top_videos(actor, &videos).map_err(WebError::from),
        async {
            collect(syncs.logs(actor, Some(code), Some(LOG_LINES)).await.map_err(WebError::from)?)
                .await
                .map_err(WebError::from)
        },
    )?;
    Ok(StoreView {
        store,
        account: accounts.into_iter().next(),
        period,
        period_problem: None,
        followers: LineChart::new("chart-followers", Metric::Followers, store_series(range, &stats, Metric::Followers)),
        likes: LineChart::new("chart-likes", Metric::Likes, store_series(range, &stats, Metric::Likes)),
        videos,
        logs,
    })
}

pub(crate) fn videos_table(videos: &[TopVideo], caption: &str, with_store: bool) -> Table {
    let mut columns = vec![Column::new("Video", false)];
    if with_store {
        columns.push(Column::new("Store", false));
    }
    for (label, numeric) in
        [("Views", true), ("Likes", true), ("Comments", true), ("Shares", true), ("Engagement", true)]
    {
        columns.push(Column::new(label, numeric));
    }
    let rows = videos
        .iter()
        .map(|v| {
            let title = v.title.clone().filter(|t| !t.is_empty()).unwrap_or_else(|| format!("Video {}", v.video_id));
            let link = v.share_url.clone().filter(|u| u.starts_with("https://"));
            let mut row = vec![Cell::rich(
                title.clone(),
                html! { @if let Some(u) = &link { a href=(u) rel="noopener noreferrer" target="_blank" { (title) } } @else { (title) } },
            )];
            if with_store {
                let code = v.store_code.as_str();
                row.push(Cell::rich(code, html! { a href=(routes::store(code)) { (code) } }));
            }
            let engagement = v.engagement();
            row.extend([
                Cell::num(Some(v.views)),
                Cell::num(Some(v.likes)),
                Cell::num(Some(v.comments)),
                Cell::num(Some(v.shares)),
                Cell::num_with(
                    engagement.map_or_else(String::new, |e| format!("{e:.4}")),
                    html! { @if let Some(e) = engagement { (format!("{:.1}%", e * 100.0)) } @else { "–" } },
                ),
            ]);
            row
        })
        .collect();
    Table { caption: caption.to_owned(), columns, rows }
}

fn account_facts(v: &StoreView, tz: &chrono_tz::Tz) -> Markup {
    let s = &v.store;
    html! {
        dl.facts {
            dt { "Status" } dd { (status_badge(s.connection_status)) }
            dt { "Person in charge" } dd { (s.store.pic_name) @if let Some(c) = &s.store.pic_contact { " · " (c) } }
            @if let Some(a) = &v.account {
                dt { "TikTok account" } dd { (s.account_identifier.clone().or_else(|| a.account.open_id.clone()).unwrap_or_else(|| "–".into())) }
                dt { "Connected" } dd { (a.account.connected_at.map_or_else(|| "–".into(), |t| local(t, tz))) }
                dt { "Scopes" } dd { (a.account.scopes.join(", ")) }
                dt { "Access token" } dd {
                    @if a.has_valid_token { "valid" } @else { "expired or missing" }
                    @if let Some(t) = a.account.token_expires_at { " · until " (local(t, tz)) }
                }
                dt { "Refresh token until" } dd { (a.account.refresh_token_expires_at.map_or_else(|| "–".into(), |t| local(t, tz))) }
                dt { "Last sync" } dd { (a.account.last_sync_time.map_or_else(|| "never".into(), |t| local(t, tz))) }
            } @else {
                dt { "TikTok account" } dd { "Not connected yet: issue a connect link and send it to the store's staff." }
            }
        }
    }
}

fn logs_table(logs: &[SyncLog], tz: &chrono_tz::Tz) -> Table {
    Table {
        caption: "Sync history".into(),
        columns: vec![
            Column::new("When", false),
            Column::new("Job", false),
            Column::new("Outcome", false),
            Column::new("Message", false),
        ],
        rows: logs
            .iter()
            .map(|l| {
                let class = match l.log.status {
                    SyncLogStatus::Success => "ok",
                    SyncLogStatus::Failed => "bad",
                    SyncLogStatus::Skipped => "idle",
                };
                let status = l.log.status.as_str();
                vec![
                    Cell::text(local(l.run_time, tz)),
                    Cell::text(crate::pages::overview::job_label(l.log.job)),
                    Cell::rich(status, html! { span class=(format!("badge {class}")) { (status.to_lowercase()) } }),
                    Cell::text(l.log.message.clone()),
                ]
            })
            .collect(),
    }
}

/// What the page was opened after: a creation or a sync.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Notices {
    pub created: bool,
    pub saved: bool,
    /// `Some(true)`: the sync succeeded.
    pub synced: Option<bool>,
}

pub(crate) fn render(v: &StoreView, viewer: &Viewer, tz: &chrono_tz::Tz, notices: Notices) -> Markup {
    let code = v.store.store.code.as_str();
    let reconnect =
        matches!(v.store.connection_status, Some(ConnectionStatus::NeedReconnect(_) | ConnectionStatus::Disconnected));
    let content = html! {
        p.subtitle { "Code " (code) @if let Some(u) = v.store.latest_user_stats { " · " (thousands(u.follower_count)) " followers on " (u.snapshot_date) } }
        @if notices.created { div.notice.ok role="status" { "Store created. Next: issue a connect link and send it to the store's staff." } }
        @if notices.saved { div.notice.ok role="status" { "Saved." } }
        @match notices.synced {
            Some(true) => div.notice.ok role="status" { "Synced: the figures below include today's snapshot." },
            Some(false) => div.notice.bad role="alert" { "The sync did not succeed: see the sync history below." },
            None => {},
        }
        @if viewer.can_operate() {
            div.actions.no-print {
                form method="post" action=(format!("{}/connect-link", routes::store(code))) {
                    input type="hidden" name="csrf_token" value=(viewer.csrf);
                    button type="submit" { @if reconnect { "Reconnect: issue a connect link" } @else { "Issue connect link" } }
                }
                @if viewer.may(hub_engine::Permission::RunSyncs) {
                    form method="post" action=(format!("{}/sync", routes::store(code))) {
                        input type="hidden" name="csrf_token" value=(viewer.csrf);
                        button.secondary type="submit" { "Sync now" }
                    }
                }
                a.button.secondary href=(crate::pages::store_form::edit_path(code)) { "Edit" }
            }
        }
        section.card aria-labelledby="growth-h" {
            div.chart-head {
                h2 #growth-h { "Followers and likes" }
                (range_picker(&routes::store(code), v.period, &[], v.period_problem))
            }
            div.charts { (v.followers.render()) (v.likes.render()) }
        }
        div.grid {
            section.card aria-labelledby="conn-h" { h2 #conn-h { "Connection" } (account_facts(v, tz)) }
            section.card aria-labelledby="log-h" {
                h2 #log-h { "Sync history" }
                @if v.logs.is_empty() { p.empty-state { "No sync yet for this store." } } @else { (logs_table(&v.logs, tz).render()) }
            }
        }
        section.card aria-labelledby="videos-h" {
            h2 #videos-h { "Videos, most viewed " (v.period.label()) }
            @if v.videos.is_empty() {
                p.empty-state { "No video snapshots in this period yet." }
            } @else {
                (videos_table(&v.videos, "Videos", false).render())
            }
        }
    };
    layout::page(viewer, Section::Stores, &v.store.store.name, content)
}

/// `GET /dashboard/stores/{code}`.
pub(crate) async fn page(
    state: web::Data<WebState>,
    viewer: Viewer,
    code: web::Path<String>,
    params: web::Query<Params>,
) -> Result<HttpResponse, WebError> {
    let code = StoreCode::parse(&code).map_err(|_| WebError::NotFound)?;
    let today = state.engine.reports().today();
    let (period, problem) = Period::parse(params.days.as_deref(), params.from.as_deref(), params.to.as_deref(), today);
    let mut view = load(&state, &viewer, &code, period).await?;
    view.period_problem = problem;
    let notices = Notices {
        created: params.created.is_some(),
        saved: params.saved.is_some(),
        synced: params.synced.as_deref().map(|s| s == "ok"),
    };
    Ok(layout::ok(render(&view, &viewer, &state.tz, notices)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use hub_domain::UserSnapshot;

    #[test]
    fn every_day_of_the_range_has_a_point_and_missing_days_are_gaps() {
        let d = |i| NaiveDate::from_ymd_opt(2026, 12, 1).unwrap() + chrono::Duration::days(i);
        let row = |i, f| UserSnapshotRow {
            id: i,
            snapshot: UserSnapshot {
                store_code: StoreCode::parse("s1").unwrap(),
                snapshot_date: d(i),
                follower_count: f,
                following_count: 0,
                likes_count: f * 2,
                video_count: 1,
                display_name: None,
                avatar_url: None,
            },
            created_at: chrono::DateTime::<chrono::Utc>::MIN_UTC,
        };
        let range = DateRange { from: d(0), to: d(3) };
        let rows = [row(3, 130), row(0, 100), row(1, 110)];
        let f: Vec<Option<i64>> = store_series(range, &rows, Metric::Followers).into_iter().map(|p| p.1).collect();
        assert_eq!(f, [Some(100), Some(110), None, Some(130)]);
        let l: Vec<Option<i64>> = store_series(range, &rows, Metric::Likes).into_iter().map(|p| p.1).collect();
        assert_eq!(l, [Some(200), Some(220), None, Some(260)]);
    }
}
