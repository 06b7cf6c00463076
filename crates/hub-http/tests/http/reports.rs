//! Reports, CSV exports and the store import, over the engine with mocked ports: shapes,
//! bad input, CSV quoting and formula injection, streamed pages, the import's modes.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use crate::support::*;
use actix_web::web;
use chrono::{NaiveDate, TimeZone, Utc};
use hub_domain::*;
use hub_engine::EngineConfig;
use hub_engine::testing::Memory;
use hub_http::AppState;
use hub_ports::*;
use serde_json::json;

fn d(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, day).unwrap()
}

/// What the report mocks answer and what they were asked.
#[derive(Default)]
struct Reports {
    store_rows: Vec<StoreEnds>,
    top: Vec<TopVideo>,
    gaps: Vec<StoreGaps>,
    /// Every store-report query received.
    store_queries: Vec<StoreReportQuery>,
    top_queries: Vec<TopVideosQuery>,
    gap_calls: Vec<(DateRange, String, Option<StoreCode>)>,
    /// Sizes of the pages handed out by the export calls.
    pages: Vec<usize>,
}

type SharedReports = Arc<Mutex<Reports>>;

fn report_mocks(world: &Shared, r: &SharedReports) -> (MockReportRepo, MockStoreImportRepo) {
    let mut m = MockReportRepo::new();
    m.expect_connection_counts_in().returning(|_| {
        Ok(vec![
            (None, 2),
            (Some(ConnectionStatus::Connected), 7),
            (Some(ConnectionStatus::NeedReconnect(ReconnectReason::Revoked)), 2),
            (Some(ConnectionStatus::NeedReconnect(ReconnectReason::ScopeMissing)), 1),
            (Some(ConnectionStatus::Disconnected), 1),
        ])
    });
    m.expect_day_totals_in().returning(|_, dates| {
        Ok(dates
            .iter()
            .enumerate()
            .map(|(i, date)| match i {
                // the day, the day before, 7 days before (no data), 30 days before (users only)
                0 => DayTotals {
                    date: Some(*date),
                    user_stores: 10,
                    followers: 5000,
                    likes: 900,
                    videos: 40,
                    video_stores: 8,
                    video_rows: 80,
                    views: 100_000,
                },
                1 => DayTotals {
                    date: Some(*date),
                    user_stores: 10,
                    followers: 5100,
                    likes: 880,
                    videos: 39,
                    video_stores: 8,
                    video_rows: 80,
                    views: 90_000,
                },
                2 => DayTotals { date: Some(*date), ..DayTotals::default() },
                _ => DayTotals {
                    date: Some(*date),
                    user_stores: 9,
                    followers: 4000,
                    likes: 500,
                    videos: 30,
                    ..DayTotals::default()
                },
            })
            .collect())
    });
    let s = r.clone();
    m.expect_store_report_in().returning(move |_, q| {
        let mut r = s.lock().unwrap();
        r.store_queries.push(*q);
        let total = r.store_rows.len() as i64;
        let rows = r.store_rows.iter().skip(q.offset as usize).take(q.limit as usize).cloned().collect();
        Ok((rows, total))
    });
    let s = r.clone();
    m.expect_top_videos_in().returning(move |_, q| {
        let mut r = s.lock().unwrap();
        r.top_queries.push(q.clone());
        Ok(r.top.iter().take(q.limit as usize).cloned().collect())
    });
    let s = r.clone();
    m.expect_store_days_in().returning(move |_, range, tz, after, limit| {
        let mut r = s.lock().unwrap();
        r.gap_calls.push((range, tz.to_owned(), after.clone()));
        // The facts behind each canned gap row: connected on its first expected day, a
        // snapshot on every other day of the range.
        Ok(r.gaps
            .iter()
            .filter(|g| after.as_ref().is_none_or(|a| &g.store_code > a))
            .take(limit as usize)
            .map(|g| StoreDays {
                store_code: g.store_code.clone(),
                status: g.status,
                connected_on: g.expected_from,
                present: range
                    .from
                    .iter_days()
                    .take_while(|d| *d <= range.to)
                    .filter(|d| !g.missing.contains(d))
                    .collect(),
            })
            .collect())
    });
    let w = world.clone();
    m.expect_user_stats_page().returning(move |code, range, before, limit| {
        let w = w.lock().unwrap();
        let mut rows: Vec<UserSnapshotRow> = w
            .user_rows
            .iter()
            .filter(|r| &r.snapshot.store_code == code)
            .filter(|r| r.snapshot.snapshot_date >= range.from && r.snapshot.snapshot_date <= range.to)
            .filter(|r| before.is_none_or(|b| r.snapshot.snapshot_date < b))
            .cloned()
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.snapshot.snapshot_date));
        rows.truncate(limit as usize);
        Ok(rows)
    });
    let w = world.clone();
    m.expect_video_stats_page().returning(move |code, range, _after, limit| {
        let w = w.lock().unwrap();
        Ok(w.video_rows
            .iter()
            .filter(|r| {
                &r.snapshot.store_code == code
                    && r.snapshot.snapshot_date >= range.from
                    && r.snapshot.snapshot_date <= range.to
            })
            .take(limit as usize)
            .cloned()
            .collect())
    });

    let mut imports = MockStoreImportRepo::new();
    let w = world.clone();
    imports.expect_stores_by_code().returning(move |codes| {
        Ok(w.lock().unwrap().stores.iter().filter(|s| codes.contains(&s.code)).cloned().collect())
    });
    let w = world.clone();
    imports.expect_apply_import().returning(move |plan, audit| {
        let mut w = w.lock().unwrap();
        if plan.create.iter().any(|n| w.stores.iter().any(|s| s.code == n.code)) {
            return Err(RepoError::Conflict("exists".into()));
        }
        for n in &plan.create {
            w.stores.push(Store {
                code: n.code.clone(),
                name: n.name.to_string(),
                pic_name: n.pic_name.to_string(),
                pic_contact: n.pic_contact.as_ref().map(|c| c.to_string()),
                group: n.group.clone(),
                created_at: t0(),
                archived_at: None,
            });
        }
        for n in &plan.update {
            let s = w.stores.iter_mut().find(|s| s.code == n.code).ok_or(RepoError::NotFound)?;
            s.name = n.name.to_string();
            s.pic_name = n.pic_name.to_string();
            s.pic_contact = n.pic_contact.as_ref().map(|c| c.to_string());
        }
        w.audit.push(audit.clone());
        Ok(())
    });
    (m, imports)
}

/// The world's stores, counting the pages handed out.
struct CountedStores {
    inner: Memory,
    r: SharedReports,
}

#[async_trait::async_trait]
impl StoreRepo for CountedStores {
    async fn create(&self, store: &NewStore, audit: &NewAuditEntry) -> RepoResult<Store> {
        StoreRepo::create(&self.inner, store, audit).await
    }

    async fn update(&self, code: &StoreCode, change: &StoreChange, audit: &NewAuditEntry) -> RepoResult<Store> {
        StoreRepo::update(&self.inner, code, change, audit).await
    }

    async fn existing_groups(&self, groups: &[StoreGroup]) -> RepoResult<Vec<StoreGroup>> {
        self.inner.existing_groups(groups).await
    }

    async fn groups_in(&self, scope: &StoreScope) -> RepoResult<Vec<StoreGroup>> {
        self.inner.groups_in(scope).await
    }

    async fn get(&self, code: &StoreCode) -> RepoResult<Option<Store>> {
        StoreRepo::get(&self.inner, code).await
    }

    async fn overview(&self, code: &StoreCode) -> RepoResult<Option<StoreOverview>> {
        self.inner.overview(code).await
    }

    async fn stores_page_in(
        &self,
        scope: &StoreScope,
        after: Option<StoreCode>,
        limit: i64,
    ) -> RepoResult<Vec<StoreOverview>> {
        let page = StoreRepo::stores_page_in(&self.inner, scope, after, limit).await?;
        self.r.lock().unwrap().pages.push(page.len());
        Ok(page)
    }

    async fn all_stores_page_in(
        &self,
        scope: &StoreScope,
        after: Option<StoreCode>,
        limit: i64,
    ) -> RepoResult<Vec<StoreOverview>> {
        StoreRepo::all_stores_page_in(&self.inner, scope, after, limit).await
    }
}

/// The support harness, with the reporting ports plugged in.
struct H {
    h: Harness,
    r: SharedReports,
}

impl H {
    fn new() -> Self {
        let h = Harness::new();
        let r: SharedReports = Arc::default();
        let (reports, imports) = report_mocks(&h.world, &r);
        let stores = CountedStores { inner: Memory(h.world.clone()), r: r.clone() };
        let engine = engine_with(
            &h.world,
            Arc::new(AtomicBool::new(true)),
            h.token_calls.clone(),
            EngineConfig::default(),
            |p| {
                p.reports = Arc::new(reports);
                p.imports = Arc::new(imports);
                p.stores = Arc::new(stores);
            },
        );
        engine.syncs().attach_schedule(Arc::new(FixedScheduler));
        let state = web::Data::new(AppState::new(Arc::new(engine), http_config()));
        Self { h: Harness { state, ..h }, r }
    }

    fn reports(&self) -> std::sync::MutexGuard<'_, Reports> {
        self.r.lock().unwrap()
    }
}

fn ends(
    code: &str,
    name: &str,
    f: (Option<i64>, Option<i64>),
    v: (Option<i64>, Option<i64>),
    i: Option<i64>,
) -> StoreEnds {
    StoreEnds {
        store_code: StoreCode::parse(code).unwrap(),
        store_name: name.into(),
        store_group: None,
        followers_from: f.0,
        followers_to: f.1,
        views_from: v.0,
        views_to: v.1,
        interactions_to: i,
    }
}

#[actix_web::test]
async fn overview_shape() {
    let h = H::new();
    let app = app!(h.h);
    let (status, _, body) = call_json!(app, admin_get("/admin/reports/overview?date=2026-01-20"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "success": true,
            "data": {
                "date": "2026-01-20",
                "stores": {
                    "total": 13, "connected": 7, "notConnected": 2, "needingAttention": 4, "disconnected": 1,
                    "needReconnect": {"total": 3, "REVOKED": 2, "REFRESH_EXPIRED": 0, "SCOPE_MISSING": 1, "GRANT_INVALID": 0, "TOKEN_INVALID": 0}
                },
                "storesWithSnapshot": 10,
                "storesWithVideoSnapshot": 8,
                "followers": {"value": 5000, "vsPreviousDay": -100, "vs7Days": null, "vs30Days": 1000},
                "likes": {"value": 900, "vsPreviousDay": 20, "vs7Days": null, "vs30Days": 400},
                "videos": {"value": 40, "vsPreviousDay": 1, "vs7Days": null, "vs30Days": 10},
                "views": {"value": 100000, "vsPreviousDay": 10000, "vs7Days": null, "vs30Days": null}
            }
        })
    );
    // Without a date: today in the report time zone (the clock says 2026-01-24 02:00 UTC).
    let (_, _, body) = call_json!(app, admin_get("/admin/reports/overview"));
    assert_eq!(body["data"]["date"], "2026-01-24");
    // CSV: the header and one row, negative numbers as numbers.
    let (status, headers, text) = call!(app, admin_get("/admin/reports/overview?date=2026-01-20&format=csv"));
    assert_eq!(status, 200);
    assert_eq!(headers.get("content-type").unwrap(), "text/csv; charset=utf-8");
    assert_eq!(headers.get("content-disposition").unwrap(), "attachment; filename=\"overview-2026-01-20.csv\"");
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("date,stores.total,stores.connected,"), "{}", lines[0]);
    assert!(lines[1].starts_with("2026-01-20,13,7,2,4,3,2,0,1,0,0,1,10,8,5000,-100,,1000,"), "{}", lines[1]);
    assert_eq!(lines[2], "");
}

#[actix_web::test]
async fn the_reports_need_the_api_key() {
    let h = H::new();
    let app = app!(h.h);
    for uri in [
        "/admin/reports/overview",
        "/admin/reports/stores",
        "/admin/reports/videos/top",
        "/admin/reports/gaps",
        "/admin/stores/import/template",
        "/admin/stores?format=csv",
    ] {
        let (status, _, body) = call_json!(app, get(uri));
        assert_eq!(status, 401, "{uri}");
        assert_error(&body, "UNAUTHORIZED");
    }
}

#[actix_web::test]
async fn store_report_shape_paging_and_defaults() {
    let h = H::new();
    h.reports().store_rows = vec![
        ends("s1", "One", (Some(200), Some(250)), (Some(1000), Some(1500)), Some(30)),
        ends("s2", "Two", (None, Some(10)), (Some(0), Some(0)), Some(0)),
        ends("s3", "Three", (Some(0), None), (None, None), None),
    ];
    let app = app!(h.h);
    let (status, _, body) = call_json!(
        app,
        admin_get("/admin/reports/stores?from=2026-01-01&to=2026-01-20&sort=view_growth&order=asc&limit=2&offset=0")
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["count"].clone(), body["total"].clone()), (json!(2), json!(3)));
    assert_eq!((body["from"].clone(), body["to"].clone()), (json!("2026-01-01"), json!("2026-01-20")));
    assert_eq!(
        body["data"][0],
        json!({
            "storeCode": "s1", "storeName": "One", "storeGroup": null,
            "followersFrom": 200, "followersTo": 250, "followerGrowth": 50, "followerGrowthPct": 25.0,
            "viewsFrom": 1000, "viewsTo": 1500, "viewGrowth": 500, "viewGrowthPct": 50.0,
            "engagement": 0.02, "missingFrom": false, "missingTo": false
        })
    );
    let s2 = &body["data"][1];
    assert_eq!((s2["missingFrom"].clone(), s2["missingTo"].clone()), (json!(true), json!(false)));
    assert!(s2["followerGrowth"].is_null() && s2["viewGrowthPct"].is_null() && s2["engagement"].is_null(), "{s2}");
    let q = h.reports().store_queries[0];
    assert_eq!(
        q,
        StoreReportQuery {
            range: DateRange { from: d(1), to: d(20) },
            sort: StoreSort::ViewGrowth,
            order: SortOrder::Asc,
            limit: 2,
            offset: 0
        }
    );

    // Defaults: to today, from 30 days earlier, followers desc, 50 rows.
    let (_, _, body) = call_json!(app, admin_get("/admin/reports/stores"));
    assert_eq!((body["from"].clone(), body["to"].clone()), (json!("2025-12-25"), json!("2026-01-24")));
    let q = *h.reports().store_queries.last().unwrap();
    assert_eq!((q.sort, q.order, q.limit, q.offset), (StoreSort::Followers, SortOrder::Desc, 50, 0));

    // CSV: every row (pages of the export), whatever `limit` says.
    let (status, _, text) = call!(
        app,
        admin_get("/admin/reports/stores?from=2026-01-01&to=2026-01-20&limit=1").insert_header(("Accept", "text/csv"))
    );
    assert_eq!(status, 200);
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(
        lines[0],
        "storeCode,storeName,storeGroup,followersFrom,followersTo,followerGrowth,followerGrowthPct,viewsFrom,viewsTo,viewGrowth,viewGrowthPct,engagement,missingFrom,missingTo"
    );
    assert_eq!(lines[1], "s1,One,,200,250,50,25.0,1000,1500,500,50.0,0.02,false,false");
    assert_eq!(lines[3], "s3,Three,,0,,,,,,,,,false,true");
    assert_eq!(lines.len(), 4);
}

#[actix_web::test]
async fn csv_cells_are_quoted_and_formulas_neutralised() {
    let h = H::new();
    // (store name, the cell written)
    let cases = [
        ("plain", "plain"),
        ("comma, inside", "\"comma, inside\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("two\nlines", "\"two\nlines\""),
        ("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\""),
        ("=1+1", "'=1+1"),
        ("+31 555", "'+31 555"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("\rReturn", "\"'\rReturn\""),
        ("a=b", "a=b"),
    ];
    h.reports().store_rows = cases
        .iter()
        .enumerate()
        // A drop in followers: a negative number, written as a number.
        .map(|(i, (name, _))| ends(&format!("s{i:02}"), name, (Some(100), Some(90)), (None, None), None))
        .collect();
    let app = app!(h.h);
    let (status, _, text) = call!(app, admin_get("/admin/reports/stores?format=csv"));
    assert_eq!(status, 200);
    // Records, split on CRLF outside quotes.
    let mut records = Vec::new();
    let (mut cur, mut quoted) = (String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            quoted = !quoted;
        }
        if !quoted && c == '\r' && chars.peek() == Some(&'\n') {
            chars.next();
            records.push(std::mem::take(&mut cur));
            continue;
        }
        cur.push(c);
    }
    assert_eq!(records.len(), cases.len() + 1);
    for (i, (name, cell)) in cases.iter().enumerate() {
        // The store's group (none) is the third column.
        let want = format!("s{i:02},{cell},,100,90,-10,-10.0,,,,,,false,false");
        assert_eq!(records[i + 1], want, "{name:?}");
    }
}

#[actix_web::test]
async fn top_videos_shape_and_store_filter() {
    let h = H::new();
    {
        let mut w = h.h.world();
        w.add_spec_store("s1", "S1");
    }
    h.reports().top = vec![
        TopVideo {
            store_code: code("s1"),
            video_id: VideoId::parse("7300000000000000123").unwrap(),
            title: Some("=cmd".into()),
            description: Some("d".into()),
            create_time: Some(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()),
            share_url: None,
            views: 1000,
            likes: 50,
            comments: 10,
            shares: 40,
            views_from: Some(400),
        },
        TopVideo {
            store_code: code("s1"),
            video_id: VideoId::parse("7300000000000000124").unwrap(),
            title: None,
            description: None,
            create_time: None,
            share_url: None,
            views: 0,
            likes: 0,
            comments: 0,
            shares: 0,
            views_from: None,
        },
    ];
    let app = app!(h.h);
    let (status, _, body) = call_json!(
        app,
        admin_get("/admin/reports/videos/top?from=2026-01-10&to=2026-01-20&sort=views_gained&store_code=s1&limit=5")
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count"], 2);
    assert_eq!(
        body["data"][0],
        json!({
            "storeCode": "s1", "videoId": "7300000000000000123", "title": "=cmd", "description": "d",
            "createTime": "2026-01-02T03:04:05.000Z", "shareUrl": null,
            "viewCount": 1000, "likeCount": 50, "commentCount": 10, "shareCount": 40,
            "engagement": 0.1, "viewsFrom": 400, "viewsGained": 600
        })
    );
    assert!(body["data"][1]["engagement"].is_null() && body["data"][1]["viewsGained"].is_null());
    let q = h.reports().top_queries[0].clone();
    assert_eq!((q.sort, q.limit, q.store.map(|s| s.to_string())), (VideoSort::ViewsGained, 5, Some("s1".into())));
    // Defaults, and an unknown store.
    let (_, _, _) = call_json!(app, admin_get("/admin/reports/videos/top"));
    let q = h.reports().top_queries[1].clone();
    assert_eq!((q.sort, q.limit, q.range.to, q.store), (VideoSort::Views, 20, d(24), None));
    let (status, _, body) = call_json!(app, admin_get("/admin/reports/videos/top?store_code=nobody"));
    assert_eq!(status, 404);
    assert_error(&body, "STORE_NOT_FOUND");
    // CSV: the text cell is neutralised, the id stays digits.
    let (_, _, text) = call!(app, admin_get("/admin/reports/videos/top?format=csv"));
    assert!(
        text.contains("\r\ns1,7300000000000000123,'=cmd,d,2026-01-02T03:04:05.000Z,,1000,50,10,40,0.1,400,600\r\n"),
        "{text}"
    );
}

fn gap(c: &str, missing: &[u32]) -> StoreGaps {
    StoreGaps {
        store_code: code(c),
        status: ConnectionStatus::NeedReconnect(ReconnectReason::Revoked),
        expected_from: d(1),
        expected_days: 10,
        missing: missing.iter().map(|m| d(*m)).collect(),
    }
}

#[actix_web::test]
async fn gaps_shape_all_and_pages() {
    let h = H::new();
    // 2,450 stores: the engine reads them 1,000 at a time; every third has no gap.
    h.reports().gaps = (0..2450).map(|i| gap(&format!("s{i:04}"), if i % 3 == 0 { &[] } else { &[2, 5] })).collect();
    let app = app!(h.h);
    let (status, _, body) = call_json!(app, admin_get("/admin/reports/gaps?from=2026-01-01&to=2026-01-10"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count"], 1633);
    assert_eq!(
        body["data"][0],
        json!({
            "storeCode": "s0001", "connectionStatus": "NEED_RECONNECT", "connectionReason": "REVOKED",
            "expectedFrom": "2026-01-01", "expectedDays": 10, "missingCount": 2,
            "missingDates": ["2026-01-02", "2026-01-05"]
        })
    );
    {
        let r = h.reports();
        let afters: Vec<Option<String>> = r.gap_calls.iter().map(|c| c.2.as_ref().map(|s| s.to_string())).collect();
        assert_eq!(afters, [None, Some("s0999".into()), Some("s1999".into())]);
        assert_eq!(r.gap_calls[0].1, "UTC");
    }
    let (_, _, body) = call_json!(app, admin_get("/admin/reports/gaps?from=2026-01-01&to=2026-01-10&all=true"));
    assert_eq!(body["count"], 2450);
    assert_eq!(body["data"][0]["missingDates"], json!([]));
    let (_, _, text) = call!(app, admin_get("/admin/reports/gaps?from=2026-01-01&to=2026-01-10&format=csv"));
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 1634);
    assert_eq!(
        lines[0],
        "storeCode,connectionStatus,connectionReason,expectedFrom,expectedDays,missingCount,missingDates"
    );
    assert_eq!(lines[1], "s0001,NEED_RECONNECT,REVOKED,2026-01-01,10,2,2026-01-02;2026-01-05");
}

#[actix_web::test]
async fn bad_input_names_the_field() {
    let h = H::new();
    h.h.world().add_spec_store("s1", "S1");
    let app = app!(h.h);
    let cases = [
        ("/admin/reports/overview?date=2026-13-01", "date"),
        ("/admin/reports/overview?date=yesterday", "date"),
        ("/admin/reports/overview?format=xml", "format"),
        ("/admin/reports/stores?from=2026-01-10&to=2026-01-01", "from"),
        ("/admin/reports/stores?from=2026-1-1", "from"),
        ("/admin/reports/stores?to=1999-12-31", "to"),
        ("/admin/reports/stores?sort=likes", "sort"),
        ("/admin/reports/stores?order=up", "order"),
        ("/admin/reports/stores?limit=0", "limit"),
        ("/admin/reports/stores?limit=501", "limit"),
        ("/admin/reports/stores?limit=ten", "limit"),
        ("/admin/reports/stores?offset=-1", "offset"),
        ("/admin/reports/videos/top?limit=101", "limit"),
        ("/admin/reports/videos/top?limit=0", "limit"),
        ("/admin/reports/videos/top?sort=followers", "sort"),
        ("/admin/reports/videos/top?store_code=bad%20code", "store_code"),
        ("/admin/reports/videos/top?from=2026-01-21&to=2026-01-20", "from"),
        ("/admin/reports/gaps?from=2024-01-01&to=2026-01-20", "from"),
        ("/admin/reports/gaps?all=yes", "all"),
        ("/admin/reports/gaps?to=2026-02-30", "to"),
        ("/admin/stores?format=xml", "format"),
        ("/admin/stores?format=xls", "format"),
        ("/admin/sync/logs?format=XLSX", "format"),
        ("/admin/reports/gaps?format=xlsx&all=yes", "all"),
        ("/admin/stores/s1/user-stats?format=csv&days=0", "days"),
        ("/admin/stores/s1/user-stats?format=csv&days=7&from=2026-01-01", "days"),
        ("/admin/stores/s1/video-stats?format=csv&from=2026-01-10&to=2026-01-01", "from"),
        ("/admin/sync/logs?format=csv&limit=501", "limit"),
        ("/admin/sync/logs?format=csv&store_code=a.b", "store_code"),
        ("/admin/stores/import/template?x=1", ""),
    ];
    for (uri, field) in cases {
        let (status, _, text) = call!(app, admin_get(uri));
        if field.is_empty() {
            assert_eq!(status, 200, "{uri}");
            continue;
        }
        assert_eq!(status, 400, "{uri}: {text}");
        let body: serde_json::Value = serde_json::from_str(&text).unwrap();
        let msg = assert_error(&body, "INVALID_REQUEST");
        // Query extractors say which part of the request was wrong first.
        let msg = msg.strip_prefix("Invalid query string: ").unwrap_or(&msg);
        assert!(msg.starts_with(field), "{uri}: {msg}");
    }
}

#[actix_web::test]
async fn existing_routes_answer_csv_in_pages() {
    let h = H::new();
    {
        let mut w = h.h.world();
        // 2,345 stores: three pages of the export (1000, 1000, 345).
        for i in (0..2345).rev() {
            w.add_spec_store(&format!("st{i:05}"), &format!("Store, {i}"));
        }
        w.connect_spec("st00001");
    }
    let app = app!(h.h);
    let (status, headers, text) = call!(app, admin_get("/admin/stores?format=csv"));
    assert_eq!(status, 200);
    assert_eq!(headers.get("content-type").unwrap(), "text/csv; charset=utf-8");
    assert_eq!(headers.get("content-disposition").unwrap(), "attachment; filename=\"stores-2026-01-24.csv\"");
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 2346);
    assert!(
        lines[0].starts_with("storeCode,storeName,picName,picContact,storeGroup,createdAt,connectionStatus,"),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[1],
        "st00000,\"Store, 0\",John Doe,john@example.com,,2026-01-01T00:00:00.000Z,NOT_CONNECTED,,,,,,,,,,,,,"
    );
    assert!(lines[2345].starts_with("st02344,"));
    assert_eq!(h.reports().pages, [1000, 1000, 345]);

    // format=xlsx: the same list as a workbook (its cells are checked end to end in hub-app).
    let res = actix_web::test::call_service(&app, admin_get("/admin/stores?format=xlsx").to_request()).await;
    assert_eq!(res.status(), 200);
    let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    assert_eq!(res.headers().get("content-type").unwrap(), xlsx);
    assert_eq!(res.headers().get("content-disposition").unwrap(), "attachment; filename=\"stores-2026-01-24.xlsx\"");
    let body = actix_web::test::read_body(res).await;
    assert!(body.starts_with(b"PK\x03\x04") && body.len() > 10_000, "not a zip container: {} bytes", body.len());

    // Accept: text/csv asks for it too; format=json wins; the JSON route is untouched.
    let (_, headers, _) = call!(app, admin_get("/admin/stores").insert_header(("Accept", "text/csv")));
    assert_eq!(headers.get("content-type").unwrap(), "text/csv; charset=utf-8");
    let (status, _, body) =
        call_json!(app, admin_get("/admin/stores?format=json").insert_header(("Accept", "text/csv")));
    assert_eq!((status, body["count"].clone()), (200, json!(2345)));
    // A POST with format=csv still creates a store.
    let new = json!({"store_code": "fresh", "store_name": "F", "pic_name": "P"});
    let (status, _, _) = call_json!(app, admin_post("/admin/stores?format=csv").set_json(&new));
    assert_eq!(status, 201);

    // User stats of one store by days and by from/to; an unknown store.
    let (status, _, text) = call!(app, admin_get("/admin/stores/st00001/user-stats?format=csv&days=7"));
    assert_eq!(status, 200);
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(
        lines[0],
        "id,storeCode,snapshotDate,followerCount,followingCount,likesCount,videoCount,displayName,avatarUrl,createdAt"
    );
    assert_eq!(
        lines[1],
        "1,st00001,2026-01-24,5000,100,10000,50,Store Jakarta,https://example.com/a.jpg,2026-01-24T02:00:00.000Z"
    );
    let (_, _, text) =
        call!(app, admin_get("/admin/stores/st00001/user-stats?format=csv&from=2026-01-01&to=2026-01-23"));
    assert_eq!(text.trim_end().split("\r\n").count(), 1, "header only: {text}");
    let (_, _, text) = call!(app, admin_get("/admin/stores/st00001/video-stats?format=csv"));
    assert!(text.contains("\r\n1,st00001,2026-01-24,7300000000000000123,1000,50,10,5,Video description...,"), "{text}");
    let (status, _, body) = call_json!(app, admin_get("/admin/stores/nobody/video-stats?format=csv"));
    assert_eq!(status, 404);
    assert_error(&body, "STORE_NOT_FOUND");
}

#[actix_web::test]
async fn sync_logs_csv_pages_and_limit() {
    let h = H::new();
    h.h.world().add_spec_store("s1", "S1");
    h.h.world().logs = (0..1500i64)
        .rev()
        .map(|i| SyncLog {
            id: i + 1,
            log: NewSyncLog {
                run_id: Some(7),
                store_code: (i % 2 == 0).then(|| code("s1")),
                job: JobKind::SyncUserDaily,
                status: SyncLogStatus::Failed,
                message: format!("-{i} failed, \"quoted\""),
                raw_error: None,
                duration_ms: -1,
            },
            run_time: t0() + chrono::Duration::seconds(i),
        })
        .collect();
    let app = app!(h.h);
    let (status, _, text) = call!(app, admin_get("/admin/sync/logs?format=csv"));
    assert_eq!(status, 200);
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 1501);
    assert_eq!(lines[0], "id,storeCode,jobName,status,message,rawError,durationMs,runTime,runId");
    assert_eq!(
        lines[1],
        "1500,,sync_user_daily,FAILED,\"'-1499 failed, \"\"quoted\"\"\",,-1,2026-01-24T02:24:59.000Z,7"
    );
    let (_, _, text) = call!(app, admin_get("/admin/sync/logs?format=csv&store_code=s1&limit=10"));
    assert_eq!(text.trim_end().split("\r\n").count(), 11);
    let (_, _, text) = call!(app, admin_get("/admin/stores/s1/sync-logs?format=csv"));
    assert_eq!(text.trim_end().split("\r\n").count(), 751);
}

/// A multipart body with one `file` part.
fn multipart(csv: &str) -> (String, String) {
    let boundary = "----hubtestboundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"stores.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn upload(uri: &str, csv: &str) -> actix_web::test::TestRequest {
    let (ct, body) = multipart(csv);
    admin_post(uri).insert_header(("Content-Type", ct)).set_payload(body)
}

const FILE: &str =
    "store_code,store_name,pic_name,pic_contact\nold1,Old Renamed,Ann,\nnew1,New One,Bob,bob@example.com\n";

#[actix_web::test]
async fn import_modes() {
    let h = H::new();
    h.h.world().add_spec_store("old1", "Old");
    let app = app!(h.h);
    let actions = |body: &serde_json::Value| -> Vec<String> {
        body["data"]["rows"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap().to_owned()).collect()
    };

    // Dry run, default on_conflict=fail: the existing store is an error; nothing written.
    let (status, _, body) = call_json!(app, upload("/admin/stores/import?dry_run=true", FILE));
    assert_eq!(status, 200, "{body}");
    assert_eq!(actions(&body), ["error", "create"]);
    assert_eq!(
        body["data"]["rows"][0],
        json!({"row": 1, "storeCode": "old1", "action": "error", "field": "store_code", "message": "store_code already exists (on_conflict=fail)"})
    );
    assert_eq!(body["data"]["dryRun"], true);
    assert_eq!(body["data"]["applied"], false);
    assert_eq!(h.h.world().stores.len(), 1);
    for (mode, want) in [("skip", ["skip", "create"]), ("update", ["update", "create"])] {
        let (_, _, body) =
            call_json!(app, upload(&format!("/admin/stores/import?dry_run=true&on_conflict={mode}"), FILE));
        assert_eq!(actions(&body), want, "{mode}");
    }
    assert!(h.h.world().audit_for("store.import").is_empty(), "a dry run is not audited");

    // Not a dry run, fail: refused, 400 with the report, nothing written, a FAILURE audit row.
    let (status, _, body) = call_json!(app, upload("/admin/stores/import", FILE));
    assert_eq!(status, 400, "{body}");
    assert_error(&body, "INVALID_REQUEST");
    assert_eq!(actions(&body), ["error", "create"]);
    assert_eq!(body["data"]["applied"], false);
    assert_eq!(h.h.world().stores.len(), 1);
    assert_eq!(h.h.world().audit_for("store.import")[0].outcome, AuditOutcome::Failure);

    // skip: the new store only; one SUCCESS audit row with the counts.
    let (status, _, body) = call_json!(app, upload("/admin/stores/import?on_conflict=skip", FILE));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["counts"], json!({"rows": 2, "created": 1, "updated": 0, "skipped": 1, "errors": 0}));
    assert_eq!(body["data"]["applied"], true);
    {
        let w = h.h.world();
        assert_eq!(w.stores.len(), 2);
        assert_eq!(w.stores[0].name, "Old");
        let a = w.audit_for("store.import");
        assert_eq!((a.len(), a[1].outcome), (2, AuditOutcome::Success));
        let details: serde_json::Value = serde_json::from_str(a[1].details.as_deref().unwrap()).unwrap();
        assert_eq!(details, json!({"rows": 2, "created": 1, "updated": 0, "skipped": 1, "onConflict": "skip"}));
    }

    // update: old1 renamed, new1 unchanged (skip).
    let (status, _, body) = call_json!(app, upload("/admin/stores/import?on_conflict=update", FILE));
    assert_eq!(status, 200, "{body}");
    assert_eq!(actions(&body), ["update", "skip"]);
    assert_eq!(h.h.world().stores[0].name, "Old Renamed");
    assert_eq!(h.h.world().stores[0].pic_contact, None);
}

#[actix_web::test]
async fn import_is_all_or_nothing_and_checks_the_file() {
    let h = H::new();
    let app = app!(h.h);
    // One invalid row among valid ones: nothing is written; the report names row and field.
    let file = "store_code,store_name,pic_name\ngood1,Good,Ann\nbad code,Bad,Ann\ngood2,Good,\ngood1,Again,Ann\n";
    let (status, _, body) = call_json!(app, upload("/admin/stores/import?on_conflict=update", file));
    assert_eq!(status, 400, "{body}");
    let rows = body["data"]["rows"].as_array().unwrap();
    let brief: Vec<(u64, &str, Option<&str>)> =
        rows.iter().map(|r| (r["row"].as_u64().unwrap(), r["action"].as_str().unwrap(), r["field"].as_str())).collect();
    assert_eq!(
        brief,
        [
            (1, "create", None),
            (2, "error", Some("store_code")),
            (3, "error", Some("pic_name")),
            (4, "error", Some("store_code"))
        ]
    );
    assert!(h.h.world().stores.is_empty());

    // A bare text/csv body works too.
    let (status, _, body) = call_json!(
        app,
        admin_post("/admin/stores/import")
            .insert_header(("Content-Type", "text/csv"))
            .set_payload("store_code,store_name,pic_name\nok1,Ok,Ann\n")
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(h.h.world().stores.len(), 1);

    let big = format!("store_code,store_name,pic_name\n{}", "x,y,z\n".repeat(10_001));
    let too_large = format!("store_code,store_name,pic_name\n{}", "a".repeat(5 * 1024 * 1024));
    let cases: Vec<(actix_web::test::TestRequest, u16, &str)> = vec![
        (upload("/admin/stores/import?on_conflict=merge", FILE), 400, "on_conflict"),
        (upload("/admin/stores/import?dry_run=maybe", FILE), 400, "dry_run"),
        (upload("/admin/stores/import", "name,code\n"), 400, "file"),
        (upload("/admin/stores/import", "store_code,store_name,pic_name\n"), 400, "file"),
        (upload("/admin/stores/import", &big), 400, "file"),
        (upload("/admin/stores/import", &too_large), 413, "file"),
        (admin_post("/admin/stores/import").set_json(json!({"a": 1})), 400, "file"),
        (
            admin_post("/admin/stores/import")
                .insert_header(("Content-Type", "multipart/form-data; boundary=zz"))
                .set_payload("--zz\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--zz--\r\n"),
            400,
            "file",
        ),
    ];
    for (req, want, field) in cases {
        let (status, _, body) = call_json!(app, req);
        assert_eq!(status, want, "{body}");
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(msg.starts_with(field), "{msg}");
    }
    // GET on the import route is not a store called "import".
    let (status, _, _) = call!(app, admin_get("/admin/stores/import"));
    assert_eq!(status, 405);
}

#[actix_web::test]
async fn import_template() {
    let h = H::new();
    let app = app!(h.h);
    let (status, headers, text) = call!(app, admin_get("/admin/stores/import/template"));
    assert_eq!(status, 200);
    assert_eq!(headers.get("content-type").unwrap(), "text/csv; charset=utf-8");
    assert!(headers.get("content-disposition").unwrap().to_str().unwrap().contains("stores-import-template.csv"));
    assert_eq!(
        text,
        "store_code,store_name,pic_name,pic_contact,store_group\r\nstore_jakarta_01,Store Jakarta Pusat,John Doe,john@example.com,jakarta\r\n"
    );
    // The template imports as it is.
    let (status, _, body) = call_json!(app, upload("/admin/stores/import?dry_run=true", &text));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["rows"][0]["action"], "create");
}

#[actix_web::test]
async fn the_document_states_the_report_parameters() {
    let h = H::new();
    let app = app!(h.h);
    let (_, _, doc) = call_json!(app, get("/api/openapi.json"));
    let params = |path: &str, method: &str| -> Vec<(String, serde_json::Value)> {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {path} has no parameters"))
            .iter()
            .map(|p| (p["name"].as_str().unwrap().to_owned(), p["schema"].clone()))
            .collect()
    };
    let date = |s: &serde_json::Value| s["pattern"] == "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" && s["format"] == "date";
    let range = |s: &serde_json::Value, min: i64, max: i64, default: i64| {
        (s["minimum"].as_i64(), s["maximum"].as_i64(), s["default"].as_i64()) == (Some(min), Some(max), Some(default))
    };
    let cases: &[(&str, &str, &[&str])] = &[
        ("/admin/reports/overview", "get", &["date", "format"]),
        ("/admin/reports/stores", "get", &["from", "to", "sort", "order", "limit", "offset", "format"]),
        ("/admin/reports/videos/top", "get", &["from", "to", "sort", "store_code", "store_group", "limit", "format"]),
        ("/admin/reports/gaps", "get", &["from", "to", "all", "format"]),
        ("/admin/stores/import", "post", &["dry_run", "on_conflict"]),
    ];
    for (path, method, names) in cases {
        let got = params(path, method);
        let mut got_names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        let mut want: Vec<&str> = names.to_vec();
        got_names.sort_unstable();
        want.sort_unstable();
        assert_eq!(got_names, want, "{path}");
        for (name, s) in &got {
            let ok = match name.as_str() {
                "date" | "from" | "to" => date(s),
                "limit" if *path == "/admin/reports/videos/top" => range(s, 1, 100, 20),
                "limit" => range(s, 1, 500, 50),
                "offset" => range(s, 0, 1_000_000, 0),
                "format" => s["enum"] == json!(["json", "csv", "xlsx"]),
                "order" => s["enum"] == json!(["desc", "asc"]),
                "all" | "dry_run" => s["enum"] == json!(["true", "false"]),
                "on_conflict" => s["enum"] == json!(["fail", "skip", "update"]),
                "sort" if *path == "/admin/reports/videos/top" => {
                    s["enum"] == json!(["views", "views_gained", "likes", "engagement"])
                }
                "sort" => s["enum"] == json!(["followers", "follower_growth", "views", "view_growth", "engagement"]),
                "store_code" | "store_group" => s["pattern"] == "^[A-Za-z0-9_-]{1,50}$",
                _ => false,
            };
            assert!(ok, "{path} {name}: {s}");
        }
        assert!(doc["paths"][path][method]["security"].is_array(), "{path}");
    }
    // The routes of the spec serve their CSV and XLSX forms from the same operation: one
    // `format` parameter, and `text/csv` and the XLSX type beside JSON in the 200 answer.
    for (path, names) in [
        ("/admin/stores", &["format", "include"][..]),
        ("/admin/stores/{store_code}/user-stats", &["store_code", "days", "from", "to", "format"]),
        ("/admin/stores/{store_code}/video-stats", &["store_code", "days", "from", "to", "format"]),
        ("/admin/stores/{store_code}/sync-logs", &["store_code", "limit", "format"]),
        ("/admin/sync/logs", &["store_code", "limit", "format"]),
    ] {
        let mut got: Vec<String> = params(path, "get").into_iter().map(|(n, _)| n).collect();
        let mut want: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "{path}");
        let content = &doc["paths"][path]["get"]["responses"]["200"]["content"];
        assert!(content["text/csv"].is_object(), "{path}");
        let xlsx = &content["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"];
        assert_eq!(xlsx["schema"], serde_json::json!({"type": "string", "format": "binary"}), "{path}");
        let format = doc["paths"][path]["get"]["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "format");
        assert_eq!(format.unwrap()["schema"]["enum"], serde_json::json!(["json", "csv", "xlsx"]), "{path}");
    }
}
