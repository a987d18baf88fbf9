-- Operational events (endpoint.disabled, endpoint.failing,
-- endpoint.recovered, delivery.exhausted): what the host program hears of
-- its endpoints and deliveries. RecordAttempts writes them in the
-- transaction that records the attempt causing them, so that none is lost
-- or invented; the host's relay hands them out from this outbox and
-- removes each once heard.

-- An endpoint's consecutive failed attempts, reset by a success: what
-- endpoint.failing counts. Endpoints failing before this migration count
-- from here.
ALTER TABLE endpoints ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;

-- No foreign keys: an event outlives what it tells of (an endpoint
-- disabled, then deleted, was still disabled), until it is heard.
CREATE TABLE operational_events (
    id             TEXT    PRIMARY KEY,
    type           TEXT    NOT NULL,
    workspace_id   TEXT    NOT NULL,
    environment_id TEXT    NOT NULL,
    application_id TEXT,
    endpoint_id    TEXT    NOT NULL,
    delivery_id    TEXT,
    event_id       TEXT,
    failing_since  INTEGER,
    failures       INTEGER NOT NULL DEFAULT 0,
    at             INTEGER NOT NULL,
    -- When a claim may take it: its creation, the end of a claim's lease,
    -- or the time a failed try put it off to.
    available_at   INTEGER NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX operational_events_available ON operational_events (available_at, id);
