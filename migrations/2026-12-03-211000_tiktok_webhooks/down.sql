DROP INDEX store_accounts_open_id_idx;
DROP TABLE tiktok_events;
