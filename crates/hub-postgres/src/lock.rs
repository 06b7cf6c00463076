//! `JobLock` over PostgreSQL session advisory locks, each on its own dedicated connection.
//!
//! The lock lives as long as the session that took it. A pooled connection would go back to
//! the pool still holding it (and leak it to whoever borrows the connection next), so every
//! lock opens its own connection and the guard owns it: dropping the guard closes the
//! connection, and the server releases the lock; so does the death of the process.
//!
//! The session can also die under a live guard (a server restart, a failover,
//! `pg_terminate_backend`): [`HeldLock::still_held`] asks the session itself whether it
//! still holds an advisory lock (`pg_locks`), and [`HeldLock::retake`] takes the lock again
//! on a new session when nobody else took it meanwhile.

use std::time::Duration;

use async_trait::async_trait;
use diesel::sql_types::{Bool, Integer, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use hub_ports::{HeldLock, JobLock, RepoError, RepoResult};

use crate::Db;
use crate::error::repo_err;

/// First half of the two-key advisory lock: a namespace for job locks (`"hubj"` in ASCII), so
/// they never meet the one-key locks of migrations or of anything else on the server.
pub const JOB_LOCK_NAMESPACE: i32 = 0x6875_626a;

/// How long opening the dedicated connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the holding session may take to say it still holds the lock: a session that
/// does not answer this fast is treated as lost (a retake then tells whether it was).
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(diesel::QueryableByName)]
struct Taken {
    #[diesel(sql_type = Bool)]
    taken: bool,
}

/// A held job lock: owns the session that holds it (`None` once that session was found dead).
struct PgHeldLock {
    db: Db,
    key: String,
    conn: Option<AsyncPgConnection>,
}

impl Db {
    /// Opens a dedicated session and tries the lock `key` on it: the session when taken.
    async fn lock_session(&self, key: &str) -> RepoResult<Option<AsyncPgConnection>> {
        let mut conn = tokio::time::timeout(CONNECT_TIMEOUT, self.dedicated())
            .await
            .map_err(|_| RepoError::Unavailable("timed out opening a lock connection".into()))?
            .map_err(|e| {
                tracing::warn!(error = %e, "cannot open a lock connection");
                RepoError::Unavailable(e.to_string())
            })?;
        let taken: Taken = diesel::sql_query("SELECT pg_try_advisory_lock($1, hashtext($2)) AS taken")
            .bind::<Integer, _>(JOB_LOCK_NAMESPACE)
            .bind::<Text, _>(key)
            .get_result(&mut conn)
            .await
            .map_err(repo_err)?;
        Ok(taken.taken.then_some(conn))
    }
}

#[async_trait]
impl HeldLock for PgHeldLock {
    async fn still_held(&mut self) -> bool {
        let Some(conn) = self.conn.as_mut() else { return false };
        // The lock's own session answers: a dead session fails the query, a live one that
        // somehow lost the lock says so.
        let check = diesel::sql_query(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted \
             AND pid = pg_backend_pid() AND classid = $1::int::oid \
             AND objid = (hashtext($2)::bigint & 4294967295)::oid AND objsubid = 2) AS taken",
        )
        .bind::<Integer, _>(JOB_LOCK_NAMESPACE)
        .bind::<Text, _>(&self.key)
        .get_result::<Taken>(conn);
        let held = matches!(tokio::time::timeout(CHECK_TIMEOUT, check).await, Ok(Ok(Taken { taken: true })));
        if !held {
            // Closing the session releases whatever it may still hold.
            self.conn = None;
        }
        held
    }

    async fn retake(&mut self) -> RepoResult<bool> {
        if self.still_held().await {
            return Ok(true);
        }
        match self.db.lock_session(&self.key).await? {
            Some(conn) => {
                self.conn = Some(conn);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

#[async_trait]
impl JobLock for Db {
    async fn try_acquire(&self, key: &str) -> RepoResult<Option<Box<dyn HeldLock>>> {
        Ok(self.lock_session(key).await?.map(|conn| {
            Box::new(PgHeldLock { db: self.clone(), key: key.to_owned(), conn: Some(conn) }) as Box<dyn HeldLock>
        }))
    }
}
