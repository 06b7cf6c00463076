-- Per store and day: how many video snapshots it has and their views, kept by triggers on
-- tiktok_video_daily (whatever writes it: the sync's upserts, the seed, a COPY), so the
-- chain's daily totals (the dashboard's charts, GET /admin/reports/overview's views) read one
-- row per store and day instead of every video's.
CREATE TABLE tiktok_video_store_daily (
    store_code    VARCHAR(50) NOT NULL REFERENCES stores (store_code) ON DELETE CASCADE,
    snapshot_date DATE        NOT NULL,
    video_rows    BIGINT      NOT NULL,
    views         BIGINT      NOT NULL,
    PRIMARY KEY (snapshot_date, store_code)
);

INSERT INTO tiktok_video_store_daily (store_code, snapshot_date, video_rows, views)
SELECT store_code, snapshot_date, count(*), coalesce(sum(view_count), 0)
FROM tiktok_video_daily
GROUP BY store_code, snapshot_date;

-- Recounts the (store, day) pairs a statement touched (transition table `changed`) from the
-- snapshots; a pair left without rows goes away. One store's day is one sync's writes, made
-- under the job's lock, so two statements never recount one pair at the same time.
CREATE FUNCTION hub_video_store_daily_recount() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH touched AS (
        SELECT DISTINCT store_code, snapshot_date FROM changed
    ), counted AS (
        SELECT t.store_code, t.snapshot_date, count(v.id) AS video_rows, coalesce(sum(v.view_count), 0) AS views
        FROM touched t
        LEFT JOIN tiktok_video_daily v ON v.store_code = t.store_code AND v.snapshot_date = t.snapshot_date
        GROUP BY t.store_code, t.snapshot_date
    ), gone AS (
        DELETE FROM tiktok_video_store_daily s
        USING counted c
        WHERE c.video_rows = 0 AND s.store_code = c.store_code AND s.snapshot_date = c.snapshot_date
    )
    INSERT INTO tiktok_video_store_daily (store_code, snapshot_date, video_rows, views)
    SELECT store_code, snapshot_date, video_rows, views FROM counted WHERE video_rows > 0
    ON CONFLICT (snapshot_date, store_code)
        DO UPDATE SET video_rows = EXCLUDED.video_rows, views = EXCLUDED.views;
    RETURN NULL;
END
$$;

CREATE FUNCTION hub_video_store_daily_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE tiktok_video_store_daily;
    RETURN NULL;
END
$$;

-- A trigger with a transition table serves one event: one per event, one function.
CREATE TRIGGER video_store_daily_insert AFTER INSERT ON tiktok_video_daily
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION hub_video_store_daily_recount();
CREATE TRIGGER video_store_daily_update AFTER UPDATE ON tiktok_video_daily
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION hub_video_store_daily_recount();
CREATE TRIGGER video_store_daily_delete AFTER DELETE ON tiktok_video_daily
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION hub_video_store_daily_recount();
CREATE TRIGGER video_store_daily_truncate AFTER TRUNCATE ON tiktok_video_daily
    FOR EACH STATEMENT EXECUTE FUNCTION hub_video_store_daily_clear();
