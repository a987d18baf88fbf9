-- Whether an event for no application was a broadcast, to every
-- subscribed endpoint whoever owns it: part of what it was sent to, like
-- migration 0005's columns, so that an idempotency key repeated for
-- another audience is refused rather than replayed.
ALTER TABLE events ADD COLUMN broadcast INTEGER NOT NULL DEFAULT 0 CHECK (broadcast IN (0, 1));
