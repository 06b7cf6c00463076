//! The store list: search, a status filter, sortable columns, pages of 50, and the CSV of
//! exactly what is on screen. Operators get "New store".

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use hub_domain::{ConnectionStatus, DateRange, SortOrder, StoreOverview, StoreReportQuery, StoreReportRow, StoreSort};
use hub_engine::collect;
use maud::{Markup, html};
use serde::Deserialize;

use crate::error::WebError;
use crate::format::{local, signed, signed_pct};
use crate::layout::{self, Section, status_badge};
use crate::routes;
use crate::state::WebState;
use crate::table::{Cell, Column, Export, Table};
use crate::viewer::Viewer;

/// Rows per page.
pub(crate) const PER_PAGE: usize = 50;
/// The growth column's period.
const GROWTH_DAYS: u32 = 30;

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Params {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    dir: String,
    page: Option<usize>,
    /// After an import: how many stores it created, updated and skipped.
    imported: Option<usize>,
    updated: Option<usize>,
    skipped: Option<usize>,
}

/// A sortable column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sort {
    Code,
    Name,
    Followers,
    Growth,
    LastSync,
}

impl Sort {
    const ALL: [(Self, &'static str); 5] = [
        (Self::Code, "code"),
        (Self::Name, "name"),
        (Self::Followers, "followers"),
        (Self::Growth, "growth"),
        (Self::LastSync, "last_sync"),
    ];

    fn parse(raw: &str) -> Self {
        Self::ALL.iter().find(|(_, n)| *n == raw).map_or(Self::Code, |(s, _)| *s)
    }

    fn name(self) -> &'static str {
        Self::ALL.iter().find(|(s, _)| *s == self).map_or("code", |(_, n)| n)
    }
}

/// One row: the store, its status and its growth over [`GROWTH_DAYS`].
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub store: StoreOverview,
    pub growth: Option<i64>,
    pub growth_pct: Option<f64>,
}

impl Row {
    fn followers(&self) -> Option<i64> {
        self.store.latest_user_stats.map(|u| u.follower_count)
    }
}

/// The list after search, filter, sort and paging.
#[derive(Debug, Clone)]
pub(crate) struct StoresView {
    pub q: String,
    pub status: String,
    pub sort: Sort,
    pub desc: bool,
    pub page: usize,
    pub pages: usize,
    pub matching: usize,
    pub total: usize,
    pub rows: Vec<Row>,
}

fn status_matches(filter: &str, status: Option<ConnectionStatus>) -> bool {
    match filter {
        "connected" => status == Some(ConnectionStatus::Connected),
        "attention" => matches!(status, Some(ConnectionStatus::NeedReconnect(_) | ConnectionStatus::Disconnected)),
        "never" => status.is_none(),
        _ => true,
    }
}

/// Search (code or name, any case), filter, sort and page `rows`.
pub(crate) fn select(mut rows: Vec<Row>, p: &Params) -> StoresView {
    let total = rows.len();
    let q = p.q.trim().to_lowercase();
    rows.retain(|r| {
        (q.is_empty()
            || r.store.store.code.as_str().to_lowercase().contains(&q)
            || r.store.store.name.to_lowercase().contains(&q))
            && status_matches(&p.status, r.store.connection_status)
    });
    let sort = Sort::parse(&p.sort);
    let desc = p.dir == "desc";
    rows.sort_by(|a, b| {
        let o = match sort {
            Sort::Code => a.store.store.code.cmp(&b.store.store.code),
            Sort::Name => a.store.store.name.to_lowercase().cmp(&b.store.store.name.to_lowercase()),
            Sort::Followers => a.followers().cmp(&b.followers()),
            Sort::Growth => a.growth.cmp(&b.growth),
            Sort::LastSync => a.store.last_sync_time.cmp(&b.store.last_sync_time),
        };
        let o = if desc { o.reverse() } else { o };
        o.then_with(|| a.store.store.code.cmp(&b.store.store.code))
    });
    let matching = rows.len();
    let pages = matching.div_ceil(PER_PAGE).max(1);
    let page = p.page.unwrap_or(1).clamp(1, pages);
    let rows = rows.into_iter().skip((page - 1) * PER_PAGE).take(PER_PAGE).collect();
    StoresView { q: p.q.trim().to_owned(), status: p.status.clone(), sort, desc, page, pages, matching, total, rows }
}

/// Joins the stores with their growth rows (by code).
pub(crate) fn join(stores: Vec<StoreOverview>, growth: &[StoreReportRow]) -> Vec<Row> {
    let by_code: std::collections::HashMap<&str, &StoreReportRow> =
        growth.iter().map(|g| (g.store_code.as_str(), g)).collect();
    stores
        .into_iter()
        .map(|store| {
            let g = by_code.get(store.store.code.as_str());
            Row { growth: g.and_then(|g| g.follower_growth), growth_pct: g.and_then(|g| g.follower_growth_pct), store }
        })
        .collect()
}

async fn load(state: &WebState, viewer: &Viewer, p: &Params) -> Result<StoresView, WebError> {
    let (admin, reports) = (state.engine.admin(), state.engine.reports());
    let range = DateRange::last_days(reports.today(), GROWTH_DAYS);
    let query =
        StoreReportQuery { range, sort: StoreSort::FollowerGrowth, order: SortOrder::Desc, limit: 0, offset: 0 };
    let (stores, growth) =
        futures::try_join!(async { Ok::<_, WebError>(collect(admin.stores(&viewer.actor).await?).await?) }, async {
            Ok::<_, WebError>(collect(reports.store_report_pages(&viewer.actor, query).await?).await?)
        },)?;
    Ok(select(join(stores, &growth), p))
}

impl StoresView {
    /// This list's URL with `changes` applied (search, filter, sort and page kept).
    fn link(&self, base: &str, sort: Sort, desc: bool, page: usize) -> String {
        let mut q = vec![format!("sort={}", sort.name())];
        if desc {
            q.push("dir=desc".into());
        }
        if !self.q.is_empty() {
            q.push(format!("q={}", routes::encode(&self.q)));
        }
        if !self.status.is_empty() {
            q.push(format!("status={}", routes::encode(&self.status)));
        }
        if page > 1 {
            q.push(format!("page={page}"));
        }
        format!("{base}?{}", q.join("&"))
    }

    fn column(&self, label: &'static str, numeric: bool, sort: Sort) -> Column {
        let current = self.sort == sort;
        // A click on the current column flips it; numbers start high, text starts at A.
        let desc = if current { !self.desc } else { numeric };
        let aria = current.then_some(if self.desc { "descending" } else { "ascending" });
        Column { label, numeric, sort: Some((self.link(routes::STORES, sort, desc, 1), aria)) }
    }

    pub(crate) fn table(&self, tz: &chrono_tz::Tz) -> Table {
        let when = |t: Option<DateTime<Utc>>| t.map_or_else(String::new, |t| local(t, tz));
        Table {
            caption: format!("Stores, page {} of {}", self.page, self.pages),
            columns: vec![
                self.column("Store", false, Sort::Name),
                self.column("Code", false, Sort::Code),
                Column::new("Status", false),
                self.column("Followers", true, Sort::Followers),
                self.column("30-day growth", true, Sort::Growth),
                self.column("Last sync", false, Sort::LastSync),
            ],
            rows: self
                .rows
                .iter()
                .map(|r| {
                    let s = &r.store;
                    let code = s.store.code.as_str();
                    let status = s.connection_status.map_or("NEVER_CONNECTED", |c| c.as_str());
                    let growth_text = r.growth.map_or_else(String::new, |g| g.to_string());
                    vec![
                        Cell::rich(s.store.name.clone(), html! { a href=(routes::store(code)) { (s.store.name) } }),
                        Cell::text(code),
                        Cell::rich(status, status_badge(s.connection_status)),
                        Cell::num(r.followers()),
                        Cell::num_with(
                            growth_text,
                            html! {
                                @match r.growth {
                                    Some(g) => span class=(crate::format::trend(g)) {
                                        (signed(g)) @if let Some(p) = r.growth_pct { " (" (signed_pct(p)) ")" }
                                    },
                                    None => "–",
                                }
                            },
                        ),
                        Cell::text(when(s.last_sync_time)),
                    ]
                })
                .collect(),
        }
    }
}

fn render(v: &StoresView, viewer: &Viewer, tz: &chrono_tz::Tz, notice: Option<String>) -> Markup {
    let statuses = [
        ("", "Any status"),
        ("connected", "Connected"),
        ("attention", "Needs attention"),
        ("never", "Never connected"),
    ];
    let csv = v.link(routes::STORES_CSV, v.sort, v.desc, v.page);
    let xlsx = v.link(routes::STORES_XLSX, v.sort, v.desc, v.page);
    let content = html! {
        @if let Some(n) = notice { div.notice.ok role="status" { (n) } }
        div.actions.no-print {
            @if viewer.can_operate() {
                a.button href=(routes::NEW_STORE) { "New store" }
                a.button.secondary href=(routes::IMPORT) { "Import CSV" }
            }
            a.button.secondary href=(csv) download { "Download CSV" }
            a.button.secondary href=(xlsx) download { "Download XLSX" }
        }
        section.card aria-label="Stores" {
            form.toolbar method="get" action=(routes::STORES) role="search" {
                div.grow {
                    label for="q" { "Search by code or name" }
                    input #q type="search" name="q" value=(v.q);
                }
                div {
                    label for="status" { "Status" }
                    select #status name="status" {
                        @for (value, label) in statuses { option value=(value) selected[v.status == value] { (label) } }
                    }
                }
                input type="hidden" name="sort" value=(v.sort.name());
                @if v.desc { input type="hidden" name="dir" value="desc"; }
                button type="submit" { "Search" }
            }
            p.subtitle { (v.matching) " of " (v.total) " stores" }
            @if v.total == 0 {
                p.empty-state {
                    "No stores yet: "
                    @if viewer.can_operate() { a href=(routes::NEW_STORE) { "create one" } } @else { "an operator creates them" }
                    "."
                }
            } @else if v.rows.is_empty() {
                p.empty-state { "No store matches this search." }
            } @else {
                (v.table(tz).render())
            }
            @if v.pages > 1 {
                nav.pager aria-label="Pages" {
                    @if v.page > 1 { a href=(v.link(routes::STORES, v.sort, v.desc, v.page - 1)) rel="prev" { "Previous" } }
                    span { "Page " (v.page) " of " (v.pages) }
                    @if v.page < v.pages { a href=(v.link(routes::STORES, v.sort, v.desc, v.page + 1)) rel="next" { "Next" } }
                }
            }
        }
    };
    layout::page(viewer, Section::Stores, "Stores", content)
}

/// `GET /dashboard/stores`.
pub(crate) async fn page(
    state: web::Data<WebState>,
    viewer: Viewer,
    params: web::Query<Params>,
) -> Result<HttpResponse, WebError> {
    let view = load(&state, &viewer, &params).await?;
    let notice = params.imported.map(|created| {
        let (updated, skipped) = (params.updated.unwrap_or(0), params.skipped.unwrap_or(0));
        format!("Import done: {created} stores created, {updated} updated, {skipped} skipped.")
    });
    Ok(layout::ok(render(&view, &viewer, &state.tz, notice)))
}

/// `GET /dashboard/stores.csv`: the rows of the same page.
pub(crate) async fn csv(
    state: web::Data<WebState>,
    viewer: Viewer,
    params: web::Query<Params>,
) -> Result<HttpResponse, WebError> {
    let view = load(&state, &viewer, &params).await?;
    view.table(&state.tz).download(Export::Csv, "stores")
}

/// `GET /dashboard/stores.xlsx`: the rows of the same page.
pub(crate) async fn xlsx(
    state: web::Data<WebState>,
    viewer: Viewer,
    params: web::Query<Params>,
) -> Result<HttpResponse, WebError> {
    let view = load(&state, &viewer, &params).await?;
    view.table(&state.tz).download(Export::Xlsx, "stores")
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub_domain::{LatestUserStats, Store, StoreCode};

    fn row(code: &str, name: &str, followers: i64, growth: Option<i64>, status: Option<ConnectionStatus>) -> Row {
        Row {
            store: StoreOverview {
                store: Store {
                    code: StoreCode::parse(code).unwrap(),
                    name: name.into(),
                    pic_name: "Ann".into(),
                    pic_contact: None,
                    group: None,
                    created_at: DateTime::<Utc>::MIN_UTC,
                    archived_at: None,
                },
                account_id: None,
                revoke_reason: None,
                connection_status: status,
                account_identifier: None,
                connected_at: None,
                last_sync_time: None,
                token_expires_at: None,
                latest_user_stats: Some(LatestUserStats {
                    snapshot_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
                    follower_count: followers,
                    likes_count: 0,
                    video_count: 0,
                }),
                latest_video_stats: None,
            },
            growth,
            growth_pct: None,
        }
    }

    fn rows() -> Vec<Row> {
        let c = Some(ConnectionStatus::Connected);
        (1..=120)
            .map(|i| row(&format!("s{i:03}"), &format!("Shop {}", 121 - i), i * 10, Some(i % 7), c))
            .chain([row("zz", "Bandung", 5, None, None)])
            .collect()
    }

    fn params(q: &str, status: &str, sort: &str, dir: &str, page: Option<usize>) -> Params {
        Params {
            q: q.into(),
            status: status.into(),
            sort: sort.into(),
            dir: dir.into(),
            page,
            imported: None,
            updated: None,
            skipped: None,
        }
    }

    #[test]
    fn search_filter_sort_and_pages() {
        let v = select(rows(), &params("", "", "", "", None));
        assert_eq!((v.total, v.matching, v.pages, v.page, v.rows.len()), (121, 121, 3, 1, PER_PAGE));
        assert_eq!(v.rows[0].store.store.code.as_str(), "s001");
        let v = select(rows(), &params("", "", "followers", "desc", Some(9)));
        assert_eq!(v.page, 3, "a page past the end shows the last");
        assert_eq!(v.rows.last().unwrap().store.store.code.as_str(), "zz");
        let v = select(rows(), &params("BANDUNG", "", "", "", None));
        assert_eq!(v.rows.len(), 1);
        let v = select(rows(), &params("", "never", "", "", None));
        assert_eq!(v.matching, 1);
        let v = select(rows(), &params("s01", "", "growth", "desc", None));
        let g: Vec<Option<i64>> = v.rows.iter().map(|r| r.growth).collect();
        assert!(g.windows(2).all(|w| w[0] >= w[1]), "{g:?}");
    }

    #[test]
    fn sort_links_flip_the_current_column_and_keep_the_search() {
        let v = select(rows(), &params("shop 1", "connected", "followers", "desc", None));
        let t = v.table(&chrono_tz::UTC);
        let followers = t.columns.iter().find(|c| c.label == "Followers").unwrap();
        let (href, aria) = followers.sort.clone().unwrap();
        assert_eq!(aria, Some("descending"));
        assert_eq!(href, "/dashboard/stores?sort=followers&q=shop%201&status=connected");
        let name = t.columns.iter().find(|c| c.label == "Store").unwrap();
        assert_eq!(name.sort.as_ref().unwrap().1, None);
    }

    #[test]
    fn only_operators_are_offered_a_new_store() {
        use crate::viewer::tests::viewer;
        use hub_domain::Role;
        let v = select(rows(), &params("", "", "", "", None));
        let html = |role| render(&v, &viewer(role), &chrono_tz::UTC, None).into_string();
        assert!(!html(Role::Viewer).contains(routes::NEW_STORE));
        assert!(html(Role::Operator).contains(routes::NEW_STORE));
        assert!(html(Role::Viewer).contains("Download CSV"), "everyone may export what they see");
    }

    #[test]
    fn the_csv_is_the_page_on_screen() {
        let v = select(rows(), &params("", "", "code", "", Some(3)));
        let csv = v.table(&chrono_tz::UTC).csv();
        assert_eq!(csv.lines().count(), 1 + 21);
        assert!(csv.starts_with("Store,Code,Status,Followers,30-day growth,Last sync\r\n"));
        assert!(csv.contains("Bandung,zz,NEVER_CONNECTED,5,,"));
    }
}
