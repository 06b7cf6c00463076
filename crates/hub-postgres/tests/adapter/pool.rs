//! The pool's connection set-up: `DB_STATEMENT_TIMEOUT` on pooled connections only.

use std::time::Duration;

use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use hub_postgres::testing::TestDb;
use hub_postgres::{Db, DbConfig};

#[derive(diesel::QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    statement_timeout: String,
}

#[tokio::test(flavor = "multi_thread")]
async fn pooled_connections_carry_the_statement_timeout_and_migrations_do_not() {
    let t = TestDb::new().await;
    let db = Db::connect(&DbConfig {
        url: t.url().to_owned(),
        max_size: 2,
        wait_timeout: Duration::from_secs(10),
        statement_timeout: Some(Duration::from_millis(1500)),
    })
    .await
    .unwrap();
    let mut conn = db.conn().await.unwrap();
    let s: Setting = diesel::sql_query("SHOW statement_timeout").get_result(&mut conn).await.unwrap();
    assert_eq!(s.statement_timeout, "1500ms");
    let err = diesel::sql_query("SELECT pg_sleep(3)").execute(&mut conn).await.unwrap_err();
    assert!(err.to_string().contains("canceling statement due to statement timeout"), "{err}");
    drop(conn);

    // Off: the server's own setting (0 here).
    let off = Db::connect(&DbConfig {
        url: t.url().to_owned(),
        max_size: 1,
        wait_timeout: Duration::from_secs(10),
        statement_timeout: Some(Duration::ZERO),
    })
    .await
    .unwrap();
    let mut conn = off.conn().await.unwrap();
    let s: Setting = diesel::sql_query("SHOW statement_timeout").get_result(&mut conn).await.unwrap();
    assert_eq!(s.statement_timeout, "0");
    drop(conn);

    // A database whose own default is short cuts ordinary sessions, not migrations (they set
    // statement_timeout = 0 on their connection).
    hub_postgres::execute_batch(t.url(), &format!("ALTER DATABASE \"{}\" SET statement_timeout = '50ms'", t.name()))
        .await
        .unwrap();
    let err = hub_postgres::execute_batch(t.url(), "SELECT pg_sleep(0.2)").await.unwrap_err();
    assert!(err.to_string().contains("statement timeout"), "{err}");
    hub_postgres::reset_schema(t.url()).await.unwrap();
    assert!(!hub_postgres::run_migrations(t.url()).await.unwrap().is_empty());
}
