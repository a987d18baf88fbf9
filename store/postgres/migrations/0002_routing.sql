-- The routing version: advanced by every write, in the writing
-- transaction, so that routers in every process learn what changed. The
-- single row is also the lock that commits versions in increasing order.
CREATE TABLE routing_version (
    id      integer PRIMARY KEY CHECK (id = 1),
    version bigint  NOT NULL
);

INSERT INTO routing_version (id, version) VALUES (1, 0);

-- The version of each workspace's latest change. No foreign key: the row
-- outlives a deleted workspace, which is how routers learn it is gone.
CREATE TABLE routing_changes (
    workspace_id text   PRIMARY KEY,
    version      bigint NOT NULL
);

CREATE INDEX routing_changes_version ON routing_changes (version);
