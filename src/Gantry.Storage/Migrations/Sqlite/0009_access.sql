-- API tokens: only the SHA-256 of the secret is kept.
CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    identity     TEXT NOT NULL,
    roles        TEXT NOT NULL,
    groups_      TEXT NOT NULL,
    environments TEXT NOT NULL,
    hash         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    expires_at   TEXT,
    revoked_at   TEXT,
    revoked_by   TEXT,
    last_used_at TEXT
);
-- Approvals and rejections of rollouts, with who, as which groups, when, from where and why.
CREATE TABLE approvals (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    rollout_id  TEXT NOT NULL REFERENCES rollouts (id),
    by_         TEXT NOT NULL,
    groups_     TEXT NOT NULL,
    decision    TEXT NOT NULL,
    comment     TEXT,
    at          TEXT NOT NULL,
    source      TEXT
);
CREATE INDEX approvals_by_rollout ON approvals (rollout_id, id);
-- The approval chain behind a change (who approved the rollout it belongs to), part of the event's hash when present.
ALTER TABLE audit ADD COLUMN approvals TEXT;
