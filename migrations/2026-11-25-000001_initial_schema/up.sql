-- The hub's schema. Table and column names follow the original service's; every time is a
-- TIMESTAMPTZ, every count a BIGINT.

CREATE TABLE stores (
    store_code  VARCHAR(50)  PRIMARY KEY CHECK (store_code ~ '^[A-Za-z0-9_-]{1,50}$'),
    store_name  VARCHAR(255) NOT NULL CHECK (length(btrim(store_name)) > 0),
    pic_name    VARCHAR(255) NOT NULL CHECK (length(btrim(pic_name)) > 0),
    pic_contact VARCHAR(255),
    created_at  TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ  NOT NULL DEFAULT now()
);

-- One TikTok account per store; a reconnect replaces identity and tokens in place.
CREATE TABLE store_accounts (
    id                       BIGSERIAL    PRIMARY KEY,
    store_code               VARCHAR(50)  NOT NULL REFERENCES stores (store_code) ON DELETE CASCADE,
    platform                 VARCHAR(50)  NOT NULL DEFAULT 'tiktok',
    account_identifier       VARCHAR(255),                -- TikTok open_id
    encrypted_access_token   TEXT,
    encrypted_refresh_token  TEXT,
    token_expires_at         TIMESTAMPTZ,
    refresh_token_expires_at TIMESTAMPTZ,
    scopes                   TEXT         NOT NULL DEFAULT '',
    status                   VARCHAR(50)  NOT NULL
        CHECK (status IN ('CONNECTED', 'NEED_RECONNECT', 'DISCONNECTED')),
    status_reason            VARCHAR(50)
        CHECK (status_reason IN ('REVOKED', 'REFRESH_EXPIRED', 'SCOPE_MISSING', 'GRANT_INVALID', 'TOKEN_INVALID')),
    connected_at             TIMESTAMPTZ,
    last_sync_time           TIMESTAMPTZ,
    last_refresh_at          TIMESTAMPTZ,
    refresh_lease_owner      VARCHAR(100),
    refresh_lease_until      TIMESTAMPTZ,
    created_at               TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at               TIMESTAMPTZ  NOT NULL DEFAULT now(),
    CONSTRAINT store_accounts_store_platform_key UNIQUE (store_code, platform),
    CONSTRAINT store_accounts_reason_only_when_reconnect
        CHECK ((status = 'NEED_RECONNECT') OR status_reason IS NULL)
);
-- The refresh job's scan: connected accounts by expiry.
CREATE INDEX store_accounts_refresh_idx ON store_accounts (token_expires_at) WHERE status = 'CONNECTED';

CREATE TABLE tiktok_user_daily (
    id              BIGSERIAL    PRIMARY KEY,
    store_code      VARCHAR(50)  NOT NULL REFERENCES stores (store_code) ON DELETE CASCADE,
    snapshot_date   DATE         NOT NULL,
    follower_count  BIGINT,
    following_count BIGINT,
    likes_count     BIGINT,
    video_count     BIGINT,
    display_name    VARCHAR(255),
    avatar_url      TEXT,
    created_at      TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ  NOT NULL DEFAULT now(),
    -- Idempotent snapshots; also serves history by store and date and "latest per store".
    CONSTRAINT tiktok_user_daily_store_date_key UNIQUE (store_code, snapshot_date)
);
-- Cross-store reads of one day (reports, totals).
CREATE INDEX tiktok_user_daily_date_idx ON tiktok_user_daily (snapshot_date);

CREATE TABLE tiktok_video_daily (
    id              BIGSERIAL    PRIMARY KEY,
    store_code      VARCHAR(50)  NOT NULL REFERENCES stores (store_code) ON DELETE CASCADE,
    snapshot_date   DATE         NOT NULL,
    video_id        VARCHAR(64)  NOT NULL,
    view_count      BIGINT,
    like_count      BIGINT,
    comment_count   BIGINT,
    share_count     BIGINT,
    description     TEXT,
    title           VARCHAR(255),
    create_time     TIMESTAMPTZ,
    share_url       TEXT,
    cover_image_url TEXT,
    duration        INTEGER,
    created_at      TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ  NOT NULL DEFAULT now(),
    -- Idempotent snapshots; also serves a store's history by date and its latest day.
    CONSTRAINT tiktok_video_daily_store_date_video_key UNIQUE (store_code, snapshot_date, video_id)
);
CREATE INDEX tiktok_video_daily_date_idx ON tiktok_video_daily (snapshot_date);

-- One row per job run, with live counters.
CREATE TABLE sync_runs (
    id             BIGSERIAL    PRIMARY KEY,
    job_name       VARCHAR(100) NOT NULL,
    scheduled_date DATE         NOT NULL,
    trigger        VARCHAR(20)  NOT NULL CHECK (trigger IN ('cron', 'manual', 'cli', 'retry')),
    status         VARCHAR(20)  NOT NULL
        CHECK (status IN ('RUNNING', 'SUCCEEDED', 'PARTIAL', 'FAILED', 'INTERRUPTED')),
    total          BIGINT       NOT NULL DEFAULT 0,
    processed      BIGINT       NOT NULL DEFAULT 0,
    succeeded      BIGINT       NOT NULL DEFAULT 0,
    failed         BIGINT       NOT NULL DEFAULT 0,
    skipped        BIGINT       NOT NULL DEFAULT 0,
    records        BIGINT       NOT NULL DEFAULT 0,
    message        TEXT,
    owner          VARCHAR(100),
    heartbeat_at   TIMESTAMPTZ,
    started_at     TIMESTAMPTZ  NOT NULL DEFAULT now(),
    finished_at    TIMESTAMPTZ
);
CREATE INDEX sync_runs_job_started_idx ON sync_runs (job_name, started_at DESC);
CREATE INDEX sync_runs_running_idx ON sync_runs (heartbeat_at) WHERE status = 'RUNNING';

CREATE TABLE sync_logs (
    id          BIGSERIAL    PRIMARY KEY,
    run_id      BIGINT       REFERENCES sync_runs (id) ON DELETE SET NULL,
    store_code  VARCHAR(50),                              -- NULL: the job's summary line
    job_name    VARCHAR(100) NOT NULL,
    status      VARCHAR(50)  NOT NULL CHECK (status IN ('SUCCESS', 'FAILED', 'SKIPPED')),
    message     TEXT,
    raw_error   TEXT,
    duration_ms BIGINT,
    run_time    TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE INDEX sync_logs_run_time_idx ON sync_logs (run_time DESC, id DESC);
CREATE INDEX sync_logs_store_run_time_idx ON sync_logs (store_code, run_time DESC, id DESC);

CREATE TABLE audit_logs (
    id         BIGSERIAL    PRIMARY KEY,
    created_at TIMESTAMPTZ  NOT NULL DEFAULT now(),
    actor      VARCHAR(100) NOT NULL,
    action     VARCHAR(100) NOT NULL,
    store_code VARCHAR(50),
    target     TEXT,
    outcome    VARCHAR(20)  NOT NULL CHECK (outcome IN ('SUCCESS', 'FAILURE', 'DENIED')),
    request_id VARCHAR(100),
    ip         VARCHAR(64),
    details    TEXT
);
CREATE INDEX audit_logs_created_idx ON audit_logs (created_at DESC, id DESC);
CREATE INDEX audit_logs_store_created_idx ON audit_logs (store_code, created_at DESC);
CREATE INDEX audit_logs_action_created_idx ON audit_logs (action, created_at DESC);

-- Admin-issued, single-use, expiring connect links; only the token's SHA-256 is kept.
CREATE TABLE connect_invites (
    id         BIGSERIAL    PRIMARY KEY,
    token_hash VARCHAR(64)  NOT NULL UNIQUE,
    store_code VARCHAR(50)  NOT NULL REFERENCES stores (store_code) ON DELETE CASCADE,
    created_by VARCHAR(100) NOT NULL,
    created_at TIMESTAMPTZ  NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ  NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX connect_invites_expires_idx ON connect_invites (expires_at);

-- One-time OAuth state nonces (SHA-256 of the nonce), bound to a browser cookie.
CREATE TABLE oauth_states (
    nonce_hash      VARCHAR(64) PRIMARY KEY,
    store_code      VARCHAR(50) NOT NULL REFERENCES stores (store_code) ON DELETE CASCADE,
    invite_id       BIGINT      REFERENCES connect_invites (id) ON DELETE CASCADE,
    browser_binding VARCHAR(64) NOT NULL,
    pkce_verifier   TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at      TIMESTAMPTZ NOT NULL,
    used_at         TIMESTAMPTZ
);
CREATE INDEX oauth_states_expires_idx ON oauth_states (expires_at);
