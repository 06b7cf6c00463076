//! `JobLock`: session advisory locks on dedicated connections.

use std::time::{Duration, Instant};

use hub_ports::JobLock;
use hub_postgres::testing::TestDb;

#[tokio::test(flavor = "multi_thread")]
async fn a_held_lock_excludes_others_until_dropped() {
    let t = TestDb::new().await;
    let db = t.db();
    // Unique per test database, so parallel tests on the same server do not meet.
    let key = format!("sync_user_daily:{}", t.name());
    let other = format!("refresh_tokens:{}", t.name());

    let guard = db.try_acquire(&key).await.unwrap().expect("free lock");
    assert!(db.try_acquire(&key).await.unwrap().is_none(), "second acquire while held");
    // A second Db (another instance) is refused too.
    let db2 = hub_postgres::Db::from_url(t.url(), 2).await.unwrap();
    assert!(db2.try_acquire(&key).await.unwrap().is_none());
    // Other keys are independent.
    let g2 = db.try_acquire(&other).await.unwrap().expect("other key");

    drop(guard);
    // The server releases the lock once it sees the connection close.
    let deadline = Instant::now() + Duration::from_secs(5);
    let again = loop {
        if let Some(g) = db2.try_acquire(&key).await.unwrap() {
            break g;
        }
        assert!(Instant::now() < deadline, "lock not released after the guard dropped");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(db.try_acquire(&key).await.unwrap().is_none());
    drop(again);
    drop(g2);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_acquirers_have_one_winner() {
    let t = TestDb::new().await;
    let key = format!("job:{}", t.name());
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let db = t.db().clone();
            let key = key.clone();
            tokio::spawn(async move { db.try_acquire(&key).await.unwrap() })
        })
        .collect();
    let mut guards = Vec::new();
    for task in tasks {
        guards.push(task.await.unwrap());
    }
    assert_eq!(guards.iter().filter(|g| g.is_some()).count(), 1);
}
