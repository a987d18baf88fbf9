-- Endpoint health: a compact rollup of attempts, per endpoint, minute and
-- latency bucket, so that reading an endpoint's success rate and latency
-- over the last hour and day costs the same whatever its volume.
-- RecordAttempts adds to it in the transaction that records the attempts;
-- pruning deletes rows older than about a day.

-- No foreign key: recording must never fail because an endpoint was
-- deleted meanwhile; a deleted endpoint's rows go with age.
CREATE TABLE endpoint_health (
    endpoint_id TEXT    NOT NULL,
    -- Unix time of the attempts, in whole minutes.
    minute      INTEGER NOT NULL,
    -- The latency bucket's upper bound, in milliseconds.
    latency_ms  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL,
    succeeded   INTEGER NOT NULL,
    PRIMARY KEY (endpoint_id, minute, latency_ms)
) STRICT, WITHOUT ROWID;

CREATE INDEX endpoint_health_minute ON endpoint_health (minute);
