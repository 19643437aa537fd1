-- Pre-deployment checklists: the latest result of every item of a rollout's checklist, and sign-offs with who and when.
CREATE TABLE checklists (
    rollout_id  TEXT PRIMARY KEY REFERENCES rollouts (id),
    record      TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE TABLE signoffs (
    rollout_id  TEXT NOT NULL REFERENCES rollouts (id),
    item        TEXT NOT NULL,
    signed_by   TEXT NOT NULL,
    signed_at   TEXT NOT NULL,
    PRIMARY KEY (rollout_id, item)
);
