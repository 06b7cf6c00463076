//! Test support (feature `test-support`): a fresh, migrated database per test.
//!
//! The first [`TestDb::new`] on a server builds a template database
//! (`hub_tmpl_<hash of the migrations>`) under an advisory lock, so parallel test processes
//! build it once; every test then gets `CREATE DATABASE … TEMPLATE` (a file copy, fast), and
//! [`TestDb`]'s `Drop` removes it with `DROP DATABASE … WITH (FORCE)`.
//!
//! The server comes from `DATABASE_URL` (an admin URL: any database on the server, as a role
//! allowed to create databases), else `postgres://postgres@127.0.0.1:5432/postgres`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use crate::{Db, run_migrations};

/// The server used when `DATABASE_URL` is not set.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Fingerprint of the embedded migrations (computed by `build.rs`).
pub const MIGRATIONS_HASH: &str = env!("HUB_MIGRATIONS_HASH");

/// Advisory-lock key guarding template creation ("hubtmpl" in ASCII).
const TEMPLATE_LOCK: i64 = 0x0068_7562_746d_706c;

/// Connections in each test database's pool.
const POOL_SIZE: usize = 8;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A database of its own for one test, migrated, dropped on `Drop`.
pub struct TestDb {
    name: String,
    url: String,
    admin_url: String,
    db: Option<Db>,
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb").field("name", &self.name).finish()
    }
}

/// The admin URL: `DATABASE_URL` or [`DEFAULT_ADMIN_URL`].
pub fn admin_url() -> String {
    std::env::var("DATABASE_URL").ok().filter(|u| !u.trim().is_empty()).unwrap_or_else(|| DEFAULT_ADMIN_URL.to_owned())
}

/// `url` with its database name replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[after_scheme..].find('/').map_or(base.len(), |i| after_scheme + i);
    let mut out = format!("{}/{db}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[derive(diesel::QueryableByName)]
struct Exists {
    #[diesel(sql_type = Bool)]
    exists: bool,
}

/// A connection to the admin URL, as its sslmode says.
async fn admin(url: &str) -> AsyncPgConnection {
    crate::pool::open_url(url)
        .await
        .unwrap_or_else(|e| panic!("test database server unreachable (set DATABASE_URL): {e}"))
}

/// Builds the template for the current migrations unless it exists; returns its name.
async fn ensure_template(admin_url: &str) -> String {
    let template = format!("hub_tmpl_{MIGRATIONS_HASH}");
    let mut conn = admin(admin_url).await;
    diesel::sql_query(format!("SELECT pg_advisory_lock({TEMPLATE_LOCK})"))
        .execute(&mut conn)
        .await
        .expect("template lock");
    let ready: Exists =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate) AS exists")
            .bind::<Text, _>(&template)
            .get_result(&mut conn)
            .await
            .expect("look up template");
    if !ready.exists {
        // A half-built template (a crashed builder) is not marked as template: rebuild it.
        // One statement per call: several would run as one implicit transaction, which
        // CREATE/DROP DATABASE refuse.
        conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{template}\" WITH (FORCE)"))
            .await
            .expect("drop half-built template");
        conn.batch_execute(&format!("CREATE DATABASE \"{template}\"")).await.expect("create template");
        run_migrations(&with_database(admin_url, &template)).await.expect("migrate template");
        conn.batch_execute(&format!("ALTER DATABASE \"{template}\" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"))
            .await
            .expect("mark template");
    }
    diesel::sql_query(format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK})"))
        .execute(&mut conn)
        .await
        .expect("template unlock");
    template
}

impl TestDb {
    /// A fresh database cloned from the migrated template, with a small pool.
    pub async fn new() -> Self {
        Self::on_server(&admin_url()).await
    }

    /// [`TestDb::new`] on the server of `admin_url` (any database there, as a role allowed to
    /// create databases) instead of `DATABASE_URL`'s; its `sslmode` holds for every
    /// connection.
    pub async fn on_server(admin_url: &str) -> Self {
        let admin_url = admin_url.to_owned();
        let template = ensure_template(&admin_url).await;
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let name = format!("hub_test_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let mut conn = admin(&admin_url).await;
        conn.batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""))
            .await
            .expect("create test database");
        drop(conn);
        let url = with_database(&admin_url, &name);
        let db = Db::from_url(&url, POOL_SIZE).await.expect("connect test database");
        Self { name, url, admin_url, db: Some(db) }
    }

    /// The test database's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The test database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The pool on the test database.
    pub fn db(&self) -> &Db {
        self.db.as_ref().expect("TestDb is live")
    }

    /// The `n` column of `sql`'s one row, on the test's own pool (no new connection per
    /// query, so it can sample the server's state often).
    pub async fn query_i64(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.db().conn().await.expect("test pool connection");
        let row: N = diesel::sql_query(sql).get_result(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        row.n
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        drop(self.db.take());
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // A thread with its own runtime: Drop may run inside (or outside) any runtime.
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                let mut conn = crate::pool::open_url(&admin_url).await?;
                conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("TestDb: could not drop {}: {e}", self.name),
            Err(_) => eprintln!("TestDb: dropping {} panicked", self.name),
        }
    }
}
