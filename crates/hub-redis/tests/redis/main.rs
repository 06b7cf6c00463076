//! `RedisLimits` against the real redis-server on 127.0.0.1:6379 (`REDIS_TEST_URL` to use
//! another). Each test uses bucket names of its own.

use std::time::Duration;

use hub_ports::{Rate, SharedLimits};
use hub_redis::RedisLimits;

fn url() -> String {
    std::env::var("REDIS_TEST_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A bucket name no other run has used.
fn fresh(what: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("test:{what}:{}:{nanos}", std::process::id())
}

/// 60 a minute (one a second), 5 saved up at most.
const RATE: Rate = Rate { per_window: 60, window: Duration::from_secs(60), burst: 5 };

#[tokio::test(flavor = "multi_thread")]
async fn a_bucket_starts_full_grants_at_most_what_it_holds_and_says_how_long_to_wait() {
    let limits = RedisLimits::connect(&url()).await.expect("redis-server on 127.0.0.1:6379");
    let name = fresh("user/info");
    assert_eq!(limits.take(&name, 3, RATE).await.unwrap().granted, 3);
    assert_eq!(limits.take(&name, 3, RATE).await.unwrap().granted, 2, "the rest of the burst");
    let empty = limits.take(&name, 3, RATE).await.unwrap();
    assert_eq!(empty.granted, 0);
    assert!(empty.wait > Duration::ZERO && empty.wait <= Duration::from_secs(1), "{:?}", empty.wait);
    assert_eq!(limits.take(&fresh("video/list"), 5, RATE).await.unwrap().granted, 5, "buckets are independent");
    assert_eq!(limits.backend(), "redis");
}

/// Ten instances (each its own connection) draining one bucket at once: together they are
/// granted exactly what it held.
#[tokio::test(flavor = "multi_thread")]
async fn instances_taking_at_once_share_one_budget() {
    let name = fresh("oauth");
    let slow = Rate { per_window: 1, window: Duration::from_secs(3600), burst: 40 };
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let limits = RedisLimits::connect(&url()).await.unwrap();
        let name = name.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = 0;
            for _ in 0..5 {
                got += limits.take(&name, 2, slow).await.unwrap().granted;
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

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_redis_is_an_error_not_a_hang() {
    // Nothing listens on port 1.
    assert!(RedisLimits::connect("redis://127.0.0.1:1").await.is_err());
}
