//! `SharedLimits`: token buckets in PostgreSQL shared by every instance.

use std::sync::Arc;
use std::time::Duration;

use hub_ports::{Rate, SharedLimits};
use hub_postgres::testing::TestDb;

/// 60 a minute (one a second), 5 saved up at most.
const RATE: Rate = Rate { per_window: 60, window: Duration::from_secs(60), burst: 5 };

#[tokio::test(flavor = "multi_thread")]
async fn a_bucket_starts_full_grants_at_most_what_it_holds_and_says_how_long_to_wait() {
    let t = TestDb::new().await;
    let db = t.db();
    let first = db.take("tiktok:user/info", 3, RATE).await.unwrap();
    assert_eq!(first.granted, 3);
    let second = db.take("tiktok:user/info", 3, RATE).await.unwrap();
    assert_eq!(second.granted, 2, "the rest of the burst");
    let empty = db.take("tiktok:user/info", 3, RATE).await.unwrap();
    assert_eq!(empty.granted, 0);
    assert!(empty.wait > Duration::ZERO && empty.wait <= Duration::from_secs(1), "{:?}", empty.wait);
    // Buckets are independent.
    assert_eq!(db.take("tiktok:video/list", 5, RATE).await.unwrap().granted, 5);
    assert_eq!(db.backend(), "postgres");
}

/// Ten instances (each its own pool) draining one bucket at once: together they are granted
/// exactly what it held, never more.
#[tokio::test(flavor = "multi_thread")]
async fn instances_taking_at_once_share_one_budget() {
    let t = TestDb::new().await;
    let slow = Rate { per_window: 1, window: Duration::from_secs(3600), burst: 40 };
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let db = Arc::new(hub_postgres::Db::from_url(t.url(), 2).await.unwrap());
        tasks.push(tokio::spawn(async move {
            let mut got = 0;
            for _ in 0..5 {
                got += db.take("tiktok:oauth/token", 2, slow).await.unwrap().granted;
            }
            got
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    assert_eq!(total, 40, "the burst once, whoever asked");
}
