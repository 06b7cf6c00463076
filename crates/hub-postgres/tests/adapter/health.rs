//! `DbHealth`: a busy pool is not a dead database.

use hub_ports::DbHealth;
use hub_postgres::Db;
use hub_postgres::testing::TestDb;

#[tokio::test(flavor = "multi_thread")]
async fn ping_answers_while_every_pooled_connection_is_busy() {
    let t = TestDb::new().await;
    let db = Db::from_url(t.url(), 1).await.unwrap();
    let held = db.conn().await.unwrap(); // the pool's only connection
    assert_eq!(db.pool_stats().idle, 0);
    DbHealth::ping(&db).await.expect("the ping opens its own connection");
    drop(held);
    DbHealth::ping(&db).await.expect("and uses the pool again when it can");
}

#[tokio::test(flavor = "multi_thread")]
async fn checkouts_that_queue_for_a_busy_pool_are_counted_with_their_wait() {
    let t = TestDb::new().await;
    let db = Db::from_url(t.url(), 2).await.unwrap();
    // Free connections (open or opened on demand) never queue.
    let a = db.conn().await.unwrap();
    let b = db.conn().await.unwrap();
    let s = db.pool_stats();
    assert_eq!((s.size, s.idle, s.queued_total), (2, 0, 0));
    // Every connection taken: the next caller queues until one comes back.
    let third = tokio::spawn({
        let db = db.clone();
        async move { db.conn().await.map(drop) }
    });
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    assert_eq!(db.pool_stats().waiting, 1);
    drop(a);
    third.await.unwrap().unwrap();
    let s = db.pool_stats();
    assert_eq!(s.queued_total, 1);
    assert!(s.queued_wait_ms_total >= 100, "waited {} ms", s.queued_wait_ms_total);
    drop(b);
    drop(db.conn().await.unwrap());
    assert_eq!(db.pool_stats().queued_total, 1, "a free connection again");
}
