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

/// Five failures within the window block the key for the window, whichever instance counted
/// them; a block outlasts a success; another key is not touched.
#[tokio::test(flavor = "multi_thread")]
async fn five_failures_across_instances_block_the_key_everywhere() {
    let t = TestDb::new().await;
    let one = t.db().clone();
    let two = hub_postgres::Db::from_url(t.url(), 2).await.unwrap();
    let (key, other) = ("auth:10.0.0.1".to_owned(), "auth:10.0.0.2".to_owned());
    let window = Duration::from_secs(60);
    for i in 0..4 {
        let by = if i % 2 == 0 { &one } else { &two };
        assert_eq!(by.fail(&key, 5, window).await.unwrap(), None, "failure {}", i + 1);
    }
    assert_eq!(two.blocked(&key).await.unwrap(), None);
    let blocked = one.fail(&key, 5, window).await.unwrap().expect("the fifth blocks");
    assert!(blocked > Duration::from_secs(55) && blocked <= window, "{blocked:?}");
    for by in [&one, &two] {
        assert!(by.blocked(&key).await.unwrap().is_some(), "blocked on every instance");
    }
    two.forgive(&key).await.unwrap();
    assert!(one.blocked(&key).await.unwrap().is_some(), "a success does not lift a block");
    assert_eq!(one.blocked(&other).await.unwrap(), None);
    // Failures forgiven before the fifth start over.
    for _ in 0..4 {
        assert_eq!(one.fail(&other, 5, window).await.unwrap(), None);
    }
    one.forgive(&other).await.unwrap();
    assert_eq!(two.fail(&other, 5, window).await.unwrap(), None, "counted from one again");
}
