//! `SnapshotRepo`: idempotent multi-row upserts, chunking, histories, known videos.

use hub_domain::VideoSnapshot;
use hub_ports::ReportRepo;
use hub_ports::{RepoError, SnapshotRepo};
use hub_postgres::VIDEO_ROWS_PER_STATEMENT;
use hub_postgres::testing::TestDb;

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn user_upsert_is_idempotent_and_updates() {
    let t = TestDb::new().await;
    let db = t.db();
    store(db, "s1").await;
    store(db, "s2").await;
    let batch = vec![user_snap("s1", day(22), 10), user_snap("s1", day(23), 11), user_snap("s2", day(23), 20)];
    assert_eq!(db.upsert_user(&batch).await.unwrap(), 3);
    assert_eq!(db.upsert_user(&batch).await.unwrap(), 3);
    assert_eq!(count(db, "tiktok_user_daily").await, 3);

    let mut changed = batch.clone();
    changed[1].follower_count = 99;
    changed[1].display_name = None;
    db.upsert_user(&changed).await.unwrap();
    assert_eq!(count(db, "tiktok_user_daily").await, 3);
    assert_eq!(count(db, "tiktok_user_daily WHERE updated_at > created_at").await, 3);

    let hist = db.user_stats_page(&code("s1"), since(day(1)), None, 1000).await.unwrap();
    let got: Vec<_> = hist.iter().map(|r| r.snapshot.clone()).collect();
    assert_eq!(got, vec![changed[1].clone(), changed[0].clone()], "newest first");
    assert_eq!(db.user_stats_page(&code("s1"), since(day(23)), None, 1000).await.unwrap().len(), 1);
    assert_eq!(db.user_stats_page(&code("s1"), since(day(24)), None, 1000).await.unwrap().len(), 0);
    assert_eq!(db.upsert_user(&[]).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn repeated_keys_in_one_batch_keep_the_last() {
    let t = TestDb::new().await;
    let db = t.db();
    store(db, "s1").await;
    let batch = [user_snap("s1", day(23), 1), user_snap("s1", day(23), 2)];
    db.upsert_user(&batch).await.unwrap();
    let hist = db.user_stats_page(&code("s1"), since(day(1)), None, 1000).await.unwrap();
    assert_eq!(hist.len(), 1);
    assert_eq!(hist[0].snapshot.follower_count, 2);

    let videos = [video_snap("s1", day(23), 1, 5), video_snap("s1", day(23), 1, 6)];
    db.upsert_videos(&videos).await.unwrap();
    let hist = db.video_stats_page(&code("s1"), since(day(1)), None, 1000).await.unwrap();
    assert_eq!(hist.len(), 1);
    assert_eq!(hist[0].snapshot.view_count, 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn video_batch_larger_than_one_statement() {
    let t = TestDb::new().await;
    let db = t.db();
    store(db, "s1").await;
    let n = VIDEO_ROWS_PER_STATEMENT + 500;
    // Every optional field set: diesel writes DEFAULT (no bind) for a None.
    let batch: Vec<_> = (0..n)
        .map(|i| VideoSnapshot {
            title: Some("t".into()),
            share_url: Some("https://example.invalid/v".into()),
            cover_image_url: Some("https://example.invalid/c".into()),
            ..video_snap("s1", day(23), i as u64, i as i64)
        })
        .collect();
    assert_eq!(db.upsert_videos(&batch).await.unwrap(), n as u64);
    assert_eq!(db.upsert_videos(&batch).await.unwrap(), n as u64);
    assert_eq!(count(db, "tiktok_video_daily").await, n as i64);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_chunk_rolls_the_whole_batch_back() {
    let t = TestDb::new().await;
    let db = t.db();
    store(db, "s1").await;
    let mut batch: Vec<_> =
        (0..VIDEO_ROWS_PER_STATEMENT + 10).map(|i| video_snap("s1", day(23), i as u64, 1)).collect();
    // The last row (second statement) names a store that does not exist.
    batch.last_mut().unwrap().store_code = code("ghost");
    assert_eq!(db.upsert_videos(&batch).await, Err(RepoError::NotFound));
    assert_eq!(count(db, "tiktok_video_daily").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn video_history_is_newest_day_then_most_viewed() {
    let t = TestDb::new().await;
    let db = t.db();
    store(db, "s1").await;
    store(db, "s2").await;
    let batch = vec![
        video_snap("s1", day(22), 1, 50),
        video_snap("s1", day(22), 2, 70),
        video_snap("s1", day(23), 1, 60),
        video_snap("s1", day(23), 2, 80),
        video_snap("s1", day(23), 3, 5),
        video_snap("s2", day(23), 1, 1000),
    ];
    db.upsert_videos(&batch).await.unwrap();
    let hist = db.video_stats_page(&code("s1"), since(day(22)), None, 1000).await.unwrap();
    let got: Vec<_> = hist.iter().map(|r| (r.snapshot.snapshot_date, r.snapshot.view_count)).collect();
    assert_eq!(got, [(day(23), 80), (day(23), 60), (day(23), 5), (day(22), 70), (day(22), 50)]);
    assert_eq!(hist[0].snapshot, batch[3]);
    assert_eq!(db.video_stats_page(&code("s1"), since(day(23)), None, 1000).await.unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn known_videos_come_from_the_latest_day_before() {
    let t = TestDb::new().await;
    let db = t.db();
    store(db, "s1").await;
    store(db, "s2").await;
    db.upsert_videos(&[
        video_snap("s1", day(20), 1, 1),
        video_snap("s1", day(22), 1, 1),
        video_snap("s1", day(22), 2, 1),
        video_snap("s1", day(22), 3, 1),
        video_snap("s1", day(24), 9, 1),
        video_snap("s2", day(23), 5, 1),
    ])
    .await
    .unwrap();
    let ids = |v: Vec<hub_domain::KnownVideo>| v.into_iter().map(|k| k.video_id.to_string()).collect::<Vec<_>>();
    let vid = |n: u64| (7_000_000_000_000_000_000u64 + n).to_string();
    // (before, expected ids, newest create_time first: smaller n is newer)
    let cases = [
        (day(24), vec![vid(1), vid(2), vid(3)]),
        (day(23), vec![vid(1), vid(2), vid(3)]),
        (day(22), vec![vid(1)]),
        (day(20), vec![]),
        (day(25), vec![vid(9)]),
    ];
    for (before, want) in cases {
        assert_eq!(ids(db.known_videos(&code("s1"), before).await.unwrap()), want, "{before}");
    }
    assert!(db.known_videos(&code("nobody"), day(25)).await.unwrap().is_empty());
}

/// From `from` to the far future: the whole history since `from`.
fn since(from: chrono::NaiveDate) -> hub_domain::DateRange {
    hub_domain::DateRange { from, to: chrono::NaiveDate::from_ymd_opt(2100, 12, 31).unwrap() }
}
