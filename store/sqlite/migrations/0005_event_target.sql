-- What an event was sent to, besides its type: the application it was sent
-- for, and the endpoint a direct send named. An idempotency key repeated
-- with another target is refused, so the target is kept with the event.
-- Plain text, no foreign keys: the event is a record of what was asked,
-- and outlives the endpoint or application it named.
ALTER TABLE events ADD COLUMN application_id TEXT;
ALTER TABLE events ADD COLUMN endpoint_id TEXT;
