-- Developer-portal sessions: a token (kept as its SHA-256 only) that lets
-- an end-customer manage one application's endpoints in one environment
-- until expires_at. Deleting the application or the environment deletes
-- its sessions.
CREATE TABLE portal_sessions (
    id             TEXT    PRIMARY KEY,
    workspace_id   TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    application_id TEXT    NOT NULL,
    environment_id TEXT    NOT NULL,
    hash           BLOB    NOT NULL UNIQUE,
    expires_at     INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    revoked_at     INTEGER,
    FOREIGN KEY (workspace_id, application_id) REFERENCES applications (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, environment_id) REFERENCES environments (workspace_id, id) ON DELETE CASCADE
) STRICT;

-- The cascades and the per-application lists and revocations find their
-- rows through these.
CREATE INDEX portal_sessions_application ON portal_sessions (workspace_id, application_id, id);
CREATE INDEX portal_sessions_environment ON portal_sessions (workspace_id, environment_id);
