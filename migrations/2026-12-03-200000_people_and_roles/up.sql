-- People and roles: store groups, users, their sessions, personal API keys, and audit rows
-- that name the actor.

-- A store's group (a region, for example). A group exists while at least one store is in it:
-- there is no table of groups.
ALTER TABLE stores ADD COLUMN store_group VARCHAR(50)
    CONSTRAINT stores_store_group_check CHECK (store_group ~ '^[A-Za-z0-9_-]{1,50}$');
-- Scoped lists and reports filter stores by group.
CREATE INDEX stores_group_idx ON stores (store_group, store_code);

-- People. Emails are stored in lower case and unique whatever their case; the password is an
-- argon2id PHC string. store_groups: comma-separated group names, NULL = every store.
CREATE TABLE users (
    id            BIGSERIAL    PRIMARY KEY,
    email         VARCHAR(254) NOT NULL CHECK (email = lower(email) AND length(email) >= 3),
    display_name  VARCHAR(255) NOT NULL CHECK (length(btrim(display_name)) > 0),
    role          VARCHAR(20)  NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    store_groups  TEXT,
    active        BOOLEAN      NOT NULL DEFAULT true,
    password_hash TEXT         NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    created_at    TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ  NOT NULL DEFAULT now(),
    last_login_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Sign-in sessions; only the SHA-256 of the token is kept.
CREATE TABLE sessions (
    id           BIGSERIAL   PRIMARY KEY,
    token_hash   VARCHAR(64) NOT NULL UNIQUE,
    user_id      BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- Personal API keys (tth_…); only the SHA-256 of the key is kept. owner_id: the person it
-- belongs to (NULL for keys made by the break-glass key or the command line).
CREATE TABLE api_keys (
    id           BIGSERIAL    PRIMARY KEY,
    key_hash     VARCHAR(64)  NOT NULL UNIQUE,
    fingerprint  VARCHAR(12)  NOT NULL,
    name         VARCHAR(100) NOT NULL CHECK (length(btrim(name)) > 0),
    role         VARCHAR(20)  NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    store_groups TEXT,
    owner_id     BIGINT       REFERENCES users (id),
    created_by   VARCHAR(100) NOT NULL,
    created_at   TIMESTAMPTZ  NOT NULL DEFAULT now(),
    expires_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_keys_owner_idx ON api_keys (owner_id);

-- Audit rows name the actor: its kind, the user's or key's id, and the user's email, the key's
-- name or the break-glass key's fingerprint. `actor` keeps its short form (key:…, user:7,
-- apikey:…, system, cli, store-staff, anonymous).
ALTER TABLE audit_logs
    ADD COLUMN actor_kind VARCHAR(20),
    ADD COLUMN actor_id   BIGINT,
    ADD COLUMN actor_name VARCHAR(254);
UPDATE audit_logs SET
    actor_kind = CASE
        WHEN actor LIKE 'key:%' THEN 'break_glass'
        WHEN actor = 'system' THEN 'system'
        WHEN actor = 'cli' THEN 'cli'
        WHEN actor = 'store-staff' THEN 'store_staff'
        ELSE 'anonymous'
    END,
    actor_name = CASE WHEN actor LIKE 'key:%' THEN actor END;
ALTER TABLE audit_logs
    ALTER COLUMN actor_kind SET NOT NULL,
    ADD CONSTRAINT audit_logs_actor_kind_check CHECK (
        actor_kind IN ('break_glass', 'user', 'api_key', 'system', 'cli', 'store_staff', 'anonymous'));
-- GET /admin/audit-logs?actor=…
CREATE INDEX audit_logs_actor_created_idx ON audit_logs (actor, created_at DESC);
