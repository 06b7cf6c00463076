//! `JobLock` over PostgreSQL session advisory locks, each on its own dedicated connection.
//!
//! The lock lives as long as the session that took it. A pooled connection would go back to
//! the pool still holding it (and leak it to whoever borrows the connection next), so every
//! lock opens its own connection and the guard owns it: dropping the guard closes the
//! connection, and the server releases the lock; so does the death of the process.

use std::time::Duration;

use async_trait::async_trait;
use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use hub_ports::{HeldLock, JobLock, RepoError, RepoResult};

use crate::Db;
use crate::error::repo_err;

/// First half of the two-key advisory lock: a namespace for job locks (`"hubj"` in ASCII), so
/// they never meet the one-key locks of migrations or of anything else on the server.
pub const JOB_LOCK_NAMESPACE: i32 = 0x6875_626a;

/// How long opening the dedicated connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(diesel::QueryableByName)]
struct Taken {
    #[diesel(sql_type = Bool)]
    taken: bool,
}

/// A held job lock: owns the session that holds it.
struct PgHeldLock {
    _conn: std::sync::Mutex<AsyncPgConnection>,
}

impl HeldLock for PgHeldLock {}

#[async_trait]
impl JobLock for Db {
    async fn try_acquire(&self, key: &str) -> RepoResult<Option<Box<dyn HeldLock>>> {
        let mut conn = tokio::time::timeout(CONNECT_TIMEOUT, self.dedicated())
            .await
            .map_err(|_| RepoError::Unavailable("timed out opening a lock connection".into()))?
            .map_err(|e| {
                tracing::warn!(error = %e, "cannot open a lock connection");
                RepoError::Unavailable(e.to_string())
            })?;
        let taken: Taken = diesel::sql_query("SELECT pg_try_advisory_lock($1, hashtext($2)) AS taken")
            .bind::<diesel::sql_types::Integer, _>(JOB_LOCK_NAMESPACE)
            .bind::<Text, _>(key)
            .get_result(&mut conn)
            .await
            .map_err(repo_err)?;
        if taken.taken { Ok(Some(Box::new(PgHeldLock { _conn: std::sync::Mutex::new(conn) }))) } else { Ok(None) }
    }
}
