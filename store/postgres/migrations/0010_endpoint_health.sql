-- Endpoint health: a compact rollup of attempts, per endpoint, minute and
-- latency bucket; the same as the SQLite store's migration 0010.
-- RecordAttempts adds to it in the transaction that records the attempts;
-- pruning deletes rows older than about a day.

-- No foreign key: recording must never fail because an endpoint was
-- deleted meanwhile; a deleted endpoint's rows go with age.
CREATE TABLE endpoint_health (
    endpoint_id text    NOT NULL,
    -- Unix time of the attempts, in whole minutes.
    minute      bigint  NOT NULL,
    -- The latency bucket's upper bound, in milliseconds.
    latency_ms  integer NOT NULL,
    attempts    integer NOT NULL,
    succeeded   integer NOT NULL,
    PRIMARY KEY (endpoint_id, minute, latency_ms)
);

CREATE INDEX endpoint_health_minute ON endpoint_health (minute);
