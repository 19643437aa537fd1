-- Replicas on several machines, each with its own router (decision 0008): the table the leader put in force,
-- published for the others, and each replica's last report (when seen, which table its router has in force).
CREATE TABLE published_tables (
    name          TEXT PRIMARY KEY,
    version       BIGINT NOT NULL,
    routes        TEXT NOT NULL,
    publisher     TEXT NOT NULL,
    published_ms  BIGINT NOT NULL
);

CREATE TABLE replicas (
    name           TEXT PRIMARY KEY,
    seen_ms        BIGINT NOT NULL,
    table_version  BIGINT NOT NULL,
    table_error    TEXT
);

-- The store's own name, drawn once: replicas on several machines mark what they share in an engine (swarm
-- services) with it, so that whichever leads finds what another created.
CREATE TABLE cluster (id TEXT PRIMARY KEY);
INSERT INTO cluster (id) VALUES (substr(md5(random()::text || clock_timestamp()::text), 1, 16));
