-- Quality gate evaluations of releases: the decision, its score, and the whole evaluation with every figure.
CREATE TABLE gate_evaluations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    gate        TEXT NOT NULL,
    service     TEXT NOT NULL,
    version     TEXT NOT NULL,
    decision    TEXT NOT NULL,
    score       REAL NOT NULL,
    evaluation  TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX gate_evaluations_by_release ON gate_evaluations (service, version, gate, id);
CREATE INDEX gate_evaluations_by_gate ON gate_evaluations (gate, service, id);
