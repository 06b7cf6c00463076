DROP TABLE pending_revocations;
ALTER TABLE store_accounts DROP CONSTRAINT store_accounts_revoke_reason_only_when_revoked;
ALTER TABLE store_accounts DROP COLUMN revoke_reason;
ALTER TABLE connect_invites DROP COLUMN revoked_at;
ALTER TABLE stores DROP COLUMN archived_at;
