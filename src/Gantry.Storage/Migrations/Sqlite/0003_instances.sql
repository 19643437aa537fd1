-- The instances last observed for each service and environment (replaced whole when they change).
CREATE TABLE instances (
    id          TEXT PRIMARY KEY,
    service     TEXT NOT NULL,
    environment TEXT NOT NULL,
    version     TEXT NOT NULL,
    record      TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX instances_by_target ON instances (service, environment);
