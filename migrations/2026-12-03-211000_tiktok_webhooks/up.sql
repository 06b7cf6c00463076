-- TikTok's webhook events, each stored once. TikTok delivers at least once and retries for
-- 72 h; the dedupe key (SHA-256 of the signed body) makes a redelivery a no-op.
CREATE TABLE tiktok_events (
    id          BIGSERIAL    PRIMARY KEY,
    dedupe_key  VARCHAR(64)  NOT NULL UNIQUE,
    event       VARCHAR(100) NOT NULL,
    user_openid VARCHAR(255),
    create_time TIMESTAMPTZ  NOT NULL,
    content     TEXT,
    -- The store whose account the event was about, when one was found.
    store_code  VARCHAR(50)  REFERENCES stores (store_code) ON DELETE SET NULL,
    received_at TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE INDEX tiktok_events_received_idx ON tiktok_events (received_at DESC);
-- authorization.removed finds the account by TikTok's open_id.
CREATE INDEX store_accounts_open_id_idx ON store_accounts (account_identifier);
