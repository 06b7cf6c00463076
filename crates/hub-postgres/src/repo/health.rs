//! `DbHealth`: liveness, migrations and pool figures.

use std::time::Duration;

use async_trait::async_trait;
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use hub_ports::{DbHealth, PoolStats, RepoError, RepoResult};

use crate::Db;
use crate::error::RepoResultExt;

/// How long the ping waits for a pooled connection.
const POOL_WAIT: Duration = Duration::from_millis(500);

#[derive(diesel::QueryableByName)]
struct Version {
    #[diesel(sql_type = Text)]
    version: String,
}

#[async_trait]
impl DbHealth for Db {
    /// One `SELECT 1` on a pooled connection. When none frees up within [`POOL_WAIT`] and
    /// every connection of a full pool is in use, the database is up (it is answering them):
    /// a busy hub is not reported down, and no connection is opened outside the pool.
    async fn ping(&self) -> RepoResult<()> {
        match tokio::time::timeout(POOL_WAIT, self.repo_conn()).await {
            Ok(conn) => {
                let mut conn = conn?;
                diesel::sql_query("SELECT 1").execute(&mut conn).await.repo()?;
                Ok(())
            }
            Err(_) => {
                let s = self.pool_stats_raw();
                if s.size >= s.max_size && s.idle == 0 {
                    Ok(())
                } else {
                    Err(RepoError::Unavailable("no pooled connection within 500 ms".into()))
                }
            }
        }
    }

    async fn pending_migrations(&self) -> RepoResult<usize> {
        let mut conn = self.repo_conn().await?;
        let applied: Vec<Version> =
            diesel::sql_query("SELECT version FROM __diesel_schema_migrations").load(&mut conn).await.repo()?;
        let applied: Vec<&str> = applied.iter().map(|v| v.version.as_str()).collect();
        Ok(crate::migrate::embedded_versions().iter().filter(|v| !applied.contains(&v.as_str())).count())
    }

    fn pool_stats(&self) -> PoolStats {
        self.pool_stats_raw()
    }
}
