-- Maintenance switches: a service in an environment answered with 503 and a message while on.
CREATE TABLE maintenance (
    service     TEXT NOT NULL,
    environment TEXT NOT NULL,
    message     TEXT NOT NULL,
    by_         TEXT NOT NULL,
    since       TEXT NOT NULL,
    PRIMARY KEY (service, environment)
);
