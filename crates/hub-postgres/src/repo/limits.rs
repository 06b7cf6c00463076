//! `SharedLimits` on PostgreSQL: one row per token bucket (`shared_buckets`), taken from by
//! the `hub_take_permits` function of the shared-limits migration in one round trip.

use std::time::Duration;

use async_trait::async_trait;
use diesel::sql_types::{Double, Integer, Varchar};
use diesel_async::RunQueryDsl;
use hub_ports::{LimitsUnavailable, Rate, SharedLimits, Taken};

use crate::Db;

/// How long one take may wait for a connection and its answer before the caller falls back
/// to its local share: a budget that stalls the calls it paces is worse than a smaller one.
const TAKE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = Integer)]
    granted: i32,
    #[diesel(sql_type = Integer)]
    wait_ms: i32,
}

#[async_trait]
impl SharedLimits for Db {
    async fn take(&self, name: &str, want: u32, rate: Rate) -> Result<Taken, LimitsUnavailable> {
        let take = async {
            let mut conn = self.repo_conn().await.map_err(|e| LimitsUnavailable(e.to_string()))?;
            diesel::sql_query("SELECT granted, wait_ms FROM hub_take_permits($1, $2, $3, $4)")
                .bind::<Varchar, _>(name)
                .bind::<Integer, _>(i32::try_from(want).unwrap_or(i32::MAX))
                .bind::<Double, _>(rate.per_second())
                .bind::<Integer, _>(i32::try_from(rate.burst.max(1)).unwrap_or(i32::MAX))
                .get_result::<Row>(&mut conn)
                .await
                .map_err(|e| LimitsUnavailable(e.to_string()))
        };
        let row = tokio::time::timeout(TAKE_TIMEOUT, take)
            .await
            .map_err(|_| LimitsUnavailable("timed out taking from a shared budget".into()))??;
        Ok(Taken {
            granted: u32::try_from(row.granted).unwrap_or(0),
            wait: Duration::from_millis(u64::try_from(row.wait_ms).unwrap_or(0)),
        })
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}
