//! `SharedLimits` on PostgreSQL: one row per token bucket (`shared_buckets`), taken from by
//! the `hub_take_permits` function of the shared-limits migration in one round trip; one row
//! per client with failed attempts (`shared_failures`), counted and blocked in one upsert.

use std::time::Duration;

use async_trait::async_trait;
use diesel::sql_types::{Double, Integer, Nullable, Varchar};
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

#[derive(diesel::QueryableByName)]
struct Blocked {
    #[diesel(sql_type = Nullable<Double>)]
    left_secs: Option<f64>,
}

fn left(b: Option<Blocked>) -> Option<Duration> {
    b.and_then(|b| b.left_secs).filter(|s| *s > 0.0).map(Duration::from_secs_f64)
}

impl Db {
    /// Runs `query` on a pooled connection within [`TAKE_TIMEOUT`].
    async fn limits_query<T, F>(&self, query: F) -> Result<T, LimitsUnavailable>
    where
        F: AsyncFnOnce(&mut diesel_async::AsyncPgConnection) -> Result<T, diesel::result::Error>,
    {
        let run = async {
            let mut conn = self.repo_conn().await.map_err(|e| LimitsUnavailable(e.to_string()))?;
            query(&mut conn).await.map_err(|e| LimitsUnavailable(e.to_string()))
        };
        tokio::time::timeout(TAKE_TIMEOUT, run).await.map_err(|_| LimitsUnavailable("timed out".into()))?
    }
}

/// Seconds a block has left, `NULL` when none.
const LEFT: &str = "extract(epoch FROM blocked_until - clock_timestamp())::float8 AS left_secs";

#[async_trait]
impl SharedLimits for Db {
    async fn fail(&self, key: &str, max: u32, window: Duration) -> Result<Option<Duration>, LimitsUnavailable> {
        let sql = format!(
            "WITH purge AS (DELETE FROM shared_failures WHERE name IN (SELECT name FROM shared_failures \
               WHERE name <> $1 AND window_until < clock_timestamp() AND coalesce(blocked_until, '-infinity') < clock_timestamp() \
               LIMIT 100)) \
             INSERT INTO shared_failures AS f (name, failures, window_until, blocked_until) \
             VALUES ($1, 1, clock_timestamp() + make_interval(secs => $3), \
                     CASE WHEN 1 >= $2 THEN clock_timestamp() + make_interval(secs => $3) END) \
             ON CONFLICT (name) DO UPDATE SET \
               failures = CASE WHEN f.window_until <= clock_timestamp() THEN 1 ELSE f.failures + 1 END, \
               window_until = CASE WHEN f.window_until <= clock_timestamp() \
                 THEN clock_timestamp() + make_interval(secs => $3) ELSE f.window_until END, \
               blocked_until = CASE \
                 WHEN (CASE WHEN f.window_until <= clock_timestamp() THEN 1 ELSE f.failures + 1 END) >= $2 \
                   AND coalesce(f.blocked_until, '-infinity') < clock_timestamp() \
                 THEN clock_timestamp() + make_interval(secs => $3) ELSE f.blocked_until END \
             RETURNING {LEFT}"
        );
        let (max, secs) = (i32::try_from(max.max(1)).unwrap_or(i32::MAX), window.as_secs_f64());
        let row = self
            .limits_query(async |conn| {
                diesel::sql_query(&sql)
                    .bind::<Varchar, _>(key)
                    .bind::<Integer, _>(max)
                    .bind::<Double, _>(secs)
                    .get_result::<Blocked>(conn)
                    .await
            })
            .await?;
        Ok(left(Some(row)))
    }

    async fn blocked(&self, key: &str) -> Result<Option<Duration>, LimitsUnavailable> {
        let sql = format!("SELECT {LEFT} FROM shared_failures WHERE name = $1");
        let row = self
            .limits_query(async |conn| {
                use diesel::OptionalExtension;
                diesel::sql_query(&sql).bind::<Varchar, _>(key).get_result::<Blocked>(conn).await.optional()
            })
            .await?;
        Ok(left(row))
    }

    async fn forgive(&self, key: &str) -> Result<(), LimitsUnavailable> {
        self.limits_query(async |conn| {
            diesel::sql_query("UPDATE shared_failures SET failures = 0 WHERE name = $1")
                .bind::<Varchar, _>(key)
                .execute(conn)
                .await
        })
        .await?;
        Ok(())
    }

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
