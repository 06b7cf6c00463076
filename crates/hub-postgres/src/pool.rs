//! The connection pool.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hub_ports::RepoError;

use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::pooled_connection::deadpool::{Object, Pool, PoolError};

/// Errors of the adapter's set-up (connecting, migrating). Repository calls map their errors
/// to `hub_ports::RepoError` instead.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The URL is not one this adapter can use.
    #[error("DATABASE_URL {0}")]
    BadUrl(&'static str),
    /// The server could not be reached or refused the connection.
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
}

/// How to reach the database.
#[derive(Clone)]
pub struct DbConfig {
    /// `postgres://…`; holds a password, so it is never printed.
    pub url: String,
    /// Most connections open at once (`DB_POOL_SIZE`).
    pub max_size: usize,
    /// How long a caller waits for a free connection before giving up.
    pub wait_timeout: Duration,
}

impl std::fmt::Debug for DbConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbConfig").field("url", &"<redacted>").field("max_size", &self.max_size).finish()
    }
}

/// Rejects URLs this adapter would mishandle: it speaks PostgreSQL without TLS, so a URL that
/// asks for TLS fails loudly instead of silently connecting in plain text.
pub fn check_url(url: &str) -> Result<(), PgError> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(PgError::BadUrl("must start with postgres:// or postgresql://"));
    }
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    for pair in query.split('&') {
        if let Some(mode) = pair.strip_prefix("sslmode=")
            && matches!(mode, "require" | "verify-ca" | "verify-full")
        {
            return Err(PgError::BadUrl(
                "asks for TLS (sslmode=require/verify-*), which this build does not speak: connect over a private network, a Unix socket or a TLS-terminating proxy, with sslmode=disable or prefer",
            ));
        }
    }
    Ok(())
}

/// The hub's database: a pool of async connections. Cheap to clone.
///
/// It also keeps the URL (privately, never printed) because [`hub_ports::JobLock`] opens a
/// dedicated connection per lock instead of borrowing one from the pool.
#[derive(Clone)]
pub struct Db {
    pool: Pool<AsyncPgConnection>,
    url: Arc<str>,
    queued: Arc<Queued>,
}

/// Checkouts that had to queue because every connection was taken (see [`Db::checkout`]).
#[derive(Debug, Default)]
struct Queued {
    count: AtomicU64,
    wait_ms: AtomicU64,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (size, idle, waiting) = self.pool_status();
        f.debug_struct("Db")
            .field("url", &"<redacted>")
            .field("size", &size)
            .field("idle", &idle)
            .field("waiting", &waiting)
            .finish()
    }
}

impl Db {
    /// Builds the pool and checks that the database answers.
    pub async fn connect(config: &DbConfig) -> Result<Self, PgError> {
        check_url(&config.url)?;
        let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(config.url.clone());
        let pool = Pool::builder(manager)
            .max_size(config.max_size.max(1))
            .wait_timeout(Some(config.wait_timeout))
            .create_timeout(Some(Duration::from_secs(10)))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| PgError::Connect(e.to_string()))?;
        let db = Self { pool, url: Arc::from(config.url.as_str()), queued: Arc::default() };
        db.ping().await?;
        Ok(db)
    }

    /// [`Db::connect`] with a 10-second wait for a free connection.
    pub async fn from_url(url: &str, max_size: usize) -> Result<Self, PgError> {
        Self::connect(&DbConfig { url: url.to_owned(), max_size, wait_timeout: Duration::from_secs(10) }).await
    }

    /// The URL the pool connects to (holds a password: never print it).
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// A pooled connection. A caller that finds every one of the pool's `max_size` slots
    /// taken (connections checked out or being opened, and callers already queued) queues
    /// for one: it is counted, with its wait, in [`hub_ports::PoolStats`].
    async fn checkout(&self) -> Result<Object<AsyncPgConnection>, PoolError> {
        let s = self.pool.status();
        // Slots taken = callers holding or awaiting a connection = size + waiting − available.
        let queues = s.size + s.waiting >= s.max_size + s.available;
        let started = Instant::now();
        let conn = self.pool.get().await;
        if queues {
            self.queued.count.fetch_add(1, Ordering::Relaxed);
            self.queued.wait_ms.fetch_add(started.elapsed().as_millis() as u64, Ordering::Relaxed);
        }
        conn
    }

    /// A pooled connection for a repository call, its failure already a [`RepoError`].
    pub(crate) async fn repo_conn(&self) -> Result<Object<AsyncPgConnection>, RepoError> {
        self.checkout().await.map_err(|e| {
            tracing::warn!(error = %e, "no database connection");
            RepoError::Unavailable(e.to_string())
        })
    }

    /// A pooled connection.
    pub async fn conn(&self) -> Result<Object<AsyncPgConnection>, PgError> {
        self.checkout().await.map_err(|e| PgError::Connect(e.to_string()))
    }

    /// One round trip (`SELECT 1`).
    pub async fn ping(&self) -> Result<(), PgError> {
        use diesel_async::RunQueryDsl;
        let mut conn = self.conn().await?;
        diesel::sql_query("SELECT 1").execute(&mut conn).await?;
        Ok(())
    }

    /// Pool figures for `hub_ports::DbHealth`.
    pub(crate) fn pool_stats_raw(&self) -> hub_ports::PoolStats {
        let s = self.pool.status();
        hub_ports::PoolStats {
            size: s.size,
            idle: s.available,
            waiting: s.waiting,
            max_size: s.max_size,
            queued_total: self.queued.count.load(Ordering::Relaxed),
            queued_wait_ms_total: self.queued.wait_ms.load(Ordering::Relaxed),
        }
    }

    /// Pool figures: (open connections, idle connections, callers waiting).
    pub fn pool_status(&self) -> (usize, usize, usize) {
        let s = self.pool.status();
        (s.size, s.available, s.waiting)
    }
}

/// Runs `sql` (one or more statements, no bind parameters) on a fresh connection to `url`.
/// For developer tooling (`cargo xtask seed`); the application uses the repositories.
pub async fn execute_batch(url: &str, sql: &str) -> Result<(), PgError> {
    use diesel_async::{AsyncConnection, SimpleAsyncConnection};
    check_url(url)?;
    let mut conn = AsyncPgConnection::establish(url).await.map_err(|e| PgError::Connect(e.to_string()))?;
    conn.batch_execute(sql).await?;
    Ok(())
}

/// Runs `sql`, a query with no bind parameters returning one `BIGINT` column named `n` in one
/// row, on a fresh connection to `url`. For developer tooling (row counts in `cargo xtask`).
pub async fn query_i64(url: &str, sql: &str) -> Result<i64, PgError> {
    use diesel_async::{AsyncConnection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    check_url(url)?;
    let mut conn = AsyncPgConnection::establish(url).await.map_err(|e| PgError::Connect(e.to_string()))?;
    let row: N = diesel::sql_query(sql).get_result(&mut conn).await?;
    Ok(row.n)
}
