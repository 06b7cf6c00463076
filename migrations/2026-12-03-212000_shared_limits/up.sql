-- Token buckets every instance draws from (TikTok's per-endpoint budget, the HTTP limits; hub-postgres
-- src/repo/limits.rs). A bucket is created full on first use.
CREATE TABLE shared_buckets (
    name        VARCHAR(100) PRIMARY KEY,
    tokens      DOUBLE PRECISION NOT NULL,
    refilled_at TIMESTAMPTZ NOT NULL
);

-- Takes up to p_want permits from bucket p_name, refilled at p_per_sec permits a second and
-- holding at most p_burst: how many were granted and, when none, the milliseconds until one
-- is. The row lock makes concurrent takers (any instance) queue; the time is read after it.
CREATE FUNCTION hub_take_permits(p_name VARCHAR, p_want INTEGER, p_per_sec DOUBLE PRECISION, p_burst INTEGER,
                                 OUT granted INTEGER, OUT wait_ms INTEGER)
LANGUAGE plpgsql AS $$
DECLARE
    have DOUBLE PRECISION;
    at TIMESTAMPTZ;
BEGIN
    -- Now and then, drop buckets idle for an hour (full again: the same as absent), so one per
    -- client address (the HTTP limits) never piles up.
    IF random() < 0.001 THEN
        DELETE FROM shared_buckets WHERE refilled_at < clock_timestamp() - interval '1 hour';
    END IF;
    INSERT INTO shared_buckets (name, tokens, refilled_at) VALUES (p_name, p_burst, clock_timestamp())
        ON CONFLICT (name) DO NOTHING;
    PERFORM 1 FROM shared_buckets WHERE name = p_name FOR UPDATE;
    at := clock_timestamp();
    SELECT least(p_burst::DOUBLE PRECISION,
                 tokens + greatest(0, extract(epoch FROM at - refilled_at)) * p_per_sec)
      INTO have FROM shared_buckets WHERE name = p_name;
    granted := greatest(0, least(p_want, floor(have)::INTEGER));
    UPDATE shared_buckets SET tokens = have - granted, refilled_at = at WHERE name = p_name;
    wait_ms := CASE WHEN granted > 0 THEN 0 ELSE ceil((1 - have) / p_per_sec * 1000)::INTEGER END;
END
$$;
