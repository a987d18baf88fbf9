-- The outbox: every ingested event, one delivery per endpoint it is routed
-- to, and every attempt. A pending delivery's next_attempt_at is also its
-- lease: a dispatcher that claims it moves it to the end of the lease, so
-- that if the dispatcher dies the delivery falls due again.

-- Each endpoint's signing keys: the current one, and the previous one,
-- which signs too until previous_until after a rotation.
CREATE TABLE endpoint_keys (
    endpoint_id    TEXT PRIMARY KEY REFERENCES endpoints (id) ON DELETE CASCADE,
    current_key    BLOB NOT NULL,
    previous_key   BLOB,
    previous_until INTEGER
) STRICT, WITHOUT ROWID;

-- Endpoints made before this migration get a key now.
INSERT INTO endpoint_keys (endpoint_id, current_key) SELECT id, randomblob(32) FROM endpoints;

-- When the endpoint's current streak of failed attempts began; NULL while
-- it succeeds.
ALTER TABLE endpoints ADD COLUMN failing_since INTEGER;

CREATE TABLE events (
    id              TEXT    PRIMARY KEY,
    workspace_id    TEXT    NOT NULL,
    environment_id  TEXT    NOT NULL,
    event_type      TEXT,
    payload         BLOB    NOT NULL,
    idempotency_key TEXT,
    created_at      INTEGER NOT NULL,
    FOREIGN KEY (workspace_id, environment_id) REFERENCES environments (workspace_id, id) ON DELETE CASCADE
) STRICT;

-- Event IDs are UUIDv7, time-ordered: pruning old events walks the
-- primary key, and needs no index on created_at. Only events sent with an
-- idempotency key take a place in its index.
CREATE UNIQUE INDEX events_idempotency_key ON events (environment_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_environment ON events (workspace_id, environment_id);

CREATE TABLE deliveries (
    id               TEXT    PRIMARY KEY,
    workspace_id     TEXT    NOT NULL,
    event_id         TEXT    NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    endpoint_id      TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER,
    last_attempt_at  INTEGER,
    last_status_code INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    FOREIGN KEY (workspace_id, endpoint_id) REFERENCES endpoints (workspace_id, id) ON DELETE CASCADE
) STRICT;

-- Every index here is paid for by every delivery an ingest makes: these
-- are the ones claims, the delivery log and cascades need.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_endpoint ON deliveries (workspace_id, endpoint_id, id);
CREATE INDEX deliveries_event ON deliveries (event_id);

CREATE TABLE delivery_attempts (
    delivery_id  TEXT    NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    number       INTEGER NOT NULL,
    attempted_at INTEGER NOT NULL,
    duration_ms  INTEGER NOT NULL,
    status_code  INTEGER,
    response     TEXT    NOT NULL DEFAULT '',
    error        TEXT,
    PRIMARY KEY (delivery_id, number)
) STRICT, WITHOUT ROWID;
