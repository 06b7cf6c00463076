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

/// Ends the sessions holding advisory locks in this test's database (what a server restart
/// or a failover does to them), as `pg_terminate_backend` from another session.
async fn terminate_lock_sessions(t: &TestDb) -> i64 {
    let sql = "SELECT count(pg_terminate_backend(l.pid)) AS n FROM pg_locks l JOIN pg_database d \
               ON d.oid = l.database WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()";
    hub_postgres::query_i64(t.url(), sql).await.unwrap()
}

/// Polls `still_held` until it says the lock is gone (the terminated session exits a moment
/// after the signal).
async fn until_lost(guard: &mut Box<dyn hub_ports::HeldLock>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while guard.still_held().await {
        assert!(Instant::now() < deadline, "the lock still looks held after its session was terminated");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lock_whose_session_is_terminated_is_known_lost_and_retaken_unless_another_took_it() {
    let t = TestDb::new().await;
    let key = format!("job:lost:{}", t.name());
    let other = hub_postgres::Db::from_url(t.url(), 2).await.unwrap();

    let mut guard = t.db().try_acquire(&key).await.unwrap().expect("free lock");
    assert!(guard.still_held().await);
    assert!(guard.retake().await.unwrap(), "held: retake keeps it");
    assert_eq!(terminate_lock_sessions(&t).await, 1);
    until_lost(&mut guard).await;

    // Nobody took it meanwhile: retaken on a new session, and others are refused again.
    assert!(guard.retake().await.unwrap());
    assert!(guard.still_held().await);
    assert!(other.try_acquire(&key).await.unwrap().is_none(), "retaken, so excluded");

    // Lost again, and this time another instance takes it first: the retake is refused.
    assert_eq!(terminate_lock_sessions(&t).await, 1);
    until_lost(&mut guard).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let theirs = loop {
        if let Some(g) = other.try_acquire(&key).await.unwrap() {
            break g;
        }
        assert!(Instant::now() < deadline, "the terminated session never released the lock");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(!guard.retake().await.unwrap(), "another holder has it");
    assert!(!guard.still_held().await);
    drop(theirs);
}
