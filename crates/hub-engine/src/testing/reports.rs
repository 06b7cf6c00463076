//! The reporting ports over the in-memory [`World`]: straightforward loops that apply the
//! domain's rules, so engine and adapter tests get the same answers the SQL gives.

use std::cmp::Ordering;

use async_trait::async_trait;
use chrono::NaiveDate;
use hub_domain::*;
use hub_ports::*;

use crate::testing::memory::Memory;
use crate::testing::world::World;

impl World {
    fn user_on(&self, code: &StoreCode, date: NaiveDate) -> Option<&UserSnapshot> {
        self.user_rows.iter().map(|r| &r.snapshot).find(|s| &s.store_code == code && s.snapshot_date == date)
    }

    fn videos_on<'a>(
        &'a self,
        code: Option<&'a StoreCode>,
        date: NaiveDate,
    ) -> impl Iterator<Item = &'a VideoSnapshot> {
        self.video_rows
            .iter()
            .map(|r| &r.snapshot)
            .filter(move |s| s.snapshot_date == date && code.is_none_or(|c| &s.store_code == c))
    }

    /// The summed views and interactions of a store's videos on `date`; `None` without any.
    fn video_sums(&self, code: &StoreCode, date: NaiveDate) -> Option<(i64, i64)> {
        let day: Vec<&VideoSnapshot> = self.videos_on(Some(code), date).collect();
        (!day.is_empty()).then(|| {
            (
                day.iter().map(|v| v.view_count).sum(),
                day.iter().map(|v| v.like_count + v.comment_count + v.share_count).sum(),
            )
        })
    }
}

/// Descending or ascending by an optional key, `None` always last.
fn nulls_last<T: PartialOrd>(a: Option<T>, b: Option<T>, descending: bool) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => {
            let o = a.partial_cmp(&b).unwrap_or(Ordering::Equal);
            if descending { o.reverse() } else { o }
        }
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// The value a store report row sorts by.
pub fn store_sort_key(row: &StoreReportRow, sort: StoreSort) -> Option<f64> {
    match sort {
        StoreSort::Followers => row.followers_to.map(|v| v as f64),
        StoreSort::FollowerGrowth => row.follower_growth.map(|v| v as f64),
        StoreSort::Views => row.views_to.map(|v| v as f64),
        StoreSort::ViewGrowth => row.view_growth.map(|v| v as f64),
        StoreSort::Engagement => row.engagement,
    }
}

/// The value a top video sorts by.
pub fn video_sort_key(v: &TopVideo, sort: VideoSort) -> Option<f64> {
    match sort {
        VideoSort::Views => Some(v.views as f64),
        VideoSort::ViewsGained => v.views_gained().map(|g| g as f64),
        VideoSort::Likes => Some(v.likes as f64),
        VideoSort::Engagement => v.engagement(),
    }
}

#[async_trait]
impl ReportRepo for Memory {
    async fn connection_counts_in(&self, scope: &StoreScope) -> RepoResult<Vec<(Option<ConnectionStatus>, i64)>> {
        let w = self.0.lock().expect("world poisoned");
        let mut groups: Vec<(Option<ConnectionStatus>, i64)> = Vec::new();
        for s in w.stores.iter().filter(|s| scope.allows(s.group.as_ref())) {
            let status = w.accounts.get(s.code.as_str()).map(|a| a.status);
            match groups.iter_mut().find(|(k, _)| *k == status) {
                Some((_, n)) => *n += 1,
                None => groups.push((status, 1)),
            }
        }
        Ok(groups)
    }

    async fn day_totals_in(&self, scope: &StoreScope, dates: &[NaiveDate]) -> RepoResult<Vec<DayTotals>> {
        let w = self.0.lock().expect("world poisoned");
        Ok(dates
            .iter()
            .map(|&d| {
                let users: Vec<&UserSnapshot> = w
                    .user_rows
                    .iter()
                    .map(|r| &r.snapshot)
                    .filter(|s| s.snapshot_date == d && w.in_scope(scope, &s.store_code))
                    .collect();
                let videos: Vec<&VideoSnapshot> =
                    w.videos_on(None, d).filter(|v| w.in_scope(scope, &v.store_code)).collect();
                let mut video_stores: Vec<&StoreCode> = videos.iter().map(|v| &v.store_code).collect();
                video_stores.sort();
                video_stores.dedup();
                DayTotals {
                    date: Some(d),
                    user_stores: users.len() as i64,
                    followers: users.iter().map(|u| u.follower_count).sum(),
                    likes: users.iter().map(|u| u.likes_count).sum(),
                    videos: users.iter().map(|u| u.video_count).sum(),
                    video_stores: video_stores.len() as i64,
                    video_rows: videos.len() as i64,
                    views: videos.iter().map(|v| v.view_count).sum(),
                }
            })
            .collect())
    }

    async fn store_report_in(&self, scope: &StoreScope, q: &StoreReportQuery) -> RepoResult<(Vec<StoreEnds>, i64)> {
        let w = self.0.lock().expect("world poisoned");
        let mut rows: Vec<StoreEnds> = w
            .stores
            .iter()
            .filter(|s| scope.allows(s.group.as_ref()))
            .map(|s| StoreEnds {
                store_code: s.code.clone(),
                store_name: s.name.clone(),
                store_group: s.group.clone(),
                followers_from: w.user_on(&s.code, q.range.from).map(|u| u.follower_count),
                followers_to: w.user_on(&s.code, q.range.to).map(|u| u.follower_count),
                views_from: w.video_sums(&s.code, q.range.from).map(|(v, _)| v),
                views_to: w.video_sums(&s.code, q.range.to).map(|(v, _)| v),
                interactions_to: w.video_sums(&s.code, q.range.to).map(|(_, i)| i),
            })
            .collect();
        let descending = q.order == SortOrder::Desc;
        rows.sort_by(|a, b| {
            let (ka, kb) = (
                store_sort_key(&StoreReportRow::from(a.clone()), q.sort),
                store_sort_key(&StoreReportRow::from(b.clone()), q.sort),
            );
            nulls_last(ka, kb, descending).then_with(|| a.store_code.as_str().cmp(b.store_code.as_str()))
        });
        let total = rows.len() as i64;
        Ok((rows.into_iter().skip(q.offset.max(0) as usize).take(q.limit.max(0) as usize).collect(), total))
    }

    async fn top_videos_in(&self, scope: &StoreScope, q: &TopVideosQuery) -> RepoResult<Vec<TopVideo>> {
        let w = self.0.lock().expect("world poisoned");
        let mut top: Vec<TopVideo> = w
            .videos_on(q.store.as_ref(), q.range.to)
            .filter(|v| w.in_scope(scope, &v.store_code))
            .map(|v| TopVideo {
                store_code: v.store_code.clone(),
                video_id: v.video_id.clone(),
                title: v.title.clone(),
                description: v.description.clone(),
                create_time: v.create_time,
                share_url: v.share_url.clone(),
                views: v.view_count,
                likes: v.like_count,
                comments: v.comment_count,
                shares: v.share_count,
                views_from: w
                    .videos_on(Some(&v.store_code), q.range.from)
                    .find(|f| f.video_id == v.video_id)
                    .map(|f| f.view_count),
            })
            .collect();
        top.sort_by(|a, b| {
            nulls_last(video_sort_key(a, q.sort), video_sort_key(b, q.sort), true)
                .then_with(|| b.views.cmp(&a.views))
                .then_with(|| a.store_code.as_str().cmp(b.store_code.as_str()))
                .then_with(|| a.video_id.as_str().cmp(b.video_id.as_str()))
        });
        top.truncate(q.limit.max(0) as usize);
        Ok(top)
    }

    async fn store_days_in(
        &self,
        scope: &StoreScope,
        range: DateRange,
        tz: &str,
        after: Option<StoreCode>,
        limit: i64,
    ) -> RepoResult<Vec<StoreDays>> {
        let tz: chrono_tz::Tz = tz.parse().map_err(|_| RepoError::Other(format!("unknown time zone {tz}")))?;
        let w = self.0.lock().expect("world poisoned");
        let mut accounts: Vec<&Account> = w
            .accounts
            .values()
            .filter(|a| a.connected_at.is_some() && w.in_scope(scope, &a.store_code))
            .filter(|a| after.as_ref().is_none_or(|c| a.store_code.as_str() > c.as_str()))
            .collect();
        accounts.sort_by(|a, b| a.store_code.as_str().cmp(b.store_code.as_str()));
        Ok(accounts
            .into_iter()
            .take(limit.max(0) as usize)
            .map(|a| {
                let connected_on = business_date(a.connected_at.expect("filtered"), &tz);
                let present = w
                    .user_rows
                    .iter()
                    .map(|r| &r.snapshot)
                    .filter(|s| s.store_code == a.store_code)
                    .map(|s| s.snapshot_date)
                    .filter(|d| *d >= range.from.max(connected_on) && *d <= range.to)
                    .collect();
                StoreDays { store_code: a.store_code.clone(), status: a.status, connected_on, present }
            })
            .collect())
    }

    async fn user_stats_page(
        &self,
        code: &StoreCode,
        range: DateRange,
        before: Option<NaiveDate>,
        limit: i64,
    ) -> RepoResult<Vec<UserSnapshotRow>> {
        let w = self.0.lock().expect("world poisoned");
        let mut rows: Vec<UserSnapshotRow> = w
            .user_rows
            .iter()
            .filter(|r| &r.snapshot.store_code == code)
            .filter(|r| (range.from..=range.to).contains(&r.snapshot.snapshot_date))
            .filter(|r| before.is_none_or(|b| r.snapshot.snapshot_date < b))
            .cloned()
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.snapshot.snapshot_date));
        rows.truncate(limit.max(0) as usize);
        Ok(rows)
    }

    async fn video_stats_page(
        &self,
        code: &StoreCode,
        range: DateRange,
        after: Option<VideoCursor>,
        limit: i64,
    ) -> RepoResult<Vec<VideoSnapshotRow>> {
        let w = self.0.lock().expect("world poisoned");
        // Newest date first, then most viewed, then video id ascending.
        let order =
            |date: NaiveDate, views: i64, id: &str| (std::cmp::Reverse(date), std::cmp::Reverse(views), id.to_owned());
        let mut rows: Vec<VideoSnapshotRow> = w
            .video_rows
            .iter()
            .filter(|r| &r.snapshot.store_code == code)
            .filter(|r| (range.from..=range.to).contains(&r.snapshot.snapshot_date))
            .filter(|r| {
                after.as_ref().is_none_or(|c| {
                    let s = &r.snapshot;
                    order(s.snapshot_date, s.view_count, s.video_id.as_str())
                        > order(c.date, c.views, c.video_id.as_str())
                })
            })
            .cloned()
            .collect();
        rows.sort_by_key(|r| order(r.snapshot.snapshot_date, r.snapshot.view_count, r.snapshot.video_id.as_str()));
        rows.truncate(limit.max(0) as usize);
        Ok(rows)
    }
}

#[async_trait]
impl StoreImportRepo for Memory {
    async fn stores_by_code(&self, codes: &[StoreCode]) -> RepoResult<Vec<Store>> {
        Ok(self.0.lock().expect("world poisoned").stores.iter().filter(|s| codes.contains(&s.code)).cloned().collect())
    }

    async fn apply_import(&self, plan: &ImportPlan, audit: &NewAuditEntry) -> RepoResult<()> {
        let mut w = self.0.lock().expect("world poisoned");
        let exists = |w: &World, c: &StoreCode| w.stores.iter().any(|s| &s.code == c);
        let taken = plan.create.iter().filter(|n| exists(&w, &n.code)).count();
        if taken > 0 {
            return Err(RepoError::Conflict(format!("{taken} store(s) to create exist by now")));
        }
        if plan.update.iter().any(|n| !exists(&w, &n.code)) {
            return Err(RepoError::NotFound);
        }
        for n in &plan.create {
            w.stores.push(Store {
                code: n.code.clone(),
                name: n.name.to_string(),
                pic_name: n.pic_name.to_string(),
                pic_contact: n.pic_contact.as_ref().map(|p| p.to_string()),
                group: n.group.clone(),
                created_at: crate::testing::world::t0(),
            });
        }
        for n in &plan.update {
            if let Some(s) = w.stores.iter_mut().find(|s| s.code == n.code) {
                s.name = n.name.to_string();
                s.pic_name = n.pic_name.to_string();
                s.pic_contact = n.pic_contact.as_ref().map(|p| p.to_string());
                if plan.set_group {
                    s.group = n.group.clone();
                }
            }
        }
        w.audit.push(audit.clone());
        Ok(())
    }
}
