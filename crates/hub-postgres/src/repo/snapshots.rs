//! `SnapshotRepo`: daily user and video snapshots, written as multi-row upserts.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::now;
use diesel::prelude::*;
use diesel::sql_types::{Date, Nullable, Text, Timestamptz};
use diesel::upsert::excluded;
use diesel_async::{AsyncConnection, RunQueryDsl};
use hub_domain::{KnownVideo, StoreCode, UserSnapshot, VideoSnapshot};
use hub_ports::{RepoResult, SnapshotRepo};

use crate::Db;
use crate::error::{RepoResultExt, repo_err};
use crate::models::{NewUserRow, NewVideoRow, USER_ROW_BINDS, VIDEO_ROW_BINDS, video_id};
use crate::schema::{tiktok_user_daily as ud, tiktok_video_daily as vd};

/// PostgreSQL refuses a statement with more than 65,535 bind parameters.
pub const MAX_BIND_PARAMS: usize = 65_535;
/// User snapshot rows per `INSERT … ON CONFLICT` statement.
pub const USER_ROWS_PER_STATEMENT: usize = MAX_BIND_PARAMS / USER_ROW_BINDS;
/// Video snapshot rows per `INSERT … ON CONFLICT` statement.
pub const VIDEO_ROWS_PER_STATEMENT: usize = MAX_BIND_PARAMS / VIDEO_ROW_BINDS;

/// Keeps the last row of each key: one statement may not touch a row twice
/// (`ON CONFLICT DO UPDATE command cannot affect row a second time`).
fn last_per_key<T, K: Eq + std::hash::Hash>(rows: &[T], key: impl Fn(&T) -> K) -> Vec<&T> {
    let mut index: HashMap<K, usize> = HashMap::with_capacity(rows.len());
    let mut out: Vec<&T> = Vec::with_capacity(rows.len());
    for row in rows {
        match index.entry(key(row)) {
            std::collections::hash_map::Entry::Occupied(e) => out[*e.get()] = row,
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(out.len());
                out.push(row);
            }
        }
    }
    if out.len() != rows.len() {
        tracing::warn!(
            rows = rows.len(),
            distinct = out.len(),
            "snapshot batch repeats keys; the last of each is written"
        );
    }
    out
}

#[derive(QueryableByName)]
struct KnownVideoRow {
    #[diesel(sql_type = Text)]
    video_id: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    create_time: Option<DateTime<Utc>>,
}

#[async_trait]
impl SnapshotRepo for Db {
    async fn upsert_user(&self, rows: &[UserSnapshot]) -> RepoResult<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        let rows: Vec<NewUserRow<'_>> =
            last_per_key(rows, |r| (r.store_code.clone(), r.snapshot_date)).into_iter().map(NewUserRow::from).collect();
        let mut conn = self.repo_conn().await?;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            let mut written = 0u64;
            for chunk in rows.chunks(USER_ROWS_PER_STATEMENT) {
                written += diesel::insert_into(ud::table)
                    .values(chunk)
                    .on_conflict((ud::store_code, ud::snapshot_date))
                    .do_update()
                    .set((
                        ud::follower_count.eq(excluded(ud::follower_count)),
                        ud::following_count.eq(excluded(ud::following_count)),
                        ud::likes_count.eq(excluded(ud::likes_count)),
                        ud::video_count.eq(excluded(ud::video_count)),
                        ud::display_name.eq(excluded(ud::display_name)),
                        ud::avatar_url.eq(excluded(ud::avatar_url)),
                        ud::updated_at.eq(now),
                    ))
                    .execute(conn)
                    .await? as u64;
            }
            Ok(written)
        })
        .await
        .map_err(repo_err)
    }

    async fn upsert_videos(&self, rows: &[VideoSnapshot]) -> RepoResult<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        let rows: Vec<NewVideoRow<'_>> =
            last_per_key(rows, |r| (r.store_code.clone(), r.snapshot_date, r.video_id.clone()))
                .into_iter()
                .map(NewVideoRow::from)
                .collect();
        let mut conn = self.repo_conn().await?;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            let mut written = 0u64;
            for chunk in rows.chunks(VIDEO_ROWS_PER_STATEMENT) {
                written += diesel::insert_into(vd::table)
                    .values(chunk)
                    .on_conflict((vd::store_code, vd::snapshot_date, vd::video_id))
                    .do_update()
                    .set((
                        vd::view_count.eq(excluded(vd::view_count)),
                        vd::like_count.eq(excluded(vd::like_count)),
                        vd::comment_count.eq(excluded(vd::comment_count)),
                        vd::share_count.eq(excluded(vd::share_count)),
                        vd::description.eq(excluded(vd::description)),
                        vd::title.eq(excluded(vd::title)),
                        vd::create_time.eq(excluded(vd::create_time)),
                        vd::share_url.eq(excluded(vd::share_url)),
                        vd::cover_image_url.eq(excluded(vd::cover_image_url)),
                        vd::duration.eq(excluded(vd::duration)),
                        vd::updated_at.eq(now),
                    ))
                    .execute(conn)
                    .await? as u64;
            }
            Ok(written)
        })
        .await
        .map_err(repo_err)
    }

    async fn known_videos(&self, code: &StoreCode, before: NaiveDate) -> RepoResult<Vec<KnownVideo>> {
        let mut conn = self.repo_conn().await?;
        let rows: Vec<KnownVideoRow> = diesel::sql_query(
            "SELECT v.video_id, v.create_time
             FROM tiktok_video_daily v
             WHERE v.store_code = $1
               AND v.snapshot_date = (
                   SELECT l.snapshot_date FROM tiktok_video_daily l
                   WHERE l.store_code = $1 AND l.snapshot_date < $2
                   ORDER BY l.snapshot_date DESC
                   LIMIT 1)
             ORDER BY v.create_time DESC NULLS LAST, v.video_id DESC",
        )
        .bind::<Text, _>(code.as_str())
        .bind::<Date, _>(before)
        .load(&mut conn)
        .await
        .repo()?;
        rows.into_iter()
            .map(|r| Ok(KnownVideo { video_id: video_id(r.video_id)?, create_time: r.create_time }))
            .collect()
    }
}
