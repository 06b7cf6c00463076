-- Retention: old sync runs are deleted in batches, and each deleted run sets its log lines'
-- run_id to NULL (ON DELETE SET NULL). Without an index on sync_logs.run_id every deleted
-- run would scan the whole log table.
CREATE INDEX sync_logs_run_id_idx ON sync_logs (run_id) WHERE run_id IS NOT NULL;
-- The purge of old runs walks them oldest first.
CREATE INDEX sync_runs_started_idx ON sync_runs (started_at);
