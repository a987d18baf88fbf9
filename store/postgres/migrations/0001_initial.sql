-- The catalogue of workspaces and everything in them, the same schema as the
-- SQLite store's migration 0001. Every table below the workspace carries
-- workspace_id, and references within a workspace are composite foreign keys
-- on (workspace_id, id), so the database itself refuses an endpoint in one
-- workspace pointing at an environment of another. Constraints are named:
-- the store maps their names to the fields it reports.

CREATE TABLE workspaces (
    id         text        PRIMARY KEY,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE environments (
    id           text        PRIMARY KEY,
    workspace_id text        NOT NULL CONSTRAINT environments_workspace_fkey REFERENCES workspaces (id) ON DELETE CASCADE,
    name         text        NOT NULL,
    slug         text        NOT NULL,
    is_default   boolean     NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    CONSTRAINT environments_workspace_id_id_key UNIQUE (workspace_id, id),
    CONSTRAINT environments_slug_key UNIQUE (workspace_id, slug)
);

CREATE UNIQUE INDEX environments_one_default ON environments (workspace_id) WHERE is_default;

CREATE TABLE applications (
    id           text        PRIMARY KEY,
    workspace_id text        NOT NULL CONSTRAINT applications_workspace_fkey REFERENCES workspaces (id) ON DELETE CASCADE,
    external_id  text,
    name         text        NOT NULL,
    metadata     jsonb       NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    CONSTRAINT applications_workspace_id_id_key UNIQUE (workspace_id, id),
    CONSTRAINT applications_external_id_key UNIQUE (workspace_id, external_id)
);

CREATE TABLE event_types (
    id           text        PRIMARY KEY,
    workspace_id text        NOT NULL CONSTRAINT event_types_workspace_fkey REFERENCES workspaces (id) ON DELETE CASCADE,
    name         text        NOT NULL,
    description  text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    CONSTRAINT event_types_workspace_id_id_key UNIQUE (workspace_id, id),
    CONSTRAINT event_types_name_key UNIQUE (workspace_id, name)
);

-- A row means the event type is published in the environment; no row, that
-- it is not. New environments and new event types start with none.
CREATE TABLE event_type_visibility (
    workspace_id   text NOT NULL,
    environment_id text NOT NULL,
    event_type_id  text NOT NULL,
    PRIMARY KEY (environment_id, event_type_id),
    CONSTRAINT event_type_visibility_environment_fkey FOREIGN KEY (workspace_id, environment_id)
        REFERENCES environments (workspace_id, id) ON DELETE CASCADE,
    CONSTRAINT event_type_visibility_event_type_fkey FOREIGN KEY (workspace_id, event_type_id)
        REFERENCES event_types (workspace_id, id) ON DELETE CASCADE
);

CREATE INDEX event_type_visibility_event_type ON event_type_visibility (workspace_id, event_type_id);
CREATE INDEX event_type_visibility_environment ON event_type_visibility (workspace_id, environment_id);

CREATE TABLE endpoints (
    id             text        PRIMARY KEY,
    workspace_id   text        NOT NULL CONSTRAINT endpoints_workspace_fkey REFERENCES workspaces (id) ON DELETE CASCADE,
    environment_id text        NOT NULL,
    application_id text,
    url            text        NOT NULL,
    description    text        NOT NULL DEFAULT '',
    disabled       boolean     NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    CONSTRAINT endpoints_workspace_id_id_key UNIQUE (workspace_id, id),
    CONSTRAINT endpoints_environment_fkey FOREIGN KEY (workspace_id, environment_id)
        REFERENCES environments (workspace_id, id) ON DELETE CASCADE,
    CONSTRAINT endpoints_application_fkey FOREIGN KEY (workspace_id, application_id)
        REFERENCES applications (workspace_id, id) ON DELETE CASCADE
);

CREATE INDEX endpoints_environment ON endpoints (workspace_id, environment_id, id);
CREATE INDEX endpoints_application ON endpoints (workspace_id, application_id, id);

-- An endpoint's subscriptions, in the order given. A subscription by name
-- references the event type, so it follows a rename and goes with a delete;
-- a wildcard ('*', 'order.*') is kept as a pattern.
CREATE TABLE endpoint_subscriptions (
    endpoint_id   text    NOT NULL CONSTRAINT endpoint_subscriptions_endpoint_fkey REFERENCES endpoints (id) ON DELETE CASCADE,
    position      integer NOT NULL,
    workspace_id  text    NOT NULL,
    event_type_id text,
    pattern       text,
    PRIMARY KEY (endpoint_id, position),
    CONSTRAINT endpoint_subscriptions_event_type_fkey FOREIGN KEY (workspace_id, event_type_id)
        REFERENCES event_types (workspace_id, id) ON DELETE CASCADE,
    CHECK ((event_type_id IS NULL) <> (pattern IS NULL))
);

CREATE INDEX endpoint_subscriptions_event_type ON endpoint_subscriptions (workspace_id, event_type_id);

CREATE TABLE api_keys (
    id             text        PRIMARY KEY,
    workspace_id   text        NOT NULL CONSTRAINT api_keys_workspace_fkey REFERENCES workspaces (id) ON DELETE CASCADE,
    environment_id text,
    kind           text        NOT NULL CHECK (kind IN ('environment', 'management')),
    name           text        NOT NULL DEFAULT '',
    prefix         text        NOT NULL,
    hash           bytea       NOT NULL CONSTRAINT api_keys_hash_key UNIQUE,
    created_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    CONSTRAINT api_keys_workspace_id_id_key UNIQUE (workspace_id, id),
    CONSTRAINT api_keys_environment_fkey FOREIGN KEY (workspace_id, environment_id)
        REFERENCES environments (workspace_id, id) ON DELETE CASCADE,
    CHECK ((kind = 'environment') = (environment_id IS NOT NULL))
);

CREATE INDEX api_keys_environment ON api_keys (workspace_id, environment_id);
