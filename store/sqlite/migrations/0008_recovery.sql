-- Recovery (resend, recover, replay missing).
--
-- series_start: the attempts made before a delivery's current series of
-- retries; a resend or a recovery sets it to attempts, so that the retry
-- schedule starts over while attempts stay numbered on.
ALTER TABLE deliveries ADD COLUMN series_start INTEGER NOT NULL DEFAULT 0;

-- An event has at most one delivery per endpoint: ingest never made two,
-- and replaying missing deliveries from two processes at once must not
-- either. It serves lookups by event, as deliveries_event did.
DROP INDEX deliveries_event;
CREATE UNIQUE INDEX deliveries_event_endpoint ON deliveries (event_id, endpoint_id);

-- Recovering walks an endpoint's failed deliveries in ID order.
CREATE INDEX deliveries_failed ON deliveries (endpoint_id, id) WHERE status = 'failed';

-- Replaying walks an environment's events in ID order.
DROP INDEX events_environment;
CREATE INDEX events_environment ON events (workspace_id, environment_id, id);
