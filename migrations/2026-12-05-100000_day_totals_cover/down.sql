ALTER TABLE tiktok_video_store_daily
    DROP CONSTRAINT tiktok_video_store_daily_pkey,
    ADD CONSTRAINT tiktok_video_store_daily_pkey PRIMARY KEY (snapshot_date, store_code);

DROP INDEX tiktok_user_daily_date_idx;
CREATE INDEX tiktok_user_daily_date_idx ON tiktok_user_daily (snapshot_date);
