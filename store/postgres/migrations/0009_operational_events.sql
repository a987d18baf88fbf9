-- Operational events (endpoint.disabled, endpoint.failing,
-- endpoint.recovered, delivery.exhausted); the same as the SQLite store's
-- migration 0009. RecordAttempts writes them in the transaction that
-- records the attempt causing them, so that none is lost or invented; the
-- host's relay hands them out from this outbox and removes each once
-- heard.

-- An endpoint's consecutive failed attempts, reset by a success: what
-- endpoint.failing counts. Endpoints failing before this migration count
-- from here.
ALTER TABLE endpoints ADD COLUMN failures integer NOT NULL DEFAULT 0;

-- No foreign keys: an event outlives what it tells of (an endpoint
-- disabled, then deleted, was still disabled), until it is heard.
CREATE TABLE operational_events (
    id             text        PRIMARY KEY,
    type           text        NOT NULL,
    workspace_id   text        NOT NULL,
    environment_id text        NOT NULL,
    application_id text,
    endpoint_id    text        NOT NULL,
    delivery_id    text,
    event_id       text,
    failing_since  timestamptz,
    failures       integer     NOT NULL DEFAULT 0,
    at             timestamptz NOT NULL,
    -- When a claim may take it: its creation, the end of a claim's lease,
    -- or the time a failed try put it off to.
    available_at   timestamptz NOT NULL,
    attempts       integer     NOT NULL DEFAULT 0
);

CREATE INDEX operational_events_available ON operational_events (available_at, id);
