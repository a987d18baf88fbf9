-- Developer-portal sessions: a token (kept as its SHA-256 only) that lets
-- an end-customer manage one application's endpoints in one environment
-- until expires_at; the same schema as the SQLite store's migration 0004.
-- Deleting the application or the environment deletes its sessions.
CREATE TABLE portal_sessions (
    id             text        PRIMARY KEY,
    workspace_id   text        NOT NULL CONSTRAINT portal_sessions_workspace_fkey REFERENCES workspaces (id) ON DELETE CASCADE,
    application_id text        NOT NULL,
    environment_id text        NOT NULL,
    hash           bytea       NOT NULL CONSTRAINT portal_sessions_hash_key UNIQUE,
    expires_at     timestamptz NOT NULL,
    created_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    CONSTRAINT portal_sessions_application_fkey FOREIGN KEY (workspace_id, application_id)
        REFERENCES applications (workspace_id, id) ON DELETE CASCADE,
    CONSTRAINT portal_sessions_environment_fkey FOREIGN KEY (workspace_id, environment_id)
        REFERENCES environments (workspace_id, id) ON DELETE CASCADE
);

-- The cascades and the per-application lists and revocations find their
-- rows through these.
CREATE INDEX portal_sessions_application ON portal_sessions (workspace_id, application_id, id);
CREATE INDEX portal_sessions_environment ON portal_sessions (workspace_id, environment_id);
