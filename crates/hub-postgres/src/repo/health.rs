//! `DbHealth`: liveness and pool figures.

use std::time::Duration;

use async_trait::async_trait;
use diesel_async::RunQueryDsl;
use hub_ports::{DbHealth, PoolStats, RepoError, RepoResult};

use crate::Db;
use crate::error::RepoResultExt;

/// How long the ping waits for a pooled connection before it opens its own.
const POOL_WAIT: Duration = Duration::from_millis(250);

#[async_trait]
impl DbHealth for Db {
    /// One `SELECT 1`. A pool busy with admin requests is not a database failure: when no
    /// pooled connection frees up within [`POOL_WAIT`], the ping opens a connection of its
    /// own, so a busy but healthy hub is never reported down.
    async fn ping(&self) -> RepoResult<()> {
        if let Ok(conn) = tokio::time::timeout(POOL_WAIT, self.repo_conn()).await {
            let mut conn = conn?;
            diesel::sql_query("SELECT 1").execute(&mut conn).await.repo()?;
            return Ok(());
        }
        let mut conn = self.dedicated().await.map_err(|e| RepoError::Unavailable(e.to_string()))?;
        diesel::sql_query("SELECT 1").execute(&mut conn).await.repo()?;
        Ok(())
    }

    fn pool_stats(&self) -> PoolStats {
        self.pool_stats_raw()
    }
}
