//! `DbHealth`: liveness and pool figures.

use async_trait::async_trait;
use diesel_async::RunQueryDsl;
use hub_ports::{DbHealth, PoolStats, RepoResult};

use crate::Db;
use crate::error::RepoResultExt;

#[async_trait]
impl DbHealth for Db {
    async fn ping(&self) -> RepoResult<()> {
        let mut conn = self.repo_conn().await?;
        diesel::sql_query("SELECT 1").execute(&mut conn).await.repo()?;
        Ok(())
    }

    fn pool_stats(&self) -> PoolStats {
        self.pool_stats_raw()
    }
}
