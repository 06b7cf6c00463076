-- The chain's daily totals (the overview's charts, GET /admin/reports/overview) read one day of
-- every store from these two tables once per day of the range: 365 reads for a year. With the
-- totals in the index, each read is an index-only scan of one day's entries instead of a heap
-- page per store (the rows of one day lie on as many pages as there are stores). Measured at
-- 1,000 stores x 365 days x 100 videos: the query 482 ms -> 64 ms, the year's overview p95
-- 514 ms -> 135 ms, median of 3 runs (docs/PERFORMANCE.md, bench web).
DROP INDEX tiktok_user_daily_date_idx;
CREATE INDEX tiktok_user_daily_date_idx ON tiktok_user_daily (snapshot_date)
    INCLUDE (store_code, follower_count, likes_count, video_count);

ALTER TABLE tiktok_video_store_daily
    DROP CONSTRAINT tiktok_video_store_daily_pkey,
    ADD CONSTRAINT tiktok_video_store_daily_pkey PRIMARY KEY (snapshot_date, store_code) INCLUDE (video_rows, views);
