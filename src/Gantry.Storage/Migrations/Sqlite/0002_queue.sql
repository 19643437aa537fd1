-- Deploys waiting for the active rollout of their service and environment to end (deploy --queue).
CREATE TABLE queue (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    service     TEXT NOT NULL,
    environment TEXT NOT NULL,
    release     TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX queue_by_target ON queue (service, environment, id);
