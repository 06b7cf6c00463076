-- A store's whole life: archiving, revoked connect links, the reason TikTok gave for a
-- removed authorization, and the grants still to revoke at TikTok.

-- An archived store leaves lists, syncs and reports; its history stays.
ALTER TABLE stores ADD COLUMN archived_at TIMESTAMPTZ;

-- A revoked link is also expired at the moment it was revoked (so every usable-link check
-- already refuses it); revoked_at says why it stopped working.
ALTER TABLE connect_invites ADD COLUMN revoked_at TIMESTAMPTZ;

-- TikTok's `authorization.removed` reason (0 unknown, 1 user disconnected, 2 account deleted,
-- 3 age changed, 4 banned, 5 developer revoked), kept beside status_reason = 'REVOKED'.
ALTER TABLE store_accounts ADD COLUMN revoke_reason SMALLINT CHECK (revoke_reason BETWEEN 0 AND 5);
ALTER TABLE store_accounts ADD CONSTRAINT store_accounts_revoke_reason_only_when_revoked
    CHECK (revoke_reason IS NULL OR status_reason = 'REVOKED');

-- Grants to revoke at TikTok. A disconnect or an archive moves the account's ciphertexts here
-- in the same transaction that wipes them from store_accounts, so a failed revoke call never
-- leaves tokens in the account row nor loses track of a live grant. The row is deleted when
-- TikTok confirms (or the grant is found dead); until then the scheduler retries it.
CREATE TABLE pending_revocations (
    id                      BIGSERIAL    PRIMARY KEY,
    store_code              VARCHAR(50)  NOT NULL REFERENCES stores (store_code) ON DELETE CASCADE,
    open_id                 VARCHAR(255),
    encrypted_access_token  TEXT         NOT NULL,
    encrypted_refresh_token TEXT,
    attempts                INTEGER      NOT NULL DEFAULT 0,
    next_attempt_at         TIMESTAMPTZ  NOT NULL,
    last_error              TEXT,
    created_at              TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE INDEX pending_revocations_due_idx ON pending_revocations (next_attempt_at);
