-- Fair delivery: a cap on each endpoint's attempts in flight, across every
-- process, and probation for endpoints that fail or are slow.

-- While an attempt holds a delivery, the end of its lease; NULL otherwise.
-- next_attempt_at moves to the lease's end too, so that a delivery whose
-- dispatcher died falls due again; leased_until is what tells a delivery
-- in flight from one waiting for its retry, so that claims can count each
-- endpoint's attempts in flight.
ALTER TABLE deliveries ADD COLUMN leased_until INTEGER;

-- An endpoint on probation gets one attempt at a time, from a bounded share
-- of each dispatcher's workers: it is new, or its last attempt failed or
-- was slow. An attempt that succeeds in good time ends it. Endpoints made
-- before this migration are on probation only if they are failing.
ALTER TABLE endpoints ADD COLUMN probation INTEGER NOT NULL DEFAULT 1 CHECK (probation IN (0, 1));
UPDATE endpoints SET probation = failing_since IS NOT NULL;

-- Claims find the endpoints with deliveries due by skipping through this
-- index an endpoint at a time, and each endpoint's earliest due by reading
-- its first entry: a backlog of any size at one endpoint costs a claim
-- one step, not a scan.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_pending ON deliveries (endpoint_id, next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_leased ON deliveries (endpoint_id, leased_until) WHERE leased_until IS NOT NULL;
