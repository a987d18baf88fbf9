-- Whether an event for no application was a broadcast, to every
-- subscribed endpoint whoever owns it; the same as the SQLite store's
-- migration 0007. Part of what the event was sent to, like migration
-- 0005's columns, so that an idempotency key repeated for another audience
-- is refused rather than replayed.
ALTER TABLE events ADD COLUMN broadcast boolean NOT NULL DEFAULT false;
