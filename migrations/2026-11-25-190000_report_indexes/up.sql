-- Reports read one day across every store (overview totals, the store report's two ends, the
-- top videos of a day and their views at an earlier day). With the day's rows spread over the
-- heap (each store's history written together, as a backfill or a seed does), every row read
-- was a random heap page: ~100,000 page reads per day at 1,000 stores x 100 videos.
-- This index answers those reads from the index alone (index-only scans), in (store, video)
-- order so that two days merge-join without sorting. It starts with snapshot_date, so it
-- also serves everything the plain date index served; that one is dropped.
CREATE INDEX tiktok_video_daily_date_stats_idx
    ON tiktok_video_daily (snapshot_date, store_code, video_id)
    INCLUDE (view_count, like_count, comment_count, share_count);
DROP INDEX tiktok_video_daily_date_idx;
