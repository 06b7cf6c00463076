//! Videos: the top videos across the chain (the person's stores) for a period, by views,
//! views gained, likes or engagement, with the CSV of the rows on screen.

use actix_web::{HttpResponse, web};
use hub_domain::{DateRange, TopVideosQuery, VideoSort};
use maud::{Markup, html};
use serde::Deserialize;

use crate::error::WebError;
use crate::layout::{self, Section};
use crate::pages::store::videos_table;
use crate::routes;
use crate::state::WebState;
use crate::table::Export;
use crate::viewer::Viewer;
use crate::widgets::{RANGES, days_param};

const LIMIT: i64 = 100;

#[derive(Debug, Deserialize)]
pub(crate) struct Params {
    days: Option<u32>,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    format: String,
}

fn sort_label(s: VideoSort) -> &'static str {
    match s {
        VideoSort::Views => "Views",
        VideoSort::ViewsGained => "Views gained",
        VideoSort::Likes => "Likes",
        VideoSort::Engagement => "Engagement",
    }
}

fn render(viewer: &Viewer, days: u32, sort: VideoSort, table: Markup, empty: bool) -> Markup {
    let link = |format: &str| format!("{}?days={days}&sort={}&format={format}", routes::VIDEOS, sort.as_str());
    let content = html! {
        section.card aria-label="Top videos" {
            form.toolbar method="get" action=(routes::VIDEOS) {
                div {
                    label for="days" { "Period" }
                    select #days name="days" {
                        @for d in RANGES { option value=(d) selected[d == days] { "Last " (d) " days" } }
                    }
                }
                div {
                    label for="sort" { "Sort by" }
                    select #sort name="sort" {
                        @for s in VideoSort::ALL { option value=(s.as_str()) selected[s == sort] { (sort_label(s)) } }
                    }
                }
                button type="submit" { "Show" }
                a.button.secondary href=(link("csv")) download { "Download CSV" }
                a.button.secondary href=(link("xlsx")) download { "Download XLSX" }
            }
            @if empty { p.empty-state { "No video snapshots in this period yet." } } @else { (table) }
        }
    };
    layout::page(viewer, Section::Videos, "Top videos", content)
}

/// `GET /dashboard/videos` (`format=csv` or `xlsx`: the same rows as a file).
pub(crate) async fn page(
    state: web::Data<WebState>,
    viewer: Viewer,
    params: web::Query<Params>,
) -> Result<HttpResponse, WebError> {
    let days = days_param(params.days);
    let sort = VideoSort::parse(&params.sort).unwrap_or(VideoSort::ViewsGained);
    let reports = state.engine.reports();
    let range = DateRange::last_days(reports.today(), days);
    let query = TopVideosQuery { range, sort, store: None, limit: LIMIT };
    let videos = reports.top_videos(&viewer.actor, &query).await.map_err(WebError::from)?;
    let table = videos_table(&videos, "Top videos", true);
    if let Some(export) = Export::parse(&params.format) {
        return table.download(export, "videos");
    }
    Ok(layout::ok(render(&viewer, days, sort, table.render(), videos.is_empty())))
}
