//! `ReportRepo` and `StoreImportRepo`: every report's numbers against the rows the test
//! inserted, and every order the SQL sorts by against the domain's rules (growth, engagement,
//! the gap rule) applied to those rows; keyset pages across chunk boundaries; the
//! all-or-nothing import.

use chrono::NaiveDate;
use hub_domain::{
    ConnectionStatus, DateRange, ImportPlan, NewStore, ReconnectReason, SortOrder, StoreCode, StoreDays, StoreEnds,
    StoreGaps, StoreReportQuery, StoreReportRow, StoreScope, StoreSort, TopVideo, TopVideosQuery, UserSnapshot,
    VideoSnapshot, VideoSort, business_date,
};
use hub_ports::{
    RepoError, ReportRepo, SnapshotRepo, StoreImportRepo, StoreRepo, SyncLogCursor, SyncLogRepo, VideoCursor,
};
use hub_postgres::Db;
use hub_postgres::testing::TestDb;

use crate::support::*;

/// A store of the hand-made history.
struct Fixture {
    code: &'static str,
    /// `None`: never connected; else (status, reason, connected_at as RFC 3339).
    account: Option<(&'static str, Option<&'static str>, &'static str)>,
    /// Days of January with a user snapshot.
    user_days: Vec<u32>,
    /// Videos per day with a user snapshot (0: a store without videos).
    videos: u64,
    /// Follower base and daily step.
    base: i64,
    step: i64,
}

fn fixtures() -> Vec<Fixture> {
    let all = |from: u32, to: u32, skip: &[u32]| (from..=to).filter(|d| !skip.contains(d)).collect::<Vec<_>>();
    vec![
        // Gaps on the 5th, 6th and 20th.
        Fixture {
            code: "s_a",
            account: Some(("CONNECTED", None, "2026-01-01T08:00:00Z")),
            user_days: all(1, 24, &[5, 6, 20]),
            videos: 3,
            base: 1000,
            step: 10,
        },
        // Connected mid-range (the 14th in UTC, the 15th in Jakarta), one gap.
        Fixture {
            code: "s_b",
            account: Some(("CONNECTED", None, "2026-01-14T20:00:00Z")),
            user_days: all(15, 24, &[18]),
            videos: 2,
            base: 50,
            step: 7,
        },
        // Never connected, no snapshots.
        Fixture { code: "s_c", account: None, user_days: vec![], videos: 0, base: 0, step: 0 },
        // Connected, no videos at all.
        Fixture {
            code: "s_d",
            account: Some(("CONNECTED", None, "2026-01-01T00:00:00Z")),
            user_days: all(1, 24, &[]),
            videos: 0,
            base: 5000,
            step: -3,
        },
        // NEED_RECONNECT (two reasons, one twice): snapshots stop when the grant died.
        Fixture {
            code: "s_e",
            account: Some(("NEED_RECONNECT", Some("REVOKED"), "2026-01-01T00:00:00Z")),
            user_days: all(1, 10, &[]),
            videos: 1,
            base: 300,
            step: 1,
        },
        Fixture {
            code: "s_f",
            account: Some(("NEED_RECONNECT", Some("SCOPE_MISSING"), "2026-01-01T00:00:00Z")),
            user_days: all(1, 24, &[]),
            videos: 4,
            base: 700,
            step: 20,
        },
        Fixture {
            code: "s_h",
            account: Some(("NEED_RECONNECT", Some("REVOKED"), "2026-01-03T00:00:00Z")),
            user_days: all(3, 12, &[]),
            videos: 1,
            base: 10,
            step: 0,
        },
        // Disconnected on purpose after three days.
        Fixture {
            code: "s_g",
            account: Some(("DISCONNECTED", None, "2026-01-01T00:00:00Z")),
            user_days: all(1, 3, &[]),
            videos: 1,
            base: 90,
            step: 2,
        },
    ]
}

/// Views of video `v` of the store with follower base `base` on day `d`; video 1 of `s_f`
/// has no snapshot before the 10th (a new video).
fn views(base: i64, v: u64, d: u32) -> i64 {
    (base % 97 + 1) * 100 * v as i64 + i64::from(d) * 10 * v as i64
}

/// The world: what the test inserted, to compute the expected numbers from.
struct World {
    users: Vec<UserSnapshot>,
    videos: Vec<VideoSnapshot>,
}

async fn seed(db: &Db) -> World {
    let mut users = Vec::new();
    let mut videos = Vec::new();
    for f in fixtures() {
        store(db, f.code).await;
        if let Some((status, reason, at)) = f.account {
            connect(db, f.code, f.code).await;
            let reason = reason.map_or("NULL".to_owned(), |r| format!("'{r}'"));
            exec(
                db,
                &format!(
                    "UPDATE store_accounts SET status = '{status}', status_reason = {reason}, connected_at = '{at}' WHERE store_code = '{}'",
                    f.code
                ),
            )
            .await;
        }
        for &d in &f.user_days {
            let mut u = user_snap(f.code, day(d), f.base + f.step * i64::from(d));
            u.likes_count = f.base * 3 + i64::from(d);
            u.video_count = f.videos as i64;
            users.push(u);
            for v in 1..=f.videos {
                if f.code == "s_f" && v == 1 && d < 10 {
                    continue;
                }
                videos.push(video_snap(f.code, day(d), v, views(f.base, v, d)));
            }
        }
    }
    // One video with zero views (engagement null) on the 24th.
    videos.push(video_snap("s_h", day(24), 9, 0));
    db.upsert_user(&users).await.unwrap();
    db.upsert_videos(&videos).await.unwrap();
    World { users, videos }
}

impl World {
    fn followers(&self, code: &str, d: NaiveDate) -> Option<i64> {
        self.users.iter().find(|u| u.store_code.as_str() == code && u.snapshot_date == d).map(|u| u.follower_count)
    }

    fn day_videos(&self, code: Option<&str>, d: NaiveDate) -> Vec<&VideoSnapshot> {
        self.videos.iter().filter(|v| v.snapshot_date == d && code.is_none_or(|c| v.store_code.as_str() == c)).collect()
    }

    fn views(&self, code: &str, d: NaiveDate) -> Option<i64> {
        let day = self.day_videos(Some(code), d);
        (!day.is_empty()).then(|| day.iter().map(|v| v.view_count).sum())
    }

    fn interactions(&self, code: &str, d: NaiveDate) -> Option<i64> {
        let day = self.day_videos(Some(code), d);
        (!day.is_empty()).then(|| day.iter().map(|v| v.like_count + v.comment_count + v.share_count).sum())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn connection_counts_and_day_totals() {
    let t = TestDb::new().await;
    let db = t.db();
    let w = seed(db).await;

    let mut counts = db.connection_counts().await.unwrap();
    counts.sort_by_key(|(s, _)| format!("{s:?}"));
    let want = [
        (None, 1),
        (Some(ConnectionStatus::Connected), 3),
        (Some(ConnectionStatus::Disconnected), 1),
        (Some(ConnectionStatus::NeedReconnect(ReconnectReason::Revoked)), 2),
        (Some(ConnectionStatus::NeedReconnect(ReconnectReason::ScopeMissing)), 1),
    ];
    let mut want = want.to_vec();
    want.sort_by_key(|(s, _)| format!("{s:?}"));
    assert_eq!(counts, want);

    // Days: full, a gap day of s_a, the first day, a day without any data, out of order.
    let dates = [day(24), day(5), day(1), day(30), day(10), day(9)];
    let totals = db.day_totals(&dates).await.unwrap();
    assert_eq!(totals.len(), dates.len());
    for (d, got) in dates.iter().zip(&totals) {
        let users: Vec<_> = w.users.iter().filter(|u| u.snapshot_date == *d).collect();
        let vids = w.day_videos(None, *d);
        let mut stores: Vec<_> = vids.iter().map(|v| v.store_code.clone()).collect();
        stores.sort();
        stores.dedup();
        assert_eq!(got.date, Some(*d));
        assert_eq!(got.user_stores, users.len() as i64, "{d}");
        assert_eq!(got.followers, users.iter().map(|u| u.follower_count).sum::<i64>(), "{d}");
        assert_eq!(got.likes, users.iter().map(|u| u.likes_count).sum::<i64>(), "{d}");
        assert_eq!(got.videos, users.iter().map(|u| u.video_count).sum::<i64>(), "{d}");
        assert_eq!(got.video_rows, vids.len() as i64, "{d}");
        assert_eq!(got.video_stores, stores.len() as i64, "{d}");
        assert_eq!(got.views, vids.iter().map(|v| v.view_count).sum::<i64>(), "{d}");
    }
    assert_eq!(totals[3].user_stores + totals[3].video_rows, 0, "a day without data is zeros");
}

/// A store's row of the report, from the inserted rows: its numbers at both ends, and the
/// growth and engagement the domain derives from them.
fn expected_row(w: &World, code: &str, q: &StoreReportQuery) -> StoreReportRow {
    let (from, to) = (q.range.from, q.range.to);
    StoreReportRow::from(StoreEnds {
        store_code: StoreCode::parse(code).unwrap(),
        store_name: format!("Store {code}"),
        store_group: None,
        followers_from: w.followers(code, from),
        followers_to: w.followers(code, to),
        views_from: w.views(code, from),
        views_to: w.views(code, to),
        interactions_to: w.interactions(code, to),
    })
}

/// The value the report sorts by: the domain's field of the row.
fn sort_key(row: &StoreReportRow, sort: StoreSort) -> Option<f64> {
    match sort {
        StoreSort::Followers => row.followers_to.map(|v| v as f64),
        StoreSort::FollowerGrowth => row.follower_growth.map(|v| v as f64),
        StoreSort::Views => row.views_to.map(|v| v as f64),
        StoreSort::ViewGrowth => row.view_growth.map(|v| v as f64),
        StoreSort::Engagement => row.engagement,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn store_report_pages_match_the_rows() {
    let t = TestDb::new().await;
    let db = t.db();
    let w = seed(db).await;
    let codes: Vec<&str> = fixtures().iter().map(|f| f.code).collect();

    let ranges = [(day(1), day(24)), (day(5), day(20)), (day(15), day(15)), (day(11), day(30))];
    for (from, to) in ranges {
        for sort in StoreSort::ALL {
            for order in [SortOrder::Asc, SortOrder::Desc] {
                let q = StoreReportQuery { range: DateRange { from, to }, sort, order, limit: 500, offset: 0 };
                // Expected: every store, by the domain's key (nulls last), then code.
                let mut want: Vec<(&str, Option<f64>)> =
                    codes.iter().map(|c| (*c, sort_key(&expected_row(&w, c, &q), sort))).collect();
                want.sort_by(|a, b| match (a.1, b.1) {
                    (Some(x), Some(y)) => {
                        let o = if order == SortOrder::Asc { x.total_cmp(&y) } else { y.total_cmp(&x) };
                        o.then(a.0.cmp(b.0))
                    }
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => a.0.cmp(b.0),
                });
                let (rows, total) = db.store_report(&q).await.unwrap();
                assert_eq!(total, codes.len() as i64);
                let got: Vec<&str> = rows.iter().map(|r| r.store_code.as_str()).collect();
                let want_codes: Vec<&str> = want.iter().map(|(c, _)| *c).collect();
                assert_eq!(got, want_codes, "{from}..{to} {sort:?} {order:?}");
                for r in &rows {
                    let c = r.store_code.as_str();
                    assert_eq!(StoreReportRow::from(r.clone()), expected_row(&w, c, &q), "{c} {from}..{to}");
                }
                // Pages of three: the same rows, split at the boundaries.
                let mut paged = Vec::new();
                for offset in (0..codes.len() as i64 + 3).step_by(3) {
                    let (page, total) = db.store_report(&StoreReportQuery { limit: 3, offset, ..q }).await.unwrap();
                    assert_eq!(total, codes.len() as i64, "total past the end too");
                    assert!(page.len() <= 3);
                    paged.extend(page.into_iter().map(|r| r.store_code.to_string()));
                }
                assert_eq!(paged, want_codes, "paged {from}..{to} {sort:?} {order:?}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn top_videos_match_the_rows() {
    let t = TestDb::new().await;
    let db = t.db();
    let w = seed(db).await;
    let cases = [
        (day(1), day(24), None, 100),
        (day(20), day(24), None, 3),
        (day(1), day(24), Some("s_f"), 10),
        (day(9), day(10), Some("s_f"), 10),
        (day(25), day(30), None, 10),
    ];
    for (from, to, store, limit) in cases {
        for sort in VideoSort::ALL {
            let q = TopVideosQuery {
                range: DateRange { from, to },
                sort,
                store: store.map(|s: &str| StoreCode::parse(s).unwrap()),
                group: None,
                limit,
            };
            let got = db.top_videos(&q).await.unwrap();
            // Expected from the rows: the day's videos with their views at `from`, sorted by
            // the domain's key (views gained, engagement), best first, nulls last.
            let mut want: Vec<TopVideo> = w
                .day_videos(store, to)
                .into_iter()
                .map(|v| TopVideo {
                    store_code: v.store_code.clone(),
                    video_id: v.video_id.clone(),
                    title: v.title.clone(),
                    description: v.description.clone(),
                    create_time: v.create_time,
                    share_url: v.share_url.clone(),
                    views: v.view_count,
                    likes: v.like_count,
                    comments: v.comment_count,
                    shares: v.share_count,
                    views_from: w
                        .videos
                        .iter()
                        .find(|f| f.snapshot_date == from && f.store_code == v.store_code && f.video_id == v.video_id)
                        .map(|f| f.view_count),
                })
                .collect();
            let key = |v: &TopVideo| -> Option<f64> {
                match sort {
                    VideoSort::Views => Some(v.views as f64),
                    VideoSort::Likes => Some(v.likes as f64),
                    VideoSort::Engagement => v.engagement(),
                    VideoSort::ViewsGained => v.views_gained().map(|g| g as f64),
                }
            };
            want.sort_by(|a, b| {
                let by_key = match (key(a), key(b)) {
                    (Some(x), Some(y)) => y.total_cmp(&x),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                };
                by_key
                    .then(b.views.cmp(&a.views))
                    .then(a.store_code.as_str().cmp(b.store_code.as_str()))
                    .then(a.video_id.as_str().cmp(b.video_id.as_str()))
            });
            want.truncate(limit as usize);
            assert_eq!(got, want, "{from}..{to} {store:?} {sort:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn store_days_are_the_facts_of_the_gap_rule() {
    let t = TestDb::new().await;
    let db = t.db();
    let w = seed(db).await;
    let connected: Vec<(&str, ConnectionStatus, chrono::DateTime<chrono::FixedOffset>)> = fixtures()
        .iter()
        .filter_map(|f| {
            let (status, reason, at) = f.account?;
            let status = ConnectionStatus::from_parts(status, reason).unwrap();
            Some((f.code, status, chrono::DateTime::parse_from_rfc3339(at).unwrap()))
        })
        .collect();
    let cases = [
        (day(1), day(24), "UTC"),
        (day(10), day(20), "UTC"),
        (day(16), day(16), "UTC"),
        (day(1), day(24), "Asia/Jakarta"),
    ];
    for (from, to, tz) in cases {
        let range = DateRange { from, to };
        let zone: chrono_tz::Tz = tz.parse().unwrap();
        // Expected: every connected store (by code), connected on its day in `tz` (s_b at
        // 20:00 UTC on the 14th is the 15th in Jakarta), with its inserted snapshot days.
        let mut want: Vec<StoreDays> = connected
            .iter()
            .map(|(code, status, at)| {
                let connected_on = business_date(at.to_utc(), &zone);
                let mut present: Vec<NaiveDate> = w
                    .users
                    .iter()
                    .filter(|u| u.store_code.as_str() == *code)
                    .map(|u| u.snapshot_date)
                    .filter(|d| *d >= from.max(connected_on) && *d <= to)
                    .collect();
                present.sort();
                StoreDays { store_code: StoreCode::parse(code).unwrap(), status: *status, connected_on, present }
            })
            .collect();
        want.sort_by(|a, b| a.store_code.as_str().cmp(b.store_code.as_str()));
        let got = db.store_days(range, tz, None, 100).await.unwrap();
        assert_eq!(got, want, "{from}..{to} {tz}");
        // The gap rule over the repository's facts is the rule over the inserted rows.
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(StoreGaps::find(range, g.clone()), StoreGaps::find(range, w.clone()), "{from}..{to} {tz}");
        }
        // Keyset pages of two stores: the same stores, in order.
        let mut paged = Vec::new();
        let mut after = None;
        loop {
            let page = db.store_days(range, tz, after.clone(), 2).await.unwrap();
            after = page.last().map(|d| d.store_code.clone());
            let short = page.len() < 2;
            paged.extend(page);
            if short {
                break;
            }
        }
        assert_eq!(paged, want, "paged {from}..{to} {tz}");
    }
    let all = db.store_days(DateRange { from: day(1), to: day(24) }, "UTC", None, 100).await.unwrap();
    assert!(!all.iter().any(|d| d.store_code.as_str() == "s_c"), "never connected: not listed");
    let gaps: Vec<StoreGaps> =
        all.into_iter().map(|d| StoreGaps::find(DateRange { from: day(1), to: day(24) }, d)).collect();
    let s_a = gaps.iter().find(|g| g.store_code.as_str() == "s_a").unwrap();
    assert_eq!(s_a.missing, [day(5), day(6), day(20)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn export_pages_cross_chunk_boundaries() {
    let t = TestDb::new().await;
    let db = t.db();
    let w = seed(db).await;

    // Stores, three at a time, by code.
    let mut codes = Vec::new();
    let mut after = None;
    loop {
        let page = db.stores_page(after.clone(), 3).await.unwrap();
        after = page.last().map(|o| o.store.code.clone());
        codes.extend(page.iter().map(|o| o.store.code.to_string()));
        if page.len() < 3 {
            break;
        }
    }
    let mut want: Vec<String> = fixtures().iter().map(|f| f.code.to_owned()).collect();
    want.sort();
    assert_eq!(codes, want);
    let one = db.stores_page(None, 1).await.unwrap();
    assert_eq!(one[0].latest_user_stats.unwrap().follower_count, w.followers("s_a", day(24)).unwrap());

    // User snapshots of s_a in [3, 22], newest first, five at a time.
    let range = DateRange { from: day(3), to: day(22) };
    let want: Vec<NaiveDate> = {
        let mut d: Vec<_> = w
            .users
            .iter()
            .filter(|u| u.store_code.as_str() == "s_a" && u.snapshot_date >= range.from && u.snapshot_date <= range.to)
            .map(|u| u.snapshot_date)
            .collect();
        d.sort_by(|a, b| b.cmp(a));
        d
    };
    for limit in [1, 5, 17, 100] {
        let mut got = Vec::new();
        let mut before = None;
        loop {
            let page = db.user_stats_page(&code("s_a"), range, before, limit).await.unwrap();
            before = page.last().map(|r| r.snapshot.snapshot_date);
            got.extend(page.iter().map(|r| r.snapshot.snapshot_date));
            if (page.len() as i64) < limit {
                break;
            }
        }
        assert_eq!(got, want, "limit {limit}");
    }

    // Video snapshots of s_f in [8, 12]: newest day first, then most viewed, then video id;
    // pages of 4 cut days (4 videos a day, 3 before the 10th) in the middle.
    let range = DateRange { from: day(8), to: day(12) };
    let mut want: Vec<(NaiveDate, i64, String)> = w
        .videos
        .iter()
        .filter(|v| v.store_code.as_str() == "s_f" && v.snapshot_date >= range.from && v.snapshot_date <= range.to)
        .map(|v| (v.snapshot_date, v.view_count, v.video_id.to_string()))
        .collect();
    want.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    for limit in [1, 3, 4, 5, 100] {
        let mut got = Vec::new();
        let mut after: Option<VideoCursor> = None;
        loop {
            let page = db.video_stats_page(&code("s_f"), range, after.clone(), limit).await.unwrap();
            after = page.last().map(|r| VideoCursor {
                date: r.snapshot.snapshot_date,
                views: r.snapshot.view_count,
                video_id: r.snapshot.video_id.clone(),
            });
            got.extend(
                page.iter().map(|r| (r.snapshot.snapshot_date, r.snapshot.view_count, r.snapshot.video_id.to_string())),
            );
            if (page.len() as i64) < limit {
                break;
            }
        }
        assert_eq!(got, want, "limit {limit}");
    }

    // Sync logs: lines with the same run time are ordered by id; pages of three.
    exec(
        db,
        "INSERT INTO sync_logs (store_code, job_name, status, message, duration_ms, run_time)
         SELECT CASE WHEN i % 2 = 0 THEN 's_a' ELSE NULL END, 'sync_user_daily', 'SUCCESS', 'line ' || i, i,
                '2026-01-24 02:00:00+00'::timestamptz + ((i / 3) || ' seconds')::interval
         FROM generate_series(1, 10) AS i",
    )
    .await;
    for (store, n) in [(None, 10), (Some(code("s_a")), 5)] {
        let mut ids = Vec::new();
        let mut after: Option<SyncLogCursor> = None;
        loop {
            let page = SyncLogRepo::logs_page(db, &StoreScope::All, store.clone(), after, 3).await.unwrap();
            after = page.last().map(|l| SyncLogCursor { run_time: l.run_time, id: l.id });
            ids.extend(page.iter().map(|l| (l.run_time, l.id)));
            if page.len() < 3 {
                break;
            }
        }
        assert_eq!(ids.len(), n);
        let mut sorted = ids.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        sorted.dedup();
        assert_eq!(ids, sorted, "newest first, no repeats");
    }
}

fn new_store(c: &str, name: &str) -> NewStore {
    NewStore::parse(c, name, "Pic", Some("pic@example.com")).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn import_is_all_or_nothing() {
    let t = TestDb::new().await;
    let db = t.db();
    store(db, "old1").await;
    store(db, "old2").await;
    let found = db.stores_by_code(&[code("old1"), code("nope"), code("old2")]).await.unwrap();
    let mut names: Vec<_> = found.iter().map(|s| s.code.to_string()).collect();
    names.sort();
    assert_eq!(names, ["old1", "old2"]);
    assert!(db.stores_by_code(&[]).await.unwrap().is_empty());
    let audits = count(db, "audit_logs WHERE action = 'store.import'").await;
    assert_eq!(audits, 0);

    // Creates and updates and the audit row, together.
    let plan = ImportPlan {
        create: vec![new_store("new1", "New 1"), new_store("new2", "New 2")],
        update: vec![new_store("old1", "Renamed")],
        set_group: false,
    };
    db.apply_import(&plan, &audit("store.import", None)).await.unwrap();
    assert_eq!(count(db, "stores").await, 4);
    assert_eq!(count(db, "stores WHERE store_code = 'old1' AND store_name = 'Renamed' AND pic_name = 'Pic'").await, 1);
    assert_eq!(count(db, "audit_logs WHERE action = 'store.import'").await, 1);

    // A store to create exists by now: nothing is written, not even the audit row.
    let plan = ImportPlan {
        create: vec![new_store("new3", "New 3"), new_store("new1", "Again")],
        update: vec![new_store("old2", "X")],
        set_group: false,
    };
    assert!(matches!(db.apply_import(&plan, &audit("store.import", None)).await, Err(RepoError::Conflict(_))));
    assert_eq!(count(db, "stores").await, 4);
    assert_eq!(count(db, "stores WHERE store_name = 'X'").await, 0);
    assert_eq!(count(db, "audit_logs WHERE action = 'store.import'").await, 1);

    // A store to update is gone: the same.
    let plan =
        ImportPlan { create: vec![new_store("new4", "New 4")], update: vec![new_store("gone", "X")], set_group: false };
    assert_eq!(db.apply_import(&plan, &audit("store.import", None)).await, Err(RepoError::NotFound));
    assert_eq!(count(db, "stores").await, 4);
    assert_eq!(count(db, "audit_logs WHERE action = 'store.import'").await, 1);
}

/// `tiktok_video_store_daily` against the snapshots it sums, as `(store, day, rows, views)`.
async fn per_store_days(db: &Db) -> (Vec<(String, NaiveDate, i64, i64)>, Vec<(String, NaiveDate, i64, i64)>) {
    use diesel::sql_types::{BigInt, Date, Text};
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct R {
        #[diesel(sql_type = Text)]
        s: String,
        #[diesel(sql_type = Date)]
        d: NaiveDate,
        #[diesel(sql_type = BigInt)]
        n: i64,
        #[diesel(sql_type = BigInt)]
        v: i64,
    }
    let mut conn = db.conn().await.unwrap();
    let mut read = async |sql: &str| -> Vec<(String, NaiveDate, i64, i64)> {
        let rows: Vec<R> = diesel::sql_query(sql).load(&mut conn).await.unwrap();
        rows.into_iter().map(|r| (r.s, r.d, r.n, r.v)).collect()
    };
    let kept = read(
        "SELECT store_code AS s, snapshot_date AS d, video_rows AS n, views AS v
         FROM tiktok_video_store_daily ORDER BY 1, 2",
    )
    .await;
    let summed = read(
        "SELECT store_code AS s, snapshot_date AS d, count(*) AS n, coalesce(sum(view_count), 0)::bigint AS v
         FROM tiktok_video_daily GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .await;
    (kept, summed)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_per_store_video_totals_follow_every_write_to_the_snapshots() {
    let t = TestDb::new().await;
    let db = t.db();
    for s in ["r_a", "r_b"] {
        store(db, s).await;
    }
    let d1 = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let check = async |step: &str, want_pairs: usize| {
        let (kept, summed) = per_store_days(db).await;
        assert_eq!(kept, summed, "after {step}");
        assert_eq!(kept.len(), want_pairs, "after {step}: {kept:?}");
    };
    // The sync's upsert: new rows, then the same rows with new counts (the UPDATE path).
    let rows: Vec<VideoSnapshot> = (0..5).map(|v| video_snap("r_a", d1, v, 100 * v as i64)).collect();
    db.upsert_videos(&rows).await.unwrap();
    check("the first upsert", 1).await;
    let rows: Vec<VideoSnapshot> = (0..7).map(|v| video_snap("r_a", d1, v, 1000 + v as i64)).collect();
    db.upsert_videos(&rows).await.unwrap();
    check("an upsert that updates and adds", 1).await;
    // Plain SQL (the seed's way), NULL views included, and deletes down to nothing.
    exec(
        db,
        "INSERT INTO tiktok_video_daily (store_code, snapshot_date, video_id, view_count)
         VALUES ('r_b', '2026-01-01', 'x', NULL), ('r_b', '2026-01-02', 'y', 5), ('r_a', '2026-01-02', 'z', 7);",
    )
    .await;
    check("inserts over three pairs", 4).await;
    exec(db, "DELETE FROM tiktok_video_daily WHERE store_code = 'r_a' AND snapshot_date = '2026-01-01' AND video_id IN ('0', '1')").await;
    check("deleting some of a day", 4).await;
    exec(db, "DELETE FROM tiktok_video_daily WHERE store_code = 'r_b' AND snapshot_date = '2026-01-02'").await;
    check("deleting a whole day", 3).await;
    // A deleted store takes its rows with it (the cascade fires the same triggers).
    exec(db, "DELETE FROM stores WHERE store_code = 'r_b'").await;
    check("deleting a store", 2).await;
    exec(db, "TRUNCATE tiktok_video_daily").await;
    check("a truncate", 0).await;
}
