DROP INDEX IF EXISTS sync_runs_started_idx;
DROP INDEX IF EXISTS sync_logs_run_id_idx;
