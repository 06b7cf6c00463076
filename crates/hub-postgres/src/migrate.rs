//! Embedded migrations, applied under an advisory lock so concurrent starters wait their turn.

use diesel::RunQueryDsl;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::PgError;
use crate::pool::open_url;

/// Every migration under `migrations/`, compiled in.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// Advisory-lock key that serialises migration runs ("hubmigr" in ASCII).
const MIGRATION_LOCK: i64 = 0x0068_7562_6d69_6772;

type SyncConn = AsyncConnectionWrapper<AsyncPgConnection>;

/// A connection of its own, as the URL's sslmode says, with no statement timeout: a
/// migration may rewrite a big table, and a role's or database's own `statement_timeout`
/// must not cut it half-way.
async fn open(url: &str) -> Result<AsyncPgConnection, PgError> {
    let mut conn = open_url(url).await?;
    conn.batch_execute("SET statement_timeout = 0").await?;
    Ok(conn)
}

/// Applies pending migrations; returns the names of those applied. Needs a multi-threaded
/// tokio runtime (it blocks one worker thread while it runs).
pub async fn run_migrations(url: &str) -> Result<Vec<String>, PgError> {
    let conn = open(url).await?;
    tokio::task::spawn_blocking(move || {
        let mut conn = SyncConn::from(conn);
        diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).execute(&mut conn)?;
        let result = conn
            .run_pending_migrations(MIGRATIONS)
            .map(|done| done.iter().map(ToString::to_string).collect())
            .map_err(|e| PgError::Migration(e.to_string()));
        diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).execute(&mut conn)?;
        result
    })
    .await
    .map_err(|e| PgError::Migration(e.to_string()))?
}

/// The versions of the embedded migrations (as `__diesel_schema_migrations` stores them).
pub fn embedded_versions() -> Vec<String> {
    use diesel::migration::MigrationSource;
    MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .map(|ms| ms.iter().map(|m| m.name().version().to_string()).collect())
        .unwrap_or_default()
}

/// Reverts every applied migration (down.sql in reverse order). Development only.
pub async fn reset_schema(url: &str) -> Result<(), PgError> {
    let conn = open(url).await?;
    tokio::task::spawn_blocking(move || {
        let mut conn = SyncConn::from(conn);
        diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).execute(&mut conn)?;
        let result = conn.revert_all_migrations(MIGRATIONS).map(|_| ()).map_err(|e| PgError::Migration(e.to_string()));
        diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).execute(&mut conn)?;
        result
    })
    .await
    .map_err(|e| PgError::Migration(e.to_string()))?
}
