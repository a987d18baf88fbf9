-- The outbox: every ingested event, one delivery per endpoint it is routed
-- to, and every attempt; the same schema as the SQLite store's migration
-- 0003. A pending delivery's next_attempt_at is also its lease: a
-- dispatcher that claims it moves it to the end of the lease, so that if
-- the dispatcher dies the delivery falls due again.

-- Each endpoint's signing keys: the current one, and the previous one,
-- which signs too until previous_until after a rotation.
CREATE TABLE endpoint_keys (
    endpoint_id    text  PRIMARY KEY CONSTRAINT endpoint_keys_endpoint_fkey REFERENCES endpoints (id) ON DELETE CASCADE,
    current_key    bytea NOT NULL,
    previous_key   bytea,
    previous_until timestamptz
);

-- Endpoints made before this migration get a key now: 32 bytes from two
-- random UUIDs (gen_random_uuid uses the strong random source; pgcrypto is
-- not assumed).
INSERT INTO endpoint_keys (endpoint_id, current_key)
SELECT id, decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex') FROM endpoints;

-- When the endpoint's current streak of failed attempts began; NULL while
-- it succeeds.
ALTER TABLE endpoints ADD COLUMN failing_since timestamptz;

CREATE TABLE events (
    id              text        PRIMARY KEY,
    workspace_id    text        NOT NULL,
    environment_id  text        NOT NULL,
    event_type      text,
    payload         bytea       NOT NULL,
    idempotency_key text,
    created_at      timestamptz NOT NULL,
    CONSTRAINT events_environment_fkey FOREIGN KEY (workspace_id, environment_id)
        REFERENCES environments (workspace_id, id) ON DELETE CASCADE
);

-- Event IDs are UUIDv7, time-ordered: pruning old events walks the
-- primary key, and needs no index on created_at. Only events sent with an
-- idempotency key take a place in its index.
CREATE UNIQUE INDEX events_idempotency_key ON events (environment_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_environment ON events (workspace_id, environment_id);

CREATE TABLE deliveries (
    id               text        PRIMARY KEY,
    workspace_id     text        NOT NULL,
    event_id         text        NOT NULL CONSTRAINT deliveries_event_fkey REFERENCES events (id) ON DELETE CASCADE,
    endpoint_id      text        NOT NULL,
    status           text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    last_attempt_at  timestamptz,
    last_status_code integer,
    last_error       text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CONSTRAINT deliveries_endpoint_fkey FOREIGN KEY (workspace_id, endpoint_id)
        REFERENCES endpoints (workspace_id, id) ON DELETE CASCADE
);

-- Every index here is paid for by every delivery an ingest makes: these
-- are the ones claims, the delivery log and cascades need.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_endpoint ON deliveries (workspace_id, endpoint_id, id);
CREATE INDEX deliveries_event ON deliveries (event_id);

CREATE TABLE delivery_attempts (
    delivery_id  text        NOT NULL CONSTRAINT delivery_attempts_delivery_fkey REFERENCES deliveries (id) ON DELETE CASCADE,
    number       integer     NOT NULL,
    attempted_at timestamptz NOT NULL,
    duration_ms  integer     NOT NULL,
    status_code  integer,
    response     text        NOT NULL DEFAULT '',
    error        text,
    PRIMARY KEY (delivery_id, number)
);
