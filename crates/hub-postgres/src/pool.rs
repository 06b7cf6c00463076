//! The connection pool.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hub_ports::RepoError;

use diesel::ConnectionError;
use diesel_async::pooled_connection::deadpool::{Object, Pool, PoolError};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};

use crate::error::PgError;
use crate::tls::Target;

/// How to reach the database.
#[derive(Clone)]
pub struct DbConfig {
    /// `postgres://…`; holds a password, so it is never printed.
    pub url: String,
    /// Most connections open at once (`DB_POOL_SIZE`).
    pub max_size: usize,
    /// How long a caller waits for a free connection before giving up.
    pub wait_timeout: Duration,
    /// `statement_timeout` of every pooled connection (`DB_STATEMENT_TIMEOUT`); `None` = the
    /// server's own setting. Dedicated connections (job locks, migrations, tooling) do not
    /// take it.
    pub statement_timeout: Option<Duration>,
}

impl std::fmt::Debug for DbConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbConfig")
            .field("url", &"<redacted>")
            .field("max_size", &self.max_size)
            .field("statement_timeout", &self.statement_timeout)
            .finish()
    }
}

/// Checks `url` without connecting: a `postgres://` URL whose `sslmode` (`disable`, `prefer`,
/// `require`, `verify-ca`, `verify-full`) and `sslrootcert` this adapter honours (see
/// [`crate::tls`]). The file of `sslrootcert` is read only when connecting.
pub fn check_url(url: &str) -> Result<(), PgError> {
    crate::tls::Settings::parse(url).map(|_| ())
}

/// Opens one connection to `url` as its `sslmode` says (not pooled).
pub(crate) async fn open_url(url: &str) -> Result<AsyncPgConnection, PgError> {
    Target::new(url)?.open().await
}

/// The text of a pool error: for a connection that could not be opened, the one line of
/// [`Target::open`] without the pool's prefixes.
fn pool_error_text(e: &PoolError) -> String {
    match e {
        PoolError::Backend(diesel_async::pooled_connection::PoolError::ConnectionError(c)) => c.to_string(),
        other => other.to_string(),
    }
}

/// The hub's database: a pool of async connections. Cheap to clone.
///
/// It also keeps the parsed URL (privately, never printed) because [`hub_ports::JobLock`]
/// opens a dedicated connection per lock instead of borrowing one from the pool.
#[derive(Clone)]
pub struct Db {
    pool: Pool<AsyncPgConnection>,
    target: Arc<Target>,
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
        let target = Arc::new(Target::new(&config.url)?);
        let setup = Arc::clone(&target);
        let statement_timeout = config.statement_timeout.filter(|t| !t.is_zero());
        let mut manager_config = ManagerConfig::default();
        // Every pooled connection is opened as the URL's sslmode says, then given the
        // statement timeout.
        manager_config.custom_setup = Box::new(move |_url| {
            let target = Arc::clone(&setup);
            Box::pin(async move {
                let mut conn = target.open().await.map_err(|e| {
                    ConnectionError::BadConnection(match e {
                        PgError::Connect(line) => line,
                        other => other.to_string(),
                    })
                })?;
                if let Some(limit) = statement_timeout {
                    conn.batch_execute(&format!("SET statement_timeout = {}", limit.as_millis()))
                        .await
                        .map_err(ConnectionError::CouldntSetupConfiguration)?;
                }
                Ok(conn)
            })
        });
        let manager =
            AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(config.url.clone(), manager_config);
        let pool = Pool::builder(manager)
            .max_size(config.max_size.max(1))
            .wait_timeout(Some(config.wait_timeout))
            .create_timeout(Some(Duration::from_secs(10)))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| PgError::Connect(e.to_string()))?;
        let db = Self { pool, target, queued: Arc::default() };
        db.ping().await?;
        Ok(db)
    }

    /// [`Db::connect`] with a 10-second wait for a free connection and the server's own
    /// statement timeout (tooling and tests).
    pub async fn from_url(url: &str, max_size: usize) -> Result<Self, PgError> {
        Self::connect(&DbConfig {
            url: url.to_owned(),
            max_size,
            wait_timeout: Duration::from_secs(10),
            statement_timeout: None,
        })
        .await
    }

    /// The `sslmode` the pool connects with.
    pub fn sslmode(&self) -> crate::SslMode {
        self.target.mode()
    }

    /// A new connection of its own, outside the pool, as the URL's sslmode says (job locks,
    /// the health check when the pool is busy).
    pub(crate) async fn dedicated(&self) -> Result<AsyncPgConnection, PgError> {
        self.target.open().await
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
            let text = pool_error_text(&e);
            tracing::warn!(error = %text, "no database connection");
            RepoError::Unavailable(text)
        })
    }

    /// A pooled connection.
    pub async fn conn(&self) -> Result<Object<AsyncPgConnection>, PgError> {
        self.checkout().await.map_err(|e| PgError::Connect(pool_error_text(&e)))
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
    use diesel_async::SimpleAsyncConnection;
    let mut conn = open_url(url).await?;
    conn.batch_execute(sql).await?;
    Ok(())
}

/// Runs `sql`, a query with no bind parameters returning one `BIGINT` column named `n` in one
/// row, on a fresh connection to `url`. For developer tooling (row counts in `cargo xtask`).
pub async fn query_i64(url: &str, sql: &str) -> Result<i64, PgError> {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = open_url(url).await?;
    let row: N = diesel::sql_query(sql).get_result(&mut conn).await?;
    Ok(row.n)
}
