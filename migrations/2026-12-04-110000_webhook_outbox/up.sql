-- Outgoing notifications: the endpoints admins register, the outbox written in the same
-- transaction as the change it reports, and every delivery attempt.
CREATE TABLE webhook_endpoints (
    id                   BIGSERIAL     PRIMARY KEY,
    url                  TEXT          NOT NULL,
    -- The subscribed event names, comma-separated.
    events               TEXT          NOT NULL,
    -- The signing secret (whsec_…), encrypted with the hub's token cipher.
    encrypted_secret     TEXT          NOT NULL,
    format               VARCHAR(20)   NOT NULL CHECK (format IN ('standard', 'slack')),
    include_connect_link BOOLEAN       NOT NULL DEFAULT FALSE,
    enabled              BOOLEAN       NOT NULL DEFAULT TRUE,
    disabled_reason      TEXT,
    -- Deliveries that failed in a row (reset by a success); a run of them disables the endpoint.
    consecutive_failures INTEGER       NOT NULL DEFAULT 0,
    created_by           VARCHAR(255)  NOT NULL,
    created_at           TIMESTAMPTZ   NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ   NOT NULL DEFAULT now()
);

-- One row per (event, endpoint) to deliver. PENDING rows are claimed by the delivery loop
-- with FOR UPDATE SKIP LOCKED; a claim pushes next_attempt_at past the send's lease, so a
-- hub killed mid-send delivers again after the lease (at least once).
CREATE TABLE webhook_outbox (
    id              BIGSERIAL     PRIMARY KEY,
    endpoint_id     BIGINT        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event           VARCHAR(50)   NOT NULL,
    store_code      VARCHAR(50),
    summary         TEXT          NOT NULL,
    data            TEXT          NOT NULL,
    status          VARCHAR(20)   NOT NULL DEFAULT 'PENDING'
                    CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
    attempts        INTEGER       NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ   NOT NULL,
    next_attempt_at TIMESTAMPTZ   NOT NULL,
    delivered_at    TIMESTAMPTZ,
    -- The daily events' key (`digest.daily:2026-01-23`): announced once per endpoint and day,
    -- however many instances run the schedule.
    dedupe_key      VARCHAR(100)
);
CREATE UNIQUE INDEX webhook_outbox_dedupe_idx ON webhook_outbox (endpoint_id, dedupe_key);
CREATE INDEX webhook_outbox_due_idx ON webhook_outbox (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX webhook_outbox_endpoint_idx ON webhook_outbox (endpoint_id);

-- Every attempt, with the receiver's answer (or why there was none).
CREATE TABLE webhook_deliveries (
    id           BIGSERIAL     PRIMARY KEY,
    outbox_id    BIGINT        NOT NULL REFERENCES webhook_outbox (id) ON DELETE CASCADE,
    endpoint_id  BIGINT        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event        VARCHAR(50)   NOT NULL,
    attempt      INTEGER       NOT NULL,
    status_code  INTEGER,
    success      BOOLEAN       NOT NULL,
    error        TEXT,
    attempted_at TIMESTAMPTZ   NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id DESC);
