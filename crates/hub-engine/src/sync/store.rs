//! One store in one job: its account, a fresh access token, TikTok's numbers, one upsert.
//! Never fails: every problem becomes the store's outcome.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, NaiveDate};
use hub_domain::{Account, JobKind, KnownVideo, StoreCode, StoreOverview, UserSnapshot, VideoId, VideoSnapshot};
use hub_ports::TikTokVideo;

use crate::sync::outcome::{CallSplit, Outcome, storage};
use crate::sync::service::Syncs;

fn video_row(code: &StoreCode, date: NaiveDate, v: &TikTokVideo) -> Option<VideoSnapshot> {
    Some(VideoSnapshot {
        store_code: code.clone(),
        snapshot_date: date,
        video_id: VideoId::parse(&v.id).ok()?,
        view_count: v.view_count,
        like_count: v.like_count,
        comment_count: v.comment_count,
        share_count: v.share_count,
        description: v.video_description.clone(),
        title: v.title.as_ref().map(|t| t.chars().take(255).collect()),
        create_time: v.create_time.and_then(|s| DateTime::from_timestamp(s, 0)),
        share_url: v.share_url.clone(),
        cover_image_url: v.cover_image_url.clone(),
        duration: v.duration,
    })
}

impl Syncs {
    /// One store in one job.
    pub(crate) async fn store_task(
        &self,
        job: JobKind,
        store: &StoreOverview,
        date: NaiveDate,
        split: &CallSplit,
    ) -> Outcome {
        let code = &store.store.code;
        let account = match self.db.run(self.ports.accounts.for_store(code)).await {
            Ok(Some(a)) => a,
            Ok(None) => return Outcome::Skipped { message: "not connected: no TikTok account".into() },
            Err(e) => return storage(e),
        };
        let result = match job {
            JobKind::SyncUserDaily => self.sync_user(account, date, split).await,
            JobKind::SyncVideoDaily => self.sync_videos(account, date, split).await,
            JobKind::RefreshTokens => match self.tokens.refresh(&account).await {
                Ok(_) => Ok(Outcome::Success { message: "Token refreshed".into(), records: 1 }),
                Err(e) => Err(Outcome::from_token_error(e)),
            },
            JobKind::ReencryptTokens => {
                return Outcome::Skipped { message: format!("{job} is not a per-store sync job") };
            }
        };
        result.unwrap_or_else(|e| e)
    }

    /// One account in the refresh job. A store that needs reconnecting counts as a failure
    /// here (the refresh job exists to keep grants alive).
    pub(crate) async fn refresh_task(&self, account: &Account) -> Outcome {
        match self.tokens.refresh(account).await {
            Ok(_) => Outcome::Success { message: "Token refreshed".into(), records: 1 },
            Err(e) => match Outcome::from_token_error(e) {
                Outcome::Skipped { message } => Outcome::Failed { reason: "needs_reconnect", message, raw: None },
                o => o,
            },
        }
    }

    async fn sync_user(&self, account: Account, date: NaiveDate, split: &CallSplit) -> Result<Outcome, Outcome> {
        let p = &self.ports;
        let mut session = self.tokens.session(account).await.map_err(Outcome::from_token_error)?;
        let tiktok = Arc::clone(&p.tiktok);
        split.user.fetch_add(1, Ordering::Relaxed);
        let user = session
            .call(|t| {
                let tiktok = Arc::clone(&tiktok);
                async move { tiktok.user_info(&t).await }
            })
            .await
            .map_err(Outcome::from_token_error)?;
        let account = session.account().clone();
        let snapshot = UserSnapshot {
            store_code: account.store_code.clone(),
            snapshot_date: date,
            follower_count: user.follower_count,
            following_count: user.following_count,
            likes_count: user.likes_count,
            video_count: user.video_count,
            display_name: user.display_name.clone(),
            avatar_url: user.avatar_url.clone(),
        };
        self.db.run(p.snapshots.upsert_user(std::slice::from_ref(&snapshot))).await.map_err(storage)?;
        self.db.run(p.accounts.mark_synced(account.id, p.clock.now())).await.map_err(storage)?;
        Ok(Outcome::Success {
            message: format!(
                "User stats synced successfully: {} followers, {} videos",
                user.follower_count, user.video_count
            ),
            records: 1,
        })
    }

    async fn sync_videos(&self, account: Account, date: NaiveDate, split: &CallSplit) -> Result<Outcome, Outcome> {
        let p = &self.ports;
        let code = account.store_code.clone();
        let known: Vec<KnownVideo> = self.db.run(p.snapshots.known_videos(&code, date)).await.map_err(storage)?;
        let known_ids: HashSet<&str> = known.iter().map(|k| k.video_id.as_str()).collect();
        let mut session = self.tokens.session(account).await.map_err(Outcome::from_token_error)?;
        let tiktok = Arc::clone(&p.tiktok);
        let page_size = self.config.video_page_size;

        // Newest pages through video/list until a page reaches videos we already know (new
        // videos can only be found there); then on while video/list's budget is the less used
        // one, so that the known videos left for video/query spread the work over both.
        let mut seen: HashMap<String, TikTokVideo> = HashMap::new();
        let mut cursor: Option<i64> = None;
        let mut list_calls = 0usize;
        let mut reached_known = false;
        loop {
            split.list.fetch_add(1, Ordering::Relaxed);
            let page = session
                .call(|t| {
                    let tiktok = Arc::clone(&tiktok);
                    async move { tiktok.video_list(&t, cursor, page_size).await }
                })
                .await
                .map_err(Outcome::from_token_error)?;
            list_calls += 1;
            reached_known |= page.videos.iter().any(|v| known_ids.contains(v.id.as_str()));
            for v in page.videos {
                seen.insert(v.id.clone(), v);
            }
            if !page.has_more || page.cursor.is_none() || page.cursor == cursor {
                break;
            }
            if reached_known {
                let unseen_known = known_ids.iter().filter(|id| !seen.contains_key(**id)).count();
                if !split.keep_listing(unseen_known) {
                    break;
                }
            }
            cursor = page.cursor;
            if list_calls > 10_000 {
                return Err(Outcome::Failed {
                    reason: "paging",
                    message: "video/list kept answering has_more; stopped after 10,000 pages".into(),
                    raw: None,
                });
            }
        }

        // The rest of the known videos through video/query, 20 ids a call.
        let rest: Vec<String> =
            known.iter().map(|k| k.video_id.as_str().to_owned()).filter(|id| !seen.contains_key(id)).collect();
        for chunk in rest.chunks(20) {
            split.query.fetch_add(1, Ordering::Relaxed);
            let ids = chunk.to_vec();
            let found = session
                .call(|t| {
                    let tiktok = Arc::clone(&tiktok);
                    let ids = ids.clone();
                    async move { tiktok.video_query(&t, &ids).await }
                })
                .await
                .map_err(Outcome::from_token_error)?;
            for v in found {
                seen.insert(v.id.clone(), v);
            }
        }

        let rows: Vec<VideoSnapshot> = seen.values().filter_map(|v| video_row(&code, date, v)).collect();
        let views: i64 = rows.iter().map(|r| r.view_count).sum();
        if !rows.is_empty() {
            self.db.run(p.snapshots.upsert_videos(&rows)).await.map_err(storage)?;
        }
        self.db.run(p.accounts.mark_synced(session.account().id, p.clock.now())).await.map_err(storage)?;
        Ok(Outcome::Success {
            message: format!("Video stats synced successfully: {} videos, {views} views", rows.len()),
            records: rows.len() as i64,
        })
    }
}
