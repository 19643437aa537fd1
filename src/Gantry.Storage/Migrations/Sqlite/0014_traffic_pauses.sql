-- Request pauses: new requests to a service in an environment held in its router, each up to max_wait_ms.
CREATE TABLE traffic_pauses (
    service     TEXT NOT NULL,
    environment TEXT NOT NULL,
    max_wait_ms INTEGER NOT NULL,
    by_         TEXT NOT NULL,
    since       TEXT NOT NULL,
    PRIMARY KEY (service, environment)
);
