DROP INDEX audit_logs_actor_created_idx;
ALTER TABLE audit_logs
    DROP CONSTRAINT audit_logs_actor_kind_check,
    DROP COLUMN actor_name,
    DROP COLUMN actor_id,
    DROP COLUMN actor_kind;
DROP TABLE api_keys;
DROP TABLE sessions;
DROP TABLE users;
DROP INDEX stores_group_idx;
ALTER TABLE stores DROP COLUMN store_group;
