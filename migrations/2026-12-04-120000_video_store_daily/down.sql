DROP TRIGGER video_store_daily_truncate ON tiktok_video_daily;
DROP TRIGGER video_store_daily_delete ON tiktok_video_daily;
DROP TRIGGER video_store_daily_update ON tiktok_video_daily;
DROP TRIGGER video_store_daily_insert ON tiktok_video_daily;
DROP FUNCTION hub_video_store_daily_clear();
DROP FUNCTION hub_video_store_daily_recount();
DROP TABLE tiktok_video_store_daily;
