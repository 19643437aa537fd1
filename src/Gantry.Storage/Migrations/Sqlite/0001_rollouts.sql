-- Rollouts: the state is one JSON document; the columns beside it are for queries and constraints.
CREATE TABLE rollouts (
    id          TEXT PRIMARY KEY,
    service     TEXT NOT NULL,
    environment TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    version     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    phase       TEXT NOT NULL,
    active      INTEGER NOT NULL,
    revision    INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    state       TEXT NOT NULL,
    UNIQUE (service, environment, seq)
);
-- At most one active rollout per service and environment, whatever writes.
CREATE UNIQUE INDEX rollouts_one_active ON rollouts (service, environment) WHERE active = 1;

-- Events: numbered globally (streams resume after an id) and per rollout (gap-free, no duplicates).
CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    rollout_id  TEXT NOT NULL REFERENCES rollouts (id),
    seq         INTEGER NOT NULL,
    revision    INTEGER NOT NULL,
    time        TEXT NOT NULL,
    type        TEXT NOT NULL,
    message     TEXT NOT NULL,
    UNIQUE (rollout_id, seq)
);

CREATE TABLE releases (
    service     TEXT NOT NULL,
    version     TEXT NOT NULL,
    release     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (service, version)
);
