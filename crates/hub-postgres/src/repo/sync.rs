//! `SyncLogRepo` and `SyncRunRepo`: job log lines and job runs with live counters.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use hub_domain::{
    JobKind, NewSyncLog, Notification, RunCounts, RunStatus, RunTrigger, StoreCode, StoreScope, SyncLog, SyncRun,
};
use hub_ports::{RepoError, RepoResult, SyncLogCursor, SyncLogRepo, SyncRunRepo};

use crate::Db;
use crate::error::RepoResultExt;
use crate::models::{CountsChange, SyncLogRow, SyncRunRow, convert_all};
use crate::repo::notify::enqueue_in;
use crate::schema::{stores, sync_logs as sl, sync_runs as sr};

/// Lines returned when a caller passes a non-positive limit.
const DEFAULT_LIMIT: i64 = 50;

pub(crate) fn effective_limit(limit: i64) -> i64 {
    if limit <= 0 { DEFAULT_LIMIT } else { limit }
}

#[async_trait]
impl SyncLogRepo for Db {
    async fn insert(&self, log: &NewSyncLog) -> RepoResult<i64> {
        let mut conn = self.repo_conn().await?;
        diesel::insert_into(sl::table)
            .values((
                sl::run_id.eq(log.run_id),
                sl::store_code.eq(log.store_code.as_ref().map(StoreCode::as_str)),
                sl::job_name.eq(log.job.as_str()),
                sl::status.eq(log.status.as_str()),
                sl::message.eq(&log.message),
                sl::raw_error.eq(&log.raw_error),
                sl::duration_ms.eq(log.duration_ms),
            ))
            .returning(sl::id)
            .get_result(&mut conn)
            .await
            .repo()
    }

    async fn logs_page(
        &self,
        scope: &StoreScope,
        store: Option<StoreCode>,
        after: Option<SyncLogCursor>,
        limit: i64,
    ) -> RepoResult<Vec<SyncLog>> {
        let mut conn = self.repo_conn().await?;
        let mut query = sl::table
            .select(SyncLogRow::as_select())
            .order((sl::run_time.desc(), sl::id.desc()))
            .limit(effective_limit(limit))
            .into_boxed();
        if let Some(code) = &store {
            query = query.filter(sl::store_code.eq(code.as_str().to_owned()));
        }
        if let Some(groups) = scope.names() {
            // A scoped caller: its stores' lines only (a job's summary line has no store).
            let groups: Vec<String> = groups.into_iter().map(str::to_owned).collect();
            let scoped = stores::table.filter(stores::store_group.eq_any(groups)).select(stores::store_code);
            query = query.filter(sl::store_code.eq_any(scoped.nullable()));
        }
        if let Some(c) = after {
            // `run_time <= t` bounds the index scan; the OR only filters the rows of time `t`.
            query = query.filter(sl::run_time.le(c.run_time)).filter(sl::run_time.lt(c.run_time).or(sl::id.lt(c.id)));
        }
        convert_all(query.load(&mut conn).await.repo()?)
    }
}

fn one_row(n: usize) -> RepoResult<()> {
    if n == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

#[async_trait]
impl SyncRunRepo for Db {
    async fn start(
        &self,
        job: JobKind,
        scheduled_date: NaiveDate,
        trigger: RunTrigger,
        total: i64,
        owner: &str,
        now: DateTime<Utc>,
    ) -> RepoResult<SyncRun> {
        let mut conn = self.repo_conn().await?;
        let row: SyncRunRow = diesel::insert_into(sr::table)
            .values((
                sr::job_name.eq(job.as_str()),
                sr::scheduled_date.eq(scheduled_date),
                sr::trigger.eq(trigger.as_str()),
                sr::status.eq(RunStatus::Running.as_str()),
                sr::total.eq(total),
                sr::owner.eq(owner),
                sr::heartbeat_at.eq(now),
                sr::started_at.eq(now),
            ))
            .returning(SyncRunRow::as_returning())
            .get_result(&mut conn)
            .await
            .repo()?;
        row.try_into()
    }

    async fn progress(&self, id: i64, counts: &RunCounts, now: DateTime<Utc>) -> RepoResult<()> {
        let mut conn = self.repo_conn().await?;
        let n = diesel::update(sr::table.find(id).filter(sr::status.eq(RunStatus::Running.as_str())))
            .set((CountsChange::from(counts), sr::heartbeat_at.eq(now)))
            .execute(&mut conn)
            .await
            .repo()?;
        one_row(n)
    }

    async fn finish(
        &self,
        id: i64,
        status: RunStatus,
        counts: &RunCounts,
        message: Option<String>,
        now: DateTime<Utc>,
    ) -> RepoResult<()> {
        let mut conn = self.repo_conn().await?;
        // The run's close and its announcement are one transaction.
        let n = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let job: Option<String> = diesel::update(sr::table.find(id))
                    .set((
                        CountsChange::from(counts),
                        sr::status.eq(status.as_str()),
                        sr::message.eq(message),
                        sr::heartbeat_at.eq(now),
                        sr::finished_at.eq(now),
                    ))
                    .returning(sr::job_name)
                    .get_result(conn)
                    .await
                    .optional()?;
                let Some(job) = job else { return Ok(0) };
                let n = Notification::sync_run_finished(id, &job, status.as_str(), counts, now);
                enqueue_in(conn, &n, None).await?;
                Ok(1)
            })
            .await
            .repo()?;
        one_row(n)
    }

    async fn get(&self, id: i64) -> RepoResult<Option<SyncRun>> {
        let mut conn = self.repo_conn().await?;
        sr::table
            .find(id)
            .select(SyncRunRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .repo()?
            .map(SyncRun::try_from)
            .transpose()
    }

    async fn latest(&self, job: JobKind) -> RepoResult<Option<SyncRun>> {
        let mut conn = self.repo_conn().await?;
        sr::table
            .filter(sr::job_name.eq(job.as_str()))
            .order((sr::started_at.desc(), sr::id.desc()))
            .select(SyncRunRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .repo()?
            .map(SyncRun::try_from)
            .transpose()
    }

    async fn running(&self) -> RepoResult<Vec<SyncRun>> {
        let mut conn = self.repo_conn().await?;
        let rows = sr::table
            .filter(sr::status.eq(RunStatus::Running.as_str()))
            .order((sr::started_at.asc(), sr::id.asc()))
            .select(SyncRunRow::as_select())
            .load(&mut conn)
            .await
            .repo()?;
        convert_all(rows)
    }

    async fn latest_for_tick(&self, job: JobKind, tick: DateTime<Utc>) -> RepoResult<bool> {
        let mut conn = self.repo_conn().await?;
        let found: i64 = sr::table
            .filter(sr::job_name.eq(job.as_str()))
            .filter(sr::trigger.eq(RunTrigger::Cron.as_str()))
            .filter(sr::started_at.ge(tick))
            .count()
            .get_result(&mut conn)
            .await
            .repo()?;
        Ok(found > 0)
    }

    async fn interrupt_stale(&self, stale_before: DateTime<Utc>, now: DateTime<Utc>) -> RepoResult<u64> {
        let mut conn = self.repo_conn().await?;
        let n = diesel::update(sr::table.filter(sr::status.eq(RunStatus::Running.as_str())).filter(
            sr::heartbeat_at.lt(stale_before).or(sr::heartbeat_at.is_null().and(sr::started_at.lt(stale_before))),
        ))
        .set((sr::status.eq(RunStatus::Interrupted.as_str()), sr::finished_at.eq(now)))
        .execute(&mut conn)
        .await
        .repo()?;
        Ok(n as u64)
    }
}
