-- Freezes declared from the CLI or API, with who, why, until when, and who lifted them.
CREATE TABLE declared_freezes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    environment  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    declared_by  TEXT NOT NULL,
    at           TEXT NOT NULL,
    until        TEXT,
    lifted_at    TEXT,
    lifted_by    TEXT
);
CREATE INDEX declared_freezes_by_environment ON declared_freezes (environment, id);
