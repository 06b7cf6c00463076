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

/// Five failures within the window block the key for the window, whichever instance counted
/// them; a block outlasts a success; another key is not touched.
#[tokio::test(flavor = "multi_thread")]
async fn five_failures_across_instances_block_the_key_everywhere() {
    let one = RedisLimits::connect(&url()).await.unwrap();
    let two = RedisLimits::connect(&url()).await.unwrap();
    let (key, other) = (fresh("auth:10.0.0.1"), fresh("auth:10.0.0.2"));
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

/// Hubs with different key prefixes on one Redis database share no bucket and no block; the
/// same prefix shares both.
#[tokio::test(flavor = "multi_thread")]
async fn a_key_prefix_keeps_hubs_apart_on_one_database() {
    let prefix = |p: &str| format!("{}:{p}:", fresh("prefix"));
    let (production, staging) = (prefix("production"), prefix("staging"));
    let prod = RedisLimits::connect(&url()).await.unwrap().with_prefix(&production);
    let prod_again = RedisLimits::connect(&url()).await.unwrap().with_prefix(&production);
    let stage = RedisLimits::connect(&url()).await.unwrap().with_prefix(&staging);
    assert_eq!(prod.take("tiktok:user/info", 5, RATE).await.unwrap().granted, 5);
    assert_eq!(prod_again.take("tiktok:user/info", 5, RATE).await.unwrap().granted, 0, "one budget per prefix");
    assert_eq!(stage.take("tiktok:user/info", 5, RATE).await.unwrap().granted, 5, "another prefix, another budget");
    let window = Duration::from_secs(60);
    for _ in 0..5 {
        prod.fail("auth:10.0.0.9", 5, window).await.unwrap();
    }
    assert!(prod_again.blocked("auth:10.0.0.9").await.unwrap().is_some());
    assert_eq!(stage.blocked("auth:10.0.0.9").await.unwrap(), None, "a block stays with its prefix");
}
