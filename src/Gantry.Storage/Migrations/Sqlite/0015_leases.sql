-- Leases: which control plane drives what, for how long, with a fencing token that grows with every change of
-- holder (several servers on one database; decision 0008).
CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    token       INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL
);
