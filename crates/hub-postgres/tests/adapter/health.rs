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
