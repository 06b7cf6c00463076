CREATE INDEX tiktok_video_daily_date_idx ON tiktok_video_daily (snapshot_date);
DROP INDEX tiktok_video_daily_date_stats_idx;
