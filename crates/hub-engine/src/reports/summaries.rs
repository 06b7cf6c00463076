//! The cross-store reports: the overview of a day, the store report, the top videos and the
//! snapshot gaps.

use std::sync::Arc;

use chrono::NaiveDate;
use futures::StreamExt;
use futures::stream;
use hub_domain::{
    Actor, ConnectionCounts, DateRange, DayTotals, DomainError, GapsQuery, MAX_GAP_DAYS, Overview, StoreCode,
    StoreGaps, StoreReportPage, StoreReportQuery, StoreReportRow, TopVideo, TopVideosQuery,
};

use crate::access::Permission;
use crate::pages::{PAGE, Pages, collect};
use crate::reports::service::{GAP_PAGE, ReportError, Reports};

impl Reports {
    /// The overview of `date` (default today) over the actor's stores: connections now, the
    /// day's totals and their changes against the day before, 7 and 30 days before.
    pub async fn overview(&self, actor: &Actor, date: Option<NaiveDate>) -> Result<Overview, ReportError> {
        self.access.permit(actor, Permission::Read, "report.overview").await?;
        let date = date.unwrap_or_else(|| self.today());
        let dates = Overview::dates(date);
        let scope = &actor.scope;
        let (groups, totals) =
            futures::try_join!(self.reports.connection_counts_in(scope), self.reports.day_totals_in(scope, &dates))?;
        let mut days = [DayTotals::default(); 4];
        for (slot, (d, t)) in days.iter_mut().zip(dates.iter().zip(totals)) {
            *slot = DayTotals { date: Some(*d), ..t };
        }
        Ok(Overview::build(date, ConnectionCounts::from_groups(groups), days))
    }

    /// The chain's totals for every day of `range`, oldest first (the dashboard's charts): one
    /// query for the whole range. Ranges longer than [`MAX_GAP_DAYS`] are refused (naming `from`).
    pub async fn daily_totals(&self, actor: &Actor, range: DateRange) -> Result<Vec<DayTotals>, ReportError> {
        self.access.permit(actor, Permission::Read, "report.daily_totals").await?;
        if range.days() > MAX_GAP_DAYS || range.days() < 1 {
            return Err(DomainError::invalid("from", "must be 1 to 366 days before to").into());
        }
        let dates: Vec<NaiveDate> = range.from.iter_days().take(range.days() as usize).collect();
        let totals = self.reports.day_totals_in(&actor.scope, &dates).await?;
        Ok(dates.iter().zip(totals).map(|(d, t)| DayTotals { date: Some(*d), ..t }).collect())
    }

    /// One page of the store report over the actor's stores.
    pub async fn store_report(&self, actor: &Actor, query: &StoreReportQuery) -> Result<StoreReportPage, ReportError> {
        self.access.permit(actor, Permission::Read, "report.stores").await?;
        let (rows, total) = self.reports.store_report_in(&actor.scope, query).await?;
        Ok(StoreReportPage { range: query.range, rows: rows.into_iter().map(Into::into).collect(), total })
    }

    /// Every row of the store report over the actor's stores, in pages (offset pages of
    /// [`PAGE`]).
    pub async fn store_report_pages(
        &self,
        actor: &Actor,
        query: StoreReportQuery,
    ) -> Result<Pages<StoreReportRow, ReportError>, ReportError> {
        self.access.permit(actor, Permission::Read, "report.stores").await?;
        let (repo, scope) = (Arc::clone(&self.reports), actor.scope.clone());
        Ok(stream::try_unfold(Some(0i64), move |offset| {
            let (repo, scope) = (Arc::clone(&repo), scope.clone());
            async move {
                let Some(offset) = offset else { return Ok(None) };
                let q = StoreReportQuery { limit: PAGE, offset, ..query };
                let (rows, _) = repo.store_report_in(&scope, &q).await?;
                if rows.is_empty() {
                    return Ok(None);
                }
                let next = ((rows.len() as i64) >= PAGE).then_some(offset + PAGE);
                Ok(Some((rows.into_iter().map(StoreReportRow::from).collect(), next)))
            }
        })
        .boxed())
    }

    /// The top videos at `to` of the actor's stores (of one store, or of one group's stores,
    /// when given).
    pub async fn top_videos(&self, actor: &Actor, query: &TopVideosQuery) -> Result<Vec<TopVideo>, ReportError> {
        const ACTION: &str = "report.top_videos";
        match &query.store {
            Some(code) => drop(self.access.store(actor, Permission::Read, ACTION, code).await?),
            None => self.access.permit(actor, Permission::Read, ACTION).await?,
        }
        let scope = match &query.group {
            Some(group) => actor.scope.within(group),
            None => actor.scope.clone(),
        };
        Ok(self.reports.top_videos_in(&scope, query).await?)
    }

    /// The gap report ([`StoreGaps::find`] over each connected store of the actor's), in pages
    /// of at most [`GAP_PAGE`] stores; stores without gaps are left out unless `query.all`.
    pub async fn gaps_pages(
        &self,
        actor: &Actor,
        query: GapsQuery,
    ) -> Result<Pages<StoreGaps, ReportError>, ReportError> {
        self.access.permit(actor, Permission::Read, "report.gaps").await?;
        let (repo, scope) = (Arc::clone(&self.reports), actor.scope.clone());
        let tz = self.tz.name().to_owned();
        Ok(stream::try_unfold(Some(None::<StoreCode>), move |after| {
            let (repo, tz, scope) = (Arc::clone(&repo), tz.clone(), scope.clone());
            async move {
                let Some(after) = after else { return Ok(None) };
                let stores = repo.store_days_in(&scope, query.range, &tz, after, GAP_PAGE).await?;
                let Some(last) = stores.last().map(|s| s.store_code.clone()) else { return Ok(None) };
                let next = ((stores.len() as i64) >= GAP_PAGE).then_some(Some(last));
                let rows: Vec<StoreGaps> = stores
                    .into_iter()
                    .map(|days| StoreGaps::find(query.range, days))
                    .filter(|g| query.all || !g.missing.is_empty())
                    .collect();
                Ok(Some((rows, next)))
            }
        })
        .boxed())
    }

    /// The whole gap report.
    pub async fn gaps(&self, actor: &Actor, query: GapsQuery) -> Result<Vec<StoreGaps>, ReportError> {
        collect(self.gaps_pages(actor, query).await?).await
    }
}
