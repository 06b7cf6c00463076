//! The spreadsheet exports end to end: every CSV export of the API also answers XLSX
//! (`format=xlsx`), read back with calamine: the same header and rows as the CSV of the same
//! request (filters and ranges included), numbers as numbers, dates as dates, and text that
//! looks like a formula kept as text.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde_json::json;
use tiktok_sandbox::SandboxConfig;

use crate::support::*;

const PASSWORD: &str = "correct horse battery staple 9";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `GET path` with the API key: (status, content type, content disposition, body).
async fn download(hub: &Hub, path: &str) -> (u16, String, String, Vec<u8>) {
    let res = hub.http.get(hub.url(path)).header("X-API-KEY", API_KEY).send().await.unwrap();
    let header = |name: &str| res.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let (status, kind, disposition) = (res.status().as_u16(), header("content-type"), header("content-disposition"));
    (status, kind, disposition, res.bytes().await.unwrap().to_vec())
}

/// The same rows, cell for cell, with the CSV's header.
fn assert_same_rows(what: &str, rows: &[Vec<Data>], csv: &[Vec<String>]) {
    assert!(csv.len() > 1, "{what}: no rows to compare");
    assert_eq!(rows.len(), csv.len(), "{what}: rows");
    let header: Vec<String> = rows[0].iter().map(ToString::to_string).collect();
    assert_eq!(header, csv[0], "{what}: header");
    for (r, (got, want)) in rows.iter().zip(csv).enumerate().skip(1) {
        for (c, name) in header.iter().enumerate() {
            let cell = got.get(c).unwrap_or(&Data::Empty);
            assert!(same(cell, &want[c]), "{what} row {r} {name}: {cell:?} vs CSV {:?}", want[c]);
        }
    }
}

/// Every row of the workbook's sheets, the header once (each sheet repeats it).
fn sheet_rows(bytes: &[u8]) -> Vec<Vec<Data>> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("an XLSX file");
    let mut rows = Vec::new();
    for (i, (_, range)) in book.worksheets().into_iter().enumerate() {
        rows.extend(range.rows().skip(usize::from(i > 0)).map(<[Data]>::to_vec));
    }
    rows
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect()
}

/// Whether an XLSX cell holds what the CSV cell says (the CSV's text cells are neutralised
/// with a leading `'`; its numbers and times are plain text).
fn same(xlsx: &Data, csv: &str) -> bool {
    match xlsx {
        Data::Empty => csv.is_empty(),
        Data::String(s) => {
            let neutralised = matches!(s.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'));
            csv == if neutralised { format!("'{s}") } else { s.clone() }
        }
        Data::Float(f) => csv.parse::<f64>().is_ok_and(|c| c == *f),
        Data::Int(i) => csv.parse::<i64>().is_ok_and(|c| c == *i),
        Data::Bool(b) => csv == b.to_string(),
        Data::DateTime(t) => {
            let got = t.as_datetime().expect("a date");
            if let Ok(d) = NaiveDate::parse_from_str(csv, "%Y-%m-%d") {
                d.and_hms_opt(0, 0, 0) == Some(got)
            } else if let Ok(t) = NaiveDateTime::parse_from_str(csv, "%Y-%m-%d %H:%M") {
                t == got
            } else {
                // Milliseconds survive the spreadsheet's day fractions to within one.
                DateTime::parse_from_rfc3339(csv).is_ok_and(|c| (c.naive_utc() - got).num_milliseconds().abs() <= 1)
            }
        }
        other => panic!("an unexpected cell {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_csv_export_answers_xlsx_with_the_same_rows_typed() {
    let sandbox =
        SandboxConfig { accounts: 3, videos_per_account: 5, rate_limit_per_min: 0, ..SandboxConfig::default() };
    let hub = Hub::start(sandbox, &[]).await;
    connect_stores(&hub, 2).await;
    // Text that a spreadsheet would run as a formula, if it were stored as one.
    let formula = json!({"store_code": "f1", "store_name": "=HYPERLINK(\"http://x.test\",\"y\")", "pic_name": "=1+1", "pic_contact": "-2"});
    assert_eq!(hub.post("/admin/stores", formula).await.0, 201);
    let (status, run) = hub.post("/admin/sync/run", json!({"job": "all"})).await;
    assert_eq!(status, 200, "{run}");
    let inserted = sql(
        &hub,
        "WITH i AS (INSERT INTO sync_logs (store_code, job_name, status, message, raw_error, duration_ms, run_time) \
         VALUES ('store_00', 'sync_user_daily', 'FAILED', '=cmd|'' /C calc''!A0', '@SUM(A1)', 12, now()) RETURNING id) \
         SELECT count(*)::int8 AS n FROM i",
    )
    .await;
    assert_eq!(inserted, 1);
    let today = chrono::Utc::now().date_naive();
    let week = format!("from={}&to={today}", today - chrono::Days::new(7));

    // (path without format, file name stem, a column that must be a number, one that must be a date)
    let cases = [
        ("/admin/stores?x=1".to_owned(), "stores-", None, Some("createdAt")),
        ("/admin/stores?include=archived".to_owned(), "stores-", None, Some("createdAt")),
        ("/admin/sync/logs?x=1".to_owned(), "sync-logs-", Some("id"), Some("runTime")),
        ("/admin/sync/logs?limit=3".to_owned(), "sync-logs-", Some("durationMs"), Some("runTime")),
        ("/admin/sync/logs?store_code=store_01".to_owned(), "sync-logs-store_01-", Some("id"), Some("runTime")),
        ("/admin/stores/store_00/sync-logs?x=1".to_owned(), "sync-logs-store_00-", Some("id"), Some("runTime")),
        (
            "/admin/stores/store_00/user-stats?days=7".to_owned(),
            "user-stats-store_00-",
            Some("followerCount"),
            Some("snapshotDate"),
        ),
        (
            format!("/admin/stores/store_01/video-stats?{week}"),
            "video-stats-store_01-",
            Some("viewCount"),
            Some("snapshotDate"),
        ),
        ("/admin/reports/overview?x=1".to_owned(), "overview-", Some("stores.total"), Some("date")),
        (format!("/admin/reports/stores?{week}&sort=views&order=asc"), "store-report-", Some("followersTo"), None),
        (format!("/admin/reports/videos/top?{week}&limit=4"), "top-videos-", Some("viewCount"), None),
        ("/admin/reports/gaps?all=true".to_owned(), "gaps-", Some("expectedDays"), Some("expectedFrom")),
    ];
    for (path, stem, number, date) in &cases {
        let (status, kind, _, csv) = download(&hub, &format!("{path}&format=csv")).await;
        assert_eq!((status, kind.as_str()), (200, "text/csv; charset=utf-8"), "{path}");
        let csv = csv_rows(&String::from_utf8(csv).unwrap());
        let (status, kind, disposition, body) = download(&hub, &format!("{path}&format=xlsx")).await;
        assert_eq!((status, kind.as_str()), (200, XLSX), "{path}");
        assert!(
            disposition.starts_with(&format!("attachment; filename=\"{stem}")) && disposition.ends_with(".xlsx\""),
            "{path}: {disposition}"
        );
        let rows = sheet_rows(&body);
        assert_same_rows(path, &rows, &csv);
        let header: Vec<String> = rows[0].iter().map(ToString::to_string).collect();
        let column = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("{path}: {name}"));
        if let Some(name) = number {
            let c = column(name);
            assert!(matches!(rows[1][c], Data::Float(_)), "{path} {name}: {:?}", rows[1][c]);
        }
        if let Some(name) = date {
            let c = column(name);
            assert!(matches!(rows[1][c], Data::DateTime(_)), "{path} {name}: {:?}", rows[1][c]);
        }
    }

    // Formula-looking text stays text.
    let (_, _, _, body) = download(&hub, "/admin/stores?format=xlsx").await;
    let stores = sheet_rows(&body);
    let f1 = stores.iter().find(|r| r[0] == Data::String("f1".into())).expect("the store f1");
    assert_eq!(f1[1], Data::String("=HYPERLINK(\"http://x.test\",\"y\")".into()));
    assert_eq!(f1[2], Data::String("=1+1".into()));
    assert_eq!(f1[3], Data::String("-2".into()));
    let (_, _, _, body) = download(&hub, "/admin/sync/logs?format=xlsx&limit=1").await;
    let logs = sheet_rows(&body);
    assert_eq!(logs.len(), 2);
    assert_eq!(logs[1][4], Data::String("=cmd|' /C calc'!A0".into()), "{:?}", logs[1]);
    assert_eq!(logs[1][5], Data::String("@SUM(A1)".into()));

    // An unknown format is the documented 400 envelope.
    for path in ["/admin/stores?format=xls", "/admin/sync/logs?format=XLSX", "/admin/reports/gaps?format=ods"] {
        let (status, body) = hub.get(path).await;
        assert_eq!(status, 400, "{path}");
        assert_eq!(body["error"]["code"], "INVALID_REQUEST", "{path}");
        assert_eq!(body["error"]["message"], "format must be json, csv or xlsx", "{path}");
    }

    // The dashboard's tables: each CSV link has its XLSX twin with the same rows.
    let (ok, out, err) =
        cli(&hub, &["user", "add", "lead@example.com", "--role", "admin", "--password-stdin"], Some(PASSWORD));
    assert!(ok, "{out}{err}");
    let (cookie, csrf) = sign_in(&hub, "lead@example.com", PASSWORD).await;
    let page = |path: &'static str| {
        let req = with_session(&hub, reqwest::Method::GET, path, &cookie, &csrf);
        async move {
            let res = req.send().await.unwrap();
            assert_eq!(res.status().as_u16(), 200, "{path}");
            let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
            (kind, res.bytes().await.unwrap().to_vec())
        }
    };
    let (_, html) = page("/dashboard/stores").await;
    assert!(String::from_utf8(html).unwrap().contains("/dashboard/stores.xlsx"), "no XLSX link");
    for (csv_path, xlsx_path) in [
        ("/dashboard/stores.csv?sort=name", "/dashboard/stores.xlsx?sort=name"),
        ("/dashboard/videos?days=7&format=csv", "/dashboard/videos?days=7&format=xlsx"),
        ("/dashboard/audit?action=store.create&format=csv", "/dashboard/audit?action=store.create&format=xlsx"),
        ("/dashboard/people?format=users.csv", "/dashboard/people?format=users.xlsx"),
    ] {
        let (kind, csv) = page(csv_path).await;
        assert_eq!(kind, "text/csv; charset=utf-8", "{csv_path}");
        let (kind, xlsx) = page(xlsx_path).await;
        assert_eq!(kind, XLSX, "{xlsx_path}");
        assert_same_rows(xlsx_path, &sheet_rows(&xlsx), &csv_rows(&String::from_utf8(csv).unwrap()));
    }
}
