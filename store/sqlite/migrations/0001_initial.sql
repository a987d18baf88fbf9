-- The catalogue of workspaces and everything in them. Every table below the
-- workspace carries workspace_id, and references within a workspace are
-- composite foreign keys on (workspace_id, id), so the database itself refuses
-- an endpoint in one workspace pointing at an environment of another.
-- Times are integer milliseconds since the Unix epoch, UTC.

CREATE TABLE workspaces (
    id         TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE environments (
    id           TEXT    PRIMARY KEY,
    workspace_id TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    slug         TEXT    NOT NULL,
    is_default   INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (workspace_id, id),
    UNIQUE (workspace_id, slug)
) STRICT;

CREATE UNIQUE INDEX environments_one_default ON environments (workspace_id) WHERE is_default = 1;

CREATE TABLE applications (
    id           TEXT    PRIMARY KEY,
    workspace_id TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    external_id  TEXT,
    name         TEXT    NOT NULL,
    metadata     TEXT    NOT NULL DEFAULT '{}',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (workspace_id, id),
    UNIQUE (workspace_id, external_id)
) STRICT;

CREATE TABLE event_types (
    id           TEXT    PRIMARY KEY,
    workspace_id TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    description  TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (workspace_id, id),
    UNIQUE (workspace_id, name)
) STRICT;

-- A row means the event type is published in the environment; no row, that
-- it is not. New environments and new event types start with none.
CREATE TABLE event_type_visibility (
    workspace_id   TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    event_type_id  TEXT NOT NULL,
    PRIMARY KEY (environment_id, event_type_id),
    FOREIGN KEY (workspace_id, environment_id) REFERENCES environments (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, event_type_id) REFERENCES event_types (workspace_id, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

CREATE INDEX event_type_visibility_event_type ON event_type_visibility (workspace_id, event_type_id);
CREATE INDEX event_type_visibility_environment ON event_type_visibility (workspace_id, environment_id);

CREATE TABLE endpoints (
    id             TEXT    PRIMARY KEY,
    workspace_id   TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    environment_id TEXT    NOT NULL,
    application_id TEXT,
    url            TEXT    NOT NULL,
    description    TEXT    NOT NULL DEFAULT '',
    disabled       INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, environment_id) REFERENCES environments (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, application_id) REFERENCES applications (workspace_id, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX endpoints_environment ON endpoints (workspace_id, environment_id, id);
CREATE INDEX endpoints_application ON endpoints (workspace_id, application_id, id);

-- An endpoint's subscriptions, in the order given. A subscription by name
-- references the event type, so it follows a rename and goes with a delete;
-- a wildcard ('*', 'order.*') is kept as a pattern.
CREATE TABLE endpoint_subscriptions (
    endpoint_id   TEXT    NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    workspace_id  TEXT    NOT NULL,
    event_type_id TEXT,
    pattern       TEXT,
    PRIMARY KEY (endpoint_id, position),
    FOREIGN KEY (workspace_id, event_type_id) REFERENCES event_types (workspace_id, id) ON DELETE CASCADE,
    CHECK ((event_type_id IS NULL) <> (pattern IS NULL))
) STRICT, WITHOUT ROWID;

CREATE INDEX endpoint_subscriptions_event_type ON endpoint_subscriptions (workspace_id, event_type_id);

CREATE TABLE api_keys (
    id             TEXT    PRIMARY KEY,
    workspace_id   TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    environment_id TEXT,
    kind           TEXT    NOT NULL CHECK (kind IN ('environment', 'management')),
    name           TEXT    NOT NULL DEFAULT '',
    prefix         TEXT    NOT NULL,
    hash           BLOB    NOT NULL UNIQUE,
    created_at     INTEGER NOT NULL,
    revoked_at     INTEGER,
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, environment_id) REFERENCES environments (workspace_id, id) ON DELETE CASCADE,
    CHECK ((kind = 'environment') = (environment_id IS NOT NULL))
) STRICT;

CREATE INDEX api_keys_environment ON api_keys (workspace_id, environment_id);
