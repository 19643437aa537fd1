-- Times of rollouts as Unix milliseconds, for DORA metrics over many rollouts without reading their states.
ALTER TABLE rollouts ADD COLUMN created_ms INTEGER;
ALTER TABLE rollouts ADD COLUMN finished_ms INTEGER;
ALTER TABLE rollouts ADD COLUMN commit_ms INTEGER;
-- Set when an incident names the rollout as its cause: a change failure, read without a join.
ALTER TABLE rollouts ADD COLUMN incident INTEGER NOT NULL DEFAULT 0;
-- What DORA reads of a rollout, kept by every write of its state: its outcome (0 succeeded, 1 rolled back,
-- 2 aborted, 3 failed, 4 still going) and its lead time in ms (commit to end; 2^52 - 1 when unknown).
ALTER TABLE rollouts ADD COLUMN outcome INTEGER NOT NULL DEFAULT 4;
ALTER TABLE rollouts ADD COLUMN lead_ms INTEGER NOT NULL DEFAULT 4503599627370495;
UPDATE rollouts SET
    created_ms = CAST(ROUND((julianday(json_extract(state, '$.createdAt')) - 2440587.5) * 86400000) AS INTEGER),
    finished_ms = CAST(ROUND((julianday(json_extract(state, '$.finishedAt')) - 2440587.5) * 86400000) AS INTEGER),
    commit_ms = CAST(ROUND((julianday(json_extract(state, '$.release.commitTime')) - 2440587.5) * 86400000) AS INTEGER);
UPDATE rollouts SET
    outcome = CASE phase WHEN 'Succeeded' THEN 0 WHEN 'RolledBack' THEN 1 WHEN 'Aborted' THEN 2 WHEN 'Failed' THEN 3 ELSE 4 END,
    lead_ms = IFNULL(MIN(MAX(finished_ms - commit_ms, 0), 4503599627370494), 4503599627370495);
-- Covering index of what DORA metrics read: a period's rollouts come from the index alone, never from the
-- table's rows with their (large) states.
CREATE INDEX rollouts_dora ON rollouts (created_ms, kind, environment, service, outcome, incident, lead_ms);

-- Incidents: the record as JSON, with the columns queries need; their timelines beside them.
CREATE TABLE incidents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    service     TEXT,
    environment TEXT,
    rollout_id  TEXT,
    status      TEXT NOT NULL,
    opened_ms   INTEGER NOT NULL,
    resolved_ms INTEGER,
    revision    INTEGER NOT NULL,
    record      TEXT NOT NULL
);
CREATE INDEX incidents_by_rollout ON incidents (rollout_id);
CREATE INDEX incidents_by_opened ON incidents (opened_ms);
CREATE TABLE incident_timeline (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    by_         TEXT NOT NULL,
    text        TEXT NOT NULL,
    rollout_id  TEXT
);
CREATE INDEX incident_timeline_by_incident ON incident_timeline (incident_id, id);

-- Notifications waiting to be delivered, delivered, or dead-lettered after their last attempt.
CREATE TABLE deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    receiver    TEXT NOT NULL,
    event       TEXT NOT NULL,
    payload     TEXT NOT NULL,
    status      TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    next_ms     INTEGER NOT NULL,
    last_error  TEXT,
    created_at  TEXT NOT NULL,
    done_at     TEXT
);
CREATE INDEX deliveries_due ON deliveries (status, next_ms);
