//! Videos: the top videos across the chain (the person's stores, or one group's) for a
//! period, by views, views gained, likes or engagement, with the CSV of the rows on screen.

use actix_web::{HttpResponse, web};
use hub_domain::{StoreGroup, TopVideosQuery, VideoSort};
use maud::{Markup, html};
use serde::Deserialize;

use crate::error::WebError;
use crate::layout::{self, Section};
use crate::pages::store::videos_table;
use crate::routes;
use crate::state::WebState;
use crate::table::Export;
use crate::viewer::Viewer;
use crate::widgets::{Period, period_fields};

const LIMIT: i64 = 100;

#[derive(Debug, Deserialize)]
pub(crate) struct Params {
    days: Option<String>,
    from: Option<String>,
    to: Option<String>,
    #[serde(default)]
    group: String,
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

/// What the page was asked for.
pub(crate) struct Choice<'a> {
    pub period: Period,
    pub problem: Option<&'static str>,
    pub sort: VideoSort,
    pub group: Option<&'a StoreGroup>,
    pub groups: &'a [StoreGroup],
}

impl Choice<'_> {
    /// The query string of this choice (for the download links).
    fn query(&self) -> String {
        let group = self.group.map(|g| format!("&group={g}")).unwrap_or_default();
        format!("{}&sort={}{group}", self.period.query(), self.sort.as_str())
    }
}

pub(crate) fn render(viewer: &Viewer, c: &Choice<'_>, table: Markup, empty: bool) -> Markup {
    let link = |format: &str| format!("{}?{}&format={format}", routes::VIDEOS, c.query());
    let content = html! {
        section.card aria-label="Top videos" {
            form.toolbar method="get" action=(routes::VIDEOS) {
                (period_fields(c.period, false))
                div {
                    label for="group" { "Group" }
                    select #group name="group" {
                        option value="" selected[c.group.is_none()] { "All my stores" }
                        @for g in c.groups { option value=(g) selected[c.group == Some(g)] { (g) } }
                    }
                }
                div {
                    label for="sort" { "Sort by" }
                    select #sort name="sort" {
                        @for s in VideoSort::ALL { option value=(s.as_str()) selected[s == c.sort] { (sort_label(s)) } }
                    }
                }
                button type="submit" { "Show" }
                a.button.secondary href=(link("csv")) download { "Download CSV" }
                a.button.secondary href=(link("xlsx")) download { "Download XLSX" }
                @if let Some(problem) = c.problem { p.error role="alert" { (problem) } }
            }
            p.muted { "Videos " (c.period.label()) @if let Some(g) = c.group { ", group " strong { (g) } } "." }
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
    let reports = state.engine.reports();
    let (period, problem) =
        Period::parse(params.days.as_deref(), params.from.as_deref(), params.to.as_deref(), reports.today());
    let sort = VideoSort::parse(&params.sort).unwrap_or(VideoSort::ViewsGained);
    let groups = state.engine.admin().groups(&viewer.actor).await?;
    // Only a group the person can pick; anything else shows all their stores.
    let group = groups.iter().find(|g| g.as_str() == params.group);
    let query = TopVideosQuery { range: period.range, sort, store: None, group: group.cloned(), limit: LIMIT };
    let videos = reports.top_videos(&viewer.actor, &query).await.map_err(WebError::from)?;
    let table = videos_table(&videos, "Top videos", true);
    if let Some(export) = Export::parse(&params.format) {
        return table.download(export, "videos");
    }
    let choice = Choice { period, problem, sort, group, groups: &groups };
    Ok(layout::ok(render(&viewer, &choice, table.render(), videos.is_empty())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viewer::tests::viewer;
    use chrono::NaiveDate;
    use hub_domain::{DateRange, Role};

    #[test]
    fn the_picker_offers_the_groups_and_the_csv_link_keeps_the_choice() {
        let g = |n: &str| StoreGroup::parse(n).unwrap();
        let groups = vec![g("north"), g("south")];
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let period = Period { range: DateRange { from: d("2026-11-01"), to: d("2026-11-30") }, preset: None };
        let c = Choice { period, problem: None, sort: VideoSort::Likes, group: Some(&groups[1]), groups: &groups };
        let html = render(&viewer(Role::Viewer), &c, html! {}, true).into_string();
        assert!(html.contains(r#"<option value="south" selected>south</option>"#), "{html}");
        assert!(html.contains(r#"<option value="north">north</option>"#), "{html}");
        assert!(html.contains(
            "days=custom&amp;from=2026-11-01&amp;to=2026-11-30&amp;sort=likes&amp;group=south&amp;format=csv"
        ));
        assert!(html.contains("from 1 Nov 2026 to 30 Nov 2026"));
    }
}
